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

The routes here negotiate the format, check who may read, build the links and log the
reads; :mod:`.params` turns the query string into plain arguments and :mod:`.core`
answers from them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Blueprint, abort, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import access, audit, openapi
from app.extensions import db
from app.gis.ogc import core
from app.gis.ogc.collections import (
    CONFORMANCE,
    CRS84,
    KINDS,
    LIMIT_DEFAULT,
    LIMIT_MAX,
    SUFFIXES,
    Kind,
    ParameterError,
)
from app.gis.ogc.params import Query, parse_query
from app.models import FEELINGS, TIMES_OF_DAY, Territory
from app.openapi import GEOJSON, HTML, JSON, query, ref, text

bp = Blueprint("ogc", __name__, url_prefix="/ogc")


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
    for suffix in SUFFIXES:
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


def _describe(territory: Territory, kind: Kind) -> dict:
    collection_id = f"{territory.slug}-{kind.name}"
    return {
        "id": collection_id,
        "title": f"{territory.name} — {kind.title}",
        "description": str(kind.description),
        "itemType": "feature",
        "crs": [CRS84],
        "extent": core.extent(territory, kind),
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
    wanted = parse_query(kind, request.args)
    if kind.name == "points":
        page, matched = core.point_page(territory, kind, wanted)
    elif kind.name == "quartiers":
        page, matched = core.quartier_page(territory, wanted)
    else:
        every = core.hexagon_features(territory, kind, wanted)
        page, matched = every[wanted.offset : wanted.offset + wanted.limit], len(every)
    _log_read(territory, collection_id)
    body = {
        "type": "FeatureCollection",
        "timeStamp": core.iso(datetime.now(UTC)),
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
    feature = core.find_feature(territory, kind, feature_id, request.args)
    if feature is None:
        abort(404, description=_("Objet inconnu : %(id)s", id=feature_id[:100]))
    _log_read(territory, collection_id)
    feature["links"] = [
        *_self_links("ogc.item", GEOJSON, collection_id=collection_id, feature_id=feature_id),
        _link("ogc.collection", "collection", JSON, collection_id=collection_id),
    ]
    return _reply(feature, "item", GEOJSON, territory=territory, kind=kind)
