"""Getis-Ord Gi* hot and cold spots on cell counts, as ArcGIS's Hot Spot Analysis.

Weights are fixed-distance and binary, the cell itself included (the "star"):
``w_ij = 1`` when the centres of i and j are within ``distance`` metres. For each cell,
``Gi* = (Σ_j w_ij x_j − x̄ W_i) / (s √((n S1_i − W_i²) / (n − 1)))`` with
``W_i = S1_i = Σ_j w_ij``, ``x̄`` and ``s`` the mean and (population) standard deviation
of all n values. Gi* is a z-score; p-values are two-sided from the normal law, with a
Benjamini-Hochberg correction for the many cells tested at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree
from scipy.special import ndtr

from geo.errors import GeoError

# ArcGIS's Gi_Bin: ±3, ±2, ±1 for 99 %, 95 %, 90 % confidence.
CONFIDENCE_BINS = ((0.01, 3), (0.05, 2), (0.10, 1))


class HotspotError(GeoError):
    """Bad arguments for a hot spot analysis."""

    code = "hotspots"
    status = 422


@dataclass(frozen=True)
class HotspotResult:
    """Gi* for every cell.

    Attributes
    ----------
    z : numpy.ndarray
        Gi* z-scores (0 where all values are equal).
    p : numpy.ndarray
        Two-sided p-values.
    q : numpy.ndarray
        Benjamini-Hochberg adjusted p-values (false discovery rate).
    bins : numpy.ndarray of int
        -3 … 3: cold or hot spot at 99/95/90 % confidence, 0 not significant; from
        ``q`` when the FDR correction is on, else from ``p``.
    neighbours : numpy.ndarray of int
        Cells within the distance, the cell itself included.
    """

    z: np.ndarray
    p: np.ndarray
    q: np.ndarray
    bins: np.ndarray
    neighbours: np.ndarray


def distance_band(xy, distance: float) -> sparse.csr_matrix:
    """Binary weights of cells within ``distance`` metres, the diagonal included.

    Parameters
    ----------
    xy : array_like
        ``(n, 2)`` cell centres in metres (metric CRS).
    distance : float
        Threshold in metres (inclusive).

    Returns
    -------
    scipy.sparse.csr_matrix
        ``(n, n)`` matrix of ones and zeros.
    """
    xy = np.asarray(xy, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise HotspotError(f"centres must be an (n, 2) array, got shape {xy.shape}", "xy")
    if not np.isfinite(xy).all():
        raise HotspotError("centres must be finite", "xy")
    distance = float(distance)
    if not (np.isfinite(distance) and distance > 0):
        raise HotspotError(
            f"distance must be a positive number of metres, got {distance}", "distance"
        )
    n = len(xy)
    pairs = cKDTree(xy).query_pairs(distance * (1 + 1e-12), output_type="ndarray")
    rows = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(n)])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(n)])
    data = np.ones(rows.size)
    return sparse.csr_matrix((data, (rows, cols)), shape=(n, n))


def getis_ord_gi_star(values, xy, distance: float, fdr: bool = True) -> HotspotResult:
    """Compute Getis-Ord Gi* with fixed-distance binary weights.

    Parameters
    ----------
    values : array_like
        The value of each cell (e.g. pin counts, or unsafe minus safe).
    xy : array_like
        ``(n, 2)`` cell centres in metres.
    distance : float
        Neighbourhood distance in metres.
    fdr : bool
        Bin significance on Benjamini-Hochberg adjusted p-values (default), as
        ArcGIS does with its FDR option.

    Returns
    -------
    HotspotResult
        z-scores, p-values, adjusted p-values, confidence bins, neighbour counts.

    Raises
    ------
    HotspotError
        For fewer than 3 cells, mismatched or non-finite inputs, or a bad distance.
    """
    x = np.asarray(values, dtype=float).ravel()
    weights = distance_band(xy, distance)
    if x.size != weights.shape[0]:
        raise HotspotError(f"{x.size} values for {weights.shape[0]} cells", "values")
    if not np.isfinite(x).all():
        raise HotspotError("values must be finite", "values")
    n = x.size
    if n < 3:
        raise HotspotError(f"Gi* needs at least 3 cells, got {n}", "values")
    w_sum = np.asarray(weights.sum(axis=1)).ravel()
    mean = x.mean()
    s = np.sqrt((x * x).mean() - mean * mean)
    spread = np.sqrt(np.maximum(n * w_sum - w_sum * w_sum, 0.0) / (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (weights @ x - mean * w_sum) / (s * spread)
    z = np.where(np.isfinite(z), z, 0.0)  # all values equal, or every cell a neighbour
    p = 2.0 * ndtr(-np.abs(z))
    q = benjamini_hochberg(p)
    bins = confidence_bins(z, q if fdr else p)
    return HotspotResult(z, p, q, bins, w_sum.astype(np.int64))


def benjamini_hochberg(p) -> np.ndarray:
    """Adjust p-values for the false discovery rate (Benjamini-Hochberg step-up)."""
    p = np.asarray(p, dtype=float)
    n = p.size
    if n == 0:
        return p.copy()
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def confidence_bins(z, p) -> np.ndarray:
    """ArcGIS's Gi_Bin: ±3/±2/±1 where p < 0.01/0.05/0.10, signed like z; else 0."""
    z = np.asarray(z, dtype=float)
    p = np.asarray(p, dtype=float)
    bins = np.zeros(z.size, dtype=np.int64)
    for threshold, level in CONFIDENCE_BINS[::-1]:
        bins = np.where(p < threshold, level, bins)
    return bins * np.sign(z).astype(np.int64)
