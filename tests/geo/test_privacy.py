"""The noise of the public release: OpenDP's discrete Laplace, its cost and its spread."""

import numpy as np
import pytest

from geo.privacy import display_threshold, noise_sd, noisy_counts


def test_noise_has_the_spread_and_cost_of_its_epsilon():
    exact = np.full(20_000, 5, dtype=np.int64)
    table = noisy_counts(exact, epsilon=0.5)
    assert table.values.dtype == np.int64 and table.values.shape == exact.shape
    assert table.scale == 2.0 and table.epsilon == pytest.approx(0.5)
    noise = table.values - exact
    assert abs(noise.mean()) < 0.1  # unbiased
    assert noise.std() == pytest.approx(noise_sd(2.0), rel=0.05)
    assert (noise == 0).mean() == pytest.approx(np.tanh(1 / 4), abs=0.02)  # P(0) = tanh(1/2b)


def test_zeros_are_noised_too_and_the_shape_is_kept():
    table = noisy_counts(np.zeros((40, 2, 3), dtype=np.int64), epsilon=1.0)
    assert table.values.shape == (40, 2, 3) and (table.values != 0).any()


@pytest.mark.parametrize(("counts", "epsilon"), [([1, 2], 0), ([1, 2], -1), ([-1, 2], 1)])
def test_bad_arguments_are_refused(counts, epsilon):
    with pytest.raises(ValueError):
        noisy_counts(np.array(counts), epsilon)


def test_threshold_is_at_least_k_and_grows_with_the_noise():
    assert display_threshold(3, 0.1) == 3
    assert display_threshold(3, 1.0, 1) == 5 < display_threshold(3, 1.0, 10)
