"""Conformance check for evaluation reports (``evaluation/<split>.json``).

Producers of the report (``ftlab.evaluation.evaluate_predictions``, or anything that writes the
same file) and consumers (the HTML report, ``ftlab runs``) agree on this schema.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["check_evaluation_report"]

_KEYS = ("split", "n", "label_names", "metrics", "per_class", "averages", "roc_auc", "pr_auc",
         "curves", "confusion", "calibration", "threshold", "bootstrap", "baselines", "errors",
         "slices", "warnings")
_METRICS = ("accuracy", "log_loss", "macro_f1", "micro_f1", "weighted_f1", "macro_precision",
            "macro_recall", "roc_auc", "pr_auc", "ece", "mce")
_NULLABLE_METRICS = ("roc_auc", "pr_auc")
_RELIABILITY = ("bin_lower", "bin_upper", "confidence", "accuracy", "count")
_CALIBRATION = ("ece", "ece_equal_mass", "mce", "n_bins", "reliability", "temperature",
                "ece_before", "ece_after", "nll_before", "nll_after")
_MAX_CURVE_POINTS = 200


def _is_prob(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and -1e-9 <= v <= 1 + 1e-9


def check_evaluation_report(report: Any) -> None:
    """Check that ``report`` follows the evaluation JSON schema.

    Checks: every top-level key is present; the report is strict JSON (no NaN, no NumPy types);
    flat metrics are numbers (ROC/PR AUC may be null) with rates in [0, 1]; per-class rows cover
    every label name and supports sum to ``n``; the confusion matrix is C x C, sums to ``n``
    and its normalised rows sum to 1 (or 0 for an absent class); curves have at most 200 points
    and parallel lists; reliability lists are parallel with counts summing to ``n``; bootstrap
    intervals contain their estimate; slices of ``length`` and ``label`` partition the examples.

    Args:
        report: the dict (e.g. ``json.load`` of ``evaluation/test.json``).

    Raises:
        AssertionError: naming the key and the broken rule.
    """
    assert isinstance(report, dict), f"report must be a dict, got {type(report).__name__}"
    missing = [k for k in _KEYS if k not in report]
    assert not missing, f"report misses keys {missing}"
    try:
        json.dumps(report, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"report is not strict JSON (plain types, no NaN/inf): {exc}") from exc

    n, names = report["n"], report["label_names"]
    assert isinstance(n, int) and n > 0, f"n must be a positive int, got {n!r}"
    assert isinstance(names, list) and len(names) >= 2, f"label_names must list >= 2, got {names}"
    c = len(names)

    metrics = report["metrics"]
    for key in _METRICS:
        assert key in metrics, f"metrics misses {key!r}"
        value = metrics[key]
        if value is None:
            assert key in _NULLABLE_METRICS, f"metrics[{key!r}] is null; only ROC/PR AUC may be"
            continue
        if key == "log_loss":
            assert isinstance(value, float) and value >= 0, f"log_loss must be >= 0, got {value}"
        else:
            assert _is_prob(value), f"metrics[{key!r}] = {value!r} is not in [0, 1]"

    per_class = report["per_class"]
    assert list(per_class) == names, f"per_class keys {list(per_class)} != label_names {names}"
    supports = sum(row["support"] for row in per_class.values())
    assert supports == n, f"per-class supports sum to {supports}, not n = {n}"
    for avg in ("micro", "macro", "weighted"):
        assert set(report["averages"][avg]) >= {"precision", "recall", "f1"}, \
            f"averages[{avg!r}] needs precision, recall and f1"

    for part in ("roc_auc", "pr_auc"):
        assert set(report[part]) == {"macro", "per_class"}, f"{part} needs macro and per_class"
        expected = [names[1]] if c == 2 else names
        assert list(report[part]["per_class"]) == expected, \
            f"{part}.per_class keys {list(report[part]['per_class'])}, expected {expected}"
    for kind, (a, b) in (("roc", ("fpr", "tpr")), ("pr", ("precision", "recall"))):
        for cls, curve in report["curves"][kind].items():
            assert len(curve[a]) == len(curve[b]) <= _MAX_CURVE_POINTS, \
                f"curves.{kind}[{cls!r}] lists differ in length or exceed {_MAX_CURVE_POINTS}"

    conf = report["confusion"]
    counts, norm = conf["counts"], conf["normalized"]
    assert conf["labels"] == names, "confusion.labels must equal label_names"
    assert len(counts) == c and all(len(r) == c for r in counts), "confusion.counts must be C x C"
    assert sum(map(sum, counts)) == n, f"confusion counts sum to {sum(map(sum, counts))}, not {n}"
    for i, row in enumerate(norm):
        total = sum(row)
        assert math.isclose(total, 1.0, abs_tol=1e-6) or (total == 0 and sum(counts[i]) == 0), \
            f"confusion.normalized row {i} sums to {total}; rows are normalised by true class"

    cal = report["calibration"]
    assert all(k in cal for k in _CALIBRATION), f"calibration needs keys {_CALIBRATION}"
    rel = cal["reliability"]
    lengths = {k: len(rel[k]) for k in _RELIABILITY}
    assert len(set(lengths.values())) == 1, f"reliability lists differ in length: {lengths}"
    assert sum(rel["count"]) == n, f"reliability counts sum to {sum(rel['count'])}, not {n}"

    thr = report["threshold"]
    if thr is not None:
        assert c == 2, "threshold is only for binary tasks"
        for key in ("at_threshold", "at_0.5"):
            assert set(thr[key]) >= {"accuracy", "precision", "recall", "f1"}, \
                f"threshold[{key!r}] needs accuracy, precision, recall and f1"

    boot = report["bootstrap"]
    if boot is not None:
        for key in ("accuracy", "macro_f1"):
            ci = boot[key]
            assert ci["low"] - 1e-9 <= ci["high"] + 1e-9, f"bootstrap[{key!r}] low > high: {ci}"
            assert _is_prob(ci["estimate"]), f"bootstrap[{key!r}].estimate out of [0, 1]: {ci}"

    assert "majority" in report["baselines"] and "tfidf_lr" in report["baselines"], \
        "baselines needs majority and tfidf_lr (null when not fitted)"

    errors = report["errors"]
    if errors is not None:
        for row in errors["most_confident_wrong"]:
            assert row["label"] != row["pred"], f"most_confident_wrong row {row['id']} is right"
        for row in errors["least_confident"]:
            assert "margin" in row, "least_confident rows need a margin"
    slices = report["slices"]
    if slices is not None:
        for key in ("length", "label"):
            total = sum(s["n"] for s in slices[key])
            assert total == n, f"slices[{key!r}] cover {total} examples, not n = {n}"

    assert isinstance(report["warnings"], list) and all(
        isinstance(w, str) for w in report["warnings"]), "warnings must be a list of strings"
