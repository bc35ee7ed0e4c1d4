"""OGC API – Tiles (vector tiles) of the hexagon and point collections: the tiles hold
what the items hold, the public ones only the release's counts; access, ETag, errors."""

from __future__ import annotations

import math

import mapbox_vector_tile
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent
from tests.conftest import BLOSNE, login, pin_body

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


def test_smoke(client, demo, bearer):
    got = tile_features(client, "rennes-hexagons", 13)
    print({k: len(v) for k, v in got.items()})
    its = items(client, "rennes-hexagons", "size=150")
    print(len(its))
    assert set(got["hexagons"]) == set(its)
