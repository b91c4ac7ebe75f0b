"""classification_metrics and majority_baseline: golden values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ftlab.errors import DataError
from ftlab.evaluation import MAX_CURVE_POINTS, classification_metrics, majority_baseline

# Imbalanced toy set, 3 classes, supports 6 / 3 / 1:
#   true: 0 0 0 0 0 0 | 1 1 1 | 2
#   pred: 0 0 0 0 0 1 | 1 1 0 | 0
# TP = (5, 2, 0); predicted counts = (7, 3, 0)
#   class 0: P = 5/7, R = 5/6, F1 = 2*5 / (7 + 6) = 10/13
#   class 1: P = 2/3, R = 2/3, F1 = 2*2 / (3 + 3) = 2/3
#   class 2: P = 0 (never predicted), R = 0, F1 = 0
# accuracy = micro F1 = 7/10
# macro F1    = (10/13 + 2/3 + 0) / 3 = 56/117
# weighted F1 = (6 * 10/13 + 3 * 2/3 + 1 * 0) / 10 = 86/130
# macro P = (5/7 + 2/3) / 3, macro R = (5/6 + 2/3) / 3 = 1/2
# probabilities: 0.7 on the predicted class, 0.15 on each other class, so
# log loss = -(7 ln 0.7 + 3 ln 0.15) / 10
Y = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 2])
PRED = np.array([0, 0, 0, 0, 0, 1, 1, 1, 0, 0])
NAMES = ["a", "b", "c"]


def _probs(pred: np.ndarray, n_classes: int = 3, top: float = 0.7) -> np.ndarray:
    p = np.full((len(pred), n_classes), (1 - top) / (n_classes - 1))
    p[np.arange(len(pred)), pred] = top
    return p


def test_golden_accuracy_prf_and_averages():
    out = classification_metrics(Y, _probs(PRED), label_names=NAMES)
    m = out["metrics"]
    assert m["accuracy"] == pytest.approx(0.7)
    assert m["micro_f1"] == pytest.approx(0.7)
    assert m["macro_f1"] == pytest.approx(56 / 117)
    assert m["weighted_f1"] == pytest.approx(86 / 130)
    assert m["macro_precision"] == pytest.approx((5 / 7 + 2 / 3) / 3)
    assert m["macro_recall"] == pytest.approx(0.5)
    pc = out["per_class"]
    assert pc["a"] == pytest.approx({"precision": 5 / 7, "recall": 5 / 6, "f1": 10 / 13, "support": 6})
    assert pc["b"] == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "support": 3})
    assert pc["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert out["averages"]["macro"]["f1"] == pytest.approx(56 / 117)
    assert out["averages"]["weighted"]["f1"] == pytest.approx(86 / 130)
    assert out["averages"]["micro"]["precision"] == pytest.approx(0.7)
    # the class that is never recalled is flagged
    assert any("recall of class 'c' is 0" in w for w in out["warnings"])


def test_golden_log_loss():
    out = classification_metrics(Y, _probs(PRED), label_names=NAMES)
    expected = -(7 * math.log(0.7) + 3 * math.log(0.15)) / 10
    assert out["metrics"]["log_loss"] == pytest.approx(expected)


def test_confusion_counts_and_row_normalisation():
    conf = classification_metrics(Y, _probs(PRED), label_names=NAMES)["confusion"]
    assert conf["labels"] == NAMES
    assert conf["counts"] == [[5, 1, 0], [1, 2, 0], [1, 0, 0]]  # rows = true, columns = predicted
    assert np.allclose(conf["normalized"], [[5 / 6, 1 / 6, 0], [1 / 3, 2 / 3, 0], [1, 0, 0]])


def test_binary_roc_and_pr_auc_by_hand():
    # positives score 0.35 and 0.8, negatives 0.1 and 0.4: 3 of 4 (pos, neg) pairs are ordered
    # right -> ROC AUC 0.75. Ranked: 0.8 (pos: P 1, R 1/2), 0.4 (neg), 0.35 (pos: P 2/3, R 1)
    # -> average precision = 1/2 * 1 + 1/2 * 2/3 = 5/6.
    y = np.array([0, 0, 1, 1])
    pos = np.array([0.1, 0.4, 0.35, 0.8])
    out = classification_metrics(y, np.c_[1 - pos, pos], label_names=["neg", "pos"])
    assert out["roc_auc"] == {"macro": pytest.approx(0.75), "per_class": {"pos": pytest.approx(0.75)}}
    assert out["pr_auc"]["per_class"]["pos"] == pytest.approx(5 / 6)
    assert out["metrics"]["roc_auc"] == pytest.approx(0.75)
    assert list(out["curves"]["roc"]) == ["pos"]
    roc = out["curves"]["roc"]["pos"]
    assert roc["fpr"][0] == 0.0 and roc["fpr"][-1] == 1.0 and roc["tpr"][-1] == 1.0


def test_multiclass_roc_with_missing_class_averages_present_classes_with_note():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 50)  # class 2 never occurs
    p = rng.dirichlet([1, 1, 1], size=50)
    out = classification_metrics(y, p, label_names=NAMES)
    assert out["roc_auc"]["per_class"]["c"] is None
    assert out["pr_auc"]["per_class"]["c"] is None
    assert out["roc_auc"]["per_class"]["a"] is not None
    # the macro mean runs over the classes whose AUC is defined, and says so
    defined = [out["roc_auc"]["per_class"][k] for k in ("a", "b")]
    assert out["roc_auc"]["macro"] == pytest.approx(np.mean(defined))
    assert out["metrics"]["roc_auc"] == out["roc_auc"]["macro"]
    assert any("macro ROC AUC averages over the 2 of 3" in w for w in out["warnings"])
    # macro-F1 both ways: over the 3 known classes, and over the 2 present
    assert out["metrics"]["macro_f1"] == pytest.approx(
        np.mean([out["per_class"][k]["f1"] for k in NAMES]))
    assert out["metrics"]["macro_f1_present"] == pytest.approx(
        np.mean([out["per_class"][k]["f1"] for k in ("a", "b")]))
    assert out["classes"]["absent"] == ["c"]
    assert any("macro_f1_present averages over the 2 classes present" in w
               for w in out["warnings"])
    assert "c" not in out["curves"]["roc"]
    assert any("class 'c' are undefined" in w for w in out["warnings"])
    assert out["confusion"]["normalized"][2] == [0.0, 0.0, 0.0]  # absent class: zero row, no NaN


def test_curves_are_downsampled():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 5000)
    pos = np.clip(0.5 * y + rng.random(5000) * 0.6, 0, 1)
    out = classification_metrics(y, np.c_[1 - pos, pos], label_names=["n", "p"])
    for curve in (out["curves"]["roc"]["p"], out["curves"]["pr"]["p"]):
        a, b = curve.values()
        assert 2 <= len(a) == len(b) <= MAX_CURVE_POINTS
    roc = out["curves"]["roc"]["p"]
    assert roc["fpr"][0] == 0.0 and roc["fpr"][-1] == 1.0  # ends kept


@pytest.mark.parametrize(
    ("labels", "probs", "match"),
    [
        ([0, 1], [[2.0, -1.0], [0.3, 0.7]], "negative|sum to 1"),  # logits, not probabilities
        ([0, 3], [[0.5, 0.5], [0.3, 0.7]], "outside"),
        ([0], [[0.5, 0.5], [0.3, 0.7]], "shape"),
        ([0, 1], [[0.5, float("nan")], [0.3, 0.7]], "non-finite"),
        ([], np.zeros((0, 2)), "no examples"),
    ],
)
def test_bad_inputs_raise_data_error(labels, probs, match):
    with pytest.raises(DataError, match=match):
        classification_metrics(np.asarray(labels), np.asarray(probs), label_names=["x", "y"])


def test_label_names_must_match_columns():
    with pytest.raises(DataError, match="3 label names"):
        classification_metrics([0, 1], [[0.5, 0.5], [0.3, 0.7]], label_names=NAMES)


def test_majority_baseline_uses_train_labels():
    # train majority is class 1 although the evaluated split is mostly class 0
    out = majority_baseline(Y, NAMES, train_labels=[1, 1, 1, 0])
    assert out["label"] == "b" and out["source"] == "train"
    assert out["accuracy"] == pytest.approx(0.3)
    # F1 of "b" = 2*3 / (10 + 3) = 6/13, other classes 0
    assert out["macro_f1"] == pytest.approx(6 / 13 / 3)
    own = majority_baseline(Y, NAMES)
    assert own == {"label": "a", "accuracy": pytest.approx(0.6),
                   "macro_f1": pytest.approx(2 * 6 / 16 / 3), "source": "evaluated"}
