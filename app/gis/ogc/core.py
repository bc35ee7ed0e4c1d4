"""The features and extents of a collection, from plain arguments (a territory, a kind,
a :class:`Query`): no request is read here, so the routes stay thin."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time

import shapely
import sqlalchemy as sa

from app.analysis import layers, release
from app.analysis.counts import pin_conditions
from app.analysis.filters import Filters, day_bound, parse_filters
from app.errors import ValidationError
from app.extensions import db
from app.gis import exports
from app.gis.ogc.collections import CRS84, LIMIT_MAX, Kind, ParameterError
from app.gis.ogc.params import Query
from app.models import Pin, Quartier, Territory
from app.territories import places


def extent(territory: Territory, kind: Kind) -> dict:
    box = places.territory_bbox(territory)
    found = {}
    if box is not None:
        found["spatial"] = {"bbox": [[round(v, 6) for v in box]], "crs": CRS84}
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


def _pin_filters(territory: Territory, kind: Kind, wanted: Query) -> Filters:
    try:
        filters = parse_filters(territory, wanted.filters)
    except ValidationError as exc:
        raise ParameterError(exc.fields, exc.message) from exc
    filters.start, filters.end = wanted.start, wanted.end
    filters.full = kind.name == "hexagons-full"
    return filters


def hexagon_features(territory: Territory, kind: Kind, wanted: Query) -> list[dict]:
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


def point_page(territory: Territory, kind: Kind, wanted: Query) -> tuple[list[dict], int]:
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


def quartier_page(territory: Territory, wanted: Query) -> tuple[list[dict], int]:
    conditions = [getattr(Quartier, n) == v for n, v in wanted.filters.items()]
    if wanted.bbox:
        conditions.append(sa.func.ST_Intersects(Quartier.geom, _envelope(wanted.bbox)))
    base = places.quartier_select(territory).where(*conditions)
    matched = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery()))
    rows = db.session.execute(
        base.order_by(Quartier.code).limit(wanted.limit).offset(wanted.offset)
    )
    return [places.quartier_feature(row) for row in rows], matched


def find_feature(territory: Territory, kind: Kind, feature_id: str, args) -> dict | None:
    """The feature ``feature_id`` of the collection, or None; ``args`` may set ``size``."""
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
    size = {"size": args["size"]} if "size" in args else {}
    wanted = Query(LIMIT_MAX, 0, None, None, None, size)  # a cell's id is q:r at this size
    for feature in hexagon_features(territory, kind, wanted):
        if feature["id"] == feature_id:
            return feature
    return None
