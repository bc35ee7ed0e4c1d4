"""OGC API – Tiles under ``/ogc/collections/<id>/tiles`` (core, tileset, tilesets-list,
Mapbox Vector Tiles) for the hexagon and point collections; :mod:`app.gis.tiles`
answers from plain arguments.

- ``…/tiles``: the tileset list (one tileset, WebMercatorQuad), JSON;
- ``…/tiles/WebMercatorQuad``: its metadata, JSON, or TileJSON 3.0 with ``f=tilejson``;
- ``…/tiles/WebMercatorQuad/{z}/{y}/{x}``: a tile, ``application/vnd.mapbox-vector-tile``;
  204 when empty; 304 when the ``If-None-Match`` ETag still holds.

Who may read is the items' rule (:func:`.routes._collection`: 401 without a session or
token, 403 to others, 404 for an unknown collection). 400 names a bad parameter or a
tile coordinate that is not an integer; 404 names a coordinate outside the grid and an
unknown tile matrix set.

Audit: a map reads dozens of tiles per view, so a staff read of tiles is logged once per
reader, collection and filters per :data:`AUDIT_MINUTES` (``ogc.tiles``, with the first
tile asked), not once per tile; the points (raw pins, z ≥ 14) are logged under their own
target, so a read of pins is never hidden inside a read of counts.
"""

from __future__ import annotations

from flask import abort, jsonify, make_response, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import access, audit, openapi, vocabulary
from app.extensions import db
from app.gis import tiles
from app.gis import tilesets as documents
from app.gis.ogc import core
from app.gis.ogc.collections import TILE_KINDS, ParameterError
from app.gis.ogc.routes import ITEM_PARAMS, _collection, bp
from app.openapi import BINARY, JSON, query, text
from app.territories import places

AUDIT_MINUTES = 60
# The items' filters a tile takes (tiles.tile_filters): the zoom sets the size, the tile
# the bbox, and CQL2, CRS and paging are for the items.
TILE_PARAMS = tuple(
    p
    for p in ITEM_PARAMS
    if p["name"] in ("datetime", "feeling", "category", "time_of_day", "workshop")
)
F_TILESET = query("f", text(enum=["json", "tilejson"]), "json (OGC) or tilejson (TileJSON 3.0).")


def _tiled(collection_id: str):
    territory, kind = _collection(collection_id)
    if kind.name not in TILE_KINDS:
        abort(404, description=_("Pas de tuiles pour cette collection : %(id)s", id=collection_id))
    return territory, kind


def _metadata_format() -> str:
    wanted = request.args.get("f", "json")
    if wanted not in ("json", "tilejson"):
        raise ParameterError({"f": _("« json » ou « tilejson » attendu.")})
    return wanted


def _json(answer: core.Answer):
    headers, status, body = answer
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers)
    return response


@bp.get("/collections/<collection_id>/tiles")
@openapi.operation(
    tag="ogc",
    params=(F_TILESET, *TILE_PARAMS),
    responses={200: {JSON: {"type": "object"}}},
    secured="optional",
)
def tilesets(collection_id: str):
    """The vector tilesets of a collection (one: WebMercatorQuad)."""
    territory, kind = _tiled(collection_id)
    _metadata_format()
    tiles.tile_filters(kind, request.args)
    return _json(documents.tilesets(_asked_tiles(), territory, kind))


def _asked_tiles() -> core.Asked:
    """The request as the items read it, without their json/html negotiation."""
    return core.Asked(
        base=url_for("ogc.landing", _external=True).rstrip("/"),
        fmt="json",
        args=request.args,
        comments=current_user.is_authenticated and access.reads_comments(),
        english=vocabulary.english(),
    )


def _matrix_set(tms: str) -> None:
    if tms != tiles.TMS:
        abort(404, description=str(tiles.TEXTS["unknown_tms"]))


@bp.get("/collections/<collection_id>/tiles/<tms>")
@openapi.operation(
    tag="ogc",
    params=(F_TILESET, *TILE_PARAMS),
    responses={200: {JSON: {"type": "object"}, documents.TILEJSON: {"type": "object"}}},
    secured="optional",
)
def tileset(collection_id: str, tms: str):
    """A tileset's metadata (OGC), or its TileJSON 3.0 (``f=tilejson``)."""
    territory, kind = _tiled(collection_id)
    _matrix_set(tms)
    make = documents.tilejson if _metadata_format() == "tilejson" else documents.tileset
    tiles.tile_filters(kind, request.args)
    return _json(make(_asked_tiles(), territory, kind, places.territory_bbox(territory)))


@bp.get("/collections/<collection_id>/tiles/<tms>/<z>/<y>/<x>")
@openapi.operation(
    tag="ogc",
    params=(query("f", text(enum=["mvt"]), "mvt (the only format)."), *TILE_PARAMS),
    responses={200: {tiles.MVT: BINARY}, 204: {}, 304: {}},
    secured="optional",
)
def tile(collection_id: str, tms: str, z: str, y: str, x: str):
    """One vector tile (Mapbox Vector Tile) of the collection, filtered as the items."""
    territory, kind = _tiled(collection_id)
    _matrix_set(tms)
    if request.args.get("f", "mvt") != "mvt":
        raise ParameterError({"f": _("« mvt » attendu.")})
    try:
        at = tiles.parse_tile(z, y, x)
    except tiles.TileNotFound as exc:
        return _json(
            (
                {},
                404,
                {"error": "not_found", "message": exc.message, "fields": {exc.field: exc.message}},
            )
        )
    tiles.tile_filters(kind, request.args)
    asked = _asked_tiles()
    etag = tiles.etag(territory, kind, asked)
    if request.if_none_match.contains_weak(etag.strip('"')):
        response = make_response("", 304)
    else:
        headers, status, body = tiles.tile(asked, db.session, territory, kind, at)
        response = make_response(body, status)
        response.headers.update(headers)
        _log_tiles(territory, collection_id, kind, at)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "private, no-cache" if kind.staff else "public, no-cache"
    response.headers["Vary"] = "Cookie, Authorization"
    return response


def _log_tiles(territory, collection_id: str, kind, at: tiles.Tile) -> None:
    if not current_user.is_authenticated:
        return
    filters = {n: v for n, v in sorted(request.args.items()) if n != "f"}
    part = "points" if kind.name == "points" and at.z >= tiles.POINTS_FROM else "cells"
    target = f"{collection_id}/tiles/{part}?" + "&".join(f"{n}={v}" for n, v in filters.items())
    if not audit.recently_recorded("ogc.tiles", target[:300], current_user, AUDIT_MINUTES):
        audit.record(
            "ogc.tiles",
            target=target,
            territory=territory,
            filters=filters,
            tile=[at.z, at.y, at.x],
        )
    db.session.commit()
