"""Public pages and the health check, rendered by the app on the real database."""

from __future__ import annotations

import re

from app import create_app
from tests.conftest import _test_config

EXTERNAL_ASSET = re.compile(r'(?:src|href)="(?:https?:)?//', re.I)


def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_down(tmp_path):
    url = f"postgresql+psycopg://nobody@/nowhere?host={tmp_path}&port=1"
    app = create_app(_test_config(url, SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": False}))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unavailable"}


def test_home_lists_territories_in_french(client, rennes):
    page = client.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9"}).get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Territoires" in page
    assert 'href="/t/rennes">Rennes</a>' in page
    assert "12 quartiers" in page


def test_home_without_territories_says_so(client):
    page = client.get("/").get_data(as_text=True)
    assert "Aucun territoire pour le moment" in page


def test_territory_page_lists_quartiers_with_area_and_map(client, rennes):
    response = client.get("/t/rennes")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    rows = re.findall(
        r'<td><a href="/t/rennes/q/([^"]+)">([^<]+)</a></td>\s*<td class="num">([^<]+)</td>', page
    )
    assert len(rows) == 12
    areas = {name: area for _code, name, area in rows}
    assert areas["Le Blosne"] == "2,69\u00a0km²"  # French decimal comma
    assert "data-layer-map" in page and "/static/js/layermap.js" in page
    assert "/api/v1/territories/rennes/streets.geojson" in page


def test_no_page_loads_assets_from_another_host(client, rennes):
    for path in ("/", "/t/rennes", "/t/rennes/q/Q.11"):
        page = client.get(path).get_data(as_text=True)
        assert not EXTERNAL_ASSET.search(page), path
        assert "/static/vendor/leaflet/leaflet.js" in page or path == "/"


def test_tile_layer_follows_configuration(app, client, rennes):
    assert '"tiles": null' in client.get("/t/rennes").get_data(as_text=True)
    app.config["TILE_URL"] = "https://tiles.example.org/{z}/{x}/{y}.png"
    page = client.get("/t/rennes").get_data(as_text=True)
    assert "https://tiles.example.org/{z}/{x}/{y}.png" in page
    assert "OpenStreetMap" in page  # attribution shown


def test_quartier_page(client, rennes):
    response = client.get("/t/rennes/q/Q.11")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Le Blosne</h1>" in page
    assert "2,69\u00a0km²" in page


def test_unknown_territory_and_quartier_are_french_404_pages(client, rennes):
    response = client.get("/t/brest")
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)
    assert "Territoire inconnu : brest" in response.get_data(as_text=True)
    response = client.get("/t/rennes/q/Q.99")
    assert response.status_code == 404
    assert "Quartier inconnu : Q.99" in response.get_data(as_text=True)


def test_api_errors_are_json(client):
    response = client.get("/api/v1/territories/brest/streets.geojson")
    assert response.status_code == 404
    body = response.get_json()
    assert body["error"] == "not_found" and "brest" in body["message"]


def test_streets_are_served_as_geojson_with_etag(client, rennes):
    response = client.get("/api/v1/territories/rennes/streets.geojson")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    data = response.get_json()
    assert len(data["features"]) == 3065
    assert data["features"][0]["geometry"]["type"] in ("LineString", "MultiLineString")
    again = client.get(
        "/api/v1/territories/rennes/streets.geojson",
        headers={"If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304


def test_english_is_served_when_asked(client, rennes):
    page = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Territories" in page
    response = client.get("/lang/fr", headers={"Referer": "http://localhost/t/rennes"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/t/rennes")
    page = client.get("/").get_data(as_text=True)  # the cookie now says French
    assert '<html lang="fr">' in page


def test_language_switch_does_not_redirect_off_site(client):
    response = client.get("/lang/en", headers={"Referer": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_quartier_names_are_escaped(app, client, runner, tmp_path):
    import json

    from shapely.geometry import box

    path = tmp_path / "xss.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"nom": "<img src=x onerror=alert(1)>", "code": "X"},
                        "geometry": box(-1.70, 48.10, -1.69, 48.11).__geo_interface__,
                    }
                ],
            }
        )
    )
    assert runner.invoke(args=["quartiers", "import", str(path), "--territory", "x"]).exit_code == 0
    for url in ("/t/x", "/t/x/q/X"):
        page = client.get(url).get_data(as_text=True)
        assert "<img src=x" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
