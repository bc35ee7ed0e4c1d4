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


@pytest.fixture
def crowd(client, make_workshop):
    """Four pins in one hexagon and one alone: one cell shown to all at k = 3."""
    from tests.conftest import BLOSNE_2

    workshop = make_workshop()
    code = workshop["codes"][0]
    bodies = [pin_body() for _ in range(4)] + [pin_body(lon=BLOSNE_2[0], lat=BLOSNE_2[1])]
    for body in bodies:
        assert client.post(f"/api/v1/groups/{code}/pins", json=body).status_code == 201
    return workshop["id"]


def test_hexagon_export_is_suppressed_for_all_full_for_staff(
    app, client, crowd, make_user, close_workshop
):
    response = client.get(f"{BASE}/hexagons.geojson")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_json()
    assert "crs" not in body and body["metadata"]["suppression_threshold"] == 3
    assert body["features"] == []  # an open workshop is not released yet
    close_workshop(crowd)
    public = client.get(f"{BASE}/hexagons.geojson").get_json()["features"]
    for props in (f["properties"] for f in public):  # noisy, never under k
        assert props["total"] >= 3 and props["top_categories"] == ""
        assert all(props[key] is None or props[key] >= 3 for key in ("unsafe", "safe"))
    assert client.get(f"{BASE}/hexagons.geojson?full=1").status_code == 403
    login(client, make_user("planner", "rennes").email)
    full = client.get(f"{BASE}/hexagons.geojson?full=1").get_json()
    assert sorted(f["properties"]["total"] for f in full["features"]) == [1, 4]
    assert full["metadata"]["suppression_threshold"] is None
    with app.app_context():
        actors = db.session.scalars(
            sa.select(AuditEvent.actor).where(AuditEvent.action == "export")
        ).all()
        assert actors == ["anonymous", "anonymous", "planner-rennes@example.org"]


def test_quartiers_csv_has_a_point_inside_and_the_wkt(client, rennes):
    from shapely import from_wkt
    from shapely.geometry import Point

    response = client.get(f"{BASE}/quartiers.csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 12 and {"code", "name", "area_km2"} <= set(rows[0])
    for row in rows:
        shape = from_wkt(row["wkt"])
        assert shape.geom_type == "MultiPolygon"
        assert shape.contains(Point(float(row["lon"]), float(row["lat"])))
    assert "feeling" in client.get(f"{BASE}/quartiers.csv?feeling=unsafe").get_json()["fields"]


def test_hotspot_and_quartier_geopackages_in_the_metric_crs(client, crowd, tmp_path):
    for layer in ("hotspots", "quartiers"):
        response = client.get(f"{BASE}/{layer}.gpkg?crs=metric")
        assert response.status_code == 200
        path = tmp_path / f"{layer}.gpkg"
        path.write_bytes(response.data)
        assert {name for name, _kind in pyogrio.list_layers(path)} == {layer, "metadata"}
        info = pyogrio.read_info(path, layer=layer)
        assert info["crs"] == "EPSG:2154"
    assert pyogrio.read_info(tmp_path / "quartiers.gpkg", layer="quartiers")["features"] == 12
    metadata = pyogrio.read_dataframe(tmp_path / "hotspots.gpkg", layer="metadata")
    values = dict(zip(metadata["key"], metadata["value"], strict=True))
    assert json.loads(values["suppression_threshold"]) == 3 and "ODbL" in values["licence"]


def test_features_written_by_postgresql_match_the_python_ones(client, pins, make_user):
    """The GeoJSON export builds each feature in SQL; the OGC API in Python: same data."""
    login(client, make_user("coordinator", "rennes").email)
    exported = json.loads(client.get(f"{BASE}/pins.geojson").get_data(as_text=True))["features"]
    served = client.get("/ogc/collections/rennes-points/items").get_json()["features"]
    by_id = {feature["id"]: feature for feature in served}
    assert len(exported) == len(by_id) == 3
    for feature in exported:
        assert feature["properties"] == by_id[feature["id"]]["properties"]
        assert feature["geometry"] == by_id[feature["id"]]["geometry"]
    assert exported[0]["properties"]["created_at"].endswith("+00:00")


def test_public_cells_name_no_category(client, crowd, make_workshop, make_user, close_workshop):
    code = make_workshop()["codes"][0]
    assert (
        client.post(f"/api/v1/groups/{code}/pins", json=pin_body(category="noise")).status_code
        == 201
    )
    close_workshop(crowd)
    public = client.get(f"{BASE}/hexagons.geojson").get_json()["features"]
    assert all(f["properties"]["top_categories"] == "" for f in public)  # per quartier only
    login(client, make_user("planner", "rennes").email)
    full = client.get(f"{BASE}/hexagons.geojson?full=1").get_json()["features"]
    assert any("Bruit (1)" in f["properties"]["top_categories"] for f in full)


def test_anonymous_requests_cannot_write_large_audit_rows(app, client, crowd):
    huge = "x" * 20_000
    response = client.get(f"{BASE}/hexagons.geojson?crs={huge}")
    assert response.status_code == 200
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "export"))
        size = db.session.scalar(
            sa.select(sa.func.length(sa.cast(AuditEvent.details, sa.Text))).where(
                AuditEvent.id == event.id
            )
        )
    assert event.actor == "anonymous"
    assert event.details["filters"]["crs"] == "x" * 200
    assert size < 4000


def test_audit_details_are_bounded_and_unknown_arguments_not_copied(app):
    from app import audit

    with app.app_context():
        event = audit.record(
            "export",
            actor="anonymous",
            filters={"feeling": "unsafe", "y" * 5000: "z" * 5000, "other": "w"},
            note="n" * 5000,
            **{f"k{n}": "v" * 199 for n in range(40)},
        )
        db.session.commit()
        details = event.details
    assert details["filters"] == {"feeling": "unsafe", "unknown_args": 2}
    assert details["note"] == "n" * 200
    assert len(json.dumps(details)) < 4200 and details["truncated"] is True


def test_anonymous_aggregated_exports_are_rate_limited(app, client, rennes, make_user):
    app.config["EXPORT_RATE_PER_CLIENT"] = (2, 60)
    for _ in range(2):
        assert client.get(f"{BASE}/quartiers.geojson").status_code == 200
    limited = client.get(f"{BASE}/quartiers.csv")
    assert limited.status_code == 429 and limited.get_json()["error"] == "too_many_requests"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "127.0.0.2"
    assert other.get(f"{BASE}/quartiers.geojson").status_code == 200
    login(client, make_user("planner", "rennes").email)  # staff are not limited
    assert client.get(f"{BASE}/quartiers.geojson").status_code == 200
    with app.app_context():
        keys = db.session.scalars(sa.text("SELECT key FROM rate_counter")).all()
    assert keys and not any("127.0.0" in key for key in keys)


def test_csv_for_french_excel_and_names_that_differ(client, pins, make_user):
    """``dialect=excel-fr``: a BOM, ``;`` and decimal commas, so that a double click in
    French Excel opens columns and numbers; every format, CRS and filter has its name."""
    login(client, make_user("planner", "rennes").email)
    url = "/api/v1/territories/rennes/pins.csv"
    plain = client.get(url).get_data()
    french = client.get(f"{url}?dialect=excel-fr&feeling=unsafe")
    body = french.get_data()
    assert body.startswith("\ufefflon;lat;wkt;".encode()) and not plain.startswith(b"\xef")
    first = body.decode("utf-8-sig").splitlines()[1].split(";")
    assert "," in first[0] and "." not in first[0]  # -1,6625 for French Excel
    assert first[2].startswith("POINT (-1.6625")  # the WKT stays WKT
    names = {
        client.get(u).headers["Content-Disposition"].split("filename=")[1]
        for u in (
            url,
            f"{url}?dialect=excel-fr&feeling=unsafe",
            f"{url}?feeling=unsafe",
            "/api/v1/territories/rennes/pins.geojson",
            "/api/v1/territories/rennes/pins.gpkg",
            "/api/v1/territories/rennes/pins.gpkg?crs=metric",
        )
    }
    assert names == {
        "ressenti-rennes-pins.csv",
        "ressenti-rennes-pins-excel-fr-feeling-unsafe.csv",
        "ressenti-rennes-pins-feeling-unsafe.csv",
        "ressenti-rennes-pins.geojson",
        "ressenti-rennes-pins.gpkg",
        "ressenti-rennes-pins-epsg2154.gpkg",
    }
    bad = client.get(f"{url}?dialect=excel")
    assert bad.status_code == 422 and "dialect" in bad.get_json()["fields"]
