"""The vector tilesets' documents (OGC API – Tiles ``tilesets-list`` and ``tileset``,
and TileJSON 3.0 for MapLibre, QGIS and Leaflet clients) of :mod:`app.gis.tiles`: plain
arguments in, ``(headers, status, content)`` out."""

from __future__ import annotations

from urllib.parse import urlencode

from app.gis import pinrows
from app.gis.ogc import core
from app.gis.ogc.collections import CRS84, Kind
from app.gis.tiles import MAX_ZOOM, MIN_ZOOM, MVT, POINTS_FROM, TEXTS, TMS, TMS_URI
from app.models import Territory

TILEJSON = "application/vnd.mapbox.tile+json"  # TileJSON has no registered type; Mapbox's

TILESETS_REL = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
SCHEME_REL = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
SCHEME = "https://schemas.opengis.net/tms/2.0/json/tilematrixsets/WebMercatorQuad.json"
MERCATOR = "http://www.opengis.net/def/crs/EPSG/0/3857"
FIELDS = {
    "hexagons": ("id", "total", "unsafe", "safe", "top_categories"),
    "hexagons-full": ("id", "total", "unsafe", "safe", "top_categories"),
    "cells": ("id", "total", "unsafe", "safe", "top_categories"),
    "points": pinrows.FIELDS,
}


def _path(territory: Territory, kind: Kind) -> str:
    return f"/collections/{territory.slug}-{kind.name}/tiles"


def _query(asked: core.Asked) -> str:
    kept = {n: v for n, v in asked.args.items() if n != "f"}
    return "?" + urlencode(kept) if kept else ""


def tile_template(asked: core.Asked, territory: Territory, kind: Kind) -> str:
    path = f"{asked.base}{_path(territory, kind)}/{TMS}"
    return path + "/{z}/{y}/{x}" + _query(asked)


def layers(kind: Kind) -> list[dict]:
    """The tile layers of the collection and the zooms each appears at."""
    if kind.name != "points":
        return [
            {"id": kind.name, "geometryType": "polygons", "minzoom": MIN_ZOOM, "maxzoom": MAX_ZOOM}
        ]
    return [
        {
            "id": "cells",
            "geometryType": "polygons",
            "minzoom": MIN_ZOOM,
            "maxzoom": POINTS_FROM - 1,
        },
        {"id": "points", "geometryType": "points", "minzoom": POINTS_FROM, "maxzoom": MAX_ZOOM},
    ]


def tilesets(asked: core.Asked, territory: Territory, kind: Kind) -> core.Answer:
    """The collection's tileset list (one: WebMercatorQuad)."""
    path = f"{asked.base}{_path(territory, kind)}"
    return core._ok(
        {
            "links": [{"href": path + _query(asked), "rel": "self", "type": core.JSON}],
            "tilesets": [_summary(asked, territory, kind)],
        }
    )


def _summary(asked: core.Asked, territory: Territory, kind: Kind) -> dict:
    href = f"{asked.base}{_path(territory, kind)}/{TMS}{_query(asked)}"
    return {
        "title": f"{territory.name} — {kind.title}",
        "dataType": "vector",
        "crs": MERCATOR,
        "tileMatrixSetURI": TMS_URI,
        "links": [
            {"href": href, "rel": "self", "type": core.JSON, "title": str(TEXTS["tileset"])},
            {"href": SCHEME, "rel": SCHEME_REL, "type": core.JSON},
        ],
    }


def tileset(asked: core.Asked, territory: Territory, kind: Kind, box) -> core.Answer:
    """The tileset's metadata (OGC API – Tiles ``tileset``), its tiles' URL template and
    layers; ``box``: the territory's ``(west, south, east, north)`` or None."""
    summary = _summary(asked, territory, kind)
    summary["links"].append(
        {
            "href": tile_template(asked, territory, kind).replace(
                "{z}/{y}/{x}", "{tileMatrix}/{tileRow}/{tileCol}"
            ),
            "rel": "item",
            "type": MVT,
            "templated": True,
        }
    )
    summary["links"].append(
        {
            "href": f"{asked.base}{_path(territory, kind)}/{TMS}?f=tilejson"
            + _query(asked).replace("?", "&"),
            "rel": "alternate",
            "type": TILEJSON,
            "title": str(TEXTS["tilejson"]),
        }
    )
    summary["layers"] = [
        {
            "id": layer["id"],
            "dataType": "vector",
            "geometryType": layer["geometryType"],
            "minTileMatrix": str(layer["minzoom"]),
            "maxTileMatrix": str(layer["maxzoom"]),
        }
        for layer in layers(kind)
    ]
    if box is not None:
        summary["boundingBox"] = {
            "lowerLeft": list(box[:2]),
            "upperRight": list(box[2:]),
            "crs": CRS84,
        }
    return core._ok(summary)


def tilejson(asked: core.Asked, territory: Territory, kind: Kind, box) -> core.Answer:
    """The same tileset as TileJSON 3.0.0 (``?f=tilejson``), for MapLibre, QGIS, Leaflet."""
    body = {
        "tilejson": "3.0.0",
        "name": f"{territory.name} — {kind.title}",
        "scheme": "xyz",
        "tiles": [tile_template(asked, territory, kind)],
        "minzoom": MIN_ZOOM,
        "maxzoom": MAX_ZOOM,
        "vector_layers": [
            {
                "id": layer["id"],
                "fields": dict.fromkeys(FIELDS[layer["id"]], "String"),
                "minzoom": layer["minzoom"],
                "maxzoom": layer["maxzoom"],
            }
            for layer in layers(kind)
        ],
    }
    if box is not None:
        body["bounds"] = [round(v, 6) for v in box]
        body["center"] = [round((box[0] + box[2]) / 2, 6), round((box[1] + box[3]) / 2, 6), 13]
    return core._ok(body, TILEJSON)
