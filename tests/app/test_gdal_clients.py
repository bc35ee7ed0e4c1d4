"""GDAL's own command-line clients (Debian's gdal-bin) read what planners get from us:
the OGC API through the ``OAPIF:`` driver, and the GeoJSON and GeoPackage exports."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.conftest import BLOSNE, BLOSNE_2, pin_body


def gdal(*args: str, token: str | None = None, basic: str | None = None) -> str:
    """Run a GDAL client; ``token`` as a bearer header, ``basic`` as HTTP Basic's
    password (any user name), the way QGIS's Basic authentication sends it."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["GDAL_HTTP_TIMEOUT"] = "60"
    if token:
        env["GDAL_HTTP_HEADERS"] = f"Authorization: Bearer {token}"
    if basic:
        env["GDAL_HTTP_AUTH"] = "BASIC"
        env["GDAL_HTTP_USERPWD"] = f"qgis:{basic}"
    result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=180)
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


def layers_listed(output: str) -> dict[str, str]:
    """``{name: geometry type}`` from ogrinfo's list of layers."""
    return dict(re.findall(r"^\d+: (\S+) (?:\(title: .*\) )?\(([\w ]+)\)$", output, flags=re.M))


def summary(output: str) -> tuple[int, str]:
    count = int(re.search(r"^Feature Count: (\d+)", output, flags=re.M).group(1))
    geometry = re.search(r"^Geometry: (.+)$", output, flags=re.M).group(1)
    return count, geometry


@pytest.fixture
def pins(client, make_workshop):
    """Five unsafe pins in one hexagon (shown to all at k = 3) and one safe pin."""
    code = make_workshop()["codes"][0]
    bodies = [pin_body() for _ in range(5)] + [
        pin_body(feeling="safe", category="good_lighting", lon=-1.6570, lat=48.0850)
    ]
    for body in bodies:
        assert client.post(f"/api/v1/groups/{code}/pins", json=body).status_code == 201
    return bodies


@pytest.fixture
def released(client, make_workshop, close_workshop):
    """A closed workshop of thirty pins in one spot: the public release shows its cell."""
    workshop = make_workshop(title="Atelier clos")
    for _ in range(30):
        body = pin_body(lon=BLOSNE_2[0], lat=BLOSNE_2[1])
        assert (
            client.post(f"/api/v1/groups/{workshop['codes'][0]}/pins", json=body).status_code == 201
        )
    close_workshop(workshop["id"])


@pytest.fixture
def clustered_release(client, make_workshop, close_workshop):
    """A closed workshop of eight pins at each of seven neighbouring spots: a cluster the
    release shows as hexagons and Gi* finds hot within the surveyed quartier."""
    workshop = make_workshop(title="Atelier clos", quartiers=("Q.11", "Q.12", "Q.8"))
    url = f"/api/v1/groups/{workshop['codes'][0]}/pins"
    around = [(0, 0), (0.002, 0), (-0.002, 0), (0.001, 0.0012), (-0.001, 0.0012)]
    for a, b in [*around, (0.001, -0.0012), (-0.001, -0.0012)]:
        for _ in range(8):
            body = pin_body(lon=BLOSNE[0] + a, lat=BLOSNE[1] + b)
            assert client.post(url, json=body).status_code == 201
    close_workshop(workshop["id"])


@pytest.fixture
def planner_token(make_user, make_token):
    return make_token(make_user("planner", "rennes"))


def test_ogrinfo_lists_the_collections_each_visitor_may_read(
    live_server, clustered_release, planner_token
):
    public = layers_listed(gdal("ogrinfo", "-ro", "-q", f"OAPIF:{live_server}/ogc"))
    assert public == {
        "rennes-quartiers": "Multi Polygon",
        "rennes-hexagons": "Polygon",
        "rennes-hotspots": "Polygon",
    }
    staff = layers_listed(
        gdal("ogrinfo", "-ro", "-q", f"OAPIF:{live_server}/ogc", token=planner_token)
    )
    assert staff["rennes-points"] == "Point" and staff["rennes-hexagons-full"] == "Polygon"


def test_ogrinfo_reads_staff_points_with_basic_auth(live_server, pins, planner_token):
    url = f"OAPIF:{live_server}/ogc"
    assert summary(gdal("ogrinfo", "-ro", "-so", url, "rennes-points", basic=planner_token)) == (
        6,
        "Point",
    )
    listing = layers_listed(gdal("ogrinfo", "-ro", "-q", url, basic=planner_token))
    assert listing["rennes-points"] == "Point"


def test_ogrinfo_reads_items_with_a_bbox(live_server, pins, planner_token):
    url = f"OAPIF:{live_server}/ogc"
    west, south, east, north = BLOSNE[0] - 0.001, BLOSNE[1] - 0.001, BLOSNE[0] + 0.001, BLOSNE[1]
    box = [str(v) for v in (west, south, east, north + 0.001)]
    output = gdal("ogrinfo", "-ro", "-al", "-spat", *box, url, "rennes-quartiers")
    assert summary(output)[1] == "Multi Polygon"
    assert re.findall(r"^  code \(String\) = (.+)$", output, flags=re.M) == ["Q.11"]
    everything = gdal("ogrinfo", "-ro", "-so", url, "rennes-points", token=planner_token)
    assert summary(everything) == (6, "Point")
    near = gdal("ogrinfo", "-ro", "-al", "-spat", *box, url, "rennes-points", token=planner_token)
    assert len(re.findall(r"^OGRFeature\(rennes-points\)", near, flags=re.M)) == 5


def test_ogrinfo_reads_the_public_hexagons_of_the_release(live_server, released):
    hexagons = gdal("ogrinfo", "-ro", "-al", f"OAPIF:{live_server}/ogc", "rennes-hexagons")
    totals = [int(n) for n in re.findall(r"^  total \(Integer\) = (\d+)$", hexagons, flags=re.M)]
    # Thirty pins, with noise of sd 1.9: the cell shows, no count under k does.
    assert max(totals) >= 20 and min(totals) >= 3


def test_ogr2ogr_copies_the_points_collection_through_pages(
    live_server, pins, planner_token, tmp_path
):
    target = tmp_path / "copy.gpkg"
    gdal(
        "ogr2ogr",
        "-f",
        "GPKG",
        str(target),
        f"OAPIF:{live_server}/ogc",
        "rennes-points",
        "-oo",
        "PAGE_SIZE=2",  # three pages: the next links are followed
        token=planner_token,
    )
    assert summary(gdal("ogrinfo", "-ro", "-so", str(target), "rennes-points")) == (6, "Point")


def test_exported_geojson_and_geopackage_open_in_ogrinfo(
    client, pins, make_user, tmp_path, planner_token
):
    headers = {"Authorization": f"Bearer {planner_token}"}
    geojson = tmp_path / "pins.geojson"
    geojson.write_bytes(client.get("/api/v1/territories/rennes/pins.geojson", headers=headers).data)
    output = gdal("ogrinfo", "-ro", "-so", "-al", str(geojson))
    assert summary(output) == (6, "Point")
    assert 'ID["EPSG",4326]' in output and "WARNING" not in output.upper()
    gpkg = tmp_path / "pins.gpkg"
    gpkg.write_bytes(
        client.get("/api/v1/territories/rennes/pins.gpkg?crs=metric", headers=headers).data
    )
    output = gdal("ogrinfo", "-ro", "-so", str(gpkg), "pins")
    assert summary(output) == (6, "Point")
    assert 'ID["EPSG",2154]' in output
    unsafe = gdal("ogrinfo", "-ro", "-q", "-al", "-where", "feeling = 'unsafe'", str(gpkg), "pins")
    assert len(re.findall(r"^OGRFeature\(pins\)", unsafe, flags=re.M)) == 5


def test_ogrinfo_sends_a_simple_filter_to_the_server(app, live_server, pins, planner_token):
    """With /ogc/api readable, GDAL passes ``-where feeling='unsafe'`` to the server
    (as CQL, since the API offers ``filter-lang``) instead of downloading every pin."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import AuditEvent

    url = f"OAPIF:{live_server}/ogc"
    output = gdal(
        "ogrinfo",
        "-ro",
        "-al",
        "-where",
        "feeling = 'unsafe'",
        url,
        "rennes-points",
        token=planner_token,
    )
    assert len(re.findall(r"^OGRFeature\(rennes-points\)", output, flags=re.M)) == 5
    with app.app_context():
        reads = db.session.scalars(
            sa.select(AuditEvent.details).where(AuditEvent.action == "ogc.read")
        ).all()
    asked = [r["filters"] for r in reads if "filters" in r]
    assert {"filter": "feeling = 'unsafe'", "filter-lang": "cql-text"} in [
        {k: f.get(k) for k in ("filter", "filter-lang")} for f in asked
    ], asked


def test_ogrinfo_where_reaches_the_server_as_cql2(app, live_server, pins, planner_token):
    """GDAL 3.6 turns a whole ``-where`` on the collection's parameters into a CQL
    filter when the API's ``filter-lang`` offers ``cql-text``; the server answers it."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import AuditEvent

    where = "feeling = 'safe' AND category <> 'lighting' OR time_of_day = 'morning'"
    output = gdal(
        "ogrinfo",
        "-ro",
        "-al",
        "-where",
        where,
        f"OAPIF:{live_server}/ogc",
        "rennes-points",
        token=planner_token,
    )
    assert re.findall(r"^  category \(String\) = (.+)$", output, flags=re.M) == ["good_lighting"]
    with app.app_context():
        reads = db.session.scalars(
            sa.select(AuditEvent.details).where(AuditEvent.action == "ogc.read")
        ).all()
    sent = {r["filters"].get("filter") for r in reads} - {None}
    assert sent == {
        "((feeling = 'safe') AND (category <> 'lighting')) OR (time_of_day = 'morning')"
    }
