"""Decision-threshold tuning and the threshold summary."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ftlab.errors import ConfigError, DataError
from ftlab.evaluation import threshold_summary, tune_threshold

# scores sorted: 0.1(-) 0.2(-) 0.4(+) 0.45(-) 0.7(+) 0.9(+)
#   predict >= 0.3  : TP 3, FP 1, FN 0 -> F1 6/7, accuracy 5/6   (best F1)
#   predict >= 0.575: TP 2, FP 0, FN 1 -> F1 4/5, accuracy 5/6
#   predict >= 0.15 : TP 3, FP 2       -> F1 3/4, accuracy 4/6
Y = np.array([0, 0, 0, 1, 1, 1])
S = np.array([0.1, 0.2, 0.45, 0.4, 0.7, 0.9])


def test_finds_known_f1_optimum():
    t, score = tune_threshold(Y, S, metric="f1")
    assert t == pytest.approx(0.3)  # midpoint between 0.2 and 0.4
    assert score == pytest.approx(6 / 7)


def test_ties_go_to_the_threshold_closest_to_half():
    t, score = tune_threshold(Y, S, metric="accuracy")
    assert score == pytest.approx(5 / 6)
    assert t == pytest.approx(0.575)  # 0.575 and 0.3 tie; 0.575 is closer to 0.5


def test_accepts_probability_matrix_and_balanced_accuracy():
    t, score = tune_threshold(Y, np.c_[1 - S, S], metric="balanced_accuracy")
    assert score == pytest.approx(5 / 6)  # (1 + 2/3) / 2 or (2/3 + 1) / 2
    assert 0.2 < t < 0.7


def _brute_force(y: np.ndarray, s: np.ndarray) -> float:
    best = 0.0
    for t in np.r_[np.unique(s), 2.0]:
        pred = s >= t
        tp = np.sum(pred & (y == 1))
        denom = 2 * tp + np.sum(pred & (y == 0)) + np.sum(~pred & (y == 1))
        best = max(best, 2 * tp / denom if denom else 0.0)
    return best


@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 20)), min_size=2, max_size=40))
def test_matches_brute_force_and_threshold_realises_score(pairs):
    y = np.array([a for a, _ in pairs])
    s = np.array([b / 20 for _, b in pairs])  # coarse grid: many ties
    if y.min() == y.max():
        with pytest.raises(DataError, match="both classes"):
            tune_threshold(y, s)
        return
    t, score = tune_threshold(y, s, metric="f1")
    assert score == pytest.approx(_brute_force(y, s))
    pred = s >= t
    tp = np.sum(pred & (y == 1))
    realised = 2 * tp / (2 * tp + np.sum(pred & (y == 0)) + np.sum(~pred & (y == 1)))
    assert realised == pytest.approx(score)


def test_tune_threshold_rejects_bad_input():
    with pytest.raises(ConfigError, match="metric"):
        tune_threshold(Y, S, metric="auc")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="binary"):
        tune_threshold(np.array([0, 2]), np.array([0.1, 0.2]))
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        tune_threshold(Y, S * 3)


def test_summary_puts_tuned_threshold_next_to_half():
    out = threshold_summary(Y, np.c_[1 - S, S], 0.3, ["neg", "pos"], metric="f1")
    assert out["metric"] == "f1" and out["threshold"] == 0.3
    assert out["at_threshold"] == pytest.approx(
        {"accuracy": 5 / 6, "precision": 3 / 4, "recall": 1.0, "f1": 6 / 7})
    # at 0.5: 0.7 and 0.9 positive -> TP 2, FP 0, FN 1
    assert out["at_0.5"] == pytest.approx({"accuracy": 5 / 6, "precision": 1.0, "recall": 2 / 3,
                                           "f1": 4 / 5})
    assert out["warnings"] == []


def test_summary_warns_when_a_class_recall_is_zero():
    out = threshold_summary(Y, S, 0.95, ["neg", "pos"])
    assert any("recall of class 'pos' is 0 at threshold 0.95" in w for w in out["warnings"])
    assert not any("at threshold 0.5" in w for w in out["warnings"])
    low = threshold_summary(Y, S, 0.0, ["neg", "pos"])
    assert any("recall of class 'neg' is 0 at threshold 0" in w for w in low["warnings"])


def test_summary_rejects_multiclass_and_bad_threshold():
    with pytest.raises(ConfigError, match="binary"):
        threshold_summary(Y, S, 0.5, ["a", "b", "c"])
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        threshold_summary(Y, S, 1.5, ["neg", "pos"])
