"""The service worker and manifest as the server serves them; what the worker may keep."""

from __future__ import annotations

import json

from app.workshops.offline import build_version
from tests.helpers import login


def worker_settings(client) -> dict:
    response = client.get("/sw.js")
    assert response.status_code == 200
    first = response.get_data(as_text=True).splitlines()[0]
    assert first.startswith("const CONFIG = ") and first.endswith(";")
    return json.loads(first.removeprefix("const CONFIG = ").removesuffix(";"))


def test_worker_script_is_never_cached_and_carries_the_build(app, client):
    response = client.get("/sw.js")
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    settings = worker_settings(client)
    assert settings["build"] == app.config["BUILD_VERSION"]
    assert settings["scope"] == "/j"
    # The resident page's modules, found by following its imports, and Leaflet.
    for url in ("/static/js/pinning.js", "/static/js/basemap.js", "/static/js/pinstore.js"):
        assert url in settings["precache"]
    assert "/static/vendor/leaflet/leaflet.js" in settings["precache"]
    assert not [u for u in settings["precache"] if "leaflet-draw" in u]
    for url in settings["precache"]:
        assert client.get(url).status_code == 200, url


def test_build_version_follows_the_static_files(tmp_path):
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "a.js").write_text('import { b } from "./b.js";\n')
    (tmp_path / "js" / "b.js").write_text("export const b = 1;\n")
    first = build_version(tmp_path)
    assert build_version(tmp_path) == first
    (tmp_path / "js" / "b.js").write_text("export const b = 2;\n")
    assert build_version(tmp_path) != first


def test_csp_allows_the_worker_and_manifest(client):
    policy = client.get("/sw.js").headers["Content-Security-Policy"]
    assert "worker-src 'self'" in policy and "manifest-src 'self'" in policy


def test_manifest_opens_the_table_page(client, make_workshop):
    code = make_workshop(status="open", title="Atelier du Blosne")["codes"][0]
    response = client.get(f"/j/{code}/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    data = response.get_json()
    assert data["start_url"] == f"/j/{code}"
    assert data["display"] == "standalone" and data["scope"] == "/j"
    assert data["name"] == "Ressenti · Atelier du Blosne"
    assert data["description"].startswith("Placez vos ressentis")
    assert {i["sizes"] for i in data["icons"]} >= {"192x192", "512x512"}
    for icon in data["icons"]:
        assert client.get(icon["src"]).status_code == 200
    page = client.get(f"/j/{code}").get_data(as_text=True)
    assert f'rel="manifest" href="/j/{code}/manifest.webmanifest"' in page
    assert 'data-sw="/sw.js"' in page
    assert client.get("/j/NOPE99/manifest.webmanifest").status_code == 404


def test_only_anonymous_resident_gets_are_marked_storable(client, make_workshop, make_user):
    code = make_workshop(status="open")["codes"][0]
    api = f"/api/v1/groups/{code}"
    for path in (f"/j/{code}", f"{api}/streets.geojson"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers.get("Ressenti-Offline") == "store", path
        # HTTP caches may not keep it; the worker's Cache Storage may (tests/e2e).
        assert response.headers["Cache-Control"] == "no-store", path
    for path in ("/", "/connexion", f"/j/{code}/diagnostic", f"{api}/pins", "/j/NOPE99"):
        assert "Ressenti-Offline" not in client.get(path).headers, path
    write = client.post(f"/api/v1/groups/{code}/pins", json={})
    assert "Ressenti-Offline" not in write.headers

    user = make_user("coordinator", "rennes")
    assert login(client, user.email).status_code in (302, 303)
    response = client.get(f"/j/{code}")
    assert response.status_code == 200
    assert "Ressenti-Offline" not in response.headers
