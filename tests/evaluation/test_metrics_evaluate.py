"""evaluate_predictions (the full report), check_labels_known and the report conformance check."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from ftlab.data import Example
from ftlab.errors import ConfigError, DataError
from ftlab.evaluation import REPORT_KEYS, check_labels_known, evaluate_predictions
from ftlab.testing import check_evaluation_report


def _task(n: int, n_classes: int, seed: int = 0, sharpen: float = 2.0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, n_classes)) * 2
    true_p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = (rng.random((n, 1)) > true_p.cumsum(1)).sum(1)
    shown = np.exp(logits * sharpen)  # over-confident model
    probs = shown / shown.sum(1, keepdims=True)
    examples = [Example(id=f"x{i}", text="w " * int(rng.integers(1, 80)), label=None,
                        meta={"source": ["web", "news"][i % 2]}) for i in range(n)]
    return labels, probs, examples


CASES = {
    "binary-full": dict(n_classes=2, examples=True, temperature=1.7, threshold=0.4),
    "binary-bare": dict(n_classes=2, examples=False, temperature=None, threshold=None),
    "multiclass": dict(n_classes=4, examples=True, temperature=None, threshold=None),
}


@pytest.mark.parametrize("case", list(CASES))
def test_report_is_strict_json_and_conforms(case):
    spec = CASES[case]
    labels, probs, examples = _task(300, spec["n_classes"])
    names = [f"c{i}" for i in range(spec["n_classes"])]
    report = evaluate_predictions(
        labels=labels, probs=probs, label_names=names,
        examples=examples if spec["examples"] else None, train_labels=list(labels[:100]),
        temperature=spec["temperature"], threshold=spec["threshold"], n_bootstrap=200,
        slice_columns=("source",) if spec["examples"] else (), split="test")
    assert tuple(report) == REPORT_KEYS
    check_evaluation_report(report)
    again = json.loads(json.dumps(report, allow_nan=False))
    assert again == report
    assert report["split"] == "test" and report["n"] == 300 and report["label_names"] == names
    assert report["baselines"]["majority"]["source"] == "train"
    assert report["baselines"]["tfidf_lr"] is None
    assert (report["errors"] is None) == (not spec["examples"])
    if spec["examples"]:
        assert {"length", "label", "source"} <= set(report["slices"])


def test_temperature_fills_before_after_and_drives_metrics():
    labels, probs, _ = _task(2000, 3, sharpen=3.0)
    report = evaluate_predictions(labels=labels, probs=probs, label_names=["a", "b", "c"],
                                  temperature=3.0, n_bootstrap=0)
    cal = report["calibration"]
    assert cal["temperature"] == 3.0
    assert cal["nll_after"] < cal["nll_before"] and cal["ece_after"] < cal["ece_before"]
    assert cal["ece_after"] == report["metrics"]["ece"] == cal["ece"]
    assert report["metrics"]["log_loss"] == pytest.approx(cal["nll_after"])
    assert report["bootstrap"] is None
    plain = evaluate_predictions(labels=labels, probs=probs, label_names=["a", "b", "c"],
                                 n_bootstrap=0)
    assert plain["calibration"]["temperature"] is None and plain["calibration"]["nll_before"] is None
    # temperature never changes arg-max predictions
    assert plain["metrics"]["accuracy"] == report["metrics"]["accuracy"]


def test_threshold_section_and_warnings():
    labels, probs, _ = _task(300, 2)
    report = evaluate_predictions(labels=labels, probs=probs, label_names=["neg", "pos"],
                                  threshold=0.999, threshold_metric="f1", n_bootstrap=50)
    thr = report["threshold"]
    assert thr["metric"] == "f1" and thr["threshold"] == 0.999
    assert set(thr["at_0.5"]) == {"accuracy", "precision", "recall", "f1"}
    assert thr["at_threshold"]["recall"] < thr["at_0.5"]["recall"]


def test_multiclass_threshold_is_rejected():
    labels, probs, _ = _task(50, 3)
    with pytest.raises(ConfigError, match="binary"):
        evaluate_predictions(labels=labels, probs=probs, label_names=["a", "b", "c"],
                             threshold=0.5)


def test_missing_class_gives_null_class_auc_present_macro_and_warning_not_crash():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)  # class "c" absent from the split
    probs = rng.dirichlet([2, 2, 1], 200)
    report = evaluate_predictions(labels=labels, probs=probs, label_names=["a", "b", "c"],
                                  n_bootstrap=50)
    check_evaluation_report(report)
    assert report["roc_auc"]["per_class"]["c"] is None
    assert report["metrics"]["roc_auc"] == pytest.approx(
        (report["roc_auc"]["per_class"]["a"] + report["roc_auc"]["per_class"]["b"]) / 2)
    assert report["classes"]["absent"] == ["c"]
    assert report["metrics"]["macro_f1_present"] > report["metrics"]["macro_f1"]
    assert any("'c'" in w and "undefined" in w for w in report["warnings"])


def test_warns_when_not_better_than_majority_and_on_small_n():
    labels = np.array([0] * 40 + [1] * 10)
    probs = np.tile([0.3, 0.7], (50, 1))  # always predicts the minority class
    report = evaluate_predictions(labels=labels, probs=probs, label_names=["a", "b"],
                                  train_labels=[0, 0, 1], n_bootstrap=20)
    text = " ".join(report["warnings"])
    assert "majority baseline" in text and "only 50 examples" in text
    assert "recall of class 'a' is 0" in text


def test_misaligned_examples_and_bad_probs_raise():
    labels, probs, examples = _task(20, 2)
    with pytest.raises(DataError, match="19 examples but 20"):
        evaluate_predictions(labels=labels, probs=probs, label_names=["a", "b"],
                             examples=examples[:-1])
    with pytest.raises(DataError, match="sum to 1"):
        evaluate_predictions(labels=labels, probs=probs * 2, label_names=["a", "b"])


def test_check_labels_known_names_labels_source_and_known():
    check_labels_known(["fresh", "rotten", None], ["fresh", "rotten"], source="test.csv")
    with pytest.raises(DataError) as info:
        check_labels_known(["fresh", "meh", "awful", "fresh"], ["fresh", "rotten"],
                           source="data/new.csv")
    msg = str(info.value)
    assert "data/new.csv" in msg and "['awful', 'meh']" in msg and "['fresh', 'rotten']" in msg


def test_conformance_check_catches_broken_reports():
    labels, probs, examples = _task(120, 2)
    good = evaluate_predictions(labels=labels, probs=probs, label_names=["a", "b"],
                                examples=examples, n_bootstrap=20)
    broken = {k: v for k, v in good.items() if k != "calibration"}
    with pytest.raises(AssertionError, match="calibration"):
        check_evaluation_report(broken)
    nan = json.loads(json.dumps(good))
    nan["metrics"]["accuracy"] = float("nan")
    with pytest.raises(AssertionError, match="strict JSON"):
        check_evaluation_report(nan)
    bad_conf = json.loads(json.dumps(good))
    bad_conf["confusion"]["counts"][0][0] += 1
    with pytest.raises(AssertionError, match="confusion counts"):
        check_evaluation_report(bad_conf)


def test_import_stays_light():
    code = ("import sys, ftlab.evaluation; heavy = [m for m in ('transformers', 'datasets', "
            "'optuna', 'mlflow', 'wandb', 'nltk') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
