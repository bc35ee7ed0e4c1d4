"""The territory dashboard: who may open it, what it shows, how filters change it."""

from __future__ import annotations

import contextlib
import re

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent
from tests.conftest import login

URL = "/t/rennes/tableau-de-bord/"


API = "/api/v1/territories/rennes/layers"
PAGE_BUDGET = 400_000  # bytes, at demo scale (issue 14)


def _summary(client, query: str = "") -> tuple[int, int, int]:
    """The page's summary line, as its script computes it: the staff hexagons of the
    page's filters, summed."""
    body = client.get(f"{API}/hexagons?full=1&{query}").get_json()
    unsafe = sum(f["properties"]["unsafe"] for f in body["features"])
    safe = sum(f["properties"]["safe"] for f in body["features"])
    return unsafe + safe, unsafe, safe


def _island(page: str, name: str) -> dict:
    import json

    island = re.search(rf'<script type="application/json" id="{name}">(.*?)</script>', page)
    return json.loads(island.group(1))


def test_dashboard_shows_the_four_layers_with_legends(app, client, demo, make_user):
    login(client, make_user("police", "rennes").email)
    response = client.get(URL)
    assert response.status_code == 200 and len(response.data) < PAGE_BUDGET
    page = response.get_data(as_text=True)
    spec = _island(page, "map-data")
    layers = [layer["name"] for layer in spec["layers"]]
    for layer in ("Densité", "Hexagones", "Points chauds (Gi*)", "Ressenti net", "Points"):
        assert layer in layers, layers
    # The map comes without data: the script fetches the layers from the API.
    for layer in spec["layers"]:
        assert not layer.get("features") and not layer.get("image"), layer["name"]
    assert "data:image/png;base64," not in page
    dashboard = _island(page, "dashboard-data")
    assert dashboard["full"] is True
    assert dashboard["api"]["hexagons"] == f"{API}/hexagons"
    assert dashboard["api"]["points"] == f"{URL}points.json"
    assert "Légende" in page and "point chaud, 99 %" in page
    total, unsafe, safe = _summary(client)
    assert total == unsafe + safe == 320 and unsafe > safe
    density = client.get(f"{API}/density.png?full=1")
    assert density.status_code == 200 and density.headers["X-Bounds"]
    with app.app_context():
        assert not db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "points.viewed")
        )  # no points sent, none audited
    points = client.get(f"{URL}points.json")
    assert points.status_code == 200 and len(points.get_json()["features"]) == 320
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "points.viewed"))
        assert event.details["view"] == "dashboard" and event.details["count"] == 320


def test_filtering_to_one_category_changes_the_counts(client, demo, make_user):
    login(client, make_user("coordinator", "rennes").email)
    every = _summary(client)
    lighting = _summary(client, "category=lighting")
    assert 0 < lighting[0] < every[0] and lighting[2] == 0  # lighting is an unsafe category
    page = client.get(f"{URL}?category=lighting").get_data(as_text=True)  # a plain GET
    assert '<option value="lighting" selected>' in page
    points = client.get(f"{URL}points.json?category=lighting").get_json()["features"]
    assert len(points) == lighting[0]


def test_bad_filters_are_named_in_french(client, demo, make_user):
    login(client, make_user("coordinator", "rennes").email)
    response = client.get(f"{URL}?size=1")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Filtres invalides" in page and "<strong>size</strong>" in page
    bad = client.get(f"{URL}points.json?size=1")
    assert bad.status_code == 422 and "size" in bad.get_json()["fields"]


def test_planners_see_points_without_comments(client, demo, make_user, app):
    with app.app_context():
        db.session.execute(
            sa.text("UPDATE pin SET comment_status = 'approved' WHERE comment IS NOT NULL")
        )
        db.session.commit()
    login(client, make_user("planner", "rennes").email)
    planner = client.get(f"{URL}points.json").get_data(as_text=True)
    assert "éclairage en panne" not in planner.lower() and "Feature" in planner
    police = app.test_client()
    login(police, make_user("police", "rennes", email="p2@example.org").email)
    assert "clairage en panne" in police.get(f"{URL}points.json").get_data(as_text=True)
    assert client.get(f"{URL}points.json?full=1").status_code == 200
    anonymous = app.test_client().get(f"{URL}points.json")
    assert anonymous.status_code in (302, 401)


def test_legend_says_what_hot_spots_are_compared_with(client, demo, make_user):
    """Gi*'s window and distance band, in French, under the hot-spot swatches: the
    page's script fills the pattern from the hot-spot layer's window."""
    login(client, make_user("police", "rennes").email)
    page = client.get(URL).get_data(as_text=True)
    pattern = _island(page, "dashboard-data")["texts"]["window"]
    assert "ailleurs dans les quartiers enquêtés (%(quartiers)s : %(cells)d" in pattern
    hot = client.get(f"{API}/hotspots?full=1").get_json()
    assert ", ".join(hot["window"]["quartiers"]).startswith("Bréquigny, Le Blosne, Sud gare")
    assert round(hot["distance_m"]) == 520


def test_filters_and_popups_speak_the_readers_language(client, demo, make_user):
    """Time of day and categories are labels, never codes, in French and in English."""
    login(client, make_user("police", "rennes").email)
    response = client.get("/t/rennes/tableau-de-bord/")
    assert response.status_code == 200
    french = response.get_data(as_text=True)
    assert '<option value="night" >La nuit</option>' in french
    assert ">Éclairage</option>" in french
    response = client.get("/t/rennes/tableau-de-bord/?lang=en")
    assert response.status_code == 200  # the language is no filter
    english = response.get_data(as_text=True)
    assert '<option value="night" >Night</option>' in english
    assert ">Lighting</option>" in english and ">Éclairage</option>" not in english
    assert "hexagons." in _island(english, "dashboard-data")["texts"]["summary"]
    points_fr = client.get(f"{URL}points.json").get_data(as_text=True)
    points_en = client.get(f"{URL}points.json?lang=en").get_data(as_text=True)
    assert "La nuit" in points_fr and "Night" in points_en
    for page in (french, english, points_fr, points_en):
        assert ">night</option>" not in page and "· night" not in page


def _ink(png: bytes) -> int:
    """How many pixels are not white."""
    import io

    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    return int((pixels != 255).any(axis=2).sum())


def test_map_image_is_drawn_by_the_server_from_the_visible_layers(client, demo, make_user):
    login(client, make_user("police", "rennes").email)
    base = "/t/rennes/tableau-de-bord/carte.png"
    page = client.get("/t/rennes/tableau-de-bord/?time_of_day=night").get_data(as_text=True)
    assert 'href="/t/rennes/tableau-de-bord/carte.png?time_of_day=night"' in page
    assert "html-to-image" not in page
    bare = client.get(f"{base}?layers=")
    full = client.get(f"{base}?layers=density,hexagons,hotspots,net")
    for response in (bare, full):
        assert response.status_code == 200 and response.mimetype == "image/png"
        assert response.data[:8] == b"\x89PNG\r\n\x1a\n"
        assert "ressenti-rennes.png" in response.headers["Content-Disposition"]
    assert _ink(full.data) > _ink(bare.data) * 1.2  # the layers are drawn
    zoomed = client.get(f"{base}?layers=hexagons&bbox=-1.68,48.07,-1.64,48.10")
    assert zoomed.status_code == 200 and zoomed.data != full.data
    for query, text in (
        ("layers=tiles", "Couches possibles : density, hexagons, hotspots, net."),
        ("bbox=1,2,3", "Quatre nombres attendus"),
        ("bbox=5,5,1,1", "Quatre nombres attendus"),
    ):
        bad = client.get(f"{base}?{query}")  # a page's error: French text, naming the field
        assert bad.status_code == 422 and text in bad.get_data(as_text=True), query


def test_map_pdf_is_an_a4_landscape_page(client, demo, make_user):
    login(client, make_user("planner", "rennes").email)
    response = client.get("/t/rennes/tableau-de-bord/carte.pdf?feeling=unsafe")
    assert response.status_code == 200 and response.data[:5] == b"%PDF-"
    assert re.search(rb"/MediaBox \[0 0 841\.8\d* 595\.2\d*\]", _pdf_objects(response.data))


def _pdf_objects(pdf: bytes) -> bytes:
    """The PDF with its compressed streams (object streams included) inflated."""
    import zlib

    parts = [pdf]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        with contextlib.suppress(zlib.error):
            parts.append(zlib.decompress(stream))
    return b"\n".join(parts)


def test_map_files_are_for_the_territorys_staff(client, demo, paris, make_user):
    assert client.get("/t/rennes/tableau-de-bord/carte.png").status_code in (302, 401)
    login(client, make_user("police", "paris").email)
    assert client.get("/t/rennes/tableau-de-bord/carte.png").status_code == 403
