"""ECE/MCE, reliability diagram and temperature scaling."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ftlab.errors import ConfigError, DataError
from ftlab.evaluation import (
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
    maximum_calibration_error,
    negative_log_likelihood,
    reliability_diagram,
)


def _synthetic(conf: np.ndarray, p_correct: np.ndarray, rng: np.random.Generator):
    """Binary predictions with top-label confidence ``conf``, right with prob ``p_correct``."""
    n = len(conf)
    pred = rng.integers(0, 2, n)
    correct = rng.random(n) < p_correct
    labels = np.where(correct, pred, 1 - pred)
    probs = np.empty((n, 2))
    probs[np.arange(n), pred] = conf
    probs[np.arange(n), 1 - pred] = 1 - conf
    return probs, labels


def test_ece_by_hand():
    # two bins hit (10 equal-width bins): confidence 0.85 (1 of 2 right: gap 0.35) and
    # 0.65 (1 of 2 right: gap 0.15) -> ECE = 0.5 * 0.35 + 0.5 * 0.15 = 0.25, MCE = 0.35
    probs = np.array([[0.85, 0.15], [0.85, 0.15], [0.35, 0.65], [0.35, 0.65]])
    labels = np.array([0, 1, 1, 0])
    assert expected_calibration_error(probs, labels, n_bins=10) == pytest.approx(0.25)
    assert maximum_calibration_error(probs, labels, n_bins=10) == pytest.approx(0.35)
    # one bin: mean confidence 0.75, accuracy 0.5 -> ECE 0.25 as well
    assert expected_calibration_error(probs, labels, n_bins=1) == pytest.approx(0.25)


def test_perfectly_calibrated_predictor_has_near_zero_ece():
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.5, 1.0, 20_000)
    probs, labels = _synthetic(conf, conf, rng)
    assert expected_calibration_error(probs, labels) < 0.02
    assert expected_calibration_error(probs, labels, strategy="quantile") < 0.02


def test_over_confident_predictor_has_large_ece():
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.9, 1.0, 20_000)
    probs, labels = _synthetic(conf, np.full_like(conf, 0.6), rng)  # claims 95%, is right 60%
    ece = expected_calibration_error(probs, labels)
    assert ece == pytest.approx(0.35, abs=0.02)
    assert maximum_calibration_error(probs, labels) >= ece


def test_reliability_diagram_parallel_lists_over_non_empty_bins():
    probs = np.array([[0.85, 0.15], [0.85, 0.15], [0.35, 0.65], [0.35, 0.65], [0.02, 0.98]])
    labels = np.array([0, 1, 1, 0, 1])
    rel = reliability_diagram(probs, labels, n_bins=10)
    assert set(rel) == {"bin_lower", "bin_upper", "confidence", "accuracy", "count"}
    assert rel["count"] == [2, 2, 1]  # empty bins are left out
    assert rel["confidence"] == pytest.approx([0.65, 0.85, 0.98])
    assert rel["accuracy"] == pytest.approx([0.5, 0.5, 1.0])
    assert rel["bin_lower"] == pytest.approx([0.6, 0.8, 0.9])
    assert rel["bin_upper"] == pytest.approx([0.7, 0.9, 1.0])


def test_quantile_bins_by_hand():
    # confidences 0.6 0.7 0.8 0.9, right / wrong / right / right. Two equal-mass bins:
    # {0.6, 0.7}: confidence 0.65, accuracy 0.5 -> gap 0.15; {0.8, 0.9}: 0.85 vs 1.0 -> 0.15
    # -> ECE 0.15, while one bin hides it: confidence 0.75 == accuracy 0.75 -> ECE 0
    conf = np.array([0.6, 0.7, 0.8, 0.9])
    probs = np.c_[conf, 1 - conf]
    labels = np.array([0, 1, 0, 0])
    assert expected_calibration_error(probs, labels, n_bins=2, strategy="quantile") == \
        pytest.approx(0.15)
    assert expected_calibration_error(probs, labels, n_bins=1) == pytest.approx(0.0)
    assert maximum_calibration_error(probs, labels, n_bins=2, strategy="quantile") == \
        pytest.approx(0.15)


def _overconfident_model(rng: np.random.Generator, n: int = 4000, sharpen: float = 3.0):
    logits = rng.normal(size=(n, 4)) * 1.5
    true_p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = (rng.random((n, 1)) > true_p.cumsum(1)).sum(1)  # sample from true_p
    shown = np.exp(logits * sharpen)
    return logits * sharpen, shown / shown.sum(1, keepdims=True), labels


def test_temperature_scaling_fixes_over_confidence():
    rng = np.random.default_rng(0)
    logits, probs, labels = _overconfident_model(rng)
    t = fit_temperature(probs, labels)
    assert t > 1.0 and t == pytest.approx(3.0, rel=0.15)  # the sharpening factor comes back
    calibrated = apply_temperature(probs, t)
    assert negative_log_likelihood(calibrated, labels) < negative_log_likelihood(probs, labels) - 0.1
    assert expected_calibration_error(calibrated, labels) < expected_calibration_error(probs, labels)
    # from logits: the same temperature
    assert fit_temperature(logits, labels, from_probs=False) == pytest.approx(t, rel=1e-3)


def test_calibrated_model_keeps_temperature_near_one():
    rng = np.random.default_rng(1)
    _, probs, labels = _overconfident_model(rng, sharpen=1.0)
    assert fit_temperature(probs, labels) == pytest.approx(1.0, abs=0.1)


@given(
    probs=hnp.arrays(np.float64, (6, 3), elements=st.floats(0.01, 1.0)),
    temperature=st.floats(0.1, 10.0),
)
def test_apply_temperature_keeps_argmax_and_normalisation(probs, temperature):
    probs = probs / probs.sum(1, keepdims=True)
    out = apply_temperature(probs, temperature)
    assert np.allclose(out.sum(1), 1.0)
    # arg-max kept (where the top value is unique)
    top2 = np.sort(probs, 1)[:, -2:]
    unique = top2[:, 1] - top2[:, 0] > 1e-9
    assert (out.argmax(1) == probs.argmax(1))[unique].all()
    assert np.allclose(apply_temperature(probs, 1.0), probs)


@given(hnp.arrays(np.float64, (20, 2), elements=st.floats(0.0, 1.0)),
       hnp.arrays(np.int64, 20, elements=st.integers(0, 1)))
def test_ece_mce_lie_in_unit_interval(raw, labels):
    raw = raw + 1e-3
    probs = raw / raw.sum(1, keepdims=True)
    ece = expected_calibration_error(probs, labels)
    assert 0.0 <= ece <= maximum_calibration_error(probs, labels) + 1e-12 <= 1.0 + 1e-12


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "2"])
def test_apply_temperature_rejects_bad_temperature(bad):
    with pytest.raises(ConfigError, match="temperature"):
        apply_temperature(np.array([[0.4, 0.6]]), bad)


def test_bad_bins_and_inputs():
    p, y = np.array([[0.4, 0.6]]), np.array([1])
    with pytest.raises(ConfigError, match="n_bins"):
        expected_calibration_error(p, y, n_bins=0)
    with pytest.raises(ConfigError, match="strategy"):
        expected_calibration_error(p, y, strategy="kmeans")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="outside"):
        fit_temperature(p, np.array([2]))
    with pytest.raises(DataError, match="finite"):
        fit_temperature(np.array([[np.inf, 0.0]]), y, from_probs=False)
