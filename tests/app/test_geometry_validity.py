"""Every polygon the service emits is valid and oriented as RFC 7946 asks (exterior rings
counter-clockwise, holes clockwise): layers, exports, OGC items — what QGIS's "Check
Validity" and strict GeoJSON readers look at."""

from __future__ import annotations

import shapely

from tests.conftest import login

LAYERS = "/api/v1/territories/rennes/layers"
URLS = (
    f"{LAYERS}/hexagons",
    f"{LAYERS}/net",
    f"{LAYERS}/density",
    f"{LAYERS}/hexagons?full=1",
    f"{LAYERS}/hotspots?full=1",
    f"{LAYERS}/net?full=1",
    f"{LAYERS}/density?full=1&bandwidth=150",
    f"{LAYERS}/density?full=1&bandwidth=400&size=50",
    "/api/v1/territories/rennes/quartiers.geojson",
    "/api/v1/territories/rennes/hexagons.geojson?full=1",
    "/api/v1/territories/rennes/hotspots.geojson?full=1",
    "/ogc/collections/rennes-quartiers/items?limit=1000",
    "/ogc/collections/rennes-hexagons/items?limit=1000",
    "/ogc/collections/rennes-hexagons-full/items?limit=1000",
)


def _polygons(geometry) -> list:
    shape = shapely.geometry.shape(geometry)
    return list(getattr(shape, "geoms", [shape]))


def test_every_polygon_is_valid_and_counter_clockwise(client, demo, make_user):
    login(client, make_user("police", "rennes").email)
    checked = 0
    for url in URLS:
        response = client.get(url)
        assert response.status_code == 200, url
        features = response.get_json()["features"]
        assert features, url
        for feature in features:
            shape = shapely.geometry.shape(feature["geometry"])
            assert shapely.is_valid(shape), (url, shapely.is_valid_reason(shape))
            for polygon in _polygons(feature["geometry"]):
                assert polygon.exterior.is_ccw, url
                assert all(not ring.is_ccw for ring in polygon.interiors), url
                checked += 1
    assert checked > 500
