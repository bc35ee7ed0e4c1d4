"""Kernel density of the filtered pins: PostGIS counts them on the territory's stored
grid, :mod:`geo.density` smooths the small count grid; isobands and the PNG image."""

from __future__ import annotations

import numpy as np
import shapely
import sqlalchemy as sa

from app import access
from app.analysis import release
from app.analysis.cells import Layer, empty_message
from app.analysis.counts import pin_conditions
from app.analysis.filters import BANDWIDTH_RANGE, Filters
from app.extensions import db
from app.models import Pin, Quartier, Territory
from app.territories import places
from geo import export, projections

DENSITY_BREAKS = (0.1, 0.25, 0.5, 0.75)  # fractions of the peak


def density_grid(territory: Territory, filters: Filters):
    """Kernel density of the filtered pins, from PostGIS counts on a fine metric grid.

    Returns ``(grid, support)``: the :class:`geo.density.DensityGrid` over the
    quartiers (padded by the bandwidth) and, per cell, how many pins lie within the
    bandwidth (for suppression); ``(None, None)`` when no pin matches.
    """
    from geo.density import (  # scipy: heavy, loaded late
        default_bandwidth,
        kernel_density,
        neighbour_counts,
    )

    if territory.grid_cell:  # stored at quartier import, each pin's cell by its trigger
        extent = (
            territory.grid_west,
            territory.grid_south,
            territory.grid_east,
            territory.grid_north,
        )
        cell = territory.grid_cell
        i, j = Pin.grid_i, Pin.grid_j
    else:
        extent = _metric_extent(territory)
        if extent is None:
            return None, None
        cell = max(extent[2] - extent[0], extent[3] - extent[1]) / places.DENSITY_MAX_CELLS
        i = sa.func.floor((Pin.x_m - extent[0]) / cell)
        j = sa.func.floor((Pin.y_m - extent[1]) / cell)
    if filters.full:
        counts = _grid_counts(territory, filters, extent, cell, i, j)
    else:  # the public's density: the released hexagons it may see, smoothed
        counts = release.density_points(territory, filters)
    if counts is None:
        return None, None
    x, y, n = counts
    bandwidth = filters.bandwidth or float(
        np.clip(default_bandwidth(x, y, n), BANDWIDTH_RANGE[0], BANDWIDTH_RANGE[1])
    )
    padded = (
        extent[0] - bandwidth,
        extent[1] - bandwidth,
        extent[2] + bandwidth,
        extent[3] + bandwidth,
    )
    grid = kernel_density(x, y, padded, cell, bandwidth, weights=n, crs=territory.metric_srid)
    support = neighbour_counts(x, y, padded, cell, bandwidth, weights=n)
    return grid, support


def _metric_extent(territory: Territory):
    metric = sa.func.ST_Transform(Quartier.geom, territory.metric_srid)
    extent = sa.func.ST_Extent(metric)
    box = db.session.execute(
        sa.select(
            sa.func.ST_XMin(extent),
            sa.func.ST_YMin(extent),
            sa.func.ST_XMax(extent),
            sa.func.ST_YMax(extent),
        ).where(Quartier.territory_id == territory.id)
    ).one()
    return None if box[0] is None else tuple(float(v) for v in box)


def _grid_counts(territory, filters, extent, cell, i, j):
    """Pins per fine cell (``i``, ``j``: SQL cell indices), as (cell-centre x, y, count)
    arrays, or None."""
    cells = (
        sa.select(i.label("i"), j.label("j"), sa.func.count().label("n"))
        .where(*pin_conditions(territory, filters), i.isnot(None))
        .group_by(sa.text("1, 2"))
        .subquery()
    )
    # Three arrays in one row: ~10^5 cells reach numpy without a Python object per cell.
    query = sa.select(
        sa.func.array_agg(cells.c.i), sa.func.array_agg(cells.c.j), sa.func.array_agg(cells.c.n)
    )
    i, j, n = db.session.execute(query).one()
    if i is None:
        return None
    i, j, n = (np.asarray(v, dtype=float) for v in (i, j, n))
    return extent[0] + (i + 0.5) * cell, extent[1] + (j + 0.5) * cell, n


def _public_density(grid, support, filters: Filters):
    """Hide, for the public, every cell fewer than k pins contribute to."""
    if filters.full:
        return grid.values
    return np.where(support >= access.suppression_k(), grid.values, 0.0)


def _shown_density(territory: Territory, filters: Filters):
    shown = density_raster(territory, filters)
    return None if shown is None else shown[0]


def density_raster(territory: Territory, filters: Filters):
    """``(grid, hidden)``: the density as the PNG and isobands show it (hidden cells at
    0) and the mask of the cells hidden from the public (all False for the staff); None
    when nothing is left to show."""
    grid, support = density_grid(territory, filters)
    if grid is None:
        return None
    values = _public_density(grid, support, filters)
    if values.max() <= 0:
        return None
    hidden = np.zeros(values.shape, dtype=bool) if filters.full else support < filters.k
    shown = type(grid)(values, grid.transform, grid.crs, grid.bandwidth, grid.kernel)
    return shown, hidden


def density_layer(territory: Territory, filters: Filters) -> Layer:
    """Isobands of the kernel density (quartic) in pins per km²."""
    from geo.raster import isobands  # scipy: heavy, loaded late

    shown = _shown_density(territory, filters)
    if shown is None:
        return Layer([], empty_message([]))
    peak = float(shown.values.max())
    transformer = projections.transformer(territory.metric_srid, projections.WGS84)
    features = []
    for number, (lower, upper, shape) in enumerate(
        isobands(shown, np.multiply(DENSITY_BREAKS, peak))
    ):
        shape = shapely.transform(
            shape,
            lambda xy: np.round(np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])), 6),
        )
        # Rounding to 6 decimals can make a ring touch itself where cells meet at a
        # corner: repair it, keeping only polygons.
        shape = shapely.make_valid(shape, method="structure", keep_collapsed=False)
        features.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(export.rfc7946(shape)),
                "properties": {
                    "class": number,
                    "lower_per_km2": round(lower * 1e6, 3),
                    "upper_per_km2": None if np.isinf(upper) else round(upper * 1e6, 3),
                },
            }
        )
    meta = {"bandwidth_m": round(shown.bandwidth, 1), "peak_per_km2": round(peak * 1e6, 3)}
    return Layer(features, None, meta)


def density_image(territory: Territory, filters: Filters):
    """``(png bytes, (west, south, east, north), bandwidth)`` or None with no density."""
    from geo.raster import (  # scipy: heavy, loaded late
        colourise,
        encode_png,
        resample_to_web_mercator,
    )

    shown = _shown_density(territory, filters)
    if shown is None:
        return None
    pixels, bounds = resample_to_web_mercator(shown)
    return encode_png(colourise(pixels)), bounds, shown.bandwidth
