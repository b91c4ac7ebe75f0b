"""Expected validation performance (Dodge et al. 2019) and seed summaries."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ftlab.analysis import evp_curve, expected_max, expected_max_std, seed_summary
from ftlab.errors import ConfigError, DataError

scores = st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=12)


def _by_enumeration(values: list[int], n: int) -> tuple[Fraction, Fraction]:
    """E[max] and E[max^2] over all N^n equally likely draws with replacement, exactly."""
    import itertools

    draws = list(itertools.product(values, repeat=n))
    m1 = Fraction(sum(max(d) for d in draws), len(draws))
    m2 = Fraction(sum(max(d) ** 2 for d in draws), len(draws))
    return m1, m2


def test_golden_values_by_hand():
    # sorted v = 1, 2, 3 and n = 2: weights (1/3)^2, (2/3)^2 - (1/3)^2, 1 - (2/3)^2 = 1/9, 3/9, 5/9
    assert expected_max([3, 1, 2], 2) == pytest.approx(22 / 9, rel=1e-15)
    # E[max^2] = (1 + 3 * 4 + 5 * 9) / 9 = 58/9; variance 58/9 - (22/9)^2 = 38/81
    assert expected_max_std([3, 1, 2], 2) == pytest.approx(math.sqrt(38) / 9, rel=1e-12)
    # n = 3 on 0.6, 0.8: P(max = 0.6) = (1/2)^3 = 1/8
    assert expected_max([0.8, 0.6], 3) == pytest.approx(0.6 / 8 + 0.8 * 7 / 8, rel=1e-15)


@pytest.mark.parametrize("values,n", [([1, 2, 3], 2), ([5, 5, 7, 9], 3), ([2, 9, 4, 4, 1], 2),
                                      ([3], 4)])
def test_matches_exhaustive_enumeration_with_ties(values, n):
    m1, m2 = _by_enumeration(values, n)
    assert expected_max(values, n) == pytest.approx(float(m1), rel=1e-12)
    assert expected_max_std(values, n) == pytest.approx(math.sqrt(float(m2 - m1 * m1)),
                                                        rel=1e-9, abs=1e-12)


def test_curve_and_seed_summary():
    values = [0.81, 0.79, 0.85, 0.80]
    curve = evp_curve(values)
    assert curve.n == (1, 2, 3, 4)
    assert curve.mean[0] == pytest.approx(np.mean(values))
    assert curve.mean[1] == pytest.approx(expected_max(values, 2))
    assert curve.std[3] == pytest.approx(expected_max_std(values, 4))
    assert evp_curve(values, max_n=10).n[-1] == 10
    s = seed_summary(values)
    assert (s.n, s.min, s.max) == (4, 0.79, 0.85)
    assert s.mean == pytest.approx(0.8125)
    assert s.std == pytest.approx(np.std(values, ddof=1))
    assert s.values == tuple(values)  # order kept
    assert s.to_dict()["evp"] == curve.to_dict()
    assert seed_summary([0.7]).std is None


@given(scores)
def test_evp_properties(values):
    curve = evp_curve(values, max_n=len(values) + 5)
    assert curve.mean[0] == pytest.approx(np.mean(values), abs=1e-12)  # EVP(1) = mean
    assert all(b >= a - 1e-12 for a, b in zip(curve.mean, curve.mean[1:]))  # non-decreasing
    assert all(min(values) - 1e-12 <= m <= max(values) + 1e-12 for m in curve.mean)
    assert all(s >= 0 for s in curve.std)
    assert expected_max(values, 10_000) == pytest.approx(max(values), abs=1e-3)  # n -> large
    # order does not matter
    assert expected_max(values[::-1], 3) == pytest.approx(expected_max(values, 3), abs=1e-12)


@pytest.mark.parametrize("bad", [[], [0.8, float("nan")], [[0.8, 0.9]], ["x"]])
def test_bad_values_are_data_errors(bad):
    with pytest.raises(DataError):
        seed_summary(bad)


@pytest.mark.parametrize("n", [0, -1, 1.5, True])
def test_bad_budget_is_a_config_error(n):
    with pytest.raises(ConfigError, match="n \\(runs drawn\\) must be a positive integer"):
        expected_max([0.8, 0.9], n)
