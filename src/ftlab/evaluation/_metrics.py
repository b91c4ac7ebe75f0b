"""Classification metrics over (labels, probs): accuracy, P/R/F1, ROC/PR, confusion, log loss.

Binary tasks use ``label_names[1]`` as the positive class for ROC and PR; multi-class tasks use
one-vs-rest per class and the macro mean. A class whose ROC/PR is undefined on the evaluated
split (absent, or the only class present) gets ``None`` and a warning, never an exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ftlab.evaluation._calibration import expected_calibration_error, maximum_calibration_error
from ftlab.evaluation._inputs import check_arrays, check_label_names, predicted

__all__ = ["classification_metrics", "majority_baseline", "MAX_CURVE_POINTS"]

MAX_CURVE_POINTS = 200  # per curve in the JSON: enough for a smooth plot, small on disk
_EPS = 1e-15  # log-loss clip, as scikit-learn used to


def _downsample(*arrays: np.ndarray, max_points: int = MAX_CURVE_POINTS) -> list[list[float]]:
    """Evenly spaced points of parallel curve arrays, always keeping the first and last."""
    n = len(arrays[0])
    if n <= max_points:
        keep = np.arange(n)
    else:
        keep = np.unique(np.round(np.linspace(0, n - 1, max_points)).astype(int))
    return [[float(v) for v in a[keep]] for a in arrays]


def _prf(y: np.ndarray, pred: np.ndarray, n_classes: int) -> dict[str, Any]:
    """Per-class and averaged precision/recall/F1 (classes never seen score 0, not NaN)."""
    from sklearn.metrics import precision_recall_fscore_support

    classes = list(range(n_classes))
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=classes, zero_division=0.0)
    averages = {}
    for avg in ("micro", "macro", "weighted"):
        ap, ar, af, _ = precision_recall_fscore_support(y, pred, labels=classes, average=avg,
                                                        zero_division=0.0)
        averages[avg] = {"precision": float(ap), "recall": float(ar), "f1": float(af)}
    return {"precision": p, "recall": r, "f1": f, "support": s, "averages": averages}


def _ranking(y: np.ndarray, p: np.ndarray, names: list[str], warnings: list[str]) -> dict[str, Any]:
    """ROC AUC, average precision and their curves per scored class (one-vs-rest)."""
    from sklearn.metrics import (average_precision_score, precision_recall_curve, roc_auc_score,
                                 roc_curve)

    binary = len(names) == 2
    scored = [1] if binary else list(range(len(names)))  # binary: the positive class only
    roc: dict[str, float | None] = {}
    ap: dict[str, float | None] = {}
    curves: dict[str, dict[str, Any]] = {"roc": {}, "pr": {}}
    for k in scored:
        name = names[k]
        truth = (y == k).astype(int)
        n_pos = int(truth.sum())
        if n_pos == 0 or n_pos == len(truth):
            roc[name] = ap[name] = None
            what = "absent from" if n_pos == 0 else "the only class in"
            warnings.append(f"ROC AUC and PR AUC of class {name!r} are undefined: the class is "
                            f"{what} the {len(truth)} evaluated examples; they are null (evaluate "
                            f"on a split that contains every class)")
            continue
        roc[name] = float(roc_auc_score(truth, p[:, k]))
        ap[name] = float(average_precision_score(truth, p[:, k]))
        fpr, tpr, _ = roc_curve(truth, p[:, k])
        prec, rec, _ = precision_recall_curve(truth, p[:, k])
        fpr, tpr = _downsample(fpr, tpr)
        prec, rec = _downsample(prec, rec)
        curves["roc"][name] = {"fpr": fpr, "tpr": tpr}
        curves["pr"][name] = {"precision": prec, "recall": rec}

    def macro(values: dict[str, float | None]) -> float | None:
        # undefined for one class -> undefined macro mean (a mean over fewer classes would not
        # be comparable with other splits or runs)
        vals = [v for v in values.values() if v is not None]
        return None if len(vals) < len(values) else float(np.mean(vals))

    return {"roc_auc": {"macro": macro(roc), "per_class": roc},
            "pr_auc": {"macro": macro(ap), "per_class": ap}, "curves": curves}


def classification_metrics(labels: Any, probs: Any, *, label_names: Sequence[str]) -> dict[str, Any]:
    """Accuracy, log loss, P/R/F1 (per class, micro, macro, weighted), ROC/PR AUC and curves,
    and the confusion matrix, for arg-max predictions.

    Args:
        labels: (N,) true class indices into ``label_names``.
        probs: (N, C) class probabilities, ``C == len(label_names)``.
        label_names: class names in index order; binary tasks score ``label_names[1]``.

    Returns:
        The ``"metrics"``, ``"per_class"``, ``"averages"``, ``"roc_auc"``, ``"pr_auc"``,
        ``"curves"`` and ``"confusion"`` parts of the evaluation schema (plain Python types),
        plus ``"warnings"``: a list of strings (undefined AUCs, classes with zero recall).

    Raises:
        DataError: invalid arrays or label names.
    """
    from sklearn.metrics import confusion_matrix

    names = check_label_names(label_names, where="classification_metrics")
    y, p = check_arrays(labels, probs, where="classification_metrics", n_classes=len(names))
    n_classes = len(names)
    pred = predicted(p)
    warnings: list[str] = []

    prf = _prf(y, pred, n_classes)
    per_class = {names[k]: {"precision": float(prf["precision"][k]),
                            "recall": float(prf["recall"][k]), "f1": float(prf["f1"][k]),
                            "support": int(prf["support"][k])} for k in range(n_classes)}
    for name, row in per_class.items():
        if row["support"] > 0 and row["recall"] == 0.0:
            warnings.append(f"recall of class {name!r} is 0: none of its {row['support']} "
                            f"examples is predicted as {name!r} (the model may have collapsed to "
                            f"the other classes; check class balance and the loss weights)")
    ranking = _ranking(y, p, names, warnings)

    counts = confusion_matrix(y, pred, labels=list(range(n_classes)))  # (C, C) rows = true
    rows = counts.sum(axis=1, keepdims=True)
    normalized = np.divide(counts, rows, out=np.zeros(counts.shape), where=rows > 0)

    log_loss = float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], _EPS, 1.0))))
    av = prf["averages"]
    metrics = {
        "accuracy": float(np.mean(pred == y)),
        "log_loss": log_loss,
        "macro_f1": av["macro"]["f1"],
        "micro_f1": av["micro"]["f1"],
        "weighted_f1": av["weighted"]["f1"],
        "macro_precision": av["macro"]["precision"],
        "macro_recall": av["macro"]["recall"],
        "roc_auc": ranking["roc_auc"]["macro"],
        "pr_auc": ranking["pr_auc"]["macro"],
        "ece": expected_calibration_error(p, y),
        "mce": maximum_calibration_error(p, y),
    }
    return {
        "metrics": metrics,
        "per_class": per_class,
        "averages": av,
        "roc_auc": ranking["roc_auc"],
        "pr_auc": ranking["pr_auc"],
        "curves": ranking["curves"],
        "confusion": {"labels": names, "counts": counts.astype(int).tolist(),
                      "normalized": normalized.tolist()},
        "warnings": warnings,
    }


def majority_baseline(
    labels: Any, label_names: Sequence[str], *, train_labels: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Score of always predicting the most frequent class.

    Args:
        labels: (N,) true class indices of the evaluated split.
        label_names: class names in index order.
        train_labels: class indices of the training split; the majority class is taken from
            them (no peeking at the evaluated split). Without them, the evaluated labels are used
            and ``"source"`` says so.

    Returns:
        ``{"label", "accuracy", "macro_f1", "source": "train" | "evaluated"}``.

    Raises:
        DataError: invalid labels.
    """
    from sklearn.metrics import f1_score

    names = check_label_names(label_names, where="majority_baseline")
    n_classes = len(names)
    y, _ = check_arrays(labels, np.full((len(np.asarray(labels)), n_classes), 1.0 / n_classes),
                        where="majority_baseline")
    source = "evaluated"
    counted = y
    if train_labels is not None and len(train_labels) > 0:
        counted, _ = check_arrays(train_labels, np.full((len(train_labels), n_classes),
                                                        1.0 / n_classes),
                                  where="majority_baseline (train_labels)")
        source = "train"
    majority = int(np.bincount(counted, minlength=n_classes).argmax())  # ties -> lower index
    pred = np.full_like(y, majority)
    return {"label": names[majority], "accuracy": float(np.mean(y == majority)),
            "macro_f1": float(f1_score(y, pred, labels=list(range(n_classes)), average="macro",
                                       zero_division=0.0)),
            "source": source}
