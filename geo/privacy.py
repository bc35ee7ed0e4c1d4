"""The public release: noisy counts that no combination of public requests can undo.

Every public output (layers, public OGC collections, public pages and exports) is a
function of counts released once, with discrete Laplace noise from OpenDP, and never of
the pins themselves. A count released this way keeps its noise forever: asking again,
asking for its complement or subtracting two answers gives back noisy numbers, never the
exact count, and the privacy loss of a pin is bounded by the ε recorded with the release
(pin-level differential privacy: one pin added or removed changes each released table by
at most 1 in L1).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class NoisyTable:
    """Counts with noise added, and what the noise costs.

    Attributes
    ----------
    values : numpy.ndarray of int64
        The noisy counts, same shape as the exact ones; may be negative.
    scale : float
        Scale of the discrete Laplace noise (its standard deviation is about
        ``scale * sqrt(2)``).
    epsilon : float
        Privacy loss for one pin added or removed (as computed by OpenDP).
    """

    values: np.ndarray
    scale: float
    epsilon: float


@lru_cache(maxsize=16)
def _measurement(scale: float):
    import opendp.prelude as dp  # loaded with the first release

    dp.enable_features("contrib")
    return dp.m.make_laplace(
        dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int), scale=scale
    )


def noisy_counts(counts: np.ndarray, epsilon: float) -> NoisyTable:
    """Add discrete Laplace noise to integer counts, calibrated for ``epsilon``.

    Parameters
    ----------
    counts : numpy.ndarray of int
        Exact counts over a domain fixed before looking at the data (every cell, every
        quartier × category…), zeros included: noising only the non-empty ones would tell
        which are empty.
    epsilon : float
        Privacy budget of this table for one pin (> 0).

    Returns
    -------
    NoisyTable
    """
    if not epsilon > 0:
        raise ValueError(f"epsilon must be positive, got {epsilon!r}")
    counts = np.asarray(counts)
    if counts.size and (counts.min() < 0 or not np.issubdtype(counts.dtype, np.integer)):
        raise ValueError("counts must be non-negative integers")
    measurement = _measurement(1.0 / epsilon)
    flat = counts.astype(np.int64).ravel().tolist()
    noisy = np.asarray(measurement(flat) if flat else [], dtype=np.int64).reshape(counts.shape)
    return NoisyTable(noisy, 1.0 / epsilon, float(measurement.map(1)))


def noise_sd(scale: float, terms: int | np.ndarray = 1) -> float | np.ndarray:
    """Return the standard deviation of a sum of ``terms`` independent discrete Laplace noises.

    The discrete Laplace of scale ``b`` has variance ``2 e^{-1/b} / (1 - e^{-1/b})^2``.
    """
    decay = np.exp(-1.0 / scale)
    variance = 2 * decay / (1 - decay) ** 2
    return np.sqrt(variance * np.asarray(terms, dtype=float))


def display_threshold(k: int, scale: float, terms: int | np.ndarray = 1, z: float = 3.0):
    """Return the smallest noisy count shown: at least ``k`` and ``z`` noise deviations.

    Below ``z`` deviations a cell that holds no pin at all would show too often (noise
    alone passes 3 deviations well under 1 % of the time); the threshold is post-processing
    of the noisy counts, so it costs no privacy.
    """
    return np.maximum(k, np.ceil(z * noise_sd(scale, terms)))
