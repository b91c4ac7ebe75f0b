"""``ftlab find-lr``: the learning-rate range test (Smith 2017, "Cyclical Learning Rates";
popularised by fastai's ``lr_find``).

The learning rate grows exponentially from ``start`` to ``end`` over ``steps`` optimizer steps
while the training loss is recorded; the model, optimizer, gradients and global RNG state are
restored afterwards, exactly. The loss is smoothed with a bias-corrected exponential moving
average, and the test stops once the smoothed loss exceeds ``diverge`` times its best value.

Which learning rate is suggested, and why: the **steepest descent** of the smoothed loss
against ``log10(lr)``, taken between the first points (where the average is still settling) and
the minimum of the curve. There the loss falls fastest per decade of learning rate: large enough
to make quick progress, still below where the steps become unstable. The other classic reading,
**one tenth of the learning rate at the minimum** (the minimum itself is already on the edge of
divergence), is reported alongside; it depends on where the lagging average bottoms out, which
is why it is not the default. No suggestion is made when the
loss never fell clearly below its starting value: the range test then says nothing about the
learning rate, and the usual causes are broken data or labels or a range that starts too high.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ftlab.config import RunConfig
from ftlab.errors import ConfigError

__all__ = ["LRRangeResult", "lr_range_test", "find_lr", "MIN_DROP"]

# the smoothed loss must fall at least this share below its start to count as "falling"
MIN_DROP = 0.01


@dataclass(frozen=True)
class LRRangeResult:
    """The curve of a learning-rate range test and its reading.

    Attributes:
        lrs: learning rate of each step taken (of the first param group).
        losses: raw training loss of each step.
        smoothed: bias-corrected EMA of ``losses``.
        suggestion: the suggested learning rate (the steepest descent), or None (see ``reason``).
        steepest_lr: lr where the smoothed loss falls fastest per decade (None when undefined).
        min_loss_lr: lr at the lowest smoothed loss.
        min_over_10: ``min_loss_lr / 10``, the other classic reading.
        reason: how the suggestion was chosen, or why there is none.
        stop_reason: why the test ended (all steps, divergence, a non-finite loss).
        start / end / steps: the requested range.
    """

    lrs: tuple[float, ...]
    losses: tuple[float, ...]
    smoothed: tuple[float, ...]
    suggestion: float | None
    steepest_lr: float | None
    min_loss_lr: float | None
    min_over_10: float | None
    reason: str
    stop_reason: str
    start: float
    end: float
    steps: int

    def format(self) -> str:
        """A plain-text report for the terminal."""
        lines = [f"learning-rate range test: {len(self.lrs)} of {self.steps} steps, lr "
                 f"{self.start:.3g} -> {self.lrs[-1] if self.lrs else self.start:.3g} "
                 f"({self.stop_reason})"]
        if self.smoothed:
            i = int(np.argmin(self.smoothed))
            lines.append(f"  smoothed loss: start {self.smoothed[0]:.4g}, lowest "
                         f"{self.smoothed[i]:.4g} at lr {self.lrs[i]:.3g}")
        if self.suggestion is not None:
            lines.append(f"  suggested lr: {self.suggestion:.3g} ({self.reason})")
            if self.min_over_10 is not None:
                lines.append(f"  alternative: {self.min_over_10:.3g} "
                             f"(lr at the lowest loss / 10)")
        else:
            lines.append(f"  no suggestion: {self.reason}")
        return "\n".join(lines)

    def plot_png(self) -> bytes:
        """The curve as PNG bytes: raw and smoothed loss over a log learning-rate axis, the
        suggestion marked."""
        from ftlab.report import figure_png as _png
        from ftlab.report import new_figure as _figure

        fig = _figure(6.4, 4.0, left=0.11, bottom=0.13, top=0.9)
        ax = fig.add_subplot(1, 1, 1)
        ax.plot(self.lrs, self.losses, color="0.7", linewidth=0.8, label="loss")
        ax.plot(self.lrs, self.smoothed, color="C0", linewidth=1.8, label="smoothed (EMA)")
        ax.set_xscale("log")
        if self.smoothed:
            low, first = min(self.smoothed), self.smoothed[0]
            top = max(first, max(self.smoothed[: int(np.argmin(self.smoothed)) + 1]))
            pad = 0.1 * (top - low) if top > low else 0.1 * abs(top) + 1e-3
            ax.set_ylim(low - pad, top + 3 * pad)
        if self.suggestion is not None:
            ax.axvline(self.suggestion, color="C3", linestyle="--",
                       label=f"suggestion {self.suggestion:.2g}")
            if self.min_over_10 is not None:
                ax.axvline(self.min_over_10, color="C2", linestyle=":",
                           label=f"min / 10 = {self.min_over_10:.2g}")
        ax.set_xlabel("learning rate (log scale)")
        ax.set_ylabel("training loss")
        ax.set_title("learning-rate range test" + ("" if self.suggestion is not None
                                                   else " (no suggestion)"))
        ax.legend(loc="upper left", fontsize=8)
        return _png(fig)


def _check(start: float, end: float, steps: int, beta: float, diverge: float, accum: int) -> None:
    problems = []
    if not (start > 0 and end > start):
        problems.append(f"need 0 < --start < --end, got start={start}, end={end}")
    if steps < 10:
        problems.append(f"--steps must be >= 10 for a readable curve, got {steps}")
    if not 0 <= beta < 1:
        problems.append(f"the smoothing factor must be in [0, 1), got {beta}")
    if diverge <= 1:
        problems.append(f"the divergence factor must be > 1, got {diverge}")
    if accum < 1:
        problems.append(f"grad_accum must be >= 1, got {accum}")
    if problems:
        raise ConfigError("learning-rate range test: " + "; ".join(problems))


def _cycle(batches: Iterable[Any]) -> Iterator[Any]:
    while True:
        empty = True
        for b in batches:
            empty = False
            yield b
        if empty:
            raise ConfigError("learning-rate range test: the batches are empty; check the "
                              "training split and the batching settings")


def _read_curve(lrs: list[float], smoothed: list[float]) -> tuple[Any, ...]:
    """(suggestion, steepest, min_lr, min_over_10, reason) from the smoothed curve."""
    if len(smoothed) < 3:
        return None, None, None, None, (
            f"the loss diverged after {len(smoothed)} steps, at lr {lrs[-1]:.3g}: "
            f"start lower (--start) or check the data and the model")
    imin = int(np.argmin(smoothed))
    first = smoothed[0]
    if not first - smoothed[imin] > MIN_DROP * abs(first):
        return None, None, None, None, (
            f"the loss never fell below its starting value (smoothed {first:.4g}, lowest "
            f"{smoothed[imin]:.4g}) between lr {lrs[0]:.3g} and {lrs[-1]:.3g}: check the "
            f"data/labels (ftlab data inspect) or widen the range (--start lower, --end higher)")
    min_lr = lrs[imin]
    skip = max(1, len(smoothed) // 20)  # the first points: the average is still settling
    if imin - skip >= 2:
        x = np.log10(np.asarray(lrs[skip: imin + 1]))
        slope = np.gradient(np.asarray(smoothed[skip: imin + 1]), x)
        steepest = lrs[skip + int(np.argmin(slope))]
        return steepest, steepest, min_lr, min_lr / 10, (
            "steepest descent of the smoothed loss per decade of learning rate")
    return min_lr / 10, None, min_lr, min_lr / 10, (
        "the loss bottomed out too early to measure a slope: lr at the lowest loss / 10")


def lr_range_test(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    batches: Iterable[Any],
    step_loss: Callable[[torch.nn.Module, Any], torch.Tensor],
    *,
    start: float = 1e-7,
    end: float = 10.0,
    steps: int = 200,
    beta: float = 0.98,
    diverge: float = 4.0,
    grad_accum: int = 1,
    clip_norm: float | None = None,
) -> LRRangeResult:
    """Run a learning-rate range test and restore the model and optimizer exactly.

    Step ``i`` uses ``lr_i = start * (end / start) ** (i / (steps - 1))``; param groups with
    their own learning rates keep their ratios to the first group. The global RNG states
    (Python, NumPy, torch), the weights, the gradients, the optimizer state and param groups and
    the train/eval mode are all put back afterwards, even on error.

    Args:
        model: the model to probe.
        optimizer: its optimizer (any torch optimizer).
        batches: training batches; iterated again when exhausted.
        step_loss: ``step_loss(model, batch)`` -> the mean loss of the batch (a scalar tensor).
        start: first learning rate.
        end: last learning rate.
        steps: number of optimizer steps (>= 10).
        beta: EMA smoothing factor of the loss (0.98 as fastai).
        diverge: stop when the smoothed loss exceeds ``diverge`` x its lowest value.
        grad_accum: batches accumulated per optimizer step (as in training).
        clip_norm: gradient clipping as in training (None: off).

    Returns:
        An :class:`LRRangeResult`; ``suggestion`` is None when the loss never fell.

    Raises:
        ConfigError: invalid range or settings, or no batches.
    """
    from ftlab.training import rng_state, set_rng_state

    _check(start, end, steps, beta, diverge, grad_accum)
    params = [p for g in optimizer.param_groups for p in g["params"]]
    saved_model = {k: v.detach().clone() for k, v in model.state_dict().items()}
    saved_opt = copy.deepcopy(optimizer.state_dict())
    saved_grads = [None if p.grad is None else p.grad.detach().clone() for p in params]
    saved_rng = rng_state()
    was_training = model.training
    base = [float(g["lr"]) for g in optimizer.param_groups]
    ratios = [b / base[0] if base[0] else 1.0 for b in base]
    lrs: list[float] = []
    losses: list[float] = []
    smoothed: list[float] = []
    stop_reason = f"all {steps} steps"
    avg, best = 0.0, math.inf
    source = _cycle(batches)
    try:
        model.train()
        for i in range(steps):
            lr = start * (end / start) ** (i / (steps - 1))
            for group, r in zip(optimizer.param_groups, ratios):
                group["lr"] = lr * r
            optimizer.zero_grad(set_to_none=True)
            total = 0.0
            for _ in range(grad_accum):
                loss = step_loss(model, next(source)) / grad_accum
                total += float(loss.detach())
                if not math.isfinite(total):
                    break
                loss.backward()
            if not math.isfinite(total):
                stop_reason = f"non-finite loss at lr {lr:.3g}"
                break
            if clip_norm is not None:
                torch.nn.utils.clip_grad_norm_(params, clip_norm)
            optimizer.step()
            lrs.append(lr)
            losses.append(total)
            avg = beta * avg + (1 - beta) * total
            smooth = avg / (1 - beta ** (i + 1))  # bias correction: unbiased from step 1
            smoothed.append(smooth)
            best = min(best, smooth)
            if smooth > diverge * best:
                stop_reason = (f"diverged at lr {lr:.3g} (smoothed loss {smooth:.4g} > "
                               f"{diverge:g} x best {best:.4g})")
                break
    finally:
        model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_opt)
        for p, g in zip(params, saved_grads):
            p.grad = g
        set_rng_state(saved_rng)
        model.train(was_training)
    # the point that triggered the divergence stop is past the useful range
    usable = len(smoothed) - (1 if stop_reason.startswith("diverged") else 0)
    if lrs:
        suggestion, steepest, min_lr, min10, reason = _read_curve(lrs[:max(usable, 1)],
                                                                  smoothed[:max(usable, 1)])
    else:
        suggestion = steepest = min_lr = min10 = None
        reason = (f"no step could be taken ({stop_reason}): start lower (--start) or check the "
                  f"data and the model")
    return LRRangeResult(
        lrs=tuple(lrs), losses=tuple(losses), smoothed=tuple(smoothed), suggestion=suggestion,
        steepest_lr=steepest, min_loss_lr=min_lr, min_over_10=min10, reason=reason,
        stop_reason=stop_reason, start=start, end=end, steps=steps,
    )


def find_lr(
    config: RunConfig,
    *,
    start: float = 1e-7,
    end: float = 10.0,
    steps: int = 200,
    device: str | None = None,
    beta: float = 0.98,
    diverge: float = 4.0,
) -> LRRangeResult:
    """The range test on a run config: its data, batching, model, optimizer and loss.

    Uses the config's optimizer (its ``train.lr`` is replaced by the swept rate), batch size,
    gradient accumulation, clipping and precision; the schedule is not used. Nothing is written.

    Args:
        config: the run config.
        start / end / steps / beta / diverge: as :func:`lr_range_test`.
        device: ``cpu``/``cuda``; None uses ``train.device``.

    Raises:
        ConfigError, DataError: as for ``ftlab train --dry-run``, or an invalid range.
    """
    from ftlab.runs import build_train_loader
    from ftlab.toolbelt._pieces import build_pieces

    _check(start, end, steps, beta, diverge, config.train.grad_accum)
    pieces = build_pieces(config, device=device)
    loader = build_train_loader(pieces.train, config.batching, seed=config.seed_for("order"),
                                pad_id=pieces.pad_id)
    dev, dtype = pieces.device, pieces.autocast

    def step_loss(model: torch.nn.Module, batch: Any) -> torch.Tensor:
        batch = batch.to(dev)
        with torch.autocast(dev.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            logits = model(batch)  # (B, C)
        return pieces.loss_fn(logits.float(), batch.labels) / len(batch)

    return lr_range_test(
        pieces.model, pieces.make_optimizer(pieces.model), loader, step_loss, start=start,
        end=end, steps=steps, beta=beta, diverge=diverge, grad_accum=config.train.grad_accum,
        clip_norm=config.train.clip_norm,
    )
