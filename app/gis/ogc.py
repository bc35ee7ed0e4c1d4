"""OGC API – Features, Part 1 (core, GeoJSON, HTML, OpenAPI 3.0) under ``/ogc``.

Each territory offers collections named ``<slug>-<kind>``:

- ``quartiers``: the boundaries, for everyone;
- ``hexagons``: pins per hexagon, cells under k hidden, for everyone;
- ``hotspots``: Gi* hot and cold spots (no cell count), for everyone;
- ``hexagons-full``: unsuppressed counts, for the territory's staff;
- ``points``: the pins, for the territory's staff (approved comments for coordinators,
  police and admins, as in the exports).

Staff collections are listed only to those who may read them, and answer 401 without a
session or token (``Authorization: Bearer rst_…``, which QGIS sends with an "API
header" authentication) and 403 to others. Every authenticated read of features is
written to the audit log. Parameter errors are 400 naming the parameter, as the
standard requires.

Over 400 lines for now: routes, parameter parsing and answers of one standard. The next
step is the pygeoapi split (DESIGN §4 gis/ogc/: the view parses the request into plain
arguments, a Flask-free core answers ``(headers, status, content)``).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import shapely
import sqlalchemy as sa
from flask import Blueprint, abort, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import access, audit, openapi
from app.analysis import layers, release
from app.analysis.counts import pin_conditions
from app.analysis.filters import Filters, day_bound, parse_filters
from app.errors import ValidationError
from app.extensions import db
from app.gis import exports
from app.models import FEELINGS, TIMES_OF_DAY, Pin, Quartier, Territory
from app.openapi import GEOJSON, HTML, JSON, query, ref, text
from app.territories import places

bp = Blueprint("ogc", __name__, url_prefix="/ogc")

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
LIMIT_DEFAULT = 100
LIMIT_MAX = 10_000
PIN_FILTERS = ("feeling", "category", "time_of_day", "workshop")


@dataclass(frozen=True)
class Kind:
    """What a collection holds and who may read it."""

    name: str
    title: object
    description: object
    temporal: bool
    filters: tuple[str, ...]

    @property
    def staff(self) -> bool:
        return self.name in access.STAFF_COLLECTIONS


KINDS = {
    kind.name: kind
    for kind in (
        Kind(
            "quartiers",
            _l("Quartiers"),
            _l("Limites des quartiers (source officielle, voir l'attribution)."),
            False,
            ("code", "name"),
        ),
        Kind(
            "hexagons",
            _l("Ressentis par hexagone"),
            _l("Nombre de points par hexagone ; les cellules de moins de k points sont masquées."),
            True,
            (*PIN_FILTERS, "size"),
        ),
        Kind(
            "hotspots",
            _l("Points chauds et froids"),
            _l("Getis-Ord Gi* par hexagone, cellules significatives (FDR 0,05)."),
            True,
            (*PIN_FILTERS, "size"),
        ),
        Kind(
            "hexagons-full",
            _l("Ressentis par hexagone (non masqués)"),
            _l("Nombre de points par hexagone, sans masquage : réservé aux équipes."),
            True,
            (*PIN_FILTERS, "size"),
        ),
        Kind(
            "points",
            _l("Points de ressenti"),
            _l("Les points placés par les habitants : réservé aux équipes."),
            True,
            PIN_FILTERS,
        ),
    )
}
# Longest suffix first: "rennes-hexagons-full" is not "rennes-hexagons" + "-full".
_SUFFIXES = sorted(KINDS, key=len, reverse=True)


class ParameterError(ValidationError):
    """A bad query parameter: 400, as OGC API – Features requires."""

    status = 400


# -- negotiation and access ------------------------------------------------------------------


def _format() -> str:
    wanted = request.args.get("f")
    if wanted is not None:
        if wanted not in ("json", "html"):
            raise ParameterError({"f": _("« json » ou « html » attendu.")})
        return wanted
    best = request.accept_mimetypes.best_match([JSON, GEOJSON, HTML], default=JSON)
    return "html" if best == HTML else "json"


def _reply(body: dict, template: str, mimetype: str = JSON, **context):
    if _format() == "html":
        features = body.get("features", [body] if body.get("type") == "Feature" else [])
        columns = list(dict.fromkeys(k for f in features for k in (f["properties"] or {})))
        return render_template(f"ogc/{template}.html", body=body, columns=columns, **context)
    response = jsonify(body)
    response.mimetype = mimetype
    return response


def _may_read(territory: Territory, kind: Kind) -> bool:
    if not kind.staff:
        return True
    return access.staff(territory)


def _collection(collection_id: str) -> tuple[Territory, Kind]:
    for suffix in _SUFFIXES:
        if collection_id.endswith("-" + suffix):
            slug = collection_id[: -len(suffix) - 1]
            territory = db.session.scalar(sa.select(Territory).where(Territory.slug == slug))
            if territory is None:
                break
            kind = KINDS[suffix]
            if not _may_read(territory, kind):
                if not current_user.is_authenticated:
                    abort(401, description=_("Collection réservée : jeton d'accès requis."))
                abort(403)
            return territory, kind
    abort(404, description=_("Collection inconnue : %(id)s", id=collection_id[:100]))


def _link(endpoint: str, rel: str, mimetype: str, title: str | None = None, **values) -> dict:
    fmt = "html" if mimetype == HTML else "json"
    link = {
        "href": url_for(endpoint, _external=True, f=fmt, **values),
        "rel": rel,
        "type": mimetype,
    }
    if title:
        link["title"] = title
    return link


def _self_links(endpoint: str, mimetype: str = JSON, **values) -> list[dict]:
    here = _format()
    json_rel, html_rel = ("alternate", "self") if here == "html" else ("self", "alternate")
    return [
        _link(endpoint, json_rel, mimetype, _("Ce document en JSON"), **values),
        _link(endpoint, html_rel, HTML, _("Ce document en HTML"), **values),
    ]


# -- landing, conformance, collections ------------------------------------------------------

F_PARAM = query("f", text(enum=["json", "html"]), "Format of the answer (else: Accept).")


@bp.get("")
@bp.get("/")
@openapi.operation(
    tag="ogc",
    params=(F_PARAM,),
    responses={200: {JSON: ref("LandingPage"), HTML: {"type": "string"}}},
)
def landing():
    """Landing page of the OGC API – Features endpoint."""
    body = {
        "title": "Ressenti — OGC API Features",
        "description": _(
            "Ressentis d'insécurité et de sécurité placés par les habitants en ateliers, "
            "agrégés par hexagone, et limites des quartiers."
        ),
        "links": [
            *_self_links("ogc.landing"),
            {
                "href": url_for("openapi.openapi_json", _external=True),
                "rel": "service-desc",
                "type": "application/vnd.oai.openapi+json;version=3.0",
                "title": _("Définition de l'API (OpenAPI 3.0)"),
            },
            _link("ogc.conformance", "conformance", JSON, _("Classes de conformité")),
            _link("ogc.collections", "data", JSON, _("Collections")),
        ],
    }
    return _reply(body, "landing")


@bp.get("/conformance")
@openapi.operation(
    tag="ogc",
    params=(F_PARAM,),
    responses={200: {JSON: ref("Conformance"), HTML: {"type": "string"}}},
)
def conformance():
    """The conformance classes this endpoint implements."""
    return _reply({"conformsTo": CONFORMANCE}, "landing")


def _extent(territory: Territory, kind: Kind) -> dict:
    box = places.territory_bbox(territory)
    extent = {}
    if box is not None:
        extent["spatial"] = {"bbox": [[round(v, 6) for v in box]], "crs": CRS84}
    if kind.temporal:
        if kind.staff:
            first, last = db.session.execute(
                sa.select(sa.func.min(Pin.created_at), sa.func.max(Pin.created_at)).where(
                    Pin.territory_id == territory.id
                )
            ).one()
        else:  # the public learns the days its release covers, never a pin's moment
            first, last = release.covered(territory)
            first = first and day_bound(first.date(), time.min)
            last = last and day_bound(last.date(), time.max).replace(microsecond=0)
        extent["temporal"] = {
            "interval": [[_iso(first), _iso(last)]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    return extent


def _iso(moment: datetime | None) -> str | None:
    return (
        moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        if moment
        else None
    )


def _describe(territory: Territory, kind: Kind) -> dict:
    collection_id = f"{territory.slug}-{kind.name}"
    return {
        "id": collection_id,
        "title": f"{territory.name} — {kind.title}",
        "description": str(kind.description),
        "itemType": "feature",
        "crs": [CRS84],
        "extent": _extent(territory, kind),
        "links": [
            *_self_links("ogc.collection", collection_id=collection_id),
            _link("ogc.items", "items", GEOJSON, _("Les objets"), collection_id=collection_id),
            _link("ogc.items", "items", HTML, _("Les objets"), collection_id=collection_id),
            {
                "href": url_for("public.territory", slug=territory.slug, _external=True),
                "rel": "describedby",
                "type": HTML,
            },
        ],
    }


@bp.get("/collections")
@openapi.operation(
    tag="ogc",
    params=(F_PARAM,),
    responses={200: {JSON: ref("Collections"), HTML: {"type": "string"}}},
)
def collections():
    """The collections this visitor may read."""
    _format()
    found = []
    for territory in db.session.scalars(sa.select(Territory).order_by(Territory.slug)):
        found += [_describe(territory, k) for k in KINDS.values() if _may_read(territory, k)]
    return _reply({"links": _self_links("ogc.collections"), "collections": found}, "collections")


@bp.get("/collections/<collection_id>")
@openapi.operation(
    tag="ogc",
    params=(F_PARAM,),
    responses={200: {JSON: ref("Collection"), HTML: {"type": "string"}}},
    secured="optional",
)
def collection(collection_id: str):
    """One collection: its extent and links."""
    _format()
    territory, kind = _collection(collection_id)
    return _reply(_describe(territory, kind), "collection")


# -- items -----------------------------------------------------------------------------------

ITEM_PARAMS = (
    F_PARAM,
    query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX, "default": LIMIT_DEFAULT},
        "Number of features per page (at most 10,000).",
    ),
    query("offset", {"type": "integer", "minimum": 0, "default": 0}, "Features to skip."),
    {
        **query(
            "bbox",
            {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
            "west,south,east,north in CRS84 (longitude, latitude).",
        ),
    },
    query("datetime", text(), "An instant or an interval a/b (.. for open) in RFC 3339."),
    query("feeling", text(enum=list(FEELINGS)), "Pins of this feeling (pin collections)."),
    query("category", text(), "Pins of these category codes, comma-separated."),
    query("time_of_day", text(enum=list(TIMES_OF_DAY)), "Pins of this time of day."),
    query("workshop", text(), "Pins of these workshop ids, comma-separated."),
    query("size", {"type": "number"}, "Hexagon size in metres, 25 to 5000 (hexagons)."),
    query("code", text(), "Quartier code (quartiers)."),
    query("name", text(), "Quartier name (quartiers)."),
)


@dataclass
class Query:
    limit: int
    offset: int
    bbox: tuple[float, float, float, float] | None
    start: datetime | None
    end: datetime | None
    filters: dict[str, str]


def _parse(kind: Kind) -> Query:
    errors: dict[str, str] = {}
    allowed = {"f", "limit", "offset", "bbox", "datetime", *kind.filters}
    for name in request.args:
        if name not in allowed:
            errors[name] = _(
                "Paramètre inconnu ; paramètres possibles : %(names)s.",
                names=", ".join(sorted(allowed)),
            )
    limit = _integer("limit", LIMIT_DEFAULT, 1, errors)
    offset = _integer("offset", 0, 0, errors)
    bbox = _bbox(errors)
    start, end = _interval(errors, days_only=not kind.staff) if kind.temporal else (None, None)
    if errors:
        raise ParameterError(errors, _("Paramètres invalides."))
    filters = {n: request.args[n] for n in kind.filters if n in request.args}
    return Query(min(limit, LIMIT_MAX), offset, bbox, start, end, filters)


def _integer(name: str, default: int, low: int, errors: dict) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12 or int(raw) < low:
        errors[name] = _("Entier supérieur ou égal à %(low)d attendu.", low=low)
        return default
    return int(raw)


def _bbox(errors: dict):
    raw = request.args.get("bbox")
    if raw is None:
        return None
    try:
        values = [float(v) for v in raw.split(",")]
    except ValueError:
        values = []
    if len(values) == 6:  # with heights: drop them
        values = [values[0], values[1], values[3], values[4]]
    if (
        len(values) != 4
        or not all(math.isfinite(v) for v in values)
        or not (-180 <= values[0] <= values[2] <= 180 and -90 <= values[1] <= values[3] <= 90)
    ):
        errors["bbox"] = _("Quatre nombres attendus : ouest,sud,est,nord en degrés (CRS84).")
        return None
    return tuple(values)


def _interval(errors: dict, days_only: bool) -> tuple[datetime | None, datetime | None]:
    """``datetime`` as (start, end). Public collections take whole days only: comparing
    two instants a second apart would reveal when a pin was placed, and where, under
    the suppression threshold."""
    raw = request.args.get("datetime")
    if raw is None:
        return None, None
    if days_only and "T" in raw.upper():
        errors["datetime"] = _("Dates AAAA-MM-JJ seulement, par exemple 2026-01-01/2026-06-30.")
        return None, None
    try:
        if "/" in raw:
            first, last = raw.split("/", 1)
            start, end = _instant(first, end=False), _instant(last, end=True)
            if first == last == ".." or (start and end and start > end):
                raise ValueError
        else:
            start, end = _instant(raw, end=False), _instant(raw, end=True)
            if start is None:
                raise ValueError
    except ValueError:
        errors["datetime"] = _(
            "Date ou intervalle RFC 3339 attendu, par exemple 2026-01-01T00:00:00Z/.."
        )
        return None, None
    return start, end


def _instant(raw: str, end: bool) -> datetime | None:
    if raw in ("", ".."):
        return None
    if "T" in raw.upper():
        moment = datetime.fromisoformat(raw.upper().replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment
    # Days in the towns' time zone, as the layers' from/to filters.
    return day_bound(date.fromisoformat(raw), time.max if end else time.min)


def _pin_filters(territory: Territory, kind: Kind, wanted: Query) -> Filters:
    try:
        filters = parse_filters(territory, wanted.filters)
    except ValidationError as exc:
        raise ParameterError(exc.fields, exc.message) from exc
    filters.start, filters.end = wanted.start, wanted.end
    filters.full = kind.name == "hexagons-full"
    return filters


def _hexagon_features(territory: Territory, kind: Kind, wanted: Query) -> list[dict]:
    filters = _pin_filters(territory, kind, wanted)
    try:
        features = layers.gis_layer(territory, filters, kind.name)
    except ValidationError as exc:  # a filter the public release does not hold
        raise ParameterError(exc.fields, exc.message) from exc
    if wanted.bbox:
        shapes = [shapely.geometry.shape(f["geometry"]) for f in features]
        box = shapely.box(*wanted.bbox)
        features = [f for f, s in zip(features, shapes, strict=True) if s.intersects(box)]
    return features


def _envelope(bbox):
    return sa.func.ST_MakeEnvelope(*bbox, 4326)


def _point_feature(row) -> dict:
    return {
        "type": "Feature",
        "id": str(row.id),
        "geometry": {"type": "Point", "coordinates": [round(row.lon, 7), round(row.lat, 7)]},
        "properties": exports.pin_properties(row),
    }


def _point_page(territory: Territory, kind: Kind, wanted: Query) -> tuple[list[dict], int]:
    filters = _pin_filters(territory, kind, wanted)
    inside = [sa.func.ST_Intersects(Pin.geom, _envelope(wanted.bbox))] if wanted.bbox else []
    matched = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Pin)
        .where(*pin_conditions(territory, filters), *inside)
    )
    rows = db.session.execute(
        exports.pin_query(territory, filters, *inside).limit(wanted.limit).offset(wanted.offset)
    )
    return [_point_feature(row) for row in rows], matched


def _quartier_page(territory: Territory, wanted: Query) -> tuple[list[dict], int]:
    conditions = [getattr(Quartier, n) == v for n, v in wanted.filters.items()]
    if wanted.bbox:
        conditions.append(sa.func.ST_Intersects(Quartier.geom, _envelope(wanted.bbox)))
    base = places.quartier_select(territory).where(*conditions)
    matched = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery()))
    rows = db.session.execute(
        base.order_by(Quartier.code).limit(wanted.limit).offset(wanted.offset)
    )
    return [places.quartier_feature(row) for row in rows], matched


def _log_read(territory: Territory, collection_id: str) -> None:
    if current_user.is_authenticated:
        audit.record(
            "ogc.read", target=collection_id, territory=territory, filters=dict(request.args)
        )
        db.session.commit()


@bp.get("/collections/<collection_id>/items")
@openapi.operation(
    tag="ogc",
    params=ITEM_PARAMS,
    responses={200: {GEOJSON: ref("FeatureCollection"), HTML: {"type": "string"}}},
    secured="optional",
)
def items(collection_id: str):
    """Features of a collection, a page at a time (``next`` link), filtered."""
    _format()
    territory, kind = _collection(collection_id)
    wanted = _parse(kind)
    if kind.name == "points":
        page, matched = _point_page(territory, kind, wanted)
    elif kind.name == "quartiers":
        page, matched = _quartier_page(territory, wanted)
    else:
        every = _hexagon_features(territory, kind, wanted)
        page, matched = every[wanted.offset : wanted.offset + wanted.limit], len(every)
    _log_read(territory, collection_id)
    body = {
        "type": "FeatureCollection",
        "timeStamp": _iso(datetime.now(UTC)),
        "numberMatched": matched,
        "numberReturned": len(page),
        "features": page,
        "links": _page_links(collection_id, wanted, matched, len(page)),
    }
    return _reply(body, "items", GEOJSON, territory=territory, kind=kind)


def _page_links(collection_id: str, wanted: Query, matched: int, returned: int) -> list[dict]:
    args = {k: v for k, v in request.args.items() if k not in ("f", "offset", "limit")}
    values = {"collection_id": collection_id, "limit": wanted.limit, **args}
    links = _self_links("ogc.items", GEOJSON, offset=wanted.offset, **values)
    pages = []
    if wanted.offset + returned < matched:
        pages.append(("next", _("Page suivante"), wanted.offset + wanted.limit))
    if wanted.offset > 0:
        pages.append(("prev", _("Page précédente"), max(0, wanted.offset - wanted.limit)))
    for rel, title, offset in pages:  # in both formats: paging in HTML stays in HTML
        for mimetype in (GEOJSON, HTML):
            links.append(_link("ogc.items", rel, mimetype, title, offset=offset, **values))
    links.append(_link("ogc.collection", "collection", JSON, collection_id=collection_id))
    return links


@bp.get("/collections/<collection_id>/items/<feature_id>")
@openapi.operation(
    tag="ogc",
    params=(F_PARAM,),
    responses={200: {GEOJSON: ref("Feature"), HTML: {"type": "string"}}},
    secured="optional",
)
def item(collection_id: str, feature_id: str):
    """One feature by its id."""
    _format()
    territory, kind = _collection(collection_id)
    allowed = ("f", "size") if "size" in kind.filters else ("f",)
    for name in request.args:
        if name not in allowed:
            raise ParameterError(
                {
                    name: _(
                        "Paramètre inconnu ; paramètres possibles : %(names)s.",
                        names=", ".join(allowed),
                    )
                }
            )
    feature = _find(territory, kind, feature_id)
    if feature is None:
        abort(404, description=_("Objet inconnu : %(id)s", id=feature_id[:100]))
    _log_read(territory, collection_id)
    feature["links"] = [
        *_self_links("ogc.item", GEOJSON, collection_id=collection_id, feature_id=feature_id),
        _link("ogc.collection", "collection", JSON, collection_id=collection_id),
    ]
    return _reply(feature, "item", GEOJSON, territory=territory, kind=kind)


def _find(territory: Territory, kind: Kind, feature_id: str) -> dict | None:
    if kind.name == "quartiers":
        row = db.session.execute(
            places.quartier_select(territory).where(Quartier.code == feature_id)
        ).first()
        return places.quartier_feature(row) if row else None
    if kind.name == "points":
        try:
            pin_id = uuid.UUID(feature_id)
        except ValueError:
            return None
        filters = parse_filters(territory, {})
        row = db.session.execute(
            exports.pin_query(territory, filters).where(Pin.id == pin_id)
        ).first()
        return _point_feature(row) if row else None
    size = {"size": request.args["size"]} if "size" in request.args else {}
    wanted = Query(LIMIT_MAX, 0, None, None, None, size)  # a cell's id is q:r at this size
    for feature in _hexagon_features(territory, kind, wanted):
        if feature["id"] == feature_id:
            return feature
    return None
