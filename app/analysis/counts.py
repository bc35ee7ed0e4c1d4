"""Counting the filtered pins in PostGIS: the filters as SQL conditions and the pins per
hexagon in one pass (the same cube rounding as :mod:`geo.hexgrid`, in the territory's
metric CRS); no pin is loaded into Python."""

from __future__ import annotations

import sqlalchemy as sa

from app.analysis.cells import DEFAULT_SIZE
from app.analysis.filters import Filters
from app.extensions import db
from app.models import FEELINGS, Pin, Territory
from geo.hexgrid import axial_sql


def pin_conditions(territory: Territory, filters: Filters) -> list:
    """The filters as SQL conditions on :class:`Pin`, for every query of pins."""
    conditions = [Pin.territory_id == territory.id]
    for column, values in (
        (Pin.feeling, filters.feeling),
        (Pin.category_id, filters.category),
        (Pin.time_of_day, filters.time_of_day),
        (Pin.workshop_id, filters.workshop),
    ):
        if values:
            conditions.append(column.in_(values))
    if filters.start:
        conditions.append(Pin.created_at >= filters.start)
    if filters.end:
        conditions.append(Pin.created_at <= filters.end)
    return conditions


def hexagon_counts(territory: Territory, filters: Filters) -> dict[tuple[int, int], list[int]]:
    """``{(q, r): [unsafe, safe]}`` for the filtered pins, counted by PostGIS."""
    return hexagon_tally(territory, filters)[0]


def hexagon_tally(territory: Territory, filters: Filters):
    """Count the filtered pins per hexagon, in one pass of PostGIS over the pins.

    Returns ``(counts, by_category)``: ``{(q, r): [unsafe, safe]}`` and
    ``{(q, r): {category_id: n}}``.
    """
    if filters.size == DEFAULT_SIZE:  # stored by the pin's trigger (migration 0007)
        q, r = "pin.hex_q", "pin.hex_r"
    else:
        q, r = axial_sql("pin.x_m", "pin.y_m", filters.size)
    # Enough memory to hash the groups instead of sorting every pin.
    db.session.execute(sa.text("SET LOCAL work_mem = '64MB'"))
    query = (
        sa.select(
            sa.literal_column(q).label("q"),
            sa.literal_column(r).label("r"),
            Pin.feeling,
            Pin.category_id,
            sa.func.count().label("n"),
        )
        .where(*pin_conditions(territory, filters))
        .group_by(sa.text("1, 2, 3, 4"))
    )
    counts: dict[tuple[int, int], list[int]] = {}
    by_category: dict[tuple[int, int], dict[int, int]] = {}
    for row in db.session.execute(query):
        cell = (row.q, row.r)
        counts.setdefault(cell, [0, 0])[FEELINGS.index(row.feeling)] += row.n
        categories = by_category.setdefault(cell, {})
        categories[row.category_id] = categories.get(row.category_id, 0) + row.n
    return counts, by_category
