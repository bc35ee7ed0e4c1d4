"""The OGC API answers, the pygeoapi way: plain arguments in, ``(headers, status,
content)`` out.

Nothing here reads the HTTP request, the signed-in user or Flask: :mod:`.routes` turns the
request into a :class:`Asked` (base URL, format, query arguments, whether the reader may
see comment text), checks who may read the collection, and hands over the territory, the
kind and a SQLAlchemy session. ``content`` is the JSON document; the routes render it as
HTML when that was asked. The counts and layers come from :mod:`app.analysis`, as for the
exports, so the OGC items and the files agree.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time
from urllib.parse import urlencode

import shapely
import sqlalchemy as sa

from app.analysis import cache, layers, release
from app.analysis.counts import pin_conditions
from app.analysis.filters import Filters, day_bound, parse_filters
from app.errors import ValidationError
from app.gis import pinrows
from app.gis.ogc import apidoc, crs, queryables, selection
from app.gis.ogc.collections import (
    CONFORMANCE,
    CRS84,
    KINDS,
    LIMIT_MAX,
    TEXTS,
    TILE_KINDS,
    Kind,
    ParameterError,
)
from app.gis.ogc.params import Query, parse_query
from app.models import Pin, Quartier, Territory
from app.territories import places

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = apidoc.MEDIA_TYPE

Answer = tuple[dict[str, str], int, dict]


@dataclass(frozen=True)
class Asked:
    """What the route read from the request, as plain values."""

    base: str  # absolute URL of the endpoint (``…/ogc``), no trailing slash
    fmt: str  # "json" or "html"
    args: Mapping[str, str]  # the query string
    comments: bool = False  # may read approved comment text (DESIGN §6)
    english: bool = False  # labels in English
    openapi: str = ""  # absolute URL of the endpoint's OpenAPI document
    territory_page: Callable[[str], str] = str  # slug → URL of its public page


def _href(asked: Asked, path: str, mimetype: str, **query) -> str:
    query = {"f": "html" if mimetype == HTML else "json", **query}
    return f"{asked.base}{path}?{urlencode(query)}"


def _link(asked: Asked, path: str, rel: str, mimetype: str, title=None, **query) -> dict:
    link = {"href": _href(asked, path, mimetype, **query), "rel": rel, "type": mimetype}
    if title:
        link["title"] = str(title)
    return link


def _self_links(asked: Asked, path: str, mimetype: str = JSON, **query) -> list[dict]:
    json_rel, html_rel = ("alternate", "self") if asked.fmt == "html" else ("self", "alternate")
    return [
        _link(asked, path, json_rel, mimetype, TEXTS["json"], **query),
        _link(asked, path, html_rel, HTML, TEXTS["html"], **query),
    ]


def _ok(content: dict, mimetype: str = JSON) -> Answer:
    return {"Content-Type": mimetype}, 200, content


def not_found(description: str) -> Answer:
    return {"Content-Type": JSON}, 404, {"error": "not_found", "message": description}


# -- landing, conformance, collections ------------------------------------------------------


def landing(asked: Asked) -> Answer:
    return _ok(
        {
            "title": "Ressenti — OGC API Features",
            "description": str(TEXTS["description"]),
            "links": [
                *_self_links(asked, "/"),
                {
                    "href": asked.openapi,
                    "rel": "service-desc",
                    "type": OPENAPI,
                    "title": str(TEXTS["service_desc"]),
                },
                _link(asked, "/conformance", "conformance", JSON, TEXTS["conformance"]),
                _link(asked, "/collections", "data", JSON, TEXTS["collections"]),
            ],
        }
    )


def conformance(asked: Asked) -> Answer:
    return _ok({"conformsTo": [*CONFORMANCE, *queryables.CONFORMANCE]})


def collections(asked: Asked, session, visible: Callable[[Territory, Kind], bool]) -> Answer:
    """Every collection the reader may read (``visible``)."""
    found = [
        describe(asked, session, territory, kind)
        for territory in session.scalars(sa.select(Territory).order_by(Territory.slug))
        for kind in KINDS.values()
        if visible(territory, kind)
    ]
    return _ok({"links": _self_links(asked, "/collections"), "collections": found})


def collection(asked: Asked, session, territory: Territory, kind: Kind) -> Answer:
    return _ok(describe(asked, session, territory, kind))


def describe(asked: Asked, session, territory: Territory, kind: Kind) -> dict:
    collection_id = f"{territory.slug}-{kind.name}"
    path = f"/collections/{collection_id}"
    return {
        "id": collection_id,
        "title": f"{territory.name} — {kind.title}",
        "description": str(kind.description),
        "itemType": "feature",
        "crs": crs.offered(territory),
        "storageCrs": CRS84,
        "extent": extent(session, territory, kind),
        "links": [
            *_self_links(asked, path),
            _link(asked, f"{path}/items", "items", GEOJSON, TEXTS["items"]),
            _link(asked, f"{path}/items", "items", HTML, TEXTS["items"]),
            _link(asked, f"{path}/queryables", queryables.REL, queryables.MEDIA_TYPE),
            {"href": asked.territory_page(territory.slug), "rel": "describedby", "type": HTML},
            *_tile_links(asked, path, kind),
        ],
    }


def _tile_links(asked: Asked, path: str, kind: Kind) -> list[dict]:
    """The collection's vector tilesets (app.gis.tiles) for the kinds that have them."""
    if kind.name not in TILE_KINDS:
        return []
    rel = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
    return [{"href": f"{asked.base}{path}/tiles", "rel": rel, "type": JSON}]


def extent(session, territory: Territory, kind: Kind) -> dict:
    box = places.territory_bbox(territory)
    found = {}
    if box is not None:
        found["spatial"] = {"bbox": [[round(v, 6) for v in box]], "crs": CRS84}
    if kind.temporal:
        if kind.staff:
            first, last = session.execute(
                sa.select(sa.func.min(Pin.created_at), sa.func.max(Pin.created_at)).where(
                    Pin.territory_id == territory.id
                )
            ).one()
        else:  # the public learns the days its release covers, never a pin's moment
            first, last = release.covered(territory)
            first = first and day_bound(first.date(), time.min)
            last = last and day_bound(last.date(), time.max).replace(microsecond=0)
        found["temporal"] = {
            "interval": [[iso(first), iso(last)]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    return found


def iso(moment: datetime | None) -> str | None:
    return (
        moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        if moment
        else None
    )


def queryables_schema(asked: Asked, territory: Territory, kind: Kind) -> Answer:
    """What a filter may name in the collection, as a JSON Schema (Part 3)."""
    collection_id = f"{territory.slug}-{kind.name}"
    url = f"{asked.base}/collections/{collection_id}"
    title = f"{territory.name} — {kind.title}"
    return _ok(queryables.document(kind, asked.comments, url, title), queryables.MEDIA_TYPE)


# -- items -----------------------------------------------------------------------------------


def items(asked: Asked, session, territory: Territory, kind: Kind) -> Answer:
    """A page of the collection's features, filtered, with its ``next``/``prev`` links;
    a bad parameter raises :class:`ParameterError`."""
    wanted = parse_query(kind, asked.args, crs.offered(territory), comments=asked.comments)
    if kind.name == "points":
        page, matched = _point_page(asked, session, territory, kind, wanted)
    elif kind.name == "quartiers":
        page, matched = _quartier_page(session, territory, wanted)
    else:
        every = _hexagon_features(asked, territory, kind, wanted)
        page, matched = every[wanted.offset : wanted.offset + wanted.limit], len(every)
    page = selection.trimmed(page, wanted.selection)
    collection_id = f"{territory.slug}-{kind.name}"
    answer = _ok(
        {
            "type": "FeatureCollection",
            "timeStamp": iso(datetime.now(UTC)),
            "numberMatched": matched,
            "numberReturned": len(page),
            "features": crs.reproject(page, wanted.crs),
            "links": _page_links(asked, collection_id, wanted, matched, len(page)),
        },
        GEOJSON,
    )
    return crs.with_content_crs(answer, wanted.crs)


def _page_links(asked: Asked, collection_id: str, wanted: Query, matched: int, returned: int):
    path = f"/collections/{collection_id}/items"
    args = {k: v for k, v in asked.args.items() if k not in ("f", "offset", "limit")}
    values = {"limit": wanted.limit, **args}
    links = _self_links(asked, path, GEOJSON, offset=wanted.offset, **values)
    pages = []
    if wanted.offset + returned < matched:
        pages.append(("next", TEXTS["next"], wanted.offset + wanted.limit))
    if wanted.offset > 0:
        pages.append(("prev", TEXTS["prev"], max(0, wanted.offset - wanted.limit)))
    for rel, title, offset in pages:  # in both formats: paging in HTML stays in HTML
        for mimetype in (GEOJSON, HTML):
            links.append(_link(asked, path, rel, mimetype, title, offset=offset, **values))
    links.append(_link(asked, f"/collections/{collection_id}", "collection", JSON))
    return links


def item(asked: Asked, session, territory: Territory, kind: Kind, feature_id: str) -> Answer:
    """One feature by its id; only ``f``, ``crs`` (and ``size`` for hexagons) may be asked."""
    allowed = ("f", "size", "crs") if "size" in kind.filters else ("f", "crs")
    for name in asked.args:
        if name not in allowed:
            names = ", ".join(allowed)
            raise ParameterError({name: str(TEXTS["unknown_parameter"]) % {"names": names}})
    target = crs.requested(asked.args, territory)
    feature = _find_feature(asked, session, territory, kind, feature_id)
    if feature is None:
        return not_found(str(TEXTS["unknown_feature"]) % {"id": feature_id[:100]})
    feature = crs.reproject([feature], target)[0]
    collection_id = f"{territory.slug}-{kind.name}"
    path = f"/collections/{collection_id}"
    feature["links"] = [
        *_self_links(asked, f"{path}/items/{feature_id}", GEOJSON),
        _link(asked, path, "collection", JSON),
    ]
    return crs.with_content_crs(_ok(feature, GEOJSON), target)


def _pin_filters(territory: Territory, kind: Kind, wanted: Query) -> Filters:
    try:
        filters = parse_filters(territory, wanted.filters)
    except ValidationError as exc:
        raise ParameterError(exc.fields, exc.message) from exc
    filters.start, filters.end = wanted.start, wanted.end
    filters.full = kind.name == "hexagons-full"
    return filters


def _hexagon_features(asked: Asked, territory: Territory, kind: Kind, wanted: Query):
    """The whole layer, from the shared layer cache while the territory's data has not
    changed (each page of a client's paging reads it; DESIGN §3)."""
    filters = _pin_filters(territory, kind, wanted)

    def compute() -> bytes:
        return json.dumps(layers.gis_layer(territory, filters, kind.name)).encode()

    key = cache.cache_key(territory, f"ogc-{kind.name}", filters, asked.english)
    try:
        features = json.loads(cache.cached(territory, key, compute)[0])
    except ValidationError as exc:  # a filter the public release does not hold
        raise ParameterError(exc.fields, exc.message) from exc
    if wanted.bbox:
        shapes = [shapely.geometry.shape(f["geometry"]) for f in features]
        box = crs.bbox_area(wanted.bbox, wanted.bbox_crs)
        features = [f for f, s in zip(features, shapes, strict=True) if s.intersects(box)]
    return selection.features(features, wanted.selection)


def _envelope(wanted: Query):
    area = crs.bbox_area(wanted.bbox, wanted.bbox_crs)
    return sa.func.ST_GeomFromText(shapely.to_wkt(area, rounding_precision=-1), 4326)


def _point_feature(row) -> dict:
    return {
        "type": "Feature",
        "id": str(row.id),
        "geometry": {"type": "Point", "coordinates": [round(row.lon, 7), round(row.lat, 7)]},
        "properties": pinrows.pin_properties(row),
    }


def _point_page(asked: Asked, session, territory, kind, wanted: Query):
    filters = _pin_filters(territory, kind, wanted)
    inside = [sa.func.ST_Intersects(Pin.geom, _envelope(wanted))] if wanted.bbox else []
    query = pinrows.pin_query(
        territory, filters, *inside, comments=asked.comments, english=asked.english
    )
    query = selection.sql(query, wanted.selection, kind, Pin.created_at, Pin.id)
    if wanted.selection.condition is None:
        matched = session.scalar(
            sa.select(sa.func.count())
            .select_from(Pin)
            .where(*pin_conditions(territory, filters), *inside)
        )
    else:  # the filter may name a joined column (category, workshop, quartier)
        matched = selection.count(session, query)
    rows = session.execute(query.limit(wanted.limit).offset(wanted.offset))
    return [_point_feature(row) for row in rows], matched


def _quartier_page(session, territory: Territory, wanted: Query):
    conditions = [getattr(Quartier, n) == v for n, v in wanted.filters.items()]
    if wanted.bbox:
        conditions.append(sa.func.ST_Intersects(Quartier.geom, _envelope(wanted)))
    base = places.quartier_select(territory).where(*conditions)
    base = selection.sql(
        base.order_by(Quartier.code), wanted.selection, KINDS["quartiers"], Quartier.code
    )
    matched = selection.count(session, base)
    rows = session.execute(base.limit(wanted.limit).offset(wanted.offset))
    return [places.quartier_feature(row) for row in rows], matched


def _find_feature(asked: Asked, session, territory, kind, feature_id: str) -> dict | None:
    if kind.name == "quartiers":
        row = session.execute(
            places.quartier_select(territory).where(Quartier.code == feature_id)
        ).first()
        return places.quartier_feature(row) if row else None
    if kind.name == "points":
        try:
            pin_id = uuid.UUID(feature_id)
        except ValueError:
            return None
        filters = parse_filters(territory, {})
        query = pinrows.pin_query(
            territory, filters, comments=asked.comments, english=asked.english
        )
        row = session.execute(query.where(Pin.id == pin_id)).first()
        return _point_feature(row) if row else None
    size = {"size": asked.args["size"]} if "size" in asked.args else {}
    wanted = Query(LIMIT_MAX, 0, None, None, None, size)  # a cell's id is q:r at this size
    for feature in _hexagon_features(asked, territory, kind, wanted):
        if feature["id"] == feature_id:
            return feature
    return None
