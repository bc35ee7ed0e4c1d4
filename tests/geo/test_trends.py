"""geo.trends: Mann–Kendall and the emerging hot spot patterns, on synthetic data with
known trends."""

from __future__ import annotations

import numpy as np
import pytest

from geo.trends import MIN_PERIODS, TrendError, emerging_hot_spots, mann_kendall


def test_mann_kendall_by_hand():
    # 1..5 rising: S = 10, var = 5·4·15/18 = 16.67, z = (10 − 1)/√16.67 = 2.205, p = 0.0275
    z, p = mann_kendall(np.array([[1.0], [2.0], [3.0], [4.0], [5.0]]))
    assert z[0] == pytest.approx(2.2045, abs=1e-4) and p[0] == pytest.approx(0.0275, abs=1e-4)
    # ties shrink the variance: 1, 1, 2, 2 → S = 4, var = 4·3·13/18 − 2·(2·1·9)/18 = 6.67
    z, _ = mann_kendall(np.array([[1.0], [1.0], [2.0], [2.0]]))
    assert z[0] == pytest.approx(3 / np.sqrt(26 / 3 - 2), abs=1e-6)
    z, p = mann_kendall(np.array([[3.0, 2.0], [2.0, 2.0], [1.0, 2.0]]))
    assert z[0] < 0 and (z[1], p[1]) == (0.0, 1.0)
    # three periods can never be significant (the smallest p is 0.30)
    assert mann_kendall(np.array([[0.0], [1.0], [2.0]]))[1][0] > 0.29


def _grid(side: int = 21, step: float = 100.0):
    ii, jj = np.meshgrid(np.arange(side), np.arange(side))
    return np.column_stack([ii.ravel() * step, jj.ravel() * step]), side


def _block(side: int, ci: int, cj: int) -> np.ndarray:
    """The 3×3 cells around (ci, cj), as a mask."""
    mask = np.zeros((side, side), dtype=bool)
    mask[cj - 1 : cj + 2, ci - 1 : ci + 2] = True
    return mask.ravel()


def test_known_trends_get_their_patterns():
    xy, side = _grid()
    periods = 10
    rng = np.random.default_rng(7)
    counts = rng.poisson(1.0, size=(periods, side * side)).astype(float)
    clusters = {
        "persistent": (_block(side, 3, 3), [8] * periods),
        "intensifying": (_block(side, 10, 3), list(range(5, 15))),
        "diminishing": (_block(side, 17, 3), list(range(14, 4, -1))),
        "new": (_block(side, 3, 17), [0] * (periods - 1) + [10]),
        "sporadic": (_block(side, 17, 17), [10 if t in (1, 4) else 0 for t in range(periods)]),
    }
    for mask, extra in clusters.values():
        counts[:, mask] += np.array(extra, dtype=float)[:, None]
    trends = emerging_hot_spots(counts, xy, distance=150.0)
    for name, (mask, _) in clusters.items():
        centre = np.flatnonzero(mask)[4]
        assert trends.pattern[centre] == name, (name, trends.pattern[mask])
    far = _block(side, 10, 10)  # the quiet middle
    assert set(trends.pattern[far]) <= {"no_pattern", "sporadic"}
    assert trends.bins.shape == (periods, side * side)


def test_fewer_than_three_periods_is_an_error_naming_the_input():
    xy, side = _grid(5)
    with pytest.raises(TrendError) as caught:
        emerging_hot_spots(np.ones((MIN_PERIODS - 1, side * side)), xy, 150.0)
    assert caught.value.field == "values"
