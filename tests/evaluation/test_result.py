"""evaluation/<split>.json has a typed record: validated on write, printed by its format()."""

from __future__ import annotations

import numpy as np
import pytest

from ftlab.evaluation import REPORT_KEYS, EvaluationResult, evaluate_predictions


def _report(threshold=None):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(60, 2)) * 2
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = (probs[:, 1] + rng.normal(scale=0.3, size=60) > 0.5).astype(int)
    return evaluate_predictions(labels=labels, probs=probs, label_names=["neg", "pos"],
                                threshold=threshold, split="test", seed=1)


def test_the_report_is_the_record_in_report_keys_order():
    report = _report()
    assert list(report) == list(REPORT_KEYS)
    assert EvaluationResult.from_dict(report).to_dict() == report  # round trip, nothing lost


def test_format_prints_headline_intervals_argmax_and_warnings():
    report = _report(threshold=0.3)
    text = EvaluationResult.from_dict(report).format()
    lines = text.splitlines()
    assert lines[0] == f"test (n=60, decision rule: {report['decision_rule']['rule']})"
    acc = report["metrics"]["accuracy"]
    ci = report["bootstrap"]["accuracy"]
    assert f"  accuracy           {acc:.4f}  [{ci['low']:.4f}, {ci['high']:.4f}]" in lines
    assert any(line.startswith("  accuracy (argmax)") for line in lines)  # thresholded run
    assert "  warning: only 60 examples evaluated" in text
    assert str(EvaluationResult.from_dict(report)) == text


def test_an_older_or_foreign_evaluation_file_still_loads(caplog):
    old = {"split": "test", "n": 10, "metrics": {"accuracy": 0.5}, "legacy": 1}  # fewer keys
    rec = EvaluationResult.from_dict(old)
    assert rec.metrics == {"accuracy": 0.5} and rec.extra("legacy") == 1 and rec.to_dict() == old
    assert "test (n=10" in rec.format()
    bad = EvaluationResult.from_dict({"n": "many"}, source="evaluation/test.json")
    assert bad.to_dict() == {"n": "many"} and "evaluation/test.json" in caplog.text


def test_a_wrong_type_fails_on_write():
    report = _report()
    report["warnings"] = "not a list"
    with pytest.raises(ValueError, match="warnings"):
        EvaluationResult.model_validate(report)
