"""Hexagon cells of a territory as GeoJSON features, and the study area's cells.

Shared by the exact layers (:mod:`app.analysis.layers`, for staff) and the public release
(:mod:`app.analysis.release`), which both draw counts on the same hexagons.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
import sqlalchemy as sa
from flask_babel import gettext as _

from app.extensions import db
from app.models import Quartier, Territory, workshop_quartier
from geo import export, projections
from geo.hexgrid import axial_cells, hex_centres, hex_polygons

DEFAULT_SIZE = 150.0  # metres; each pin's hexagon at this size is stored


@dataclass
class Layer:
    """Features of one layer, a message when there is nothing to show, and metadata."""

    features: list[dict]
    message: str | None = None
    meta: dict | None = None


def empty_message(features) -> str | None:
    return None if features else _("Aucun point ne correspond à ces filtres.")


def study_area(territory: Territory, quartier_ids: list[int] | None = None):
    """The union of the territory's quartiers (or of ``quartier_ids``), metric CRS."""
    query = sa.select(
        sa.func.ST_AsBinary(
            sa.func.ST_Transform(sa.func.ST_Union(Quartier.geom), territory.metric_srid)
        )
    ).where(Quartier.territory_id == territory.id)
    if quartier_ids is not None:
        query = query.where(Quartier.id.in_(quartier_ids))
    area = db.session.scalar(query)
    return None if area is None else shapely.from_wkb(bytes(area))


def cells_in(shape, size: float) -> tuple[np.ndarray, np.ndarray]:
    """Axial ``(q, r)`` of every hexagon of ``size`` whose centre lies in ``shape``."""
    if shape is None or shape.is_empty:
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    west, south, east, north = shape.bounds
    xs = np.arange(west, east + size, size * 0.8)
    ys = np.arange(south, north + size, size * 0.8)
    gx, gy = np.meshgrid(xs, ys)
    q, r = axial_cells(gx.ravel(), gy.ravel(), size)
    cells = np.unique(np.stack([q, r], axis=1), axis=0)
    cx, cy = hex_centres(cells[:, 0], cells[:, 1], size)
    inside = shapely.contains_xy(shape, cx, cy)
    return cells[inside, 0], cells[inside, 1]


def surveyed_cells(territory: Territory, size: float, workshop_ids) -> tuple:
    """Gi*'s window: every hexagon whose centre lies in the quartiers the workshops
    ``workshop_ids`` surveyed, empty ones included; the territory's quartiers when those
    workshops name none. Returns ``(q, r, quartier_names)``.

    Comparing surveyed quartiers with the unsurveyed rest of the town would make every
    surveyed cell "hot"; inside the window a hot spot means "more than elsewhere in what
    was surveyed"."""
    ids = []
    if workshop_ids:
        ids = db.session.scalars(
            sa.select(workshop_quartier.c.quartier_id)
            .where(workshop_quartier.c.workshop_id.in_(list(workshop_ids)))
            .distinct()
        ).all()
    names_query = sa.select(Quartier.name).where(Quartier.territory_id == territory.id)
    if ids:
        names_query = names_query.where(Quartier.id.in_(ids))
    names = db.session.scalars(names_query.order_by(Quartier.name)).all()
    q, r = cells_in(study_area(territory, ids or None), size)
    return q, r, names


def hexagon_features(territory, size, q, r, properties: list[dict]) -> list[dict]:
    """GeoJSON hexagons (WGS84, 7 decimals) with ids ``"q:r"`` and the given properties."""
    polygons = hex_polygons(q, r, size)
    transformer = projections.transformer(territory.metric_srid, projections.WGS84)
    polygons = shapely.transform(
        polygons, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )
    polygons = export.rfc7946(shapely.set_precision(polygons, 1e-7))
    return [
        {
            "type": "Feature",
            "id": f"{qi}:{ri}",
            "geometry": shapely.geometry.mapping(poly),
            "properties": props,
        }
        for qi, ri, poly, props in zip(q.tolist(), r.tolist(), polygons, properties, strict=True)
    ]
