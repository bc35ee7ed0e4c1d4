import numpy as np
import pytest

from geo.density import (
    DensityError,
    default_bandwidth,
    exact_kernel_density,
    kernel_density,
    kernel_values,
)


def clustered(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(500, 80, n // 2), rng.uniform(0, 1000, n // 2)])
    y = np.concatenate([rng.normal(400, 60, n // 2), rng.uniform(0, 1000, n // 2)])
    return x, y


def relative_error(x, y, kernel, cells_per_bandwidth, cell=10.0, weights=None):
    h = cells_per_bandwidth * cell
    pad = h * (4 if kernel == "gaussian" else 1)
    grid = kernel_density(x, y, (-pad, -pad, 1000 + pad, 1000 + pad), cell, h, kernel, weights)
    exact = exact_kernel_density(x, y, grid, weights)
    return np.abs(grid.values - exact).max() / exact.max(), grid


# The bounds this implementation reaches (linear binning corrected to second order):
# quartic ≤ 1e-3 of the peak from 10 cells per bandwidth, ≤ 2e-2 at 5 cells;
# Gaussian ≤ 1e-3 from 3 cells per standard deviation.
@pytest.mark.parametrize(
    ("kernel", "cells", "bound"),
    [
        ("quartic", 40, 1e-3),
        ("quartic", 20, 1e-3),
        ("quartic", 10, 1e-3),
        ("quartic", 5, 2e-2),
        ("gaussian", 20, 1e-3),
        ("gaussian", 3, 1e-3),
    ],
)
def test_matches_the_exact_sum(kernel, cells, bound):
    x, y = clustered()
    error, _ = relative_error(x, y, kernel, cells)
    assert error <= bound


def test_weights_match_repeated_points():
    x, y = clustered(400, seed=3)
    weights = np.random.default_rng(4).integers(1, 5, size=x.size)
    repeated = kernel_density(
        np.repeat(x, weights), np.repeat(y, weights), (-200, -200, 1200, 1200), 10.0, 200.0
    )
    weighted = kernel_density(x, y, (-200, -200, 1200, 1200), 10.0, 200.0, weights=weights)
    np.testing.assert_allclose(weighted.values, repeated.values, rtol=1e-9, atol=1e-15)
    error, _ = relative_error(x, y, "quartic", 20, weights=weights)
    assert error <= 1e-3


@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
def test_mass_is_conserved(kernel):
    x, y = clustered()
    weights = np.full(x.size, 2.5)
    _, grid = relative_error(x, y, kernel, 20, weights=weights)
    mass = grid.values.sum() * grid.cell_size**2
    # The Gaussian is cut at 4 standard deviations, which drops exp(-8) ≈ 3.4e-4 of it.
    assert mass == pytest.approx(weights.sum(), rel=1e-4 if kernel == "quartic" else 5e-4)


def test_a_single_point_gives_the_kernel_shape():
    grid = kernel_density([3.3], [-2.1], (-120, -120, 120, 120), 2.0, 100.0)
    rows, cols = grid.values.shape
    a, _, c, _, e, f = grid.transform
    cx = c + (np.arange(cols) + 0.5) * a
    cy = f + (np.arange(rows) + 0.5) * e
    d2 = (cx[None, :] - 3.3) ** 2 + (cy[:, None] + 2.1) ** 2
    expected = kernel_values(d2, 100.0, "quartic")
    assert np.abs(grid.values - expected).max() <= 1e-3 * expected.max()
    # Nothing beyond the support but the rounding of the single-precision FFT.
    assert grid.values[d2 > 102.0**2].max() <= 1e-6 * grid.values.max()
    assert grid.values.max() == pytest.approx(3 / (np.pi * 100.0**2), rel=1e-3)


def test_grid_is_north_up_with_a_gdal_transform():
    grid = kernel_density([95.0], [95.0], (0, 0, 100, 100), 10.0, 40.0)
    assert grid.transform == (10.0, 0.0, 0.0, 0.0, -10.0, 100.0)
    assert grid.bounds == (0.0, 0.0, 100.0, 100.0)
    row, col = np.unravel_index(grid.values.argmax(), grid.values.shape)
    assert (row, col) == (0, 9)  # the north-east cell


def test_no_points_give_an_empty_grid():
    grid = kernel_density([], [], (0, 0, 100, 50), 10.0, 30.0)
    assert grid.values.shape == (5, 10) and not grid.values.any()


def test_default_bandwidth_follows_the_spatial_silverman_rule():
    # Four points on a circle of radius 100 m: SD = 100, Dm = 100, n = 4.
    x = np.array([100.0, -100.0, 0.0, 0.0])
    y = np.array([0.0, 0.0, 100.0, -100.0])
    expected = 0.9 * min(100.0, np.sqrt(1 / np.log(2)) * 100.0) * 4**-0.2
    assert default_bandwidth(x, y) == pytest.approx(expected)
    assert default_bandwidth([5.0, 5.0], [1.0, 1.0]) == 100.0
    grid = kernel_density(x, y, (-300, -300, 300, 300), 10.0)
    assert grid.bandwidth == pytest.approx(expected)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"x": [1.0, 2.0], "y": [1.0]}, "x"),
        ({"x": [np.nan], "y": [1.0]}, "x"),
        ({"cell_size": 0}, "cell_size"),
        ({"cell_size": "big"}, "cell_size"),
        ({"bandwidth": -5}, "bandwidth"),
        ({"bandwidth": np.inf}, "bandwidth"),
        ({"kernel": "epanechnikov"}, "kernel"),
        ({"extent": (10, 0, 0, 10)}, "extent"),
        ({"extent": (0, 0, 10)}, "extent"),
        ({"weights": [-1.0]}, "weights"),
        ({"weights": [1.0, 2.0]}, "weights"),
        ({"extent": (0, 0, 1e6, 1e6), "cell_size": 1.0}, "cell_size"),
    ],
)
def test_bad_arguments_name_the_field(kwargs, field):
    args = {"x": [1.0], "y": [1.0], "extent": (0, 0, 10, 10), "cell_size": 1.0, "bandwidth": 5.0}
    args.update(kwargs)
    with pytest.raises(DensityError) as excinfo:
        kernel_density(**args)
    assert excinfo.value.field == field


def test_neighbour_counts_count_points_within_the_radius():
    from geo.density import neighbour_counts

    x = np.array([5.0, 15.0, 95.0])
    y = np.array([5.0, 5.0, 95.0])
    counts = neighbour_counts(x, y, (0, 0, 100, 100), 10.0, 10.0, weights=[1, 2, 4])
    assert counts[-1, 0] == 3  # south-west cell: itself (1) and its east neighbour (2)
    assert counts[-1, 2] == 2 and counts[0, 9] == 4 and counts[5, 5] == 0
