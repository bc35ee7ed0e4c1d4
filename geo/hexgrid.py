"""Hexagonal cells in a metric CRS, with counts and small-count suppression.

Which cell a point falls in, cell shapes, counts per class, and the suppression of
small counts for public outputs.

Hexagons are pointy-topped, in axial coordinates ``(q, r)``; ``size`` is the distance
from a cell's centre to its corners (= the side length), in metres. Cell (0, 0) is
centred on ``origin``. The same arithmetic runs in PostGIS (see :func:`axial_sql`),
so that counts can be made in the database without loading the points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from geo.errors import GeoError

SQRT3 = np.sqrt(3.0)
DEFAULT_SUPPRESSION_K = 3


class HexError(GeoError):
    """Bad arguments for hexagon aggregation."""

    code = "hexgrid"
    status = 422


@dataclass(frozen=True)
class HexCounts:
    """Counts per hexagon.

    Attributes
    ----------
    q, r : numpy.ndarray
        Axial coordinates of the cells that hold at least one point.
    counts : numpy.ndarray
        ``(cells, classes)`` counts, one column per class (e.g. feelings).
    classes : tuple
        The class of each column.
    size : float
        Hexagon size in metres.
    origin : tuple of float
        Centre of cell (0, 0) in metres.
    """

    q: np.ndarray
    r: np.ndarray
    counts: np.ndarray
    classes: tuple
    size: float
    origin: tuple[float, float]

    @property
    def totals(self) -> np.ndarray:
        """Points per cell, all classes together."""
        return self.counts.sum(axis=1)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell centres in metres."""
        return hex_centres(self.q, self.r, self.size, self.origin)

    def polygons(self) -> np.ndarray:
        """Cell outlines as shapely Polygons in the metric CRS."""
        return hex_polygons(self.q, self.r, self.size, self.origin)

    def suppressed(self, k: int = DEFAULT_SUPPRESSION_K) -> HexCounts:
        """Keep the cells with at least ``k`` points; leave the others out entirely."""
        keep = suppression_mask(self.totals, k)
        return HexCounts(
            self.q[keep], self.r[keep], self.counts[keep], self.classes, self.size, self.origin
        )


def _check_size(size) -> float:
    try:
        size = float(size)
    except (TypeError, ValueError):
        raise HexError(f"size must be a number of metres, got {size!r}", "size") from None
    if not (np.isfinite(size) and size > 0):
        raise HexError(f"size must be a positive number of metres, got {size}", "size")
    return size


def axial_cells(x, y, size: float, origin=(0.0, 0.0)) -> tuple[np.ndarray, np.ndarray]:
    """Find the hexagon of each point.

    Parameters
    ----------
    x, y : array_like
        Coordinates in metres (metric CRS).
    size : float
        Hexagon size (centre to corner) in metres.
    origin : tuple of float
        Centre of cell (0, 0).

    Returns
    -------
    q, r : numpy.ndarray of int64
        Axial coordinates.
    """
    size = _check_size(size)
    x = (np.asarray(x, dtype=float) - origin[0]) / size
    y = (np.asarray(y, dtype=float) - origin[1]) / size
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise HexError("coordinates must be finite", "x")
    fq = SQRT3 / 3.0 * x - y / 3.0
    fr = 2.0 / 3.0 * y
    return _cube_round(fq, fr)


def _cube_round(fq: np.ndarray, fr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    fs = -fq - fr
    q, r, s = np.round(fq), np.round(fr), np.round(fs)
    dq, dr, ds = np.abs(q - fq), np.abs(r - fr), np.abs(s - fs)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    q = np.where(fix_q, -r - s, q)
    r = np.where(fix_r, -q - s, r)
    return q.astype(np.int64), r.astype(np.int64)


def hex_centres(q, r, size: float, origin=(0.0, 0.0)) -> tuple[np.ndarray, np.ndarray]:
    """Centres (metres) of cells given by axial coordinates."""
    size = _check_size(size)
    q = np.asarray(q, dtype=float)
    r = np.asarray(r, dtype=float)
    return origin[0] + size * SQRT3 * (q + r / 2.0), origin[1] + size * 1.5 * r


def hex_polygons(q, r, size: float, origin=(0.0, 0.0)) -> np.ndarray:
    """Outlines of cells as shapely Polygons (metric CRS), corners counter-clockwise."""
    cx, cy = hex_centres(q, r, size, origin)
    angles = np.deg2rad(30.0 + 60.0 * np.arange(7))  # closed ring
    ring = np.stack(
        [cx[:, None] + size * np.cos(angles), cy[:, None] + size * np.sin(angles)], axis=-1
    )
    return shapely.polygons(ring)


def hexagon_counts(x, y, size: float, classes=None, origin=(0.0, 0.0)) -> HexCounts:
    """Count points per hexagon, per class.

    Parameters
    ----------
    x, y : array_like
        Point coordinates in metres.
    size : float
        Hexagon size in metres.
    classes : array_like, optional
        A class per point (e.g. ``"unsafe"``/``"safe"``); one count column per class,
        in sorted order. Without it, one column.
    origin : tuple of float
        Centre of cell (0, 0) in metres.

    Returns
    -------
    HexCounts
        Only the cells holding points.
    """
    q, r = axial_cells(x, y, size, origin)
    labels = np.zeros(q.size, dtype=np.int64)
    names: tuple = ("all",)
    if classes is not None:
        values = np.asarray(classes)
        if values.shape != q.shape:
            raise HexError(f"{values.size} classes for {q.size} points", "classes")
        uniques, labels = np.unique(values, return_inverse=True)
        names = tuple(uniques.tolist())
    cells, inverse = np.unique(np.stack([q, r], axis=1), axis=0, return_inverse=True)
    counts = np.zeros((len(cells), len(names)), dtype=np.int64)
    np.add.at(counts, (inverse.ravel(), labels), 1)
    return HexCounts(cells[:, 0], cells[:, 1], counts, names, float(size), tuple(origin))


def suppression_mask(totals, k: int = DEFAULT_SUPPRESSION_K) -> np.ndarray:
    """Cells that may be shown publicly: those with at least ``k`` points.

    Raises
    ------
    HexError
        If ``k`` is not a positive integer.
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise HexError(f"k must be a positive integer, got {k!r}", "k")
    return np.asarray(totals) >= k


def axial_sql(x: str, y: str, size: float, origin=(0.0, 0.0)) -> tuple[str, str]:
    """Build SQL expressions for the axial ``q`` and ``r`` of metric ``x``, ``y``.

    ``x`` and ``y`` are SQL expressions (for example ``ST_X(g)``); ``size`` and
    ``origin`` are numbers checked here and inlined, so nothing user-typed reaches SQL.
    The rounding matches :func:`axial_cells` (cube rounding).
    """
    size = _check_size(size)
    ox, oy = (float(v) for v in origin)
    fq = f"((sqrt(3.0) / 3.0 * (({x}) - {ox!r}) - (({y}) - {oy!r}) / 3.0) / {size!r})"
    fr = f"((2.0 / 3.0 * (({y}) - {oy!r})) / {size!r})"
    fs = f"(-{fq} - {fr})"
    rq, rr, rs = (f"round({e})" for e in (fq, fr, fs))
    dq, dr, ds = (f"abs({a} - {b})" for a, b in ((rq, fq), (rr, fr), (rs, fs)))
    q = f"(CASE WHEN {dq} > {dr} AND {dq} > {ds} THEN -{rr} - {rs} ELSE {rq} END)::bigint"
    r = (
        f"(CASE WHEN NOT ({dq} > {dr} AND {dq} > {ds}) AND {dr} > {ds} "
        f"THEN -{rq} - {rs} ELSE {rr} END)::bigint"
    )
    return q, r
