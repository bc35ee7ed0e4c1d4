"""OGC API – Features Part 2 (CRS by reference) under /ogc: ``crs``, ``bbox-crs``,
``Content-Crs``, the CRSs each collection offers, and what GDAL 3.6 does with them.

Expected coordinates come from pyproj used independently of the app: transformers in
the authority axis order of each CRS (``always_xy`` off), so a latitude/longitude
mix-up in the app cannot hide behind the same mix-up in the test.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import shapely
from pyproj import Transformer

from app.extensions import db
from app.models import Territory
from tests.app import test_gdal_clients
from tests.app.test_gdal_clients import gdal
from tests.conftest import BLOSNE, BLOSNE_2, pin_body

GEOJSON = "application/geo+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
LAMBERT_93 = EPSG + "2154"
# A closed workshop whose cluster the public release shows as hexagons and hot spots.
clustered_release = test_gdal_clients.clustered_release


def expected(lon: float, lat: float, code: int) -> tuple[float, float]:
    """(lon, lat) in EPSG:``code``'s own axis order, by pyproj alone."""
    return Transformer.from_crs("OGC:CRS84", f"EPSG:{code}").transform(lon, lat)


@pytest.fixture
def pins(client, make_workshop):
    """Three unsafe pins in Le Blosne, one safe pin a few hundred metres east."""
    code = make_workshop()["codes"][0]
    bodies = [pin_body() for _ in range(3)] + [
        pin_body(feeling="safe", category="good_lighting", lon=BLOSNE_2[0], lat=BLOSNE_2[1])
    ]
    for body in bodies:
        assert client.post(f"/api/v1/groups/{code}/pins", json=body).status_code == 201
    return bodies


@pytest.fixture
def staff(make_user, make_token):
    return {"Authorization": f"Bearer {make_token(make_user('planner', 'rennes'))}"}


def get(client, url: str, headers=None, **params):
    response = client.get(f"{url}?{urlencode(params)}" if params else url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


# -- what the collections offer --------------------------------------------------------------


def test_collections_offer_their_territorys_metric_crs_and_store_crs84(client, rennes, app):
    with app.app_context():
        db.session.add_all(
            [
                Territory(slug="namur", name="Namur", country="BE", metric_srid=3812),
                Territory(slug="saint-denis", name="Saint-Denis", metric_srid=32740),
            ]
        )
        db.session.commit()
    found = {c["id"]: c for c in get(client, "/ogc/collections").get_json()["collections"]}
    common = [CRS84, EPSG + "4326"]
    assert found["rennes-quartiers"]["crs"] == [*common, LAMBERT_93, EPSG + "3857"]
    assert found["namur-hexagons"]["crs"] == [*common, EPSG + "3812", EPSG + "3857"]
    assert found["saint-denis-hotspots"]["crs"] == [*common, EPSG + "32740", EPSG + "3857"]
    assert {c["storageCrs"] for c in found.values()} == {CRS84}
    classes = get(client, "/ogc/conformance").get_json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in classes
    # Each territory offers its own metric CRS, not another's.
    wrong = client.get(f"/ogc/collections/namur-quartiers/items?crs={LAMBERT_93}")
    assert wrong.status_code == 400 and "crs" in wrong.get_json()["fields"]


# -- coordinates in each CRS -----------------------------------------------------------------


@pytest.mark.parametrize("code", [4326, 2154, 3857])
def test_a_pin_lands_where_pyproj_puts_it_in_each_crs(client, pins, staff, code):
    url = "/ogc/collections/rennes-points/items"
    response = get(client, url, staff, crs=EPSG + str(code), feeling="unsafe", limit=1)
    assert response.headers["Content-Crs"] == f"<{EPSG}{code}>"
    (feature,) = response.get_json()["features"]
    assert feature["geometry"]["coordinates"] == pytest.approx(expected(*BLOSNE, code), abs=0.01)
    one = get(client, f"{url}/{feature['id']}", staff, crs=EPSG + str(code))
    assert one.headers["Content-Crs"] == f"<{EPSG}{code}>"
    assert one.get_json()["geometry"] == feature["geometry"]


def test_latitude_comes_first_in_epsg_4326_and_last_in_crs84(client, pins, staff):
    url = "/ogc/collections/rennes-points/items"
    plain = get(client, url, staff, feeling="safe")
    assert plain.headers["Content-Crs"] == f"<{CRS84}>"
    assert plain.get_json()["features"][0]["geometry"]["coordinates"] == list(BLOSNE_2)
    swapped = get(client, url, staff, feeling="safe", crs=EPSG + "4326").get_json()
    assert swapped["features"][0]["geometry"]["coordinates"] == [BLOSNE_2[1], BLOSNE_2[0]]


def test_a_quartier_is_in_lambert_93_vertex_by_vertex(client, rennes):
    url = "/ogc/collections/rennes-quartiers/items/Q.11"
    degrees = get(client, url).get_json()["geometry"]["coordinates"]
    response = get(client, url, crs=LAMBERT_93)
    assert response.headers["Content-Crs"] == f"<{LAMBERT_93}>"
    metres = response.get_json()["geometry"]["coordinates"]
    ring, projected = degrees[0][0], metres[0][0]
    assert len(projected) == len(ring) > 10
    for (lon, lat), (x, y) in zip(ring, projected, strict=True):
        assert (x, y) == pytest.approx(expected(lon, lat, 2154), abs=0.01)
    assert 345_000 < projected[0][0] < 360_000 and 6_780_000 < projected[0][1] < 6_795_000
    latlon = get(client, url, crs=EPSG + "4326").get_json()["geometry"]["coordinates"]
    assert latlon[0][0][0] == [ring[0][1], ring[0][0]]


def test_hexagons_from_the_layer_cache_are_regular_in_lambert_93(client, pins, staff):
    """The cells are drawn in the metric CRS and cached in degrees; moved back to
    Lambert-93 their six sides are equal again."""
    url = "/ogc/collections/rennes-hexagons-full/items"
    body = get(client, url, staff, crs=LAMBERT_93, size=200).get_json()
    assert body["numberMatched"] == 2
    for feature in body["features"]:
        ring = feature["geometry"]["coordinates"][0]
        sides = [math.dist(a, b) for a, b in itertools.pairwise(ring)]
        assert len(sides) == 6 and max(sides) - min(sides) < 0.05, sides
    degrees = get(client, url, staff, size=200).get_json()["features"]
    assert [f["properties"] for f in degrees] == [f["properties"] for f in body["features"]]


def test_the_crs_changes_no_public_count(client, clustered_release):
    """Public hexagons and hot spots come from the release whatever the CRS: the same
    cells and the same noisy counts."""
    for kind in ("hexagons", "hotspots"):
        url = f"/ogc/collections/rennes-{kind}/items"
        plain = get(client, url).get_json()["features"]
        metres = get(client, url, crs=EPSG + "3857").get_json()["features"]
        assert plain, kind
        assert [(f["id"], f["properties"]) for f in plain] == [
            (f["id"], f["properties"]) for f in metres
        ]
        assert abs(metres[0]["geometry"]["coordinates"][0][0][0]) > 100_000  # metres
        if kind == "hexagons":  # no count under k, in any CRS
            assert min(f["properties"]["total"] for f in metres) >= 3


# -- bbox in bbox-crs ------------------------------------------------------------------------


def _around(lon: float, lat: float, half: float = 0.001) -> tuple[float, float, float, float]:
    return lon - half, lat - half, lon + half, lat + half


def _in_lambert_93(box) -> str:
    west, south, east, north = box
    corners = [expected(x, y, 2154) for x in (west, east) for y in (south, north)]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return f"{min(xs)},{min(ys)},{max(xs)},{max(ys)}"


@pytest.mark.parametrize(
    "collection", ["rennes-quartiers", "rennes-points", "rennes-hexagons-full"]
)
def test_bbox_crs_selects_what_the_crs84_bbox_selects(client, pins, staff, collection):
    url = f"/ogc/collections/{collection}/items"
    box = _around(*BLOSNE)
    west, south, east, north = box

    def ids(**params) -> list[str]:
        return sorted(f["id"] for f in get(client, url, staff, **params).get_json()["features"])

    everything = ids()
    crs84 = ids(bbox=",".join(map(str, box)))
    assert crs84 and len(crs84) < len(everything)
    assert ids(bbox=f"{south},{west},{north},{east}", **{"bbox-crs": EPSG + "4326"}) == crs84
    assert ids(bbox=_in_lambert_93(box), **{"bbox-crs": LAMBERT_93}) == crs84
    # The same numbers read longitude first land in the sea off Somalia: nothing there.
    assert ids(bbox=",".join(map(str, box)), **{"bbox-crs": EPSG + "4326"}) == []


def test_a_lambert_93_box_is_not_widened_to_degrees(client, make_workshop, staff):
    """A square in Lambert-93 is a slightly turned square in degrees. A pin in the gap
    between the two, a few metres outside the Lambert-93 square but inside the bounds
    of its corners in degrees, is not selected; a pin inside is."""
    x, y = expected(*BLOSNE_2, 2154)
    square = shapely.box(x - 100, y - 100, x + 100, y + 100)
    corners = [
        Transformer.from_crs("EPSG:2154", "OGC:CRS84").transform(*c) for c in square.exterior.coords
    ]
    west, south = min(c[0] for c in corners) + 2e-5, min(c[1] for c in corners) + 2e-5
    east, north = max(c[0] for c in corners) - 2e-5, max(c[1] for c in corners) - 2e-5
    gap = max(
        ((lon, lat) for lon in (west, east) for lat in (south, north)),
        key=lambda p: square.distance(shapely.Point(expected(*p, 2154))),
    )
    assert square.distance(shapely.Point(expected(*gap, 2154))) > 3  # the premise
    code = make_workshop()["codes"][0]
    inside, outside = pin_body(lon=BLOSNE_2[0], lat=BLOSNE_2[1]), pin_body(lon=gap[0], lat=gap[1])
    for body in (inside, outside):
        assert client.post(f"/api/v1/groups/{code}/pins", json=body).status_code == 201
    params = {"bbox": ",".join(map(str, square.bounds)), "bbox-crs": LAMBERT_93}
    body = get(client, "/ogc/collections/rennes-points/items", staff, **params).get_json()
    assert [f["id"] for f in body["features"]] == [inside["id"]]
    degrees = get(
        client, "/ogc/collections/rennes-points/items", staff, bbox=f"{west},{south},{east},{north}"
    ).get_json()
    assert {f["id"] for f in degrees["features"]} == {inside["id"], outside["id"]}


def test_paging_links_keep_crs_and_bbox_crs(client, rennes):
    box = _in_lambert_93((-1.75, 48.07, -1.62, 48.16))
    params = {"limit": 5, "crs": LAMBERT_93, "bbox": box, "bbox-crs": LAMBERT_93}
    body = get(client, "/ogc/collections/rennes-quartiers/items", **params).get_json()
    links = {link["rel"]: link["href"] for link in body["links"] if link["type"] == GEOJSON}
    for rel in ("self", "next"):
        query = parse_qs(urlsplit(links[rel]).query)
        assert query["crs"] == [LAMBERT_93] and query["bbox-crs"] == [LAMBERT_93]
        assert query["bbox"] == [box]
    following = client.get(links["next"].replace("http://localhost", ""))
    assert following.headers["Content-Crs"] == f"<{LAMBERT_93}>"
    second = following.get_json()
    assert second["numberMatched"] == body["numberMatched"] == 12
    assert second["features"][0]["geometry"]["coordinates"][0][0][0][0] > 300_000


# -- errors name the parameter ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("crs=EPSG:2154", "crs"),
        ("crs=http://www.opengis.net/def/crs/EPSG/0/3812", "crs"),  # Belgium's, not Rennes's
        ("crs=http://www.opengis.net/def/crs/EPSG/0/27572", "crs"),
        ("bbox-crs=urn:ogc:def:crs:EPSG::2154&bbox=1,2,3,4", "bbox-crs"),
        ("bbox-crs=http://www.opengis.net/def/crs/EPSG/0/2154&bbox=0,0,1,1", "bbox"),
        (
            "bbox-crs=http://www.opengis.net/def/crs/EPSG/0/2154&bbox=360000,6790000,350000,6800000",
            "bbox",
        ),
        ("bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326&bbox=48.1,-1.7,95,-1.6", "bbox"),
        ("bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3857&bbox=0,0,1,30000000", "bbox"),
        ("bbox=350000,6780000,360000,6790000", "bbox"),  # metres read as CRS84 degrees
    ],
)
def test_bad_crs_parameters_are_400_naming_them(client, rennes, query, field):
    response = client.get(f"/ogc/collections/rennes-quartiers/items?{query}")
    assert response.status_code == 400, response.get_data(as_text=True)
    fields = response.get_json()["fields"]
    assert list(fields) == [field]
    if field == "bbox" and "2154" in query:
        assert "Lambert-93" in fields["bbox"]


def test_a_single_feature_refuses_an_unknown_crs(client, rennes):
    response = client.get("/ogc/collections/rennes-quartiers/items/Q.11?crs=EPSG:2154")
    assert response.status_code == 400 and "crs" in response.get_json()["fields"]
    english = client.get(
        "/ogc/collections/rennes-quartiers/items/Q.11?crs=x", headers={"Accept-Language": "en"}
    )
    assert english.get_json()["fields"]["crs"].startswith("Coordinate reference system")


def test_the_openapi_document_describes_crs_and_bbox_crs(client, rennes):
    doc = get(client, "/ogc/api").get_json()
    items = doc["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
    named = {p["name"]: p for p in items if "name" in p}
    for name in ("crs", "bbox-crs"):
        choices = named[name]["schema"]["anyOf"]
        assert {CRS84, EPSG + "4326", LAMBERT_93, EPSG + "3812", EPSG + "3857"} <= set(
            choices[0]["enum"]
        )
        assert re.match(choices[1]["pattern"], EPSG + "32740")
        assert not re.match(choices[1]["pattern"], EPSG + "32761")
    one = doc["paths"]["/collections/{collectionId}/items/{featureId}"]["get"]["parameters"]
    assert "crs" in {p.get("name") for p in one}


# -- GDAL 3.6 ----------------------------------------------------------------------------------


def test_gdal_3_6_ignores_part_2_and_reprojects_on_its_side(client, live_server, rennes, tmp_path):
    """Debian 12's GDAL 3.6 has no CRS option for OAPIF (Part 2 came with 3.7): it never
    sends ``crs``, labels every layer EPSG:4326 in longitude, latitude order and reads
    CRS84. ``ogr2ogr -t_srs EPSG:2154`` then lands where our ``crs`` answer does."""
    url = f"OAPIF:{live_server}/ogc"
    info = gdal("ogrinfo", "-ro", "-so", url, "rennes-quartiers")
    assert 'ID["EPSG",4326]' in info and "Data axis to CRS axis mapping: 2,1" in info
    assert re.search(r"^Extent: \(-1\.7\d+, 48\.0\d+\)", info, flags=re.M)
    target = tmp_path / "quartiers.geojson"
    gdal("ogr2ogr", "-t_srs", "EPSG:2154", "-f", "GeoJSON", str(target), url, "rennes-quartiers")
    theirs = {f["properties"]["code"]: f for f in json.loads(target.read_text())["features"]}
    ours = get(client, "/ogc/collections/rennes-quartiers/items/Q.11", crs=LAMBERT_93).get_json()
    mine = ours["geometry"]["coordinates"][0][0]
    gdals = theirs["Q.11"]["geometry"]["coordinates"][0][0]
    assert len(mine) == len(gdals)
    for a, b in zip(mine, gdals, strict=True):
        assert a == pytest.approx(b, abs=0.02)


def test_no_crs_member_in_the_geojson_body(client, rennes):
    """RFC 7946 removed GeoJSON's ``crs`` member: the CRS travels in Content-Crs."""
    body = get(client, "/ogc/collections/rennes-quartiers/items", crs=LAMBERT_93).get_json()
    assert "crs" not in body and "crs" not in body["features"][0]
