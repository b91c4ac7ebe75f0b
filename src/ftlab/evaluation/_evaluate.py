"""One call from predicted probabilities to the full evaluation report (``evaluation/<split>.json``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ftlab.errors import ConfigError, DataError
from ftlab.evaluation._bootstrap import bootstrap_ci
from ftlab.evaluation._choices import choice_position_bias
from ftlab.evaluation._calibration import (
    apply_temperature,
    expected_calibration_error,
    maximum_calibration_error,
    negative_log_likelihood,
    reliability_diagram,
)
from ftlab.evaluation._errors import error_analysis, slice_metrics
from ftlab.evaluation._inputs import check_arrays, check_label_names, to_builtin
from ftlab.evaluation._metrics import classification_metrics, label_metrics, majority_baseline
from ftlab.evaluation._result import EvaluationResult
from ftlab.evaluation._threshold import decide, decision_rule, threshold_summary

if TYPE_CHECKING:
    from ftlab.data import Example

__all__ = ["evaluate_predictions", "check_labels_known", "REPORT_KEYS", "N_BINS"]

N_BINS = 15  # calibration bins (Guo et al. 2017 use 15)
REPORT_KEYS = ("split", "n", "label_names", "decision_rule", "classes", "metrics", "argmax",
               "per_class", "averages", "roc_auc", "pr_auc", "curves", "confusion",
               "calibration", "threshold", "bootstrap", "baselines", "errors", "slices",
               "choices", "warnings")


def check_labels_known(labels_seen: Iterable[str], label_names: Sequence[str], *, source: str) -> None:
    """Fail when data holds labels the model was never trained on.

    Args:
        labels_seen: the raw labels of the data to evaluate (``None`` = unlabelled, ignored).
        label_names: the labels the model knows (its label map, in index order).
        source: where the labels come from (a file path or split name), named in the error.

    Raises:
        DataError: naming the unknown labels, the source and the known labels.
    """
    known = {str(n) for n in label_names}
    unknown = sorted({str(v) for v in labels_seen if v is not None} - known)
    if unknown:
        shown = unknown[:10] + ([f"... {len(unknown) - 10} more"] if len(unknown) > 10 else [])
        raise DataError(f"{source}: labels {shown} were never seen in training (known labels: "
                        f"{list(label_names)}); the model cannot predict them - map them to known "
                        f"labels or train a run whose data includes them")


def _calibration(y: np.ndarray, p: np.ndarray, raw: np.ndarray, temperature: float | None) -> dict[str, Any]:
    """The schema's "calibration" part for probabilities ``p`` (``raw`` before temperature)."""
    out: dict[str, Any] = {
        "ece": expected_calibration_error(p, y, n_bins=N_BINS),
        "ece_equal_mass": expected_calibration_error(p, y, n_bins=N_BINS, strategy="quantile"),
        "mce": maximum_calibration_error(p, y, n_bins=N_BINS),
        "n_bins": N_BINS,
        "reliability": reliability_diagram(p, y, n_bins=N_BINS),
        "temperature": None, "ece_before": None, "ece_after": None,
        "nll_before": None, "nll_after": None,
    }
    if temperature is not None:
        out.update(temperature=float(temperature),
                   ece_before=expected_calibration_error(raw, y, n_bins=N_BINS),
                   ece_after=out["ece"],
                   nll_before=negative_log_likelihood(raw, y),
                   nll_after=negative_log_likelihood(p, y))
    return out


def evaluate_predictions(
    *,
    labels: np.ndarray,
    probs: np.ndarray,
    label_names: Sequence[str],
    examples: Sequence[Example] | None = None,
    train_labels: Sequence[int] | None = None,
    temperature: float | None = None,
    threshold: float | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    slice_columns: Sequence[str] = (),
    k_errors: int = 10,
    split: str | None = None,
    threshold_metric: str | None = None,
    confidence: float = 0.95,
    positive: int | None = None,
    positive_source: str | None = None,
    multiple_choice: bool | None = None,
) -> dict[str, Any]:
    """Evaluate predicted probabilities against true labels: the full evaluation report.

    One decision rule drives the metrics, confusion matrix and bootstrap: arg-max, or for a
    binary task with a ``threshold`` "positive when p(positive) >= threshold" (the rule
    ``predictions/<split>.jsonl`` applies too). ``"decision_rule"`` names it; with a threshold
    the arg-max figures stay available under ``"argmax"`` and the threshold is reported next
    to 0.5 in ``"threshold"``. The result contains plain Python types only (NaN becomes
    ``None``), ready for ``json.dumps(..., allow_nan=False)``.

    Args:
        labels: (N,) true class indices into ``label_names``.
        probs: (N, C) predicted class probabilities (uncalibrated model output).
        label_names: class names in index order (binary: ``label_names[1]`` is positive).
        examples: the evaluated examples in the same order, for error analysis and slices
            (without them ``"errors"`` and ``"slices"`` are ``None``).
        train_labels: training-split class indices, for the majority baseline.
        temperature: a temperature fitted on validation; when given, ``probs`` are calibrated
            first and every metric uses the calibrated probabilities, with the ECE/NLL before
            and after in ``"calibration"``.
        threshold: a binary decision threshold tuned on validation, reported in ``"threshold"``.
        n_bootstrap: bootstrap resamples for the intervals (0 disables them: ``None``).
        seed: bootstrap seed.
        slice_columns: ``Example.meta`` keys to slice by, besides length and label.
        k_errors: rows in each error-analysis table.
        split: the split's name recorded in the report.
        threshold_metric: the metric the threshold was tuned for (recorded only).
        confidence: central mass of the bootstrap intervals.
        positive: binary tasks: index of the positive class (default 1); its precision,
            recall and F1 are reported with intervals.
        positive_source: how the positive class was chosen (stated in ``"classes"``).
        multiple_choice: the classes are choice positions of a multiple-choice task (default:
            whether ``examples`` carry choices); ``"choices"`` then reports the position bias
            (:func:`choice_position_bias`), else it is ``None``.

    Returns:
        A dict with the keys of :data:`REPORT_KEYS` (see the schema in the evaluation docs).

    Raises:
        DataError: invalid arrays or label names, examples that do not line up.
        ConfigError: a threshold for a multi-class task, an invalid temperature or bootstrap
            setting.
    """
    names = check_label_names(label_names, where="evaluate_predictions")
    y, raw = check_arrays(labels, probs, where="evaluate_predictions", n_classes=len(names))
    if examples is not None and len(examples) != len(y):
        raise DataError(f"evaluate_predictions: {len(examples)} examples but {len(y)} rows of "
                        f"labels/probs; pass the examples the probabilities were predicted for")
    if threshold is not None and len(names) != 2:
        raise ConfigError(f"a decision threshold applies to binary tasks only; this task has "
                          f"{len(names)} classes (remove the threshold from calibration.json)")
    p = raw if temperature is None else apply_temperature(raw, temperature)
    binary = len(names) == 2
    pos = (1 if positive is None else int(positive)) if binary else None
    pred = decide(p, threshold=threshold, positive=pos if pos is not None else 1)
    rule = {"rule": decision_rule(threshold=threshold, temperature=temperature,
                                  positive_name=names[pos] if pos is not None else None,
                                  metric=threshold_metric),
            "kind": "argmax" if threshold is None else "threshold",
            "threshold": threshold, "temperature": temperature,
            "positive": names[pos] if pos is not None else None}

    base = classification_metrics(y, p, label_names=names, preds=pred, positive=pos)
    if pos is not None:
        base["classes"]["positive_source"] = positive_source or "label_names[1]"
    warnings: list[str] = list(base.pop("warnings"))
    calibration = _calibration(y, p, raw, temperature)
    base["metrics"]["ece"], base["metrics"]["mce"] = calibration["ece"], calibration["mce"]
    argmax = None
    if threshold is not None:  # the arg-max figures beside the thresholded ones
        argmax = label_metrics(y, p.argmax(axis=1), n_classes=len(names), positive=pos)
        argmax.pop("absent_classes")

    thresh = None
    if threshold is not None:
        assert pos is not None
        binary_y = (y == pos).astype(np.int64)  # threshold_summary: 1 = positive
        thresh = threshold_summary(binary_y, p[:, pos], threshold,
                                   [names[1 - pos], names[pos]], metric=threshold_metric)
        warnings.extend(w for w in thresh.pop("warnings") if w not in warnings)

    boot = None
    if n_bootstrap:
        which: tuple[Any, ...] = ("accuracy", "macro_f1", "macro_f1_present")
        if pos is not None:
            which += ("positive_precision", "positive_recall", "positive_f1")
        boot = bootstrap_ci(y, pred, metrics=which, n_resamples=n_bootstrap,
                            confidence=confidence, seed=seed, n_classes=len(names),
                            positive=pos, per_class=True)
        boot["per_class"] = {names[k]: v for k, v in boot["per_class"].items()}
    majority = majority_baseline(y, names, train_labels=train_labels)
    if majority["source"] == "train" and base["metrics"]["accuracy"] <= majority["accuracy"]:
        warnings.append(f"accuracy {base['metrics']['accuracy']:.4f} is not above the majority "
                        f"baseline {majority['accuracy']:.4f} (always predicting "
                        f"{majority['label']!r}): the model has not learned beyond class priors")
    if len(y) < 100:
        warnings.append(f"only {len(y)} examples evaluated: metrics are noisy (see the bootstrap "
                        f"intervals)")

    errors = slices = None
    if examples is not None:
        errors = error_analysis(examples, y, p, names, k=k_errors, preds=pred)
        slices = slice_metrics(examples, y, p, label_names=names, columns=tuple(slice_columns),
                               preds=pred)

    if multiple_choice is None:
        multiple_choice = bool(examples) and examples[0].choices is not None  # type: ignore[index]
    choices = choice_position_bias(y, pred, len(names)) if multiple_choice else None
    if choices is not None and choices["p_value"] is not None and choices["p_value"] < 0.01:
        worst = max(choices["positions"], key=lambda r: r["predicted"] - r["correct"])
        warnings.append(f"choice-position bias: position {worst['position']} is predicted for "
                        f"{worst['predicted']:.1%} of the items but correct for "
                        f"{worst['correct']:.1%} (chi-square p={choices['p_value']:.2g}); the "
                        f"model leans on where an answer sits, not only on what it says")

    report = {
        "split": split, "n": int(len(y)), "label_names": names, "decision_rule": rule,
        "argmax": argmax,
        **base,
        "calibration": calibration,
        "threshold": thresh,
        "bootstrap": boot,
        "baselines": {"majority": majority, "tfidf_lr": None},
        "errors": errors,
        "slices": slices,
        "choices": choices,
        "warnings": warnings,
    }
    # validated against the schema (EvaluationResult); the dict is what evaluation/<split>.json holds
    return EvaluationResult.model_validate(to_builtin({k: report[k] for k in REPORT_KEYS})).to_dict()
