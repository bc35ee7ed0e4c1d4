"""Pin exports: GeoJSON and CSV streamed, GeoPackage read back by GDAL (pyogrio)."""

from __future__ import annotations

import csv
import io
import json

import pyogrio
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent
from tests.conftest import login, pin_body

BASE = "/api/v1/territories/rennes"


@pytest.fixture
def pins(app, client, make_workshop):
    code = make_workshop()["codes"][0]
    bodies = [
        pin_body(comment="Approuvé"),
        pin_body(comment="En attente", category="noise", time_of_day="day"),
        pin_body(feeling="safe", category="good_lighting"),
    ]
    for body in bodies:
        assert client.post(f"/api/v1/groups/{code}/pins", json=body).status_code == 201
    with app.app_context():
        db.session.execute(
            sa.text("UPDATE pin SET comment_status = 'approved' WHERE comment = 'Approuvé'")
        )
        db.session.commit()
    return bodies


def test_geojson_is_rfc7946_with_metadata(app, client, pins, make_user):
    login(client, make_user("police", "rennes").email)
    response = client.get(f"{BASE}/pins.geojson")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    assert response.is_streamed
    body = json.loads(response.get_data(as_text=True))
    assert "crs" not in body and body["metadata"]["licence"] == "ODbL 1.0"
    features = body["features"]
    assert len(features) == 3
    lon, lat = features[0]["geometry"]["coordinates"]
    assert -1.7 < lon < -1.6 and 48.0 < lat < 48.1  # lon/lat order
    props = {f["properties"]["comment"] for f in features}
    assert props == {"Approuvé", None}  # the pending comment never leaves the database
    first = features[0]["properties"]
    assert first["category_label"] == "Éclairage" and first["quartier"] == "Le Blosne"
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "export"))
        assert event.details["format"] == "geojson"


def test_planners_get_no_comment_text(client, pins, make_user):
    login(client, make_user("planner", "rennes").email)
    body = json.loads(client.get(f"{BASE}/pins.geojson").get_data(as_text=True))
    assert {f["properties"]["comment"] for f in body["features"]} == {None}
    assert body["metadata"]["comments"] == "none"


def test_csv_has_coordinates_wkt_and_filters(client, pins, make_user):
    login(client, make_user("coordinator", "rennes").email)
    response = client.get(f"{BASE}/pins.csv?feeling=unsafe")
    text = response.get_data(as_text=True)
    assert not text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 2 and {r["feeling"] for r in rows} == {"unsafe"}
    assert rows[0]["wkt"] == f"POINT ({rows[0]['lon']} {rows[0]['lat']})"
    assert json.loads(response.headers["X-Ressenti-Metadata"])["filters"] == {"feeling": "unsafe"}


@pytest.mark.parametrize(("crs", "epsg"), [("4326", 4326), ("metric", 2154)])
def test_geopackage_opens_in_gdal_with_the_right_crs(client, pins, make_user, tmp_path, crs, epsg):
    login(client, make_user("planner", "rennes").email)
    response = client.get(f"{BASE}/pins.gpkg?crs={crs}")
    assert response.status_code == 200
    path = tmp_path / "pins.gpkg"
    path.write_bytes(response.data)
    layers = {name for name, _kind in pyogrio.list_layers(path)}
    assert layers == {"pins", "metadata"}
    info = pyogrio.read_info(path, layer="pins")
    assert info["features"] == 3 and info["geometry_type"] == "Point"
    assert info["crs"] == f"EPSG:{epsg}"


def test_exports_need_a_staff_account(client, pins, make_user, paris):
    assert client.get(f"{BASE}/pins.geojson").status_code == 401
    login(client, make_user("coordinator", "paris", email="c-paris@example.org").email)
    assert client.get(f"{BASE}/pins.csv").status_code == 403


def test_bad_filters_and_crs_are_named(client, pins, make_user):
    login(client, make_user("police", "rennes").email)
    assert "category" in client.get(f"{BASE}/pins.geojson?category=x").get_json()["fields"]
    assert "crs" in client.get(f"{BASE}/pins.gpkg?crs=3857").get_json()["fields"]
