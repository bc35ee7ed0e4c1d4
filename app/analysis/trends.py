"""Trends across editions: each workshop is a period, in the order they were held, and
each hexagon of the surveyed window gets its emerging hot spot pattern (new,
intensifying, persistent, diminishing, sporadic; :mod:`geo.trends`, after ArcGIS's
Emerging Hot Spot Analysis).

Staff only: a pattern follows a cell's exact count period by period, which the public
release does not state (its per-workshop noise would read as trends).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.analysis.cells import Layer, hexagon_features, surveyed_cells
from app.analysis.counts import hexagon_counts, pin_conditions
from app.analysis.filters import Filters
from app.errors import ValidationError
from app.extensions import db
from app.models import Pin, Territory, Workshop
from geo.hexgrid import hex_centres
from geo.trends import MIN_PERIODS, emerging_hot_spots

PATTERN_LABELS = {
    "new": _l("Nouveau point chaud"),
    "intensifying": _l("Point chaud qui s'intensifie"),
    "persistent": _l("Point chaud persistant"),
    "diminishing": _l("Point chaud qui diminue"),
    "sporadic": _l("Point chaud sporadique"),
    "no_pattern": _l("Aucune tendance détectée (non dessiné)"),
}


def trends_layer(territory: Territory, filters: Filters) -> Layer:
    """The cells with a pattern; every workshop chosen (or every workshop with pins under
    the filters) is one period."""
    if not filters.full:
        raise ValidationError(
            {"full": _("Les tendances suivent les comptes exacts : réservées aux équipes.")}
        )
    periods = _periods(territory, filters)
    distance = round(2 * np.sqrt(3) * filters.size * 1.001, 1)
    meta = {
        "distance_m": distance,
        "periods": [
            {"workshop": w.id, "title": w.title, "held_on": w.held_on.isoformat()} for w in periods
        ],
    }
    if len(periods) < MIN_PERIODS:
        message = _(
            "Une tendance demande au moins %(min)d éditions ou périodes ; il y en a %(n)d.",
            min=MIN_PERIODS,
            n=len(periods),
        )
        return Layer([], message, meta)
    q, r, names = surveyed_cells(territory, filters.size, [w.id for w in periods])
    meta["window"] = {"cells": len(q), "quartiers": list(names)}
    values = np.zeros((len(periods), len(q)))
    at = {cell: i for i, cell in enumerate(zip(q.tolist(), r.tolist(), strict=True))}
    for row, workshop in enumerate(periods):
        for cell, (unsafe, safe) in hexagon_counts(
            territory, replace(filters, workshop=[workshop.id])
        ).items():
            if cell in at:
                values[row, at[cell]] = unsafe + safe
    if len(q) < 3:
        return Layer([], _("Pas assez de points pour chercher des points chauds."), meta)
    cx, cy = hex_centres(q, r, filters.size)
    found = emerging_hot_spots(values, np.column_stack([cx, cy]), distance)
    shown = found.pattern != "no_pattern"
    props = [
        {
            "pattern": pattern,
            "pattern_label": str(PATTERN_LABELS[pattern]),
            "trend_z": round(float(z), 3),
            "trend_p": round(float(p), 4),
            "hot_periods": int(hot),
            "counts": [int(v) for v in counts],
        }
        for pattern, z, p, hot, counts in zip(
            found.pattern[shown],
            found.trend_z[shown],
            found.trend_p[shown],
            (found.bins > 0).sum(axis=0)[shown],
            values.T[shown],
            strict=True,
        )
    ]
    features = hexagon_features(territory, filters.size, q[shown], r[shown], props)
    message = None if features else _("Aucune tendance de point chaud sur ces périodes.")
    return Layer(features, message, meta)


def _periods(territory: Territory, filters: Filters) -> list[Workshop]:
    query = sa.select(Workshop).where(Workshop.territory_id == territory.id)
    if filters.workshop:
        query = query.where(Workshop.id.in_(filters.workshop))
    else:
        with_pins = sa.select(Pin.workshop_id).where(*pin_conditions(territory, filters))
        query = query.where(Workshop.id.in_(with_pins))
    return list(db.session.scalars(query.order_by(Workshop.held_on, Workshop.id)))
