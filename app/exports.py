"""Exports of a territory's pins for planners' GIS: GeoJSON and CSV streamed from the
database cursor, GeoPackage written to a temporary file. Same filters as the layers.

Who gets what (DESIGN §6): coordinators, police, planners and admins of the territory;
approved comment text only for coordinators, police and admins. Every export is
written to the audit log.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
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

from app import audit, auth, layers, openapi
from app.extensions import db
from app.models import Category, Pin, Quartier, Workshop

bp = Blueprint("exports", __name__, url_prefix="/api/v1/territories/<slug>")

READERS = ("coordinator", "police", "planner")
COMMENT_READERS = ("admin", "coordinator", "police")
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
    return auth.territory_for(slug, *READERS)


def _filters(territory):
    args = {k: v for k, v in request.args.items() if k != "crs"}
    return layers.parse_filters(territory, args)


def pin_query(territory, filters, *conditions):
    """Pins with their labels, workshop and quartier; comment text only where allowed."""
    quartier = (
        sa.select(Quartier.name)
        .where(
            Quartier.territory_id == territory.id, sa.func.ST_Intersects(Quartier.geom, Pin.geom)
        )
        .limit(1)
        .scalar_subquery()
    )
    show_comments = current_user.role in COMMENT_READERS
    comment = sa.case((Pin.comment_status == "approved", Pin.comment), else_=None)
    return (
        sa.select(
            Pin.id,
            Pin.feeling,
            Category.code.label("category"),
            Category.label_fr.label("category_label"),
            Pin.time_of_day,
            Pin.workshop_id,
            Workshop.title.label("workshop"),
            quartier.label("quartier"),
            Pin.created_at,
            (comment if show_comments else sa.null()).label("comment"),
            sa.func.ST_X(Pin.geom).label("lon"),
            sa.func.ST_Y(Pin.geom).label("lat"),
        )
        .join(Category, Category.id == Pin.category_id)
        .join(Workshop, Workshop.id == Pin.workshop_id)
        .where(*layers.pin_conditions(territory, filters), *conditions)
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
        "comments": "approved only" if current_user.role in COMMENT_READERS else "none",
        "format": fmt,
    }


def _log(territory, fmt: str) -> None:
    audit.record(
        "export", target=f"pins.{fmt}", territory=territory, format=fmt, filters=dict(request.args)
    )
    db.session.commit()


def _rows(territory, filters):
    result = db.session.execute(
        pin_query(territory, filters).execution_options(stream_results=True, yield_per=2000)
    )
    yield from result


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
        "created_at": row.created_at.isoformat(timespec="seconds"),
        "comment": row.comment,
    }


@bp.get("/pins.geojson")
@openapi.operation(
    tag="exports",
    params=layers.FILTER_PARAMS,
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
        first = True
        for row in _rows(territory, filters):
            feature = {
                "type": "Feature",
                "id": str(row.id),
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(row.lon, 7), round(row.lat, 7)],
                },
                "properties": pin_properties(row),
            }
            yield ("" if first else ",") + json.dumps(feature, ensure_ascii=False)
            first = False
        yield "]}"

    return Response(
        stream_with_context(generate()),
        mimetype="application/geo+json",
        headers=_attachment(territory, "geojson"),
    )


@bp.get("/pins.csv")
@openapi.operation(
    tag="exports",
    params=layers.FILTER_PARAMS,
    responses={200: {"text/csv": {"type": "string"}}},
    secured=True,
)
def pins_csv(slug: str):
    """CSV in UTF-8 (no BOM): lon, lat, WKT and the properties, streamed."""
    territory = _territory_for_export(slug)
    filters = _filters(territory)
    metadata = _metadata(territory, filters, "csv")
    _log(territory, "csv")

    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["lon", "lat", "wkt", *FIELDS])
        for number, row in enumerate(_rows(territory, filters)):
            props = pin_properties(row)
            lon, lat = round(row.lon, 7), round(row.lat, 7)
            writer.writerow(
                [
                    lon,
                    lat,
                    f"POINT ({lon} {lat})",
                    *[spreadsheet_safe(props[name]) for name in FIELDS],
                ]
            )
            if number % 500 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    headers = _attachment(territory, "csv")
    headers["X-Ressenti-Metadata"] = json.dumps(metadata, ensure_ascii=True)
    return Response(stream_with_context(generate()), mimetype="text/csv", headers=headers)


def spreadsheet_safe(value) -> str:
    """Text for a CSV cell that a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/pins.gpkg")
@openapi.operation(
    tag="exports",
    params=(
        *layers.FILTER_PARAMS,
        openapi.query("crs", openapi.text(enum=["4326", "metric"]), "CRS of the layer."),
    ),
    responses={200: {"application/geopackage+sqlite3": openapi.BINARY}},
    secured=True,
)
def pins_gpkg(slug: str):
    """GeoPackage with a ``pins`` layer (EPSG:4326, or the metric CRS with ``crs=metric``)
    and a ``metadata`` table."""
    import geopandas as gpd
    import pandas as pd
    from shapely import points

    territory = _territory_for_export(slug)
    wanted = request.args.get("crs", "4326")
    if wanted not in ("4326", "metric"):
        from app.errors import ValidationError

        raise ValidationError({"crs": _("« 4326 » ou « metric » attendu.")})
    filters = _filters(territory)
    metadata = _metadata(territory, filters, "gpkg")
    rows = db.session.execute(pin_query(territory, filters)).all()
    frame = gpd.GeoDataFrame(
        [pin_properties(row) for row in rows],
        columns=list(FIELDS),
        geometry=points([(row.lon, row.lat) for row in rows]) if rows else [],
        crs=4326,
    )
    if wanted == "metric":
        frame = frame.to_crs(territory.metric_srid)
    handle, path = tempfile.mkstemp(suffix=".gpkg")
    os.close(handle)
    os.unlink(path)
    frame.to_file(path, layer="pins", driver="GPKG", engine="pyogrio")
    pd.DataFrame({"key": list(metadata), "value": [json.dumps(v) for v in metadata.values()]}).pipe(
        lambda table: gpd.GeoDataFrame(table)
    ).to_file(path, layer="metadata", driver="GPKG", engine="pyogrio")
    _log(territory, "gpkg")

    @after_this_request
    def remove(response):
        try:
            os.unlink(path)
        except OSError:
            current_app.logger.warning("could not remove %s", path)
        return response

    return send_file(
        path,
        mimetype="application/geopackage+sqlite3",
        as_attachment=True,
        download_name=f"ressenti-{territory.slug}-pins.gpkg",
    )


def _attachment(territory, ext: str) -> dict:
    return {"Content-Disposition": f"attachment; filename=ressenti-{territory.slug}-pins.{ext}"}
