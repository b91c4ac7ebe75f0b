"""The training doctor's validation-curve rules (overfitting, confident mistakes, zero recall,
best epoch position), with their thresholds."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from ftlab.evaluation._doctor_rules import Finding, Rule, RuleContext
from ftlab.evaluation._history import (
    History,
    interval_train_loss,
    is_finite_number,
    rising_window,
)

__all__ = ["EVAL_RULES"]

# overfitting / confident mistakes: validation loss up at >= 2 evaluations in a row, by >= 2%
# in total (smaller wiggles are evaluation noise)
MIN_CONSECUTIVE_RISES = 2
MIN_VAL_LOSS_RISE = 0.02
# ... it is "confident mistakes" rather than overfitting when validation accuracy rose by at least
# half a point over the same evaluations (less is evaluation noise)
CONFIDENT_MIN_ACC_GAIN = 0.005
# best epoch position: needs >= 5 epochs, otherwise 20% of the epochs is less than one epoch
MIN_EPOCHS_FOR_BEST_EPOCH = 5
EARLY_FRACTION, LATE_FRACTION = 0.2, 0.8
# "late" only when the metric still improved by >= 1% (relative) inside the last 20% of epochs;
# a flat curve whose maximum happens to be last is converged, not short of epochs
LATE_MIN_IMPROVEMENT = 0.01


def _rule_val_loss_rising(ctx: RuleContext) -> list[Finding]:
    """overfitting and confident_mistakes: validation loss rising at consecutive evaluations."""
    h = ctx.history
    val = h.eval_series("loss")
    window = rising_window(val, min_rises=MIN_CONSECUTIVE_RISES, min_rise=MIN_VAL_LOSS_RISE)
    if window is None:
        return []
    i, j = window
    s_i, s_j = h.evals[i].step, h.evals[j].step
    acc = h.eval_series("accuracy")
    train = interval_train_loss(h)
    evidence = {"eval_steps": [e.step for e in h.evals[i:j + 1]],
                "val_loss": val[i:j + 1].tolist(), "val_accuracy": acc[i:j + 1].tolist(),
                "train_loss": train[i:j + 1].tolist()}
    seen = (f"Validation loss rose at {j - i} consecutive evaluations, from {val[i]:.4g} "
            f"(step {s_i}) to {val[j]:.4g} (step {s_j})")
    if np.isfinite(acc[i]) and np.isfinite(acc[j]) and acc[j] - acc[i] >= CONFIDENT_MIN_ACC_GAIN:
        return [Finding(
            "confident_mistakes", "warning", "Validation loss and accuracy rise together",
            f"{seen}, while validation accuracy also rose, from {acc[i]:.3f} to {acc[j]:.3f}: "
            "the model gets more examples right but grows over-confident on the ones it gets "
            "wrong, so their log-loss grows.",
            "Calibrate the probabilities (temperature scaling fitted on validation) before "
            "using them; regularize (model.dropout, train.weight_decay); pick the checkpoint "
            "by the metric you care about (eval.monitor: accuracy or macro_f1, not loss).",
            evidence,
        )]
    if not (np.isfinite(train[i]) and np.isfinite(train[j]) and train[j] < train[i]):
        return []
    return [Finding(
        "overfitting", "warning", "Overfitting: validation loss rises while training loss falls",
        f"{seen}, while the training loss kept falling, from {train[i]:.4g} to {train[j]:.4g}.",
        "Regularize (model.dropout, train.weight_decay), get more training data, or stop "
        "earlier: train.early_stopping.enabled: true and keep the best weights "
        "(train.restore_best: true).",
        evidence,
    )]


def _recalls(ctx: RuleContext) -> dict[str, float]:
    if ctx.per_class_recall is not None:
        return {str(k): float(v) for k, v in ctx.per_class_recall.items()
                if is_finite_number(v)}
    if not ctx.history.evals:  # fall back to per-class recall logged with the last evaluation
        return {}
    found = {}
    for key, value in ctx.history.evals[-1].metrics.items():
        for prefix in ("recall/", "recall_"):
            if key.startswith(prefix) and len(key) > len(prefix) and math.isfinite(value):
                found[key[len(prefix):]] = value
    return found


def _rule_zero_recall(ctx: RuleContext) -> list[Finding]:
    recalls = _recalls(ctx)
    zero = sorted(name for name, r in recalls.items() if r <= 0.0)
    if not zero:
        return []
    names = ", ".join(repr(z) for z in zero)
    return [Finding(
        "zero_recall_class", "warning", f"Class(es) never predicted correctly: {names}",
        f"Recall is 0 for {len(zero)} of {len(recalls)} classes ({names}): the model never "
        "predicts them right, usually because they are rare and the model falls back to the "
        "majority class.",
        "Counter the class imbalance: class weights in the loss (batching.class_weights: "
        "inverse) or oversampling (batching.balance: oversample), more examples of those "
        "classes" + (", or tune the decision threshold on validation (ftlab calibrate RUN "
                     "--threshold f1)." if len(recalls) == 2 else "."),
        {"classes": zero, "recall": recalls},
    )]


def _mode(metric: str) -> Literal["min", "max"]:
    return "min" if "loss" in metric else "max"


def _best_eval(h: History, monitor: str | None) -> tuple[int, str] | None:
    """(index of the best evaluation, monitored metric), or None without evaluations.

    The monitor is the caller's, else the metric whose value the end record's ``best_metric``
    matches at ``best_step``, else validation loss, else accuracy.
    """
    end = h.end or {}
    best_step, best_metric = end.get("best_step"), end.get("best_metric")
    at_best = [i for i, ev in enumerate(h.evals) if ev.step == best_step]
    if monitor is None and at_best and is_finite_number(best_metric):
        for name, value in h.evals[at_best[0]].metrics.items():
            if math.isclose(value, float(best_metric), rel_tol=1e-9, abs_tol=1e-12):
                return at_best[0], name
    for name in [monitor] if monitor is not None else ["loss", "accuracy"]:
        series = h.eval_series(name)
        if not np.isfinite(series).any():
            continue
        if at_best and is_finite_number(best_metric) and math.isclose(
                series[at_best[0]], float(best_metric), rel_tol=1e-9, abs_tol=1e-12):
            return at_best[0], name  # the run's own best under this monitor (first of ties)
        return int(np.nanargmin(series) if _mode(name) == "min" else np.nanargmax(series)), name
    return None


def _rule_best_epoch(ctx: RuleContext) -> list[Finding]:
    h = ctx.history
    epochs = ctx.epochs if ctx.epochs is not None else h.epochs_requested
    best = _best_eval(h, ctx.monitor)
    if epochs is None or epochs < MIN_EPOCHS_FOR_BEST_EPOCH or best is None:
        return []
    idx, monitor = best
    mode = _mode(monitor)
    best_epoch = h.evals[idx].epoch + 1  # 1-based, as people count epochs
    epochs_run = max([e + 1 for e in h.epochs_completed] + [h.evals[-1].epoch + 1])
    series = h.eval_series(monitor)
    evidence = {"best_epoch": best_epoch, "epochs": epochs, "epochs_run": epochs_run,
                "monitor": monitor, "best_value": float(series[idx])}
    if best_epoch <= EARLY_FRACTION * epochs:
        return [Finding(
            "best_epoch_early", "warning", "The best epoch came early",
            f"The best validation {monitor} ({series[idx]:.4g}) was reached in epoch "
            f"{best_epoch} of {epochs}, within the first {EARLY_FRACTION:.0%}: the later "
            f"{epochs_run - best_epoch} epoch(s) did not help.",
            f"Train for fewer epochs (e.g. train.epochs: {max(1, 2 * best_epoch)}) or set "
            "train.early_stopping.enabled: true; a smaller learning rate or more regularization "
            "may let later epochs help.",
            evidence,
        )]
    if best_epoch > LATE_FRACTION * epochs and epochs_run >= epochs:
        # still improving? compare the best with the best before the last 20% of epochs
        before = np.array([v for e, v in zip(h.evals, series, strict=True)
                           if e.epoch + 1 <= LATE_FRACTION * epochs and math.isfinite(v)])
        if before.size == 0:
            return []
        prior = float(before.min() if mode == "min" else before.max())
        gain = (prior - series[idx]) if mode == "min" else (series[idx] - prior)
        rel = float(gain / max(abs(prior), 1e-12))
        if rel < LATE_MIN_IMPROVEMENT:
            return []
        return [Finding(
            "best_epoch_late", "info", "The model was still improving at the end",
            f"The best validation {monitor} ({series[idx]:.4g}) came in epoch {best_epoch} of "
            f"{epochs}, within the last {1 - LATE_FRACTION:.0%}, and improved {rel:.1%} over "
            f"the best before that window ({prior:.4g}).",
            f"Train for more epochs (e.g. train.epochs: {math.ceil(epochs * 1.5)}) with "
            "train.early_stopping.enabled: true, or raise the learning rate slightly.",
            {**evidence, "prior_best": prior, "relative_gain": rel},
        )]
    return []


EVAL_RULES: tuple[Rule, ...] = (_rule_val_loss_rising, _rule_zero_recall, _rule_best_epoch)
