"""Decision threshold for binary tasks: tune it on validation, report it next to 0.5.

The positive class is index 1 (``label_names[1]``); an example is predicted positive when
``p(positive) >= threshold``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from ftlab.errors import ConfigError, DataError
from ftlab.evaluation._inputs import check_label_names

__all__ = ["ThresholdMetric", "decide", "decision_rule", "tune_threshold", "threshold_summary"]

ThresholdMetric = Literal["f1", "accuracy", "balanced_accuracy"]
_METRICS = ("f1", "accuracy", "balanced_accuracy")


def _binary_inputs(labels: Any, pos_probs: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels)
    s = np.asarray(pos_probs, dtype=np.float64)
    if s.ndim == 2 and s.shape[1] == 2:
        s = s[:, 1]
    if y.ndim != 1 or s.ndim != 1 or len(y) != len(s):
        raise DataError(f"{where}: labels (N,) and positive-class probabilities (N,) or (N, 2) "
                        f"must match, got shapes {y.shape} and {np.shape(pos_probs)}")
    if len(y) == 0:
        raise DataError(f"{where}: no examples")
    bad = ~np.isin(y, (0, 1))
    if bad.any():
        raise DataError(f"{where}: a decision threshold needs binary labels 0/1, found "
                        f"{y[bad][0]!r} at row {int(np.flatnonzero(bad)[0])}")
    if not np.all(np.isfinite(s)) or (s < 0).any() or (s > 1).any():
        raise DataError(f"{where}: positive-class probabilities must lie in [0, 1], got range "
                        f"[{np.nanmin(s)}, {np.nanmax(s)}]")
    return y.astype(np.int64), s


def _scores(tp: np.ndarray, fp: np.ndarray, n_pos: int, n_neg: int, metric: str) -> np.ndarray:
    fn = n_pos - tp
    tn = n_neg - fp
    if metric == "f1":
        denom = 2 * tp + fp + fn
        return np.divide(2 * tp, denom, out=np.zeros(tp.shape), where=denom > 0)
    if metric == "accuracy":
        return (tp + tn) / (n_pos + n_neg)
    return 0.5 * (tp / n_pos + tn / n_neg)  # balanced accuracy = mean recall of the two classes


def tune_threshold(
    labels: Any, pos_probs: Any, *, metric: ThresholdMetric = "f1",
) -> tuple[float, float]:
    """The threshold on ``p(positive)`` that maximises ``metric`` on (validation) data.

    Every distinct cut of the sorted scores is tried at once (cumulative counts, O(N log N)).
    The threshold returned is the midpoint between the two scores around the best cut, so it
    does not sit on a training score; ties between equally good cuts go to the one closest
    to 0.5.

    Args:
        labels: (N,) binary labels, 1 = positive (``label_names[1]``).
        pos_probs: (N,) positive-class probabilities (or the (N, 2) probability matrix).
        metric: what to maximise: ``"f1"`` of the positive class, ``"accuracy"`` or
            ``"balanced_accuracy"``.

    Returns:
        ``(threshold, score)``: predict positive when ``p >= threshold``; ``score`` is the
        metric at that threshold on the given data.

    Raises:
        ConfigError: unknown metric.
        DataError: non-binary labels, probabilities outside [0, 1], or only one class present.
    """
    if metric not in _METRICS:
        raise ConfigError(f"tune_threshold: metric must be one of {list(_METRICS)}, got {metric!r}")
    y, s = _binary_inputs(labels, pos_probs, "tune_threshold")
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise DataError(f"tune_threshold: the data holds only class {int(y[0])} ({len(y)} "
                        f"examples); tuning a threshold needs both classes in validation")
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    # cut after position i (i = 0..N-1) predicts the top i+1 scores positive; only cuts between
    # distinct scores are realisable by a threshold
    last_of_run = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    tp = np.cumsum(y_sorted)[last_of_run]
    fp = np.cumsum(1 - y_sorted)[last_of_run]
    lows = s_sorted[last_of_run]  # lowest score predicted positive at each cut
    nexts = np.r_[lows[1:], -np.inf]  # highest score predicted negative
    thresholds = np.where(np.isinf(nexts), lows / 2, (lows + nexts) / 2)
    # the "nothing positive" cut, realisable only when no score is exactly 1
    if s_sorted[0] < 1.0:
        tp, fp = np.r_[0, tp], np.r_[0, fp]
        thresholds = np.r_[(s_sorted[0] + 1.0) / 2, thresholds]
    scores = _scores(tp.astype(np.float64), fp.astype(np.float64), n_pos, n_neg, metric)
    best = np.flatnonzero(scores >= scores.max() - 1e-12)
    pick = best[np.argmin(np.abs(thresholds[best] - 0.5))]
    return float(thresholds[pick]), float(scores[pick])


def _at(y: np.ndarray, s: np.ndarray, threshold: float) -> dict[str, float]:
    pred = (s >= threshold).astype(np.int64)
    tp = int(np.sum((pred == 1) & (y == 1)))
    fp = int(np.sum((pred == 1) & (y == 0)))
    fn = int(np.sum((pred == 0) & (y == 1)))
    tn = int(np.sum((pred == 0) & (y == 0)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return {"accuracy": (tp + tn) / len(y), "precision": precision, "recall": recall, "f1": f1,
            "recall_negative": tn / (tn + fp) if tn + fp else 0.0}


def threshold_summary(
    labels: Any, probs: Any, threshold: float, label_names: Sequence[str], *,
    metric: str | None = None,
) -> dict[str, Any]:
    """Metrics at a (tuned) decision threshold next to the default 0.5.

    Args:
        labels: (N,) binary labels, 1 = ``label_names[1]``.
        probs: (N, 2) probabilities or (N,) positive-class probabilities.
        threshold: the decision threshold in (0, 1].
        label_names: the two class names.
        metric: the metric the threshold was tuned for (recorded only).

    Returns:
        ``{"metric", "threshold", "at_threshold": {...}, "at_0.5": {...}, "warnings": [...]}``
        where each ``at_*`` holds ``accuracy`` and the positive class's ``precision``,
        ``recall`` and ``f1``. ``warnings`` flags a class whose recall is 0 at either
        threshold (the caller moves them to the report's top-level list).

    Raises:
        ConfigError: a threshold outside [0, 1] or a task that is not binary.
        DataError: invalid arrays.
    """
    names = check_label_names(label_names, where="threshold_summary")
    if len(names) != 2:
        raise ConfigError(f"a decision threshold applies to binary tasks only; this task has "
                          f"{len(names)} classes {names} (drop the threshold or use arg-max)")
    if (isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number))
            or not 0.0 <= float(threshold) <= 1.0):
        raise ConfigError(f"threshold must be a number in [0, 1], got {threshold!r}; rerun "
                          f"ftlab calibrate --threshold f1")
    y, s = _binary_inputs(labels, probs, "threshold_summary")
    out: dict[str, Any] = {"metric": metric, "threshold": float(threshold)}
    warnings: list[str] = []
    for key, t in (("at_threshold", float(threshold)), ("at_0.5", 0.5)):
        at = _at(y, s, t)
        for cls, recall in ((names[1], at["recall"]), (names[0], at.pop("recall_negative"))):
            n_cls = int(np.sum(y == (1 if cls == names[1] else 0)))
            if n_cls and recall == 0.0:
                warnings.append(f"recall of class {cls!r} is 0 at threshold {t:g}: none of its "
                                f"{n_cls} examples is predicted as {cls!r}; the threshold is "
                                f"{'too high' if cls == names[1] else 'too low'} for this split")
        out[key] = at
    out["warnings"] = warnings
    return out


def decide(probs: Any, *, threshold: float | None = None, positive: int = 1) -> np.ndarray:
    """The run's decision rule, the one every output applies: (N,) predicted class indices.

    Args:
        probs: (N, C) class probabilities (after the run's temperature, if any).
        threshold: binary tasks: predict ``positive`` when ``p(positive) >= threshold``;
            ``None`` = arg-max.
        positive: index of the positive class the threshold applies to.

    Raises:
        ConfigError: a threshold for a task that is not binary.
    """
    p = np.asarray(probs)
    if threshold is None:
        return p.argmax(axis=1).astype(np.int64)
    if p.ndim != 2 or p.shape[1] != 2:
        raise ConfigError(f"a decision threshold applies to binary tasks only; this task has "
                          f"{p.shape[1] if p.ndim == 2 else '?'} classes (remove the threshold "
                          f"from calibration.json)")
    return np.where(p[:, positive] >= threshold, positive, 1 - positive).astype(np.int64)


def decision_rule(*, threshold: float | None = None, temperature: float | None = None,
                  positive_name: str | None = None, metric: str | None = None) -> str:
    """The decision rule in words, e.g. ``"threshold 0.420 on p('pos') (tuned for f1)"``."""
    rule = ("argmax" if threshold is None else
            f"threshold {threshold:.3f} on p({positive_name!r})"
            + (f" (tuned for {metric} on validation)" if metric else ""))
    if temperature is not None:
        rule += f", temperature {temperature:.3f}"
    return rule
