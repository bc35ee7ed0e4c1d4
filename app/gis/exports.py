"""Exports of a territory's pins for planners' GIS: GeoJSON and CSV streamed from the
database cursor, GeoPackage written to a temporary file. Same filters as the layers.

Who gets what (DESIGN §6): coordinators, police, planners and admins of the territory;
approved comment text only for coordinators, police and admins. Every export is
written to the audit log.

The file writers themselves (CSV, GeoPackage, the spreadsheet guard) are in
:mod:`geo.export`; here are the queries, the metadata, the audit and the HTTP answers.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    after_this_request,
    current_app,
    request,
    send_file,
    stream_with_context,
)
from flask_babel import gettext as _
from flask_login import current_user

from app import access, audit, openapi, ratelimit, vocabulary
from app.analysis import layers
from app.analysis.counts import pin_conditions
from app.analysis.filters import FILTER_PARAMS, parse_filters, territory_or_404
from app.errors import ValidationError
from app.extensions import db
from app.followup import actions
from app.models import Category, Pin, Quartier, Workshop
from app.territories import places
from geo import export

bp = Blueprint("exports", __name__, url_prefix="/api/v1/territories/<slug>")

FIELDS = (
    "id",
    "feeling",
    "category",
    "category_label",
    "time_of_day",
    "workshop_id",
    "workshop",
    "quartier",
    "created_at",
    "comment",
)
LICENCE = "ODbL 1.0"


def _territory_for_export(slug: str):
    if not current_user.is_authenticated:
        abort(401, description="authentication required")
    return access.territory_for(slug, *access.READERS)


def _filters(territory):
    args = {k: v for k, v in request.args.items() if k != "crs"}
    return parse_filters(territory, args)


def pin_query(territory, filters, *conditions, comments: bool, english: bool = False, extra=()):
    """Pins with their labels (in English with ``english``), workshop and quartier;
    approved comment text when ``comments`` (:func:`app.access.reads_comments`).
    ``extra``: more columns."""
    show_comments = comments
    comment = sa.case((Pin.comment_status == "approved", Pin.comment), else_=None)
    return (
        sa.select(
            Pin.id,
            Pin.feeling,
            Category.code.label("category"),
            (Category.label_en if english else Category.label_fr).label("category_label"),
            Pin.time_of_day,
            Pin.workshop_id,
            Workshop.title.label("workshop"),
            Quartier.name.label("quartier"),
            Pin.created_at,
            (comment if show_comments else sa.null()).label("comment"),
            sa.func.ST_X(Pin.geom).label("lon"),
            sa.func.ST_Y(Pin.geom).label("lat"),
            *extra,
        )
        .join(Category, Category.id == Pin.category_id)
        .join(Workshop, Workshop.id == Pin.workshop_id)
        .outerjoin(Quartier, Quartier.id == Pin.quartier_id)
        .where(*pin_conditions(territory, filters), *conditions)
        .order_by(Pin.created_at, Pin.id)
    )


def _metadata(territory, filters, fmt: str) -> dict:
    return {
        "source": f"Ressenti — {territory.name}",
        "licence": LICENCE,
        "attribution": f"Ressenti, {territory.name}; quartiers et rues : voir la source",
        "filters": {k: v for k, v in request.args.items()},
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "suppression_threshold": None,  # raw points: no suppression, staff only
        "comments": "approved only" if access.reads_comments() else "none",
        "format": fmt,
    }


def _log(territory, fmt: str) -> None:
    audit.record(
        "export", target=f"pins.{fmt}", territory=territory, format=fmt, filters=dict(request.args)
    )
    db.session.commit()


def _rows(territory, filters):
    query = pin_query(
        territory, filters, comments=access.reads_comments(), english=vocabulary.english()
    )
    yield from db.session.execute(query.execution_options(stream_results=True, yield_per=2000))


STREAM_BATCH = 5000


def _feature_text_query(territory, filters):
    """Each pin as the text of its GeoJSON feature, written by PostgreSQL: the same
    properties as :func:`pin_properties`, 7-decimal coordinates."""
    geometry = sa.func.ST_AsGeoJSON(Pin.geom, 7).label("geometry")
    comments = access.reads_comments()
    english = vocabulary.english()
    pins = pin_query(
        territory, filters, comments=comments, english=english, extra=(geometry,)
    ).subquery()
    utc = sa.func.to_char(
        sa.func.timezone("UTC", pins.c.created_at), 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'
    )
    properties = sa.func.json_build_object(
        *[
            item
            for name, column in (
                ("id", pins.c.id),
                ("feeling", pins.c.feeling),
                ("category", pins.c.category),
                ("category_label", pins.c.category_label),
                ("time_of_day", pins.c.time_of_day),
                ("workshop_id", pins.c.workshop_id),
                ("workshop", pins.c.workshop),
                ("quartier", pins.c.quartier),
                ("created_at", utc),
                ("comment", pins.c.comment),
            )
            for item in (sa.literal(name, sa.Text), column)
        ]
    )
    return sa.select(
        sa.func.concat(
            '{"type":"Feature","id":"',
            pins.c.id,
            '","geometry":',
            pins.c.geometry,
            ',"properties":',
            properties,
            "}",
        )
    ).order_by(pins.c.created_at, pins.c.id)


def pin_properties(row) -> dict:
    return {
        "id": str(row.id),
        "feeling": row.feeling,
        "category": row.category,
        "category_label": row.category_label,
        "time_of_day": row.time_of_day,
        "workshop_id": row.workshop_id,
        "workshop": row.workshop,
        "quartier": row.quartier,
        "created_at": row.created_at.astimezone(UTC).isoformat(timespec="seconds"),
        "comment": row.comment,
    }


@bp.get("/pins.geojson")
@openapi.operation(
    tag="exports",
    params=FILTER_PARAMS,
    responses={200: {openapi.GEOJSON: openapi.ref("FeatureCollection")}},
    secured=True,
)
def pins_geojson(slug: str):
    """RFC 7946 FeatureCollection (lon/lat, 7 decimals, no ``crs``), streamed."""
    territory = _territory_for_export(slug)
    filters = _filters(territory)
    metadata = _metadata(territory, filters, "geojson")
    _log(territory, "geojson")

    def generate():
        yield '{"type":"FeatureCollection","metadata":' + json.dumps(metadata) + ',"features":['
        result = db.session.execute(
            _feature_text_query(territory, filters).execution_options(
                stream_results=True, yield_per=STREAM_BATCH
            )
        )
        separator = ""
        for batch in result.scalars().partitions():
            yield separator + ",".join(batch)
            separator = ","
        yield "]}"

    return Response(
        stream_with_context(generate()),
        mimetype="application/geo+json",
        headers=_attachment(territory, "geojson"),
    )


@bp.get("/pins.csv")
@openapi.operation(
    tag="exports",
    params=FILTER_PARAMS,
    responses={200: {"text/csv": {"type": "string"}}},
    secured=True,
)
def pins_csv(slug: str):
    """CSV in UTF-8 (no BOM): lon, lat, WKT and the properties, streamed."""
    territory = _territory_for_export(slug)
    filters = _filters(territory)
    metadata = _metadata(territory, filters, "csv")
    _log(territory, "csv")

    def rows():
        for row in _rows(territory, filters):
            props = pin_properties(row)
            lon, lat = round(row.lon, 7), round(row.lat, 7)
            yield [lon, lat, f"POINT ({lon} {lat})", *[props[name] for name in FIELDS]]

    generate = export.csv_chunks(["lon", "lat", "wkt", *FIELDS], rows())
    headers = _attachment(territory, "csv")
    headers["X-Ressenti-Metadata"] = json.dumps(metadata, ensure_ascii=True)
    return Response(stream_with_context(generate), mimetype="text/csv", headers=headers)


CRS_PARAM = openapi.query("crs", openapi.text(enum=["4326", "metric"]), "CRS of the layer.")
GPKG = "application/geopackage+sqlite3"
GPKG_BATCH = 20_000


@bp.get("/pins.gpkg")
@openapi.operation(
    tag="exports",
    params=(*FILTER_PARAMS, CRS_PARAM),
    responses={200: {GPKG: openapi.BINARY}},
    secured=True,
)
def pins_gpkg(slug: str):
    """GeoPackage with a ``pins`` layer (EPSG:4326, or the metric CRS with ``crs=metric``)
    and a ``metadata`` table; written in batches to a temporary file, then sent."""
    territory = _territory_for_export(slug)
    srid = _wanted_srid(territory)
    filters = _filters(territory)
    metadata = _metadata(territory, filters, "gpkg")
    path = export.temporary_gpkg()
    batch: list = []

    def flush() -> None:
        records = [pin_properties(row) for row in batch]
        lonlat = [(row.lon, row.lat) for row in batch]
        export.write_layer(export.points_frame(records, FIELDS, lonlat, srid), path, "pins")
        batch.clear()

    written = False
    for row in _rows(territory, filters):
        batch.append(row)
        if len(batch) == GPKG_BATCH:
            flush()
            written = True
    if batch or not written:
        flush()
    _log(territory, "gpkg")
    return _send_geopackage(path, territory, "pins", metadata)


def _wanted_srid(territory) -> int:
    wanted = request.args.get("crs", "4326")
    if wanted not in ("4326", "metric"):
        raise ValidationError({"crs": _("« 4326 » ou « metric » attendu.")})
    return territory.metric_srid if wanted == "metric" else 4326


def _send_geopackage(path: str, territory, layer: str, metadata: dict):
    """Add the ``metadata`` table, send the file, then remove it."""
    export.write_metadata(path, metadata)

    @after_this_request
    def remove(response):
        try:
            os.unlink(path)
        except OSError:
            current_app.logger.warning("could not remove %s", path)
        return response

    return send_file(
        path,
        mimetype=GPKG,
        as_attachment=True,
        download_name=f"ressenti-{territory.slug}-{layer}.gpkg",
    )


def _attachment(territory, ext: str, layer: str = "pins") -> dict:
    return {"Content-Disposition": f"attachment; filename=ressenti-{territory.slug}-{layer}.{ext}"}


# -- aggregated layers and quartiers ---------------------------------------------------------

AGGREGATES = ("hexagons", "hotspots", "quartiers", "actions")


@bp.get("/<any(hexagons, hotspots, quartiers, actions):layer>.<any(geojson, csv, gpkg):fmt>")
@openapi.operation(
    tag="exports",
    params=(*FILTER_PARAMS, CRS_PARAM),
    responses={
        200: {
            openapi.GEOJSON: openapi.ref("FeatureCollection"),
            "text/csv": {"type": "string"},
            GPKG: openapi.BINARY,
        }
    },
)
def aggregate(slug: str, layer: str, fmt: str):
    """Hexagons, hot spots, quartiers or actions as GeoJSON, CSV or GeoPackage.

    Layers take the layer filters, k-suppressed for everyone, ``full=1`` for the
    territory's staff; actions: the public ones for everyone, all for the staff."""
    if not current_user.is_authenticated:
        ratelimit.limit_anonymous_exports()
    territory = territory_or_404(slug)
    srid = _wanted_srid(territory) if fmt == "gpkg" else 4326
    features, filters = _aggregate_features(territory, layer)
    metadata = {
        **_metadata(territory, filters, fmt),
        "layer": layer,
        "suppression_threshold": None
        if filters is None or filters.full
        else access.suppression_k(),
        "comments": "none",
    }
    if filters is not None:
        metadata["size_m"] = filters.size
    audit.record(
        "export",
        actor=None if current_user.is_authenticated else "anonymous",
        target=f"{layer}.{fmt}",
        territory=territory,
        format=fmt,
        filters=dict(request.args),
    )
    db.session.commit()
    if fmt == "geojson":
        body = {"type": "FeatureCollection", "metadata": metadata, "features": features}
        response = current_app.response_class(
            json.dumps(body, ensure_ascii=False), mimetype=openapi.GEOJSON
        )
        response.headers.update(_attachment(territory, "geojson", layer))
        return response
    if fmt == "csv":
        headers = _attachment(territory, "csv", layer)
        headers["X-Ressenti-Metadata"] = json.dumps(metadata, ensure_ascii=True)
        return Response(export.features_csv(features), mimetype="text/csv", headers=headers)
    path = export.temporary_gpkg()
    export.write_layer(export.feature_frame(features, srid), path, layer)
    return _send_geopackage(path, territory, layer, metadata)


def _aggregate_features(territory, layer: str):
    if layer == "actions":
        _no_filters()
        return actions.action_features(territory), None
    if layer == "quartiers":
        _no_filters()
        return places.quartier_features(territory), None
    filters = _filters(territory)
    features = layers.gis_layer(territory, filters, layer)
    for feature in features:
        feature["properties"]["cell"] = feature["id"]
    return features, filters


def _no_filters() -> None:
    unknown = [name for name in request.args if name != "crs"]
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, _("Cette couche ne se filtre pas.")))
