"""Paired significance tests (bootstrap, McNemar, permutation) and seed-group comparisons."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import f1_score

from ftlab.analysis import (
    TESTS,
    compare_groups,
    compare_predictions,
    format_p,
    mcnemar_test,
)
from ftlab.errors import ConfigError, DataError


def _pair(a_only: int, b_only: int, both: int = 10, neither: int = 3):
    """Labels and predictions with exactly the given paired-correctness counts (3 classes)."""
    n = a_only + b_only + both + neither
    y = np.arange(n) % 3
    wrong = (y + 1) % 3
    pa = np.concatenate([y[:a_only], wrong[a_only:a_only + b_only],
                         y[a_only + b_only:a_only + b_only + both], wrong[n - neither:]])
    pb = np.concatenate([wrong[:a_only], y[a_only:a_only + b_only],
                         y[a_only + b_only:a_only + b_only + both], wrong[n - neither:]])
    return y, pa, pb


def _noisy(n: int, acc: float, seed: int, y: np.ndarray | None = None):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n) if y is None else y
    return y, np.where(rng.random(n) < acc, y, (y + 1 + rng.integers(0, 2, n)) % 3)


@pytest.mark.parametrize("test", TESTS)
def test_identical_predictions_mean_no_difference(test):
    y, pa = _noisy(300, 0.7, seed=1)
    r = compare_predictions(y, pa, pa.copy(), test=test, n_resamples=2000)
    assert r.identical and not r.significant
    for m in r.metrics.values():
        assert (m.difference, m.low, m.high, m.p_value) == (0.0, 0.0, 0.0, 1.0)
    assert r.verdict().startswith("no difference between A and B on accuracy: +0.0 points "
                                  "[0.0, 0.0], p = 1.000")


@pytest.mark.parametrize("test", TESTS)
def test_clearly_better_predictions_have_tiny_p(test):
    y, pa = _noisy(400, 0.6, seed=2)
    _, pb = _noisy(400, 0.95, seed=3, y=y)
    r = compare_predictions(y, pa, pb, test=test, n_resamples=2000, n_classes=3)
    acc = r.accuracy
    assert acc.p_value < 0.001 and r.significant
    assert acc.difference == pytest.approx((pb == y).mean() - (pa == y).mean())
    assert 0 < acc.low < acc.difference < acc.high
    assert re.fullmatch(r"B is better than A on accuracy: \+\d+\.\d points \[\d+\.\d, \d+\.\d\], "
                        r"p < 0\.001 \(.+\)", r.verdict())
    worse = compare_predictions(y, pb, pa, test=test, n_resamples=2000, n_classes=3)
    assert worse.verdict().startswith("B is worse than A on accuracy: -")


def test_no_significant_difference_wording_and_p_one_at_zero_difference():
    y, pa, pb = _pair(a_only=10, b_only=10)  # different predictions, same accuracy
    r = compare_predictions(y, pa, pb, n_resamples=1000)
    assert not r.identical and r.accuracy.difference == 0.0 and r.accuracy.p_value == 1.0
    assert r.verdict().startswith("no significant difference between A and B on accuracy")


def test_mcnemar_exact_binomial_golden_values():
    y, pa, pb = _pair(a_only=1, b_only=6)
    res = mcnemar_test(pa == y, pb == y)
    # two-sided binomial, 7 trials, p = 1/2: P(X in {0, 1, 6, 7}) = (1 + 7 + 7 + 1) / 2^7
    assert (res.a_only, res.b_only, res.method, res.statistic) == (1, 6, "exact", None)
    assert res.p_value == pytest.approx(16 / 128, rel=1e-12)
    assert mcnemar_test([1, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0]).p_value == pytest.approx(2 / 32)
    r = compare_predictions(y, pa, pb, test="mcnemar", n_resamples=500)
    assert r.accuracy.p_value == pytest.approx(0.125, rel=1e-12)
    assert r.details["discordant"] == 7 and list(r.metrics) == ["accuracy"]
    assert "McNemar, exact binomial, 7 discordant examples" in r.verdict()


def test_mcnemar_chi_square_with_continuity_correction_golden_values():
    y, pa, pb = _pair(a_only=10, b_only=30)
    res = mcnemar_test(pa == y, pb == y)
    statistic = (abs(10 - 30) - 1) ** 2 / 40  # 9.025
    assert res.method == "chi2" and res.statistic == pytest.approx(statistic, rel=1e-12)
    # chi-square survival with 1 degree of freedom: erfc(sqrt(x / 2))
    assert res.p_value == pytest.approx(math.erfc(math.sqrt(statistic / 2)), rel=1e-9)
    equal = mcnemar_test(*(lambda y, a, b: (a == y, b == y))(*_pair(20, 20)))
    assert (equal.statistic, equal.p_value) == (0.0, 1.0)  # correction floored at 0


def test_mcnemar_switches_to_chi_square_at_25_discordant_and_can_be_forced():
    y, pa, pb = _pair(a_only=10, b_only=14)
    assert mcnemar_test(pa == y, pb == y).method == "exact"
    y, pa, pb = _pair(a_only=10, b_only=15)
    assert mcnemar_test(pa == y, pb == y).method == "chi2"
    assert mcnemar_test(pa == y, pb == y, exact=True).method == "exact"
    assert mcnemar_test([True, False], [True, False]).p_value == 1.0  # no discordant pair


def test_permutation_test_approaches_the_exact_sign_test():
    # swapping predictions only matters on the 7 discordant examples: the exact permutation
    # distribution of the accuracy difference is the sign test, p = 16/128
    y, pa, pb = _pair(a_only=1, b_only=6)
    r = compare_predictions(y, pa, pb, test="permutation", n_resamples=10_000, seed=3)
    assert r.accuracy.p_value == pytest.approx(0.125, abs=0.015)


def test_macro_f1_matches_sklearn_with_absent_classes():
    y = np.array([0, 0, 1, 1, 2, 2, 0, 1])
    pa = np.array([0, 0, 1, 0, 0, 0, 0, 1])  # class 2 never predicted
    pb = np.array([0, 1, 1, 1, 2, 0, 0, 1])
    r = compare_predictions(y, pa, pb, n_resamples=200, n_classes=4)  # class 3 absent everywhere
    ref = {k: f1_score(y, p, labels=range(4), average="macro", zero_division=0)
           for k, p in (("a", pa), ("b", pb))}
    assert r.metrics["macro_f1"].a == pytest.approx(ref["a"])
    assert r.metrics["macro_f1"].b == pytest.approx(ref["b"])


def test_same_seed_same_result_and_json_ready():
    y, pa = _noisy(200, 0.7, seed=4)
    _, pb = _noisy(200, 0.75, seed=5, y=y)
    first = compare_predictions(y, pa, pb, n_resamples=500, seed=9).to_dict()
    assert first == compare_predictions(y, pa, pb, n_resamples=500, seed=9).to_dict()
    assert set(first["verdicts"]) == {"accuracy", "macro_f1"}


def test_bad_inputs_say_what_to_fix():
    with pytest.raises(ConfigError, match="paired-bootstrap, mcnemar, permutation"):
        compare_predictions([0, 1], [0, 1], [0, 1], test="t-test")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="same length"):
        compare_predictions([0, 1], [0, 1], [0])
    with pytest.raises(ConfigError, match="n_resamples"):
        compare_predictions([0, 1], [0, 1], [0, 1], n_resamples=0)
    with pytest.raises(DataError, match="n_classes 2"):
        compare_predictions([0, 1], [0, 2], [0, 1], n_classes=2)
    assert format_p(0.0004) == "p < 0.001" and format_p(0.0312) == "p = 0.031"


paired = st.integers(5, 60).flatmap(lambda n: st.tuples(
    *(st.lists(st.integers(0, 2), min_size=n, max_size=n) for _ in range(3))))


@given(paired, st.sampled_from(TESTS))
def test_p_values_in_unit_interval_and_swapping_flips_the_sign(data, test):
    y, pa, pb = (np.array(x) for x in data)
    ab = compare_predictions(y, pa, pb, test=test, n_resamples=200, seed=1, n_classes=3)
    ba = compare_predictions(y, pb, pa, test=test, n_resamples=200, seed=1, n_classes=3)
    for m, d in ab.metrics.items():
        e = ba.metrics[m]
        assert 0.0 < d.p_value <= 1.0
        assert d.low <= d.high
        assert e.difference == pytest.approx(-d.difference, abs=1e-12)
        assert (e.low, e.high) == pytest.approx((-d.high, -d.low), abs=1e-9)
        assert e.p_value == pytest.approx(d.p_value, abs=1e-12)


# ---- groups of seeds


def test_welch_t_test_matches_a_hand_computation():
    a, b = [0.01, 0.02, 0.03], [0.04, 0.06, 0.08]
    r = compare_groups(a, b, n_resamples=1000)
    # means 0.02 and 0.06, variances 1e-4 and 4e-4: se^2 = (1 + 4) / 3 * 1e-4
    se2 = 5 / 3 * 1e-4
    assert r.difference == pytest.approx(0.04)
    assert r.welch["statistic"] == pytest.approx(0.04 / math.sqrt(se2))
    df = se2 ** 2 / ((1e-4 / 3) ** 2 / 2 + (4e-4 / 3) ** 2 / 2)  # Welch-Satterthwaite: 50/17
    assert r.welch["df"] == pytest.approx(df) == pytest.approx(50 / 17)
    assert r.welch["low"] < 0.04 < r.welch["high"]
    assert r.a.std == pytest.approx(0.01) and r.b.std == pytest.approx(0.02)


def test_clear_group_difference_is_significant_and_beyond_noise():
    r = compare_groups([0.80, 0.81, 0.79, 0.80, 0.81], [0.86, 0.87, 0.85, 0.86, 0.88])
    assert r.significant and not r.within_seed_noise
    assert r.welch["p_value"] < 0.001 and r.bootstrap["p_value"] < 0.01
    assert r.verdict().startswith("B is better than A across seeds on accuracy: +6.2 points [")


def test_overlapping_groups_are_within_seed_noise():
    r = compare_groups([0.80, 0.83, 0.78, 0.82], [0.81, 0.79, 0.84, 0.80])
    assert not r.significant and r.within_seed_noise
    assert r.verdict().startswith("no significant difference between A and B across seeds")
    assert "within seed noise" in r.verdict()
    assert r.bootstrap["low"] < 0 < r.bootstrap["high"]


def test_significant_yet_within_seed_noise_is_said_plainly():
    rng = np.random.default_rng(0)
    a = 0.80 + 0.01 * rng.standard_normal(200)
    b = 0.806 + 0.01 * rng.standard_normal(200)
    r = compare_groups(a, b)
    assert r.significant and r.within_seed_noise
    assert "but the difference is within seed noise" in r.verdict()


def test_degenerate_groups():
    same = compare_groups([0.8, 0.8], [0.8, 0.8])
    assert same.welch["p_value"] == 1.0 and not same.significant and same.notes
    apart = compare_groups([0.8, 0.8], [0.9, 0.9])
    assert apart.welch["p_value"] == 0.0 and apart.significant
    with pytest.raises(DataError, match="at least 2 runs per group"):
        compare_groups([0.8], [0.8, 0.9])


accuracies = st.lists(st.integers(0, 1000).map(lambda k: k / 1000), min_size=2, max_size=8)


@given(accuracies, accuracies)
def test_group_p_values_in_unit_interval_and_swap_symmetry(a, b):
    ab = compare_groups(a, b, n_resamples=200)
    ba = compare_groups(b, a, n_resamples=200)
    assert 0.0 <= ab.welch["p_value"] <= 1.0 and 0.0 < ab.bootstrap["p_value"] <= 1.0
    assert ba.difference == pytest.approx(-ab.difference, abs=1e-12)
    assert ba.welch["p_value"] == pytest.approx(ab.welch["p_value"], abs=1e-9)
