"""OGC API – Features, Part 1 (core, GeoJSON, HTML, OpenAPI 3.0), Part 2 (``crs``,
``bbox-crs``: :mod:`.crs`) and Part 3 (``/queryables``, CQL2 ``filter``, with ``sortby``
and ``properties``: :mod:`.queryables`, :mod:`.selection`) under ``/ogc``.

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

import dataclasses

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import access, audit, openapi, replica, vocabulary
from app.extensions import db
from app.gis.ogc import apidoc, core, cql2, crs, queryables
from app.gis.ogc.collections import KINDS, LIMIT_DEFAULT, LIMIT_MAX, SUFFIXES, Kind, ParameterError
from app.models import FEELINGS, TIMES_OF_DAY, Territory
from app.openapi import GEOJSON, HTML, JSON, query, ref, text

bp = Blueprint("ogc", __name__, url_prefix="/ogc")
bp.before_request(replica.prefer)  # reads what residents wrote: a replica may answer


# -- the request as plain arguments, the answer as a response ------------------------------


def _format() -> str:
    wanted = request.args.get("f")
    if wanted is not None:
        if wanted not in ("json", "html"):
            raise ParameterError({"f": _("« json » ou « html » attendu.")})
        return wanted
    best = request.accept_mimetypes.best_match([JSON, GEOJSON, HTML], default=JSON)
    return "html" if best == HTML else "json"


def _asked() -> core.Asked:
    return core.Asked(
        base=url_for("ogc.landing", _external=True).rstrip("/"),
        fmt=_format(),
        args=request.args,
        comments=current_user.is_authenticated and access.reads_comments(),
        english=vocabulary.english(),
        openapi=url_for("ogc.api", _external=True),
        territory_page=lambda slug: url_for("public.territory", slug=slug, _external=True),
    )


def _reply(asked: core.Asked, answer: core.Answer, template: str, **context):
    headers, status, body = answer
    if status == 404:
        abort(404, description=body["message"])
    if asked.fmt == "html":
        features = body.get("features", [body] if body.get("type") == "Feature" else [])
        columns = list(dict.fromkeys(k for f in features for k in (f["properties"] or {})))
        return render_template(f"ogc/{template}.html", body=body, columns=columns, **context)
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers)
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


# -- landing, conformance, collections ------------------------------------------------------

F_PARAM = query("f", text(enum=["json", "html"]), "Format of the answer (else: Accept).")
CRS_PARAM = query(
    "crs",
    crs.schema(),
    "CRS of the coordinates (Part 2): CRS84 (longitude, latitude; the default), EPSG:4326 "
    "(latitude, longitude), 3857, or the territory's metric CRS (2154, 3812 or its UTM "
    "zone); each collection lists its own in `crs`. The answer names it in Content-Crs.",
)
BBOX_CRS_PARAM = query(
    "bbox-crs",
    crs.schema(),
    "CRS of `bbox`, in its axis order (EPSG:4326: south,west,north,east), one of the "
    "collection's `crs`; CRS84 by default.",
)


@bp.get("")
@bp.get("/")
@openapi.operation(
    tag="ogc",
    params=(F_PARAM,),
    responses={200: {JSON: ref("LandingPage"), HTML: {"type": "string"}}},
)
def landing():
    """Landing page of the OGC API – Features endpoint."""
    asked = _asked()
    return _reply(asked, core.landing(asked), "landing")


@bp.get("/api")
@openapi.operation(
    tag="ogc",
    params=(F_PARAM,),
    responses={200: {apidoc.MEDIA_TYPE: {"type": "object", "required": ["openapi"]}}},
)
def api():
    """The OpenAPI 3.0 document of this endpoint (``service-desc``)."""
    if request.args.get("f", "json") != "json":
        raise ParameterError({"f": _("« json » attendu.")})
    server = url_for("ogc.landing", _external=True).rstrip("/")
    response = jsonify(apidoc.ogc_document(openapi.document(current_app), server))
    response.headers["Content-Type"] = apidoc.MEDIA_TYPE
    return response


@bp.get("/conformance")
@openapi.operation(
    tag="ogc",
    params=(F_PARAM,),
    responses={200: {JSON: ref("Conformance"), HTML: {"type": "string"}}},
)
def conformance():
    """The conformance classes this endpoint implements."""
    asked = _asked()
    return _reply(asked, core.conformance(asked), "landing")


@bp.get("/collections")
@openapi.operation(
    tag="ogc",
    params=(F_PARAM,),
    responses={200: {JSON: ref("Collections"), HTML: {"type": "string"}}},
)
def collections():
    """The collections this visitor may read."""
    asked = _asked()
    return _reply(asked, core.collections(asked, db.session, _may_read), "collections")


@bp.get("/collections/<collection_id>")
@openapi.operation(
    tag="ogc",
    params=(F_PARAM,),
    responses={200: {JSON: ref("Collection"), HTML: {"type": "string"}}},
    secured="optional",
)
def collection(collection_id: str):
    """One collection: its extent and links."""
    asked = _asked()
    territory, kind = _collection(collection_id)
    return _reply(asked, core.collection(asked, db.session, territory, kind), "collection")


@bp.get("/collections/<collection_id>/queryables")
@openapi.operation(
    tag="ogc",
    params=(F_PARAM,),
    responses={200: {queryables.MEDIA_TYPE: {"type": "object", "required": ["properties"]}}},
    secured="optional",
)
def collection_queryables(collection_id: str):
    """What a CQL2 filter may name in this collection (a JSON Schema)."""
    if request.args.get("f", "json") != "json":
        raise ParameterError({"f": _("« json » attendu.")})
    asked = dataclasses.replace(_asked(), fmt="json")  # JSON, whatever a browser accepts
    territory, kind = _collection(collection_id)
    return _reply(asked, core.queryables_schema(asked, territory, kind), "collection")


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
            "west,south,east,north in CRS84 (longitude, latitude), or in `bbox-crs`.",
        ),
    },
    BBOX_CRS_PARAM,
    CRS_PARAM,
    query("datetime", text(), "An instant or an interval a/b (.. for open) in RFC 3339."),
    query("feeling", text(enum=list(FEELINGS)), "Pins of this feeling (pin collections)."),
    query("category", text(), "Pins of these category codes, comma-separated."),
    query("time_of_day", text(enum=list(TIMES_OF_DAY)), "Pins of this time of day."),
    query("workshop", text(), "Pins of these workshop ids, comma-separated."),
    query("size", {"type": "number"}, "Hexagon size in metres, 25 to 5000 (hexagons)."),
    query("code", text(), "Quartier code (quartiers)."),
    query("name", text(), "Quartier name (quartiers)."),
    *(
        query(
            "filter",
            text(maxLength=cql2.MAX_LENGTH),
            "A CQL2 filter on the collection's queryables (see its /queryables).",
        ),
        query(
            "filter-lang",
            text(enum=list(cql2.LANGS)),
            "cql2-text (default) or cql2-json; cql-text is cql2-text under its draft name.",
        ),
        query("filter-crs", text(enum=list(cql2.FILTER_CRS)), "CRS of its geometries: CRS84."),
        query("sortby", text(), "Properties to sort by, comma-separated, each +name or -name."),
        query("properties", text(), "The properties each feature keeps, comma-separated."),
    ),
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
    asked = _asked()
    territory, kind = _collection(collection_id)
    answer = core.items(asked, db.session, territory, kind)
    _log_read(territory, collection_id)
    return _reply(asked, answer, "items", territory=territory, kind=kind)


@bp.get("/collections/<collection_id>/items/<feature_id>")
@openapi.operation(
    tag="ogc",
    params=(F_PARAM, CRS_PARAM),
    responses={200: {GEOJSON: ref("Feature"), HTML: {"type": "string"}}},
    secured="optional",
)
def item(collection_id: str, feature_id: str):
    """One feature by its id."""
    asked = _asked()
    territory, kind = _collection(collection_id)
    answer = core.item(asked, db.session, territory, kind, feature_id)
    if answer[1] == 200:
        _log_read(territory, collection_id)
    return _reply(asked, answer, "item", territory=territory, kind=kind)
