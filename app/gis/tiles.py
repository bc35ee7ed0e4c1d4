"""Vector tiles (OGC API – Tiles, WebMercatorQuad, Mapbox Vector Tile) of the hexagon
and point collections, the pygeoapi way: plain arguments in, ``(headers, status,
content)`` out; the routes are in :mod:`app.gis.ogc.tileroutes`, the tileset documents
in :mod:`app.gis.tilesets`.

What a tile holds is what the collection's items hold, cut to the tile:

- hexagons (``hexagons``, ``hexagons-full``): the collection's hexagon layer at the
  zoom's size (:func:`hexagon_size`: larger cells at low zoom), read through the same
  cached layer as the items (:func:`app.gis.ogc.core.hexagon_features`). The public
  collection's layer is the public release's (:mod:`app.analysis.release`): no count
  under the display threshold, and a tile never says more than the public hexagon layer
  at that size, so no pair of tiles, zooms or filters differences anything the layer API
  does not already answer.
- points (staff): the pins themselves from :data:`POINTS_FROM` (with the items'
  properties, comment text only for who may read it), the exact hexagon counts below.

PostGIS builds every tile (``ST_AsMVT``/``ST_AsMVTGeom``/``ST_TileEnvelope``). A tile
with no feature is ``204 No Content`` (OGC API – Tiles allows 204 or an empty 200; 204
saves the client decoding nothing). The ETag is the territory's data version (migration
0013) with everything else the tile depends on, so a reload costs a 304.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app import access
from app.analysis import cache
from app.gis import pinrows
from app.gis.ogc import core
from app.gis.ogc.collections import KINDS, LIMIT_MAX, Kind, ParameterError
from app.gis.ogc.params import Query, parse_query
from app.models import Pin, Territory

MVT = "application/vnd.mapbox-vector-tile"
TMS = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
MIN_ZOOM, MAX_ZOOM = 0, 22
POINTS_FROM = 14  # raw pins from this zoom (a z14 tile is about 1.6 km wide at 48°N)
EXTENT, BUFFER = 4096, 64
MEMO_SIZE = 16

TEXTS = {
    "tilesets": _l("Tuiles vectorielles"),
    "tileset": _l("Tuiles vectorielles (WebMercatorQuad)"),
    "tilejson": _l("Tuiles vectorielles (TileJSON)"),
    "bad_tile": _l("Entier attendu."),
    "zoom": _l("Niveau de zoom de %(low)d à %(high)d."),
    "outside": _l("Hors de la grille : de 0 à %(high)d à ce niveau."),
    "unknown_tms": _l("Grille inconnue : seule WebMercatorQuad est proposée."),
}


@dataclass(frozen=True)
class Tile:
    z: int
    y: int
    x: int


class TileNotFound(Exception):
    """A tile outside the grid: 404 naming the coordinate."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def hexagon_size(z: int) -> float:
    """Hexagon size in metres drawn at zoom ``z``: 150 m (the public release's cell) from
    z13, doubling per zoom out, at most 4800 m; about 20 px wide on screen."""
    return float(min(150 * 2 ** max(13 - z, 0), 4800))


def parse_tile(z: str, y: str, x: str) -> Tile:
    """The path's tile coordinates; 400 when not integers, :class:`TileNotFound`
    naming the coordinate outside the grid."""
    bad = {n: str(TEXTS["bad_tile"]) for n, v in (("z", z), ("y", y), ("x", x)) if not _digits(v)}
    if bad:
        raise ParameterError(bad)
    tile = Tile(int(z), int(y), int(x))
    if not MIN_ZOOM <= tile.z <= MAX_ZOOM:
        raise TileNotFound("z", str(TEXTS["zoom"]) % {"low": MIN_ZOOM, "high": MAX_ZOOM})
    for name in ("y", "x"):
        if getattr(tile, name) >= 2**tile.z:
            raise TileNotFound(name, str(TEXTS["outside"]) % {"high": 2**tile.z - 1})
    return tile


def _digits(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 8


def tile_filters(kind: Kind, args) -> Query:
    """The tile request's filters, as on the items (``size`` is the zoom's)."""
    allowed = {"f", "datetime", *(n for n in kind.filters if n != "size")}
    unknown = [n for n in args if n not in allowed]
    if unknown:
        names = ", ".join(sorted(allowed))
        raise ParameterError(
            {n: str(core.TEXTS["unknown_parameter"]) % {"names": names} for n in unknown}
        )
    return parse_query(kind, {n: v for n, v in args.items() if n != "f"})


def etag(territory: Territory, kind: Kind, asked: core.Asked, tile: Tile | None = None) -> str:
    """The territory's data version, and a digest of all else the answer depends on."""
    args = sorted((n, v) for n, v in asked.args.items() if n != "f")
    text = json.dumps(
        [
            territory.id,
            kind.name,
            args,
            asked.comments,
            asked.english,
            tile and [tile.z, tile.y, tile.x],
        ]
    )
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f'"{cache.data_version(territory)}-{digest}"'


# -- the tile -----------------------------------------------------------------------------

_memo: OrderedDict = OrderedDict()  # (layer, data version) → (features, their boxes)

HEXAGON_MVT = sa.text(
    "SELECT ST_AsMVT(t, :layer, :extent, 'geom') FROM ("
    " SELECT f.p AS props, ST_AsMVTGeom(ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON(f.g), 4326),"
    " 3857), ST_TileEnvelope(:z, :x, :y), :extent, :buffer, true) AS geom"
    " FROM jsonb_to_recordset(CAST(:features AS jsonb)) AS f(g jsonb, p jsonb)) AS t"
    " WHERE geom IS NOT NULL"
)


def tile(asked: core.Asked, session, territory: Territory, kind: Kind, at: Tile) -> core.Answer:
    """The tile ``at`` of the collection, filtered by ``asked.args`` (as the items), from
    the shared layer cache while the territory's data version holds: a dense tile of
    pins costs PostGIS hundreds of milliseconds (bench/RESULTS.md), once per version."""
    wanted = tile_filters(kind, asked.args)
    filters = core._pin_filters(territory, kind, wanted)  # checked, and the cache's key

    def compute() -> bytes:
        if kind.name == "points" and at.z >= POINTS_FROM:
            return _point_tile(asked, session, territory, kind, wanted, at)
        cells = KINDS["hexagons-full"] if kind.name == "points" else kind
        layer = "cells" if kind.name == "points" else kind.name
        return _hexagon_tile(asked, session, territory, cells, wanted, at, layer)

    # PostGIS's function costs make the planner JIT-compile a tile's query: 1-3 s of
    # compiling for a 100 ms query (EXPLAIN ANALYZE in bench/RESULTS.md).
    session.execute(sa.text("SET LOCAL jit = off"))
    where = f"tile:{kind.name}:{at.z}/{at.x}/{at.y}"
    key = cache.cache_key(territory, where, filters, asked.comments, asked.english)
    body = cache.cached(territory, key, compute)[0]
    if not body:
        return {}, 204, b""
    return {"Content-Type": MVT}, 200, body


def hexagon_cells(asked: core.Asked, territory: Territory, kind: Kind, wanted: Query, z: int):
    """The collection's hexagon features at the zoom's size, as the items give them
    (``?size=``), with each one's ``[west, south, east, north]``; kept per process while
    the territory's data version holds, so a tile does not parse the whole layer."""
    query = Query(
        LIMIT_MAX,
        0,
        None,
        wanted.start,
        wanted.end,
        {**wanted.filters, "size": str(hexagon_size(z))},
    )
    version = cache.data_version(territory)  # never reused (migration 0013's sequence)
    key = (territory.id, kind.name, version, repr(query), asked.english, access.suppression_k())
    found = _memo.get(key)
    if found is None:
        features = core._hexagon_features(asked, territory, kind, query)
        found = _memo[key] = (features, _boxes(features))
        while len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)
    _memo.move_to_end(key)
    return found


def _boxes(features: list[dict]) -> np.ndarray:
    boxes = np.zeros((len(features), 4))
    for i, feature in enumerate(features):
        ring = np.asarray(feature["geometry"]["coordinates"][0])
        boxes[i] = (*ring.min(axis=0), *ring.max(axis=0))
    return boxes


def tile_bounds(at: Tile, margin: float = 0.0) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` of the tile in degrees, widened by ``margin`` tiles."""
    n = 2**at.z

    def lon(x: float) -> float:
        return x / n * 360.0 - 180.0

    def lat(y: float) -> float:
        return float(np.degrees(np.arctan(np.sinh(np.pi * (1 - 2 * y / n)))))

    return (
        lon(at.x - margin),
        lat(min(at.y + 1 + margin, n)),
        lon(at.x + 1 + margin),
        lat(max(at.y - margin, 0)),
    )


def _hexagon_tile(asked, session, territory, kind, wanted, at: Tile, layer: str) -> bytes:
    features, boxes = hexagon_cells(asked, territory, kind, wanted, at.z)
    west, south, east, north = tile_bounds(at, BUFFER / EXTENT)
    inside = (
        (boxes[:, 0] <= east)
        & (boxes[:, 2] >= west)
        & (boxes[:, 1] <= north)
        & (boxes[:, 3] >= south)
    )
    chosen = [
        {"g": f["geometry"], "p": {"id": f["id"], **f["properties"]}}
        for f, keep in zip(features, inside.tolist(), strict=True)
        if keep
    ]
    if not chosen:
        return b""
    values = {"layer": layer, "extent": EXTENT, "buffer": BUFFER, "features": json.dumps(chosen)}
    return bytes(session.scalar(HEXAGON_MVT, {**values, "z": at.z, "x": at.x, "y": at.y}))


def envelope(at: Tile, margin: float = 0.0):
    world = 20037508.342789244
    square = sa.func.ST_MakeEnvelope(-world, -world, world, world, 3857)
    return sa.func.ST_TileEnvelope(at.z, at.x, at.y, square, margin)


def _point_tile(asked, session, territory, kind, wanted, at: Tile) -> bytes:
    """The pins of the tile (and of its buffer) with the items' properties."""
    filters = core._pin_filters(territory, kind, wanted)
    geom = sa.func.ST_AsMVTGeom(
        sa.func.ST_Transform(Pin.geom, 3857), envelope(at), EXTENT, BUFFER, True
    )
    near = Pin.geom.op("&&")(sa.func.ST_Transform(envelope(at, BUFFER / EXTENT), 4326))
    pins = (
        pinrows.pin_query(
            territory,
            filters,
            near,
            comments=asked.comments,
            english=asked.english,
            extra=(geom.label("geom"),),
        )
        .order_by(None)
        .offset(0)  # a fence: else the outer NOT NULL test computes ST_AsMVTGeom twice a pin
        .subquery("p")
    )
    created = sa.func.to_char(
        sa.func.timezone("UTC", pins.c.created_at), 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'
    )
    names = [n for n in pinrows.FIELDS if n not in ("id", "created_at")]
    rows = (
        sa.select(
            sa.cast(pins.c.id, sa.Text).label("id"),
            *(pins.c[n] for n in names),
            created.label("created_at"),
            pins.c.geom,
        )
        .where(pins.c.geom.isnot(None))
        .subquery("t")
    )
    query = sa.select(
        sa.func.ST_AsMVT(sa.literal_column("t"), "points", EXTENT, "geom")
    ).select_from(rows)
    return bytes(session.scalar(query) or b"")
