"""One metric definition and one decision rule (issue 18)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import f1_score, precision_recall_fscore_support

from ftlab.errors import ConfigError
from ftlab.evaluation import bootstrap_ci, decide, evaluate_predictions, label_metrics


@given(st.integers(2, 5).flatmap(lambda c: st.tuples(
    st.just(c), st.lists(st.tuples(st.integers(0, c - 1), st.integers(0, c - 1)),
                         min_size=1, max_size=60))))
def test_label_metrics_match_sklearn_with_the_known_label_set(case):
    c, pairs = case
    y = np.array([a for a, _ in pairs])
    p = np.array([b for _, b in pairs])
    m = label_metrics(y, p, n_classes=c, positive=c - 1)
    classes = list(range(c))
    assert m["macro_f1"] == pytest.approx(f1_score(y, p, labels=classes, average="macro",
                                                   zero_division=0))
    present = sorted(set(y.tolist()))
    assert m["macro_f1_present"] == pytest.approx(f1_score(y, p, labels=present,
                                                           average="macro", zero_division=0))
    assert m["absent_classes"] == [k for k in classes if k not in present]
    prec, rec, f1, _ = precision_recall_fscore_support(y, p, labels=classes, zero_division=0)
    assert (m["positive_precision"], m["positive_recall"], m["positive_f1"]) == pytest.approx(
        (prec[-1], rec[-1], f1[-1]))
    # the bootstrap's point estimates are the same numbers
    boot = bootstrap_ci(y, p, metrics=("accuracy", "macro_f1", "macro_f1_present",
                                       "positive_f1"), n_resamples=5, n_classes=c,
                        positive=c - 1, per_class=True)
    for key in ("accuracy", "macro_f1", "macro_f1_present", "positive_f1"):
        assert boot[key]["estimate"] == pytest.approx(m[key])
    assert boot["per_class"][c - 1]["f1"]["estimate"] == pytest.approx(f1[-1])


def test_sklearn_default_macro_differs_and_we_do_not_use_it():
    # class 2 neither in truth nor predicted: sklearn's default drops it, ftlab keeps it as 0
    y, p = np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1])
    ours = label_metrics(y, p, n_classes=3)
    assert f1_score(y, p, average="macro") == pytest.approx(ours["macro_f1_present"])
    assert ours["macro_f1"] == pytest.approx(ours["macro_f1_present"] * 2 / 3)


def test_decide_applies_the_threshold_to_the_positive_class():
    probs = np.array([[0.7, 0.3], [0.45, 0.55], [0.2, 0.8]])
    assert decide(probs).tolist() == [0, 1, 1]
    assert decide(probs, threshold=0.25).tolist() == [1, 1, 1]
    assert decide(probs, threshold=0.6).tolist() == [0, 0, 1]
    # positive = class 0: predict 0 when p(0) >= threshold
    assert decide(probs, threshold=0.4, positive=0).tolist() == [0, 0, 1]
    with pytest.raises(ConfigError, match="binary"):
        decide(np.full((2, 3), 1 / 3), threshold=0.5)


def test_evaluation_uses_the_threshold_everywhere_and_keeps_argmax_beside():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    pos = np.clip(0.35 + 0.3 * y + rng.normal(0, 0.2, 300), 0.01, 0.99)
    probs = np.c_[1 - pos, pos]
    report = evaluate_predictions(labels=y, probs=probs, label_names=["neg", "pos"],
                                  threshold=0.45, threshold_metric="f1", n_bootstrap=50)
    pred = (pos >= 0.45).astype(int)
    expected = label_metrics(y, pred, n_classes=2, positive=1)
    assert report["metrics"]["accuracy"] == pytest.approx(expected["accuracy"])
    assert report["metrics"]["positive_f1"] == pytest.approx(expected["positive_f1"])
    assert report["metrics"]["accuracy"] == pytest.approx(
        report["threshold"]["at_threshold"]["accuracy"])
    counts = np.array(report["confusion"]["counts"])
    assert counts[1, 1] == int(np.sum((pred == 1) & (y == 1)))
    argmax = label_metrics(y, probs.argmax(1), n_classes=2, positive=1)
    assert report["argmax"]["accuracy"] == pytest.approx(argmax["accuracy"])
    assert report["argmax"]["accuracy"] != report["metrics"]["accuracy"]
    assert report["decision_rule"]["kind"] == "threshold"
    assert "threshold 0.450 on p('pos')" in report["decision_rule"]["rule"]
    assert report["bootstrap"]["positive_f1"]["estimate"] == pytest.approx(
        expected["positive_f1"])
    assert set(report["bootstrap"]["per_class"]) == {"neg", "pos"}
    ci = report["bootstrap"]["per_class"]["pos"]["recall"]
    assert ci["low"] <= ci["estimate"] <= ci["high"]


def test_positive_class_other_than_index_1():
    y = np.array([0, 0, 0, 1, 1, 1, 1, 1, 1, 1])
    probs = np.array([[0.9, 0.1]] * 2 + [[0.3, 0.7]] + [[0.2, 0.8]] * 7)
    report = evaluate_predictions(labels=y, probs=probs, label_names=["rare", "common"],
                                  positive=0, positive_source="minority class of train",
                                  n_bootstrap=20)
    assert report["classes"]["positive"] == "rare"
    assert report["metrics"]["positive_recall"] == pytest.approx(2 / 3)
    assert report["metrics"]["positive_precision"] == pytest.approx(1.0)
    assert list(report["roc_auc"]["per_class"]) == ["rare"]


def test_positive_class_defaults_to_the_minority_of_train():
    from ftlab.runs import positive_class

    assert positive_class(["a", "b"], [0, 0, 1]) == (1, positive_class(["a", "b"], [0, 0, 1])[1])
    index, why = positive_class(["a", "b"], [0, 1, 1])
    assert index == 0 and "minority class of train" in why
    assert positive_class(["a", "b"], [0, 1, 1], configured="b")[0] == 1
    with pytest.raises(ConfigError, match="positive_label 'z'"):
        positive_class(["a", "b"], [0, 1], configured="z")
    # a calibrated threshold fixes the class it was tuned for (old records: label_names[1])
    assert positive_class(["a", "b"], [0, 1, 1], calibration={"threshold": 0.4})[0] == 1
    assert positive_class(["a", "b"], [0, 0, 1],
                          calibration={"threshold": 0.4, "positive": "a"})[0] == 0
    assert positive_class(["a", "b", "c"], [0, 1]) == (None, "")
