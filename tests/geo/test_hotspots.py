import warnings

import numpy as np
import pytest

from geo.hexgrid import hex_centres
from geo.hotspots import (
    HotspotError,
    benjamini_hochberg,
    confidence_bins,
    distance_band,
    getis_ord_gi_star,
)


def lattice(side=30, size=100.0, seed=0):
    q, r = np.meshgrid(np.arange(side), np.arange(side))
    cx, cy = hex_centres(q.ravel(), r.ravel(), size)
    xy = np.column_stack([cx, cy])
    rng = np.random.default_rng(seed)
    hot = np.exp(-((cx - cx.mean()) ** 2 + (cy - cy.mean()) ** 2) / (2 * 600.0**2))
    values = rng.poisson(2 + 20 * hot).astype(float)
    return xy, values


@pytest.mark.parametrize("distance", [180.0, 400.0])
def test_z_scores_agree_with_pysal_esda(distance):
    from esda.getisord import G_Local
    from libpysal.weights import DistanceBand

    xy, values = lattice()
    ours = getis_ord_gi_star(values, xy, distance)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = DistanceBand(xy, threshold=distance * (1 + 1e-9), binary=True, silence_warnings=True)
        theirs = G_Local(values, w, transform="B", star=True, permutations=0)
    np.testing.assert_allclose(ours.z, theirs.Zs, rtol=0, atol=1e-9)


def test_a_cluster_of_high_values_is_a_hot_spot():
    xy, values = lattice()
    # Centres are √3 × 100 m apart: 350 m takes in two rings of neighbours.
    result = getis_ord_gi_star(values, xy, 350.0)
    centre = np.argmin(np.hypot(*(xy - xy.mean(axis=0)).T))
    assert result.bins[centre] == 3 and result.z[centre] > 3
    assert (result.bins >= 0).sum() > (result.bins < 0).sum()
    assert result.neighbours[centre] == 19  # itself and two rings of hexagons


def test_binary_weights_include_the_cell_itself():
    xy = np.array([[0.0, 0.0], [100.0, 0.0], [300.0, 0.0]])
    w = distance_band(xy, 100.0).toarray()
    assert w.tolist() == [[1, 1, 0], [1, 1, 0], [0, 0, 1]]


def test_equal_values_give_no_hot_spot():
    xy, _ = lattice(side=5)
    result = getis_ord_gi_star(np.full(len(xy), 4.0), xy, 250.0)
    assert (result.z == 0).all() and (result.bins == 0).all() and (result.p == 1).all()


def test_benjamini_hochberg_matches_the_textbook_example():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(benjamini_hochberg(p), [0.02, 0.04, 0.04, 0.02])
    assert benjamini_hochberg(np.array([])).size == 0


def test_fdr_makes_fewer_cells_significant():
    xy, values = lattice(seed=5)
    raw = getis_ord_gi_star(values, xy, 250.0, fdr=False)
    corrected = getis_ord_gi_star(values, xy, 250.0, fdr=True)
    assert (corrected.bins != 0).sum() <= (raw.bins != 0).sum()
    assert (corrected.q >= corrected.p - 1e-15).all()


def test_confidence_bins_follow_arcgis():
    z = np.array([3.0, -2.0, 1.7, 0.5, -3.5])
    p = np.array([0.005, 0.04, 0.09, 0.6, 0.0004])
    assert confidence_bins(z, p).tolist() == [3, -2, 1, 0, -3]


@pytest.mark.parametrize(
    ("values", "xy", "distance", "field"),
    [
        ([1.0, 2.0], [[0, 0], [1, 1]], 10.0, "values"),
        ([1.0, 2.0, 3.0], [[0, 0], [1, 1]], 10.0, "values"),
        ([1.0, np.nan, 3.0], [[0, 0], [1, 1], [2, 2]], 10.0, "values"),
        ([1.0, 2.0, 3.0], [[0, 0], [1, 1], [2, 2]], -1.0, "distance"),
        ([1.0, 2.0, 3.0], [0, 1, 2], 10.0, "xy"),
    ],
)
def test_bad_arguments_name_the_field(values, xy, distance, field):
    with pytest.raises(HotspotError) as excinfo:
        getis_ord_gi_star(values, xy, distance)
    assert excinfo.value.field == field
