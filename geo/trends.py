"""Emerging hot spots: how each cell's clustering moved across periods.

After ArcGIS's Emerging Hot Spot Analysis: Gi* (:mod:`geo.hotspots`) is computed for
each period on the same cells, then each cell's series of z-scores gets a Mann–Kendall
trend test, and the two together classify the cell:

- ``new``: a hot spot in the last period only;
- ``intensifying``: a hot spot in at least 90 % of the periods, the last included, with
  a significant upward trend of z;
- ``persistent``: a hot spot in at least 90 % of the periods, no significant trend;
- ``diminishing``: as persistent, with a significant downward trend;
- ``sporadic``: a hot spot in some periods but less than 90 % of them, never a cold spot
  (ArcGIS also asks the last period to be hot; here a cell that was hot and is no
  longer is sporadic too, rather than "no pattern");
- ``no_pattern``: everything else (never hot, or hot and cold in turn).

Mann–Kendall needs periods to find a trend: with three, ``S`` cannot reach 5 %
significance (the smallest two-sided p is 0.30), so three editions tell persistent
from new, never intensifying from persistent. That is the statistics, not a bug.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from geo.errors import GeoError
from geo.hotspots import getis_ord_gi_star

PATTERNS = ("new", "intensifying", "persistent", "diminishing", "sporadic", "no_pattern")
MOST = 0.9  # "at least 90 % of the periods"
TREND_ALPHA = 0.05
MIN_PERIODS = 3


class TrendError(GeoError):
    """Bad arguments for a trend analysis."""

    code = "trends"
    status = 422


@dataclass(frozen=True)
class Trends:
    """The emerging hot spot analysis of every cell.

    Per cell: its pattern, Mann–Kendall's z and p on the Gi* series; and the Gi* bins
    of every period (periods × cells).
    """

    pattern: np.ndarray
    trend_z: np.ndarray
    trend_p: np.ndarray
    bins: np.ndarray


def mann_kendall(series) -> tuple[np.ndarray, np.ndarray]:
    """Run the Mann–Kendall trend test on each column of ``series``.

    Parameters
    ----------
    series : array_like
        ``(periods, cells)`` values in time order.

    Returns
    -------
    tuple of numpy.ndarray
        ``(z, p)`` per column: the normal score of Kendall's S (continuity-corrected,
        variance corrected for ties) and its two-sided p-value.
    """
    x = np.asarray(series, dtype=float)
    if x.ndim != 2:
        raise TrendError(f"series must be (periods, cells), got shape {x.shape}", "series")
    n = x.shape[0]
    i, j = np.triu_indices(n, k=1)
    s = np.sign(x[j] - x[i]).sum(axis=0)
    var = np.full(x.shape[1], n * (n - 1) * (2 * n + 5) / 18.0)
    for column in range(x.shape[1]):  # ties: Σ t(t−1)(2t+5)/18 over groups of equal values
        _, counts = np.unique(x[:, column], return_counts=True)
        var[column] -= (counts * (counts - 1) * (2 * counts + 5)).sum() / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, (s - 1) / np.sqrt(var), np.where(s < 0, (s + 1) / np.sqrt(var), 0.0))
    z = np.where(np.isfinite(z), z, 0.0)
    return z, 2.0 * ndtr(-np.abs(z))


def emerging_hot_spots(values, xy, distance: float) -> Trends:
    """Classify each cell from its counts over periods.

    Parameters
    ----------
    values : array_like
        ``(periods, cells)`` counts, periods in time order, the same cells in each
        (zeros included: the window is the same for every period).
    xy : array_like
        ``(cells, 2)`` cell centres in metres.
    distance : float
        Gi*'s neighbourhood distance in metres.

    Returns
    -------
    Trends
        The pattern of each cell (one of :data:`PATTERNS`), the trend test, the bins.

    Raises
    ------
    TrendError
        For fewer than :data:`MIN_PERIODS` periods or mismatched shapes.
    """
    x = np.asarray(values, dtype=float)
    if x.ndim != 2 or x.shape[0] < MIN_PERIODS:
        raise TrendError(
            f"trends need at least {MIN_PERIODS} periods of counts, got shape {x.shape}",
            "values",
        )
    results = [getis_ord_gi_star(period, xy, distance) for period in x]
    z = np.vstack([r.z for r in results])
    bins = np.vstack([r.bins for r in results])
    trend_z, trend_p = mann_kendall(z)
    hot, cold = bins > 0, bins < 0
    share = hot.mean(axis=0)
    last_hot = hot[-1]
    rising = (trend_p < TREND_ALPHA) & (trend_z > 0)
    falling = (trend_p < TREND_ALPHA) & (trend_z < 0)
    most = (share >= MOST) & last_hot
    pattern = np.full(x.shape[1], "no_pattern", dtype=object)
    pattern[hot.any(axis=0) & ~cold.any(axis=0)] = "sporadic"
    pattern[last_hot & ~hot[:-1].any(axis=0)] = "new"
    pattern[most] = "persistent"
    pattern[most & rising] = "intensifying"
    pattern[most & falling] = "diminishing"
    return Trends(pattern.astype(str), trend_z, trend_p, bins)
