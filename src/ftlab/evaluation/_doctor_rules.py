"""The training doctor's Finding and its training-loss rules, with their thresholds.

Each rule reads a RuleContext (the History plus what the caller knows) and returns Findings.
Validation-curve rules live in :mod:`ftlab.evaluation._doctor_eval_rules`; the public entry
points in :mod:`ftlab.evaluation._doctor`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ftlab.evaluation._history import (
    History,
    finite,
    grad_spikes,
    head_tail_means,
    moving_average,
)

__all__ = ["Finding", "Severity", "LOSS_RULES", "Rule", "RuleContext", "SEVERITY_ORDER"]

Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}

# --- thresholds (each one a judgement call; the comment says why) -------------------------------
# fewer optimizer steps than this are too noisy to call a trend on
MIN_STEPS_FOR_TREND = 20
# the trend compares the mean loss of the first 10% of steps with the mean of the last 20%:
# the head is the untrained model, the tail is long enough to average mini-batch noise away
HEAD_FRACTION, TAIL_FRACTION = 0.10, 0.20
# a run whose tail mean is still >= 98% of its head mean has learned (almost) nothing
NOT_DECREASING_RATIO = 0.98
# a tail mean more than 10% above the head mean is a loss going the wrong way, not noise
DIVERGING_RATIO = 1.10
# a starting loss this low (nats) leaves no room to fall: the trend rules do not apply
NEAR_ZERO_LOSS = 0.01
# "orders of magnitude": a loss 100x its starting level is an explosion, not a bad batch
EXPLOSION_FACTOR = 100.0
# a gradient norm 10x the median of the previous steps is a spike (typical norms vary ~2-3x)
GRAD_SPIKE_FACTOR = 10.0
GRAD_MEDIAN_WINDOW = 50  # steps in the running median: a recent, stable reference
GRAD_MIN_HISTORY = 5  # steps before the first spike can be judged
# oscillation: std of the loss around its moving average over the second half of the run,
# divided by (the average level + a floor). Mini-batch noise of a sane run sits well under 0.3;
# the floor keeps a converged loss near 0 from turning tiny jitter into a huge ratio
OSCILLATION_RATIO = 0.5
OSCILLATION_LOSS_FLOOR = 0.1
# label leakage: a loss this close to zero (nats) while the model has seen each example at most
# once can only come from the label being readable from the input
LEAK_LOSS = 0.01
LEAK_WINDOW = 5  # consecutive steps averaged, so one lucky batch does not count
# ... while validation accuracy stays poor: below this, or within this margin of the majority rate
POOR_ACCURACY = 0.7
MAJORITY_MARGIN = 0.05
# a negative loss below float rounding is a wrong loss function, never noise
NEGATIVE_LOSS_TOL = -1e-6


@dataclass(frozen=True)
class Finding:
    """One diagnosis: what was seen (with numbers) and what to do.

    Attributes:
        rule: the rule's id, e.g. ``"loss_not_decreasing"``.
        severity: ``"error"`` (the run is broken), ``"warning"`` (likely a problem) or ``"info"``.
        title: one line.
        message: what was seen, with the numbers.
        fix: what to try.
        evidence: the numbers behind it (JSON-serialisable).
    """

    rule: str
    severity: Severity
    title: str
    message: str
    fix: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The ``doctor.json`` form; non-finite numbers become ``None`` (valid JSON)."""
        return {"rule": self.rule, "severity": self.severity, "title": self.title,
                "message": self.message, "fix": self.fix, "evidence": _jsonable(self.evidence)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    return value


@dataclass(frozen=True)
class RuleContext:
    """What a rule sees: the history and the caller's extra knowledge (see ``diagnose``)."""

    history: History
    epochs: int | None = None
    per_class_recall: Mapping[str, float] | None = None
    majority_accuracy: float | None = None
    monitor: str | None = None


Rule = Callable[[RuleContext], list[Finding]]


def _spikes(h: History) -> list[tuple[int, float, float]]:
    return grad_spikes(h.grad_norm, factor=GRAD_SPIKE_FACTOR, window=GRAD_MEDIAN_WINDOW,
                       min_history=GRAD_MIN_HISTORY)


def _has_negative_loss(h: History) -> bool:
    return bool(np.any(finite(h.train_loss) < NEGATIVE_LOSS_TOL)
                or np.any(finite(h.eval_series("loss")) < NEGATIVE_LOSS_TOL))


def _explosion(h: History) -> tuple[float, float, float, int, str] | None:
    """(start loss, peak loss, growth, non-finite count, end reason) when the loss exploded."""
    loss = h.train_loss
    x = finite(loss)
    reason = str((h.end or {}).get("reason") or "")
    # the loop stops before logging a non-finite step; its end record says so
    non_finite = int(np.sum(~np.isfinite(loss))) + int("non-finite" in reason)
    head = float(x[: max(1, math.ceil(HEAD_FRACTION * x.size))].mean()) if x.size else math.nan
    peak = float(x.max()) if x.size else math.nan
    growth = peak / head if x.size >= 2 and head > 0 else math.nan
    if non_finite or (math.isfinite(growth) and growth >= EXPLOSION_FACTOR):
        return head, peak, growth, non_finite, reason
    return None


# --- rules ----------------------------------------------------------------------------------------
def _rule_negative_loss(ctx: RuleContext) -> list[Finding]:
    h = ctx.history
    loss = h.train_loss
    neg = np.flatnonzero(np.isfinite(loss) & (loss < NEGATIVE_LOSS_TOL))
    val = finite(h.eval_series("loss"))
    n_val = int(np.sum(val < NEGATIVE_LOSS_TOL))
    if neg.size == 0 and n_val == 0:
        return []
    worst = float(min(np.min(loss[neg]) if neg.size else 0.0, np.min(val) if val.size else 0.0))
    first = h.steps[int(neg[0])].step if neg.size else None
    where = (f"{neg.size} training step(s) (first at step {first})" if neg.size else "")
    if n_val:
        where += (" and " if where else "") + f"{n_val} validation pass(es)"
    return [Finding(
        "negative_loss", "error", "The loss is negative",
        f"A cross-entropy style loss is >= 0, but {where} logged a negative loss "
        f"(lowest {worst:.4g}).",
        "Use a loss on log-probabilities (cross_entropy on logits, or nll_loss on log_softmax, "
        "not on softmax probabilities) and check the sign of any custom loss term.",
        {"negative_train_steps": int(neg.size), "first_step": first,
         "negative_eval_passes": n_val, "min_loss": worst},
    )]


def _rule_exploding_loss(ctx: RuleContext) -> list[Finding]:
    h = ctx.history
    found = _explosion(h)
    if found is None:
        return []
    head, peak, growth, non_finite, reason = found
    spikes = _spikes(h)
    spike_steps = [h.steps[i].step for i, _, _ in spikes]
    seen = []
    if math.isfinite(growth) and growth >= EXPLOSION_FACTOR:
        seen.append(f"the training loss grew from {head:.4g} (first 10% of steps) to {peak:.4g} "
                    f"({growth:.3g}x)")
    if non_finite:
        seen.append(f"training stopped: {reason}" if "non-finite" in reason
                    else f"{non_finite} step(s) logged a non-finite loss")
    if spikes:
        i, g, med = max(spikes, key=lambda s: s[1] / s[2] if math.isfinite(s[1]) else math.inf)
        seen.append(f"the gradient norm spiked above {GRAD_SPIKE_FACTOR:g}x its running median "
                    f"at {len(spikes)} step(s) (e.g. step {h.steps[i].step}: {g:.4g} vs median "
                    f"{med:.4g})")
    text = "; ".join(seen)
    return [Finding(
        "exploding_loss", "error", "The loss exploded", text[0].upper() + text[1:] + ".",
        "Lower the learning rate (e.g. 10x), keep gradient clipping on (train.clip_norm: 1.0), "
        "add warmup, and check the inputs for extreme values or bad labels near the first spike.",
        {"start_loss": head, "peak_loss": peak, "growth": growth, "non_finite": non_finite,
         "grad_spike_steps": spike_steps[:20], "end_reason": reason or None},
    )]


def _rule_trend(ctx: RuleContext) -> list[Finding]:
    """loss_not_decreasing and diverging_loss: the head-vs-tail comparison of training loss."""
    h = ctx.history
    ht = head_tail_means(h.train_loss, min_steps=MIN_STEPS_FOR_TREND,
                         head_fraction=HEAD_FRACTION, tail_fraction=TAIL_FRACTION)
    if ht is None or _has_negative_loss(h) or _explosion(h) is not None:
        return []
    head, tail = ht
    if head <= NEAR_ZERO_LOSS:
        return []
    ratio = tail / head
    n = int(finite(h.train_loss).size)
    evidence = {"head_mean": head, "tail_mean": tail, "ratio": ratio, "steps": n}
    if ratio > DIVERGING_RATIO:
        return [Finding(
            "diverging_loss", "error", "The training loss rose over the run",
            f"Mean training loss went from {head:.4g} (first 10% of {n} steps) to {tail:.4g} "
            f"(last 20%), {ratio:.2f}x the start.",
            "The learning rate is probably too high: lower it (e.g. 3-10x) or add warmup; keep "
            "gradient clipping on (train.clip_norm); check for malformed or mislabelled data.",
            evidence,
        )]
    if ratio >= NOT_DECREASING_RATIO:
        lrs = finite(np.array([s.lr for s in h.steps], dtype=np.float64))
        lr_max = float(lrs.max()) if lrs.size else math.nan
        return [Finding(
            "loss_not_decreasing", "error", "The training loss did not decrease",
            f"Mean training loss was {head:.4g} over the first 10% of {n} steps and {tail:.4g} "
            f"over the last 20% ({ratio:.3f}x): the model learned (almost) nothing. "
            f"Largest learning rate logged: {lr_max:.3g}.",
            "Check that loss.backward() and optimizer.step() run and that the optimizer holds the "
            "model's parameters (none frozen by mistake); check the learning rate is not ~0; "
            "check that labels line up with their inputs (no shuffling of one without the other).",
            {**evidence, "max_lr": lr_max},
        )]
    return []


def _rule_oscillating(ctx: RuleContext) -> list[Finding]:
    h = ctx.history
    x = finite(h.train_loss)
    if x.size < MIN_STEPS_FOR_TREND or _has_negative_loss(h) or _explosion(h) is not None:
        return []
    w = max(5, x.size // 10) | 1  # odd window: a centred moving average
    trend = moving_average(x, w)  # (S - w + 1,)
    resid = x[w // 2: w // 2 + trend.size] - trend
    half = trend.size // 2
    noise, level = float(resid[half:].std()), float(trend[half:].mean())
    ratio = noise / (level + OSCILLATION_LOSS_FLOOR)
    if ratio <= OSCILLATION_RATIO:
        return []
    spikes = _spikes(h)
    return [Finding(
        "oscillating_loss", "warning", "The training loss oscillates",
        f"Over the second half of the run the step-to-step spread of the loss around its "
        f"moving average (std {noise:.4g}) is {ratio:.2f}x its level ({level:.4g} + "
        f"{OSCILLATION_LOSS_FLOOR:g}); a stable run stays well under {OSCILLATION_RATIO:g}."
        + (f" {len(spikes)} gradient-norm spike(s) were logged." if spikes else ""),
        "Lower the learning rate (train.lr) or use a larger batch (batching.batch_size, "
        "train.grad_accum); keep gradient clipping on; look for malformed examples (empty or "
        "huge texts).",
        {"noise_std": noise, "level": level, "ratio": ratio, "window": w,
         "grad_spikes": len(spikes)},
    )]


def _rule_label_leakage(ctx: RuleContext) -> list[Finding]:
    h = ctx.history
    first = np.array([s.loss for s in h.steps if s.epoch == 0], dtype=np.float64)
    first = finite(first)
    acc = finite(h.eval_series("accuracy"))
    if first.size < LEAK_WINDOW or acc.size == 0 or _has_negative_loss(h):
        return []
    rolling = moving_average(first, LEAK_WINDOW)
    lowest = float(rolling.min())
    best_acc = float(acc.max())
    poor = best_acc < POOR_ACCURACY or (
        ctx.majority_accuracy is not None and best_acc <= ctx.majority_accuracy + MAJORITY_MARGIN)
    if lowest >= LEAK_LOSS or not poor:
        return []
    at = int(np.argmax(rolling < LEAK_LOSS)) + LEAK_WINDOW  # steps of epoch 0 until it got there
    majority = ("" if ctx.majority_accuracy is None
                else f" (majority-class rate {ctx.majority_accuracy:.3f})")
    return [Finding(
        "label_leakage_suspected", "error", "Training loss near zero in the first epoch, "
        "validation accuracy poor",
        f"The training loss averaged {lowest:.2g} over {LEAK_WINDOW} consecutive steps within "
        f"the first epoch (reached after {at} steps), yet the best validation accuracy is "
        f"{best_acc:.3f}{majority}. Seeing each example at most once, a model cannot get the "
        "training loss to ~0 unless the label can be read off the training input; that shortcut "
        "is missing in validation, so it does not generalise. (Training rows duplicated in "
        "validation would raise validation accuracy, so they are not the explanation.)",
        "Look for the label (or a proxy: an id, a rating, a file name, a label-specific "
        "template) inside the training text; make sure batches are shuffled and not sorted by "
        "label; check that train and validation come from the same distribution and "
        "preprocessing.",
        {"min_rolling_loss": lowest, "steps_to_near_zero": at, "best_val_accuracy": best_acc,
         "majority_accuracy": ctx.majority_accuracy},
    )]


LOSS_RULES: tuple[Rule, ...] = (
    _rule_negative_loss, _rule_exploding_loss, _rule_trend, _rule_oscillating, _rule_label_leakage,
)
