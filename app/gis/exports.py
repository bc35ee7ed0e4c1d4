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
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app import access, audit, openapi, ratelimit, replica, vocabulary
from app.analysis import cache, density, layers
from app.analysis.filters import FILTER_PARAMS, LANGUAGE_PARAM, parse_filters, territory_or_404
from app.errors import ValidationError
from app.extensions import db
from app.followup import actions
from app.gis import pinrows
from app.territories import places
from geo import export

bp = Blueprint("exports", __name__, url_prefix="/api/v1/territories/<slug>")
bp.before_request(replica.prefer)  # reads what residents wrote: a replica may answer

LICENCE = "ODbL 1.0"


def _territory_for_export(slug: str):
    if not current_user.is_authenticated:
        abort(401, description="authentication required")
    return access.territory_for(slug, *access.READERS)


CRS_PARAM = openapi.query("crs", openapi.text(enum=["4326", "metric"]), "CRS of the layer.")
DIALECT_PARAM = openapi.query(
    "dialect", openapi.text(enum=["excel-fr"]), "CSV for French Excel: BOM, ';', decimal comma."
)

# Query parameters of the files that are not layer filters.
FILE_PARAMS = ("crs", "dialect")


def _filters(territory):
    args = {k: v for k, v in request.args.items() if k not in FILE_PARAMS}
    return parse_filters(territory, args)


def _excel_fr() -> bool:
    """``dialect=excel-fr``: the CSV French Excel opens by a double click."""
    dialect = request.args.get("dialect")
    if dialect not in (None, "excel-fr"):
        raise ValidationError({"dialect": _("« excel-fr » attendu (ou rien).")})
    return dialect == "excel-fr"


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
    query = pinrows.pin_query(
        territory, filters, comments=access.reads_comments(), english=vocabulary.english()
    )
    yield from db.session.execute(query.execution_options(stream_results=True, yield_per=2000))


STREAM_BATCH = 5000


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
            pinrows.feature_text_query(
                territory,
                filters,
                comments=access.reads_comments(),
                english=vocabulary.english(),
            ).execution_options(stream_results=True, yield_per=STREAM_BATCH)
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
    params=(*FILTER_PARAMS, DIALECT_PARAM),
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
            props = pinrows.pin_properties(row)
            lon, lat = round(row.lon, 7), round(row.lat, 7)
            yield [lon, lat, f"POINT ({lon} {lat})", *[props[name] for name in pinrows.FIELDS]]

    excel_fr = _excel_fr()
    generate = export.csv_chunks(["lon", "lat", "wkt", *pinrows.FIELDS], rows(), excel_fr=excel_fr)
    headers = _attachment(territory, "csv")
    headers["X-Ressenti-Metadata"] = json.dumps(metadata, ensure_ascii=True)
    return Response(stream_with_context(generate), mimetype="text/csv", headers=headers)


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
        records = [pinrows.pin_properties(row) for row in batch]
        lonlat = [(row.lon, row.lat) for row in batch]
        export.write_layer(export.points_frame(records, pinrows.FIELDS, lonlat, srid), path, "pins")
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
        download_name=file_name(territory, layer, "gpkg"),
    )


def _attachment(territory, ext: str, layer: str = "pins") -> dict:
    return {"Content-Disposition": f"attachment; filename={file_name(territory, layer, ext)}"}


def _named_filters() -> dict:
    """The query's filters that name a file (not the format's options, nor the language)."""
    skip = (*FILE_PARAMS, LANGUAGE_PARAM)
    return {k: v for k, v in request.args.items() if k not in skip and v}


def file_name(territory, layer: str, ext: str) -> str:
    """The download's name (:func:`geo.export.file_name`) from this request."""
    filters = _named_filters()
    srid = territory.metric_srid if request.args.get("crs") == "metric" else None
    excel_fr = request.args.get("dialect") == "excel-fr"
    return export.file_name(territory.slug, layer, ext, filters, srid=srid, excel_fr=excel_fr)


# -- the density as a raster ------------------------------------------------------------------

GEOTIFF = "image/tiff; application=geotiff"


@bp.get("/layers/density.tif")
@openapi.operation(
    tag="exports", params=FILTER_PARAMS, responses={200: {"image/tiff": openapi.BINARY}}
)
def density_tif(slug: str):
    """The density layer as a float32 GeoTIFF in the territory's metric CRS (points per
    km², nodata where the public release hides a cell); the same grid as ``density.png``,
    kept in the layer cache. 404 when no pin matches the filters."""
    if not current_user.is_authenticated:
        ratelimit.limit_anonymous_exports()
    territory = territory_or_404(slug)
    filters = _filters(territory)
    key = cache.cache_key(territory, "density.tif", filters, get_locale().language)
    body, _hit = cache.cached(territory, key, lambda: _density_geotiff(territory, filters))
    if not body:
        abort(404, description=_("Aucun point ne correspond à ces filtres."))
    if filters.full:  # exact counts: staff reads are audited, public ones are the release
        audit.record(
            "export",
            target="density.tif",
            territory=territory,
            format="geotiff",
            filters=dict(request.args),
        )
        db.session.commit()
    name = export.file_name(
        territory.slug, "density", "tif", _named_filters(), srid=territory.metric_srid
    )
    headers = {"Content-Disposition": f"attachment; filename={name}"}
    return Response(body, mimetype=GEOTIFF, headers=headers)


def _density_geotiff(territory, filters) -> bytes:
    """The GeoTIFF's bytes, or nothing when no density is left to show."""
    from geo.raster import encode_geotiff  # GDAL: heavy, loaded late

    raster = density.density_raster(territory, filters)
    if raster is None:
        return b""
    grid, hidden = raster
    tags = {
        **_metadata(territory, filters, "geotiff"),
        "layer": "density",
        "units": "points/km2",
        "bandwidth_m": round(grid.bandwidth, 1),
        "kernel": grid.kernel,
        "crs": f"EPSG:{grid.crs}",
        "suppression_threshold": None if filters.full else access.suppression_k(),
    }
    del tags["comments"]
    return encode_geotiff(grid, hidden, description=_("Densité (points par km²)"), tags=tags)


# -- aggregated layers and quartiers ---------------------------------------------------------

AGGREGATES = ("hexagons", "hotspots", "quartiers", "actions")
# The CLSPD board's filters, which the actions' files take (app/followup/actions.py).
ACTION_PARAMS = (
    openapi.query("partner", openapi.text(), "Actions: one partner's."),
    openapi.query("status", openapi.text(), "Actions: proposed, engaged, done, abandoned."),
    openapi.query("quartier", openapi.text(), "Actions: whose zone touches this quartier code."),
    openapi.query("overdue", openapi.text(enum=["1"]), "Actions: overdue only."),
)


@bp.get("/<any(hexagons, hotspots, quartiers, actions):layer>.<any(geojson, csv, gpkg):fmt>")
@openapi.operation(
    tag="exports",
    params=(*FILTER_PARAMS, CRS_PARAM, DIALECT_PARAM, *ACTION_PARAMS),
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
        text = export.features_csv(features, excel_fr=_excel_fr())
        return Response(text, mimetype="text/csv", headers=headers)
    path = export.temporary_gpkg()
    export.write_layer(export.feature_frame(features, srid), path, layer)
    return _send_geopackage(path, territory, layer, metadata)


def _aggregate_features(territory, layer: str):
    if layer == "actions":
        _no_filters(allowed=actions.BOARD_PARAMS)
        chosen = actions.board_filters(territory, request.args)
        return actions.action_features(territory, chosen), None
    if layer == "quartiers":
        _no_filters()
        return places.quartier_features(territory), None
    filters = _filters(territory)
    features = layers.gis_layer(territory, filters, layer)
    for feature in features:
        feature["properties"]["cell"] = feature["id"]
    return features, filters


def _no_filters(allowed: tuple[str, ...] = ()) -> None:
    unknown = [name for name in request.args if name not in (*FILE_PARAMS, *allowed)]
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, _("Cette couche ne se filtre pas.")))
