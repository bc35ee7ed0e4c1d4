"""OGC API – Tiles (vector tiles) of the hexagon and point collections: the tiles hold
what the items hold, the public ones only the release's counts; access, ETag, errors."""

from __future__ import annotations

import math

import mapbox_vector_tile
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent
from tests.conftest import BLOSNE, pin_body

MVT = "application/vnd.mapbox-vector-tile"
K = 3
RENNES = (-1.76, 48.07, -1.62, 48.16)  # west, south, east, north


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """``(x, y)`` of the WebMercatorQuad tile holding the point."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def tiles_over(box, z: int):
    west, south, east, north = box
    x0, y0 = tile_of(west, north, z)
    x1, y1 = tile_of(east, south, z)
    return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def decode(response) -> dict[str, list[dict]]:
    """``{layer: [properties, …]}`` of one tile (an empty tile: ``{}``)."""
    if response.status_code == 204:
        return {}
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == MVT
    layers = mapbox_vector_tile.decode(response.data)
    return {name: [f["properties"] for f in layer["features"]] for name, layer in layers.items()}


def tile_features(client, collection: str, z: int, query: str = "", headers=None, box=RENNES):
    """Every feature of the collection's tiles over ``box`` at ``z``, once each (a hexagon
    on a tile edge is in both tiles), by layer and id."""
    found: dict[str, dict[str, dict]] = {}
    for x, y in tiles_over(box, z):
        url = f"/ogc/collections/{collection}/tiles/WebMercatorQuad/{z}/{y}/{x}?{query}"
        for layer, features in decode(client.get(url, headers=headers)).items():
            for props in features:
                found.setdefault(layer, {})[props["id"]] = props
    return found


def items(client, collection: str, query: str = "", headers=None) -> dict[str, dict]:
    url = f"/ogc/collections/{collection}/items?limit=10000&{query}"
    body = client.get(url, headers=headers).get_json()
    return {f["id"]: f["properties"] for f in body["features"]}


@pytest.fixture
def bearer(make_user, make_token):
    def make(role: str, slug: str = "rennes") -> dict:
        return {"Authorization": f"Bearer {make_token(make_user(role, slug))}"}

    return make


def test_conformance_collection_links_and_tileset_documents(client, demo):
    classes = client.get("/ogc/conformance").get_json()["conformsTo"]
    tiles = {c.rsplit("/", 1)[1] for c in classes if "ogcapi-tiles-1" in c}
    assert tiles == {"core", "tileset", "tilesets-list", "mvt"}
    rel = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
    links = client.get("/ogc/collections/rennes-hexagons").get_json()["links"]
    href = next(link["href"] for link in links if link["rel"] == rel)
    assert href.endswith("/ogc/collections/rennes-hexagons/tiles")
    quartiers = client.get("/ogc/collections/rennes-quartiers").get_json()["links"]
    assert rel not in {link["rel"] for link in quartiers}
    listed = client.get(href).get_json()["tilesets"]
    assert [t["tileMatrixSetURI"].rsplit("/", 1)[1] for t in listed] == ["WebMercatorQuad"]
    meta = client.get(f"{href}/WebMercatorQuad?feeling=unsafe").get_json()
    template = next(link["href"] for link in meta["links"] if link["rel"] == "item")
    assert template.endswith("/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}?feeling=unsafe")
    assert meta["dataType"] == "vector" and meta["layers"][0]["id"] == "hexagons"
    tilejson = client.get(f"{href}/WebMercatorQuad?f=tilejson").get_json()
    assert tilejson["tilejson"] == "3.0.0" and tilejson["tiles"][0].endswith("/{z}/{y}/{x}")
    west, south, east, north = tilejson["bounds"]
    assert -1.76 < west < east < -1.62 and 48.07 < south < north < 48.16
    assert client.get(f"{href}/WebMercatorQuad?f=html").status_code == 400


@pytest.mark.parametrize(("z", "size"), [(13, 150), (11, 600), (9, 2400)])
def test_public_tiles_hold_the_public_items_at_the_zooms_size(client, demo, z, size):
    """Each zoom draws the public hexagons of its size, with the same (released) counts:
    larger cells at low zoom."""
    for query in ("", "feeling=unsafe"):
        got = tile_features(client, "rennes-hexagons", z, query)["hexagons"]
        expected = items(client, "rennes-hexagons", f"size={size}&{query}")
        assert expected and set(got) == set(expected)
        for cell, props in expected.items():
            assert got[cell]["total"] == props["total"]
            assert got[cell].get("unsafe") == props["unsafe"]


def test_staff_tiles_have_the_exact_counts_of_the_items(client, demo, bearer):
    police = bearer("police")
    got = tile_features(client, "rennes-hexagons-full", 12, "feeling=safe", police)
    expected = items(client, "rennes-hexagons-full", "size=300&feeling=safe", police)
    assert {c: p["total"] for c, p in got["hexagons-full"].items()} == {
        c: p["total"] for c, p in expected.items()
    }
    assert sum(p["total"] for p in expected.values()) > 0


def test_public_tiles_state_no_count_under_k_whatever_the_zoom_or_filter(client, demo, bearer):
    """The attacker's view: every figure of every public tile over the town at every zoom
    and feeling is one of the public layer's at that size (so two tiles difference no
    more than the layer API), never 1 to k−1, while the staff's exact tiles have small
    counts to hide."""
    stated = []
    for z, size in ((13, 150), (12, 300), (10, 1200)):
        for feeling in ("", "feeling=unsafe", "feeling=safe"):
            got = tile_features(client, "rennes-hexagons", z, feeling).get("hexagons", {})
            layer = client.get(
                f"/api/v1/territories/rennes/layers/hexagons?size={size}&{feeling}"
            ).get_json()["features"]
            public = {f["id"]: f["properties"] for f in layer}
            for cell, props in got.items():
                assert public[cell]["total"] == props["total"]
                stated += [props[n] for n in ("total", "unsafe", "safe") if n in props]
    assert stated and not [n for n in stated if 1 <= n < K]
    exact = tile_features(client, "rennes-hexagons-full", 13, "", bearer("police"))
    assert [p for p in exact["hexagons-full"].values() if 1 <= p["total"] < K]
    for query in (
        "category=lighting",
        "time_of_day=night",
        "datetime=2026-01-01T10:00:00Z/..",  # instants a second apart would time a pin
        "size=25",  # the zoom sets the size
    ):
        url = "/ogc/collections/rennes-hexagons/tiles/WebMercatorQuad/13/2845/4057?" + query
        response = client.get(url)
        assert response.status_code == 400 and query.split("=")[0] in response.get_json()["fields"]


def test_point_tiles_are_the_pins_from_z14_and_cells_below(client, demo, bearer):
    police = bearer("police")
    query = "feeling=unsafe&time_of_day=night"
    pins = items(client, "rennes-points", query, police)
    got = tile_features(client, "rennes-points", 14, query, police)
    assert set(got) == {"points"} and set(got["points"]) == set(pins)
    one = next(iter(pins))
    for name in ("feeling", "category", "category_label", "time_of_day", "workshop", "quartier"):
        assert got["points"][one].get(name) == pins[one][name]
    assert got["points"][one]["created_at"] == pins[one]["created_at"]
    cells = tile_features(client, "rennes-points", 12, query, police)["cells"]
    assert sum(p["total"] for p in cells.values()) == len(pins)


def test_comment_text_only_for_who_may_read_it(app, client, rennes, make_workshop, bearer):
    code = make_workshop()["codes"][0]
    assert (
        client.post(f"/api/v1/groups/{code}/pins", json=pin_body(comment="Lampadaire")).status_code
        == 201
    )
    with app.app_context():
        db.session.execute(sa.text("UPDATE pin SET comment_status = 'approved'"))
        db.session.commit()
    x, y = tile_of(*BLOSNE, 15)
    url = f"/ogc/collections/rennes-points/tiles/WebMercatorQuad/15/{y}/{x}"
    police = decode(client.get(url, headers=bearer("police")))["points"]
    planner = decode(client.get(url, headers=bearer("planner")))["points"]
    assert [p["comment"] for p in police] == ["Lampadaire"]
    assert [p.get("comment") for p in planner] == [None]


def test_who_may_read_tiles(client, demo, paris, bearer):
    x, y = tile_of(*BLOSNE, 14)
    for collection, headers, status in (
        ("rennes-points", None, 401),
        ("rennes-hexagons-full", None, 401),
        ("rennes-points", bearer("planner", "paris"), 403),
        ("rennes-points", bearer("planner"), 200),
        ("rennes-hexagons", None, 200),
        ("rennes-quartiers", None, 404),
        ("nowhere-hexagons", None, 404),
    ):
        url = f"/ogc/collections/{collection}/tiles/WebMercatorQuad/14/{y}/{x}"
        assert client.get(url, headers=headers).status_code == status, (collection, headers)
        if status in (401, 403):
            assert (
                client.get(f"/ogc/collections/{collection}/tiles", headers=headers).status_code
                == status
            )


def test_reload_costs_a_304_until_a_pin_arrives(client, demo, make_workshop):
    x, y = tile_of(*BLOSNE, 13)
    url = f"/ogc/collections/rennes-hexagons/tiles/WebMercatorQuad/13/{y}/{x}"
    first = client.get(url)
    assert first.status_code == 200 and first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    code = make_workshop()["codes"][0]
    assert client.post(f"/api/v1/groups/{code}/pins", json=pin_body()).status_code == 201
    after = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != first.headers["ETag"]


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("13/abc/4057", 400, "y"),
        ("-1/0/0", 400, "z"),
        ("23/0/0", 404, "z"),
        ("3/8/0", 404, "y"),
        ("3/0/8", 404, "x"),
    ],
)
def test_bad_tile_coordinates_are_named(client, rennes, path, status, field):
    response = client.get(f"/ogc/collections/rennes-hexagons/tiles/WebMercatorQuad/{path}")
    assert response.status_code == status
    assert field in response.get_json()["fields"]


def test_unknown_matrix_set_and_empty_tile(client, demo):
    base = "/ogc/collections/rennes-hexagons/tiles"
    assert client.get(f"{base}/WorldCRS84Quad/0/0/0").status_code == 404
    assert client.get(f"{base}/WorldCRS84Quad").status_code == 404
    empty = client.get(f"{base}/WebMercatorQuad/14/0/0")  # the Bering Strait
    assert empty.status_code == 204 and not empty.data


def test_staff_tile_reads_are_audited_once_per_collection_and_filters(app, client, demo, bearer):
    police = bearer("police")
    tile_features(client, "rennes-points", 14, "feeling=unsafe", police)
    tile_features(client, "rennes-points", 13, "feeling=unsafe", police)
    tile_features(client, "rennes-points", 14, "feeling=safe", police)
    with app.app_context():
        targets = db.session.scalars(
            sa.select(AuditEvent.target).where(AuditEvent.action == "ogc.tiles")
        ).all()
    assert sorted(targets) == [
        "rennes-points/tiles/cells?feeling=unsafe",
        "rennes-points/tiles/points?feeling=safe",
        "rennes-points/tiles/points?feeling=unsafe",
    ]


def test_gdal_reads_a_staff_point_tile(
    live_server, app, client, rennes, make_workshop, make_user, make_token
):
    """GDAL's MVT driver (as QGIS uses it) opens a tile of pins with a bearer token and
    finds them where they were placed. GDAL reads a path ending in three numbers as its
    own ``z/x/y`` (OGC's order is ``z/y/x``): the query string ``f=mvt`` and the open
    options ``Z, X, Y`` say which tile it is."""
    from tests.app.test_gdal_clients import gdal

    code = make_workshop()["codes"][0]
    for _ in range(3):
        assert client.post(f"/api/v1/groups/{code}/pins", json=pin_body()).status_code == 201
    token = make_token(make_user("planner", "rennes"))
    x, y = tile_of(*BLOSNE, 15)
    url = f"{live_server}/ogc/collections/rennes-points/tiles/WebMercatorQuad/15/{y}/{x}?f=mvt"
    output = gdal(
        "ogrinfo",
        "-ro",
        "-al",
        "-oo",
        "Z=15",
        "-oo",
        f"X={x}",
        "-oo",
        f"Y={y}",
        f"MVT:/vsicurl/{url}",
        token=token,
    )
    assert "Feature Count: 3" in output
    x_m, y_m = (float(v) for v in output.split("POINT (")[1].split(")")[0].split())  # EPSG:3857
    lon = math.degrees(x_m / 6378137)
    lat = math.degrees(2 * math.atan(math.exp(y_m / 6378137)) - math.pi / 2)
    assert abs(lon - BLOSNE[0]) < 1e-4 and abs(lat - BLOSNE[1]) < 1e-4, output
