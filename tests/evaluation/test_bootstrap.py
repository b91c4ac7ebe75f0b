"""Percentile bootstrap intervals."""

from __future__ import annotations


import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, recall_score

from ftlab.errors import ConfigError, DataError
from ftlab.evaluation import bootstrap_ci


def _noisy(n: int, seed: int = 0, n_classes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    pred = np.where(rng.random(n) < 0.7, y, rng.integers(0, n_classes, n))
    return y, pred


def test_estimates_match_sklearn_and_intervals_contain_them():
    y, pred = _noisy(500)
    out = bootstrap_ci(y, pred, metrics=("accuracy", "macro_f1", "weighted_f1", "macro_recall"),
                       n_resamples=300)
    assert out["n_resamples"] == 300 and out["confidence"] == 0.95
    assert out["accuracy"]["estimate"] == pytest.approx(accuracy_score(y, pred))
    assert out["macro_f1"]["estimate"] == pytest.approx(f1_score(y, pred, average="macro"))
    assert out["weighted_f1"]["estimate"] == pytest.approx(f1_score(y, pred, average="weighted"))
    assert out["macro_recall"]["estimate"] == pytest.approx(recall_score(y, pred, average="macro"))
    for key in ("accuracy", "macro_f1", "weighted_f1", "macro_recall"):
        ci = out[key]
        assert ci["low"] <= ci["estimate"] <= ci["high"]
        assert ci["low"] < ci["high"]


def test_one_resample_equals_sklearn_on_the_same_indices():
    y, pred = _noisy(200, seed=5)
    out = bootstrap_ci(y, pred, n_resamples=1, seed=7, n_classes=3)
    idx = np.random.default_rng(7).integers(0, 200, size=(1, 200))[0]
    expected = f1_score(y[idx], pred[idx], labels=[0, 1, 2], average="macro", zero_division=0.0)
    assert out["macro_f1"]["low"] == pytest.approx(expected)
    assert out["accuracy"]["high"] == pytest.approx(accuracy_score(y[idx], pred[idx]))


def test_intervals_shrink_with_n():
    small = bootstrap_ci(*_noisy(100), n_resamples=400)
    large = bootstrap_ci(*_noisy(4000), n_resamples=400)
    for key in ("accuracy", "macro_f1"):
        width_small = small[key]["high"] - small[key]["low"]
        width_large = large[key]["high"] - large[key]["low"]
        assert width_large < width_small / 3  # ~ 1/sqrt(40) ~ 1/6.3


def test_deterministic_per_seed():
    y, pred = _noisy(300)
    assert bootstrap_ci(y, pred, seed=3, n_resamples=200) == bootstrap_ci(y, pred, seed=3,
                                                                          n_resamples=200)
    assert bootstrap_ci(y, pred, seed=3, n_resamples=200) != bootstrap_ci(y, pred, seed=4,
                                                                          n_resamples=200)


def test_higher_confidence_gives_wider_interval():
    y, pred = _noisy(300)
    narrow = bootstrap_ci(y, pred, confidence=0.5, n_resamples=300)["accuracy"]
    wide = bootstrap_ci(y, pred, confidence=0.99, n_resamples=300)["accuracy"]
    assert wide["high"] - wide["low"] > narrow["high"] - narrow["low"]


def test_thousand_resamples_of_10k_examples_have_the_normal_width():
    # Speed is measured in bench/, never asserted here; what a test can check is that 1,000
    # resamples of 10k examples give the interval the normal approximation predicts.
    y, pred = _noisy(10_000)
    acc = bootstrap_ci(y, pred, n_resamples=1000)["accuracy"]
    p = float((y == pred).mean())
    half = 1.96 * (p * (1 - p) / len(y)) ** 0.5
    assert acc["low"] < p < acc["high"]
    assert acc["high"] - acc["low"] == pytest.approx(2 * half, rel=0.2)


def test_classes_never_seen_count_in_macro_mean():
    y = np.array([0, 0, 1, 1])
    out = bootstrap_ci(y, y, n_resamples=10, n_classes=3)
    # class 2 never occurs: its F1 is 0 in the macro mean, as in classification_metrics
    assert out["macro_f1"]["estimate"] == pytest.approx(2 / 3)


def test_bad_arguments():
    y, pred = _noisy(20)
    with pytest.raises(ConfigError, match="unknown metrics"):
        bootstrap_ci(y, pred, metrics=("auc",))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="n_resamples"):
        bootstrap_ci(y, pred, n_resamples=0)
    with pytest.raises(ConfigError, match="confidence"):
        bootstrap_ci(y, pred, confidence=95)
    with pytest.raises(DataError, match="same length"):
        bootstrap_ci(y, pred[:-1])
    with pytest.raises(DataError, match="n_classes"):
        bootstrap_ci(y, pred, n_classes=2)
