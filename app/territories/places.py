"""Storing and reading territories, quartiers and streets (no commit here: callers commit)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from geoalchemy2 import Geography
from geoalchemy2.shape import from_shape

from app.extensions import db
from app.models import Quartier, Street, Territory, utcnow
from geo import projections

if TYPE_CHECKING:
    from geo.quartiers import QuartierImport

# Cells per side of a territory's density counting grid (migration 0008's territory_grid).
DENSITY_MAX_CELLS = 600


@dataclass
class StoreResult:
    created: int
    updated: int
    absent: list[str]


def get_territory(slug: str) -> Territory | None:
    return db.session.scalar(sa.select(Territory).where(Territory.slug == slug))


def create_territory(slug: str, name: str, country: str, lon: float, lat: float) -> Territory:
    territory = Territory(
        slug=slug,
        name=name,
        country=country.upper(),
        metric_srid=projections.metric_srid(country, lon, lat),
    )
    db.session.add(territory)
    db.session.flush()
    return territory


def quartiers_unchanged(territory: Territory, digest: str) -> bool:
    digests = {q.source_digest for q in territory.quartiers}
    return digests == {digest}


def store_quartiers(
    territory: Territory, imported: QuartierImport, source: str, digest: str
) -> StoreResult:
    """Insert or update the territory's quartiers by code; report codes absent from the file."""
    existing = {q.code: q for q in territory.quartiers}
    created = updated = 0
    now = utcnow()
    for row in imported.frame.itertuples(index=False):
        quartier = existing.pop(row.code, None)
        if quartier is None:
            quartier = Quartier(territory=territory, code=row.code)
            db.session.add(quartier)
            created += 1
        else:
            updated += 1
        quartier.name = row.name
        quartier.geom = from_shape(row.geometry, srid=projections.WGS84)
        quartier.source = source
        quartier.source_digest = digest
        quartier.imported_at = now
    db.session.flush()
    # Boundaries moved or appeared: each pin's quartier again (migration 0005's function)
    # and the density grid over the quartiers, with each pin's cell (0008).
    db.session.execute(
        sa.text(
            "UPDATE pin SET quartier_id = pin_quartier(territory_id, geom) WHERE territory_id = :t"
        ),
        {"t": territory.id},
    )
    db.session.execute(
        sa.text("SELECT territory_grid(:t, :cells)"),
        {"t": territory.id, "cells": DENSITY_MAX_CELLS},
    )
    db.session.refresh(territory)
    return StoreResult(created, updated, sorted(existing))


def streets_unchanged(territory: Territory, digest: str) -> bool:
    stored = db.session.scalars(
        sa.select(Street.source_digest).where(Street.territory_id == territory.id).distinct()
    ).all()
    return stored == [digest]


def store_streets(territory: Territory, frame, digest: str) -> int:
    """Replace the territory's streets with those of ``frame`` (name, highway, level,
    geometry in 4326)."""
    db.session.execute(sa.delete(Street).where(Street.territory_id == territory.id))
    rows = [
        {
            "territory_id": territory.id,
            "name": name,
            "highway": highway,
            "level": level,
            "geom": from_shape(geom, srid=projections.WGS84),
            "source_digest": digest,
        }
        for name, highway, level, geom in zip(
            frame["name"], frame["highway"], frame["level"], frame.geometry, strict=True
        )
    ]
    if rows:
        db.session.execute(sa.insert(Street), rows)
    return len(rows)


def quartier_select(territory: Territory):
    """The territory's quartiers as rows for :func:`quartier_feature` (add filters, order)."""
    return sa.select(
        Quartier.code,
        Quartier.name,
        (sa.func.ST_Area(sa.cast(Quartier.geom, _geography())) / 1e6).label("area_km2"),
        # RFC 7946: exterior rings counter-clockwise.
        sa.func.ST_AsGeoJSON(sa.func.ST_ForcePolygonCCW(Quartier.geom), 7).label("geometry"),
    ).where(Quartier.territory_id == territory.id)


def quartier_feature(row) -> dict:
    """A GeoJSON feature (id = code) with the quartier's area on the ellipsoid."""
    return {
        "type": "Feature",
        "id": row.code,
        "properties": {"code": row.code, "name": row.name, "area_km2": round(row.area_km2, 3)},
        "geometry": json.loads(row.geometry),
    }


def quartier_features(territory: Territory, code: str | None = None) -> list[dict]:
    """GeoJSON features of the territory's quartiers, by name."""
    query = quartier_select(territory).order_by(Quartier.name)
    if code is not None:
        query = query.where(Quartier.code == code)
    return [quartier_feature(row) for row in db.session.execute(query)]


def _geography():
    return Geography(srid=4326)


def territory_bounds(territory: Territory) -> list[list[float]] | None:
    """``[[south, west], [north, east]]`` of the territory's quartiers, for Leaflet."""
    box = territory_bbox(territory)
    if box is None:
        return None
    return [[box[1], box[0]], [box[3], box[2]]]


def territory_bbox(territory: Territory) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of the territory's quartiers, in degrees."""
    box = db.session.execute(
        sa.select(
            sa.func.ST_XMin(sa.func.ST_Extent(Quartier.geom)),
            sa.func.ST_YMin(sa.func.ST_Extent(Quartier.geom)),
            sa.func.ST_XMax(sa.func.ST_Extent(Quartier.geom)),
            sa.func.ST_YMax(sa.func.ST_Extent(Quartier.geom)),
        ).where(Quartier.territory_id == territory.id)
    ).one()
    return None if box[0] is None else tuple(box)


def streets_geojson(territory: Territory, quartier_ids: list[int] | None = None) -> dict:
    """The territory's streets as a GeoJSON FeatureCollection (built in PostGIS),
    only those crossing the given quartiers when ``quartier_ids`` is set."""
    feature = sa.func.json_build_object(
        "type",
        "Feature",
        "properties",
        sa.func.json_build_object("name", Street.name),
        "geometry",
        sa.cast(sa.func.ST_AsGeoJSON(Street.geom, 6), sa.JSON),
    )
    query = sa.select(sa.func.coalesce(sa.func.json_agg(feature), sa.text("'[]'::json"))).where(
        Street.territory_id == territory.id
    )
    if quartier_ids is not None:
        crossing = (
            sa.select(Street.id)
            .join(Quartier, sa.func.ST_Intersects(Quartier.geom, Street.geom))
            .where(Quartier.id.in_(quartier_ids))
        )
        query = query.where(Street.id.in_(crossing))
    rows = db.session.scalar(query)
    return {"type": "FeatureCollection", "features": rows}


def place_names(territory: Territory, points: list[tuple[float, float]]) -> list[dict]:
    """For each (lon, lat): the quartier it lies in and the nearest named street (with its
    distance in metres), as people name a place: ``{"quartier", "street", "street_m"}``.
    One query, each street found by the spatial index (nearest neighbour)."""
    if not points:
        return []
    values = sa.values(
        sa.column("n", sa.Integer),
        sa.column("lon", sa.Float),
        sa.column("lat", sa.Float),
        name="p",
    ).data([(n, lon, lat) for n, (lon, lat) in enumerate(points)])
    point = sa.func.ST_SetSRID(sa.func.ST_MakePoint(values.c.lon, values.c.lat), 4326)
    quartier = (
        sa.select(Quartier.name)
        .where(Quartier.territory_id == territory.id, sa.func.ST_Contains(Quartier.geom, point))
        .order_by(Quartier.id)
        .limit(1)
        .scalar_subquery()
    )
    nearest = (
        sa.select(
            Street.name.label("street"),
            sa.func.ST_Distance(sa.cast(Street.geom, Geography), sa.cast(point, Geography)).label(
                "street_m"
            ),
        )
        .where(Street.territory_id == territory.id, Street.name.is_not(None), Street.name != "")
        .order_by(Street.geom.op("<->")(point))
        .limit(1)
        .lateral("s")
    )
    query = (
        sa.select(values.c.n, quartier.label("quartier"), nearest.c.street, nearest.c.street_m)
        .select_from(values)
        .outerjoin(nearest, sa.true())
        .order_by(values.c.n)
    )
    return [
        {
            "quartier": row.quartier,
            "street": row.street,
            "street_m": None if row.street_m is None else round(row.street_m),
        }
        for row in db.session.execute(query)
    ]
