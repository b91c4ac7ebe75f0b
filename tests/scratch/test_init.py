"""The two initializations: bounds, seeding and the variance their docstrings state."""

from __future__ import annotations

import numpy as np
import pytest

from ftlab.scratch import uniform_inv_sqrt, xavier_uniform

FAN_IN, FAN_OUT = 400, 600  # 240,000 draws: the sample variance is within ~0.2% of the truth


def test_xavier_uniform_variance_is_2_over_fan_in_plus_fan_out():
    W = xavier_uniform(FAN_IN, FAN_OUT, np.random.default_rng(0))
    assert W.shape == (FAN_IN, FAN_OUT)
    assert np.abs(W).max() <= np.sqrt(6 / (FAN_IN + FAN_OUT))
    assert W.var() == pytest.approx(2 / (FAN_IN + FAN_OUT), rel=0.02)
    assert abs(W.mean()) < 1e-3


def test_uniform_inv_sqrt_variance_is_1_over_3n():
    W = uniform_inv_sqrt(FAN_IN, FAN_OUT, np.random.default_rng(0))
    assert W.shape == (FAN_IN, FAN_OUT)
    assert np.abs(W).max() <= 1 / np.sqrt(FAN_IN)
    assert W.var() == pytest.approx(1 / (3 * FAN_IN), rel=0.02)


def test_same_seed_same_weights():
    for init in (xavier_uniform, uniform_inv_sqrt):
        a = init(3, 4, np.random.default_rng(5))
        np.testing.assert_array_equal(a, init(3, 4, np.random.default_rng(5)))
        assert not np.array_equal(a, init(3, 4, np.random.default_rng(6)))


@pytest.mark.parametrize("init", [xavier_uniform, uniform_inv_sqrt])
def test_non_positive_fans_are_refused(init):
    with pytest.raises(ValueError, match="fan_in=0"):
        init(0, 3, np.random.default_rng(0))
