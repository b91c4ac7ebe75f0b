"""Learning-rate schedules: linear warmup, then constant / linear / cosine decay, or one-cycle."""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch.optim.lr_scheduler import LambdaLR, LRScheduler, OneCycleLR

from ftlab.errors import ConfigError

__all__ = ["build_scheduler", "resolve_warmup_steps"]

ScheduleName = Literal["constant", "linear", "cosine", "one_cycle"]


def resolve_warmup_steps(warmup_steps: int | float, total_steps: int) -> int:
    """Turn a warmup given as steps (int) or as a ratio of ``total_steps`` (float < 1) into steps.

    Args:
        warmup_steps: an int >= 0, or a float in [0, 1) read as a fraction (floored).
        total_steps: optimizer steps of the whole run.

    Returns:
        Warmup in optimizer steps.

    Raises:
        ConfigError: negative, a float >= 1 that is not integral, or longer than the run.
    """
    if isinstance(warmup_steps, float) and not warmup_steps.is_integer():
        if not 0.0 <= warmup_steps < 1.0:
            raise ConfigError(
                f"warmup_steps as a float is a ratio of total_steps and must be in [0, 1), "
                f"got {warmup_steps=}; give an int for a number of steps"
            )
        return int(warmup_steps * total_steps)
    steps = int(warmup_steps)
    if steps < 0 or steps > total_steps:
        raise ConfigError(
            f"warmup_steps must be in [0, total_steps={total_steps}], got {warmup_steps=}"
        )
    return steps


def _lr_factor(
    step: int, *, name: str, warmup: int, total_steps: int, min_lr_ratio: float
) -> float:
    """Multiplier of the base lr used for optimizer step ``step`` (0-based).

    Warmup rises linearly as ``(step + 1) / (warmup + 1)`` so no step is wasted at lr 0, and
    reaches the base lr at ``step == warmup``. Decay then runs from 1 to ``min_lr_ratio`` at
    ``step == total_steps`` (the last real step, ``total_steps - 1``, keeps a small positive lr).
    """
    if step < warmup:
        return (step + 1) / (warmup + 1)
    if name == "constant":
        return 1.0
    progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
    if name == "linear":
        decay = 1.0 - progress
    else:  # cosine
        decay = 0.5 * (1.0 + math.cos(math.pi * progress))
    return min_lr_ratio + (1.0 - min_lr_ratio) * decay


def build_scheduler(
    optimizer: torch.optim.Optimizer,
    *,
    name: ScheduleName,
    total_steps: int,
    warmup_steps: int | float = 0,
    min_lr_ratio: float = 0.0,
) -> LRScheduler:
    """Build a per-optimizer-step learning-rate schedule.

    Args:
        optimizer: the optimizer whose groups' current ``lr`` are the peak rates.
        name: ``"constant"`` (optional warmup, then flat), ``"linear"`` / ``"cosine"`` (warmup,
            then decay to ``min_lr_ratio * lr``), or ``"one_cycle"`` (``torch`` OneCycleLR: cosine
            up from ``lr / 25`` over the warmup - 30% of the run when ``warmup_steps`` is 0 - then
            cosine down to ``min_lr_ratio * lr``, or ``lr / 25e4`` when it is 0; momentum is not
            cycled).
        total_steps: optimizer steps of the whole run (after gradient accumulation).
        warmup_steps: steps (int) or ratio of ``total_steps`` (float < 1).
        min_lr_ratio: final lr as a fraction of the peak, in [0, 1].

    Returns:
        An ``LRScheduler``; call ``step()`` once after each optimizer step.

    Raises:
        ConfigError: unknown name, ``total_steps < 1``, bad warmup or ``min_lr_ratio``.
    """
    if name not in ("constant", "linear", "cosine", "one_cycle"):
        raise ConfigError(
            "scheduler name must be one of 'constant', 'linear', 'cosine', 'one_cycle', "
            f"got {name!r}"
        )
    if int(total_steps) < 1:
        raise ConfigError(f"scheduler total_steps must be >= 1, got {total_steps=}")
    if not 0.0 <= min_lr_ratio <= 1.0:
        raise ConfigError(f"min_lr_ratio must be in [0, 1], got {min_lr_ratio=}")
    warmup = resolve_warmup_steps(warmup_steps, int(total_steps))

    if name == "one_cycle":
        pct_start = warmup / total_steps if warmup > 0 else 0.3
        div_factor = 25.0
        final_div = 1e4 if min_lr_ratio == 0 else 1.0 / (div_factor * min_lr_ratio)
        return OneCycleLR(
            optimizer,
            max_lr=[g["lr"] for g in optimizer.param_groups],
            total_steps=int(total_steps),
            pct_start=pct_start,
            div_factor=div_factor,
            final_div_factor=final_div,
            cycle_momentum=False,  # keep the configured momentum/betas: no hidden second schedule
        )

    # A closure, not a lambda object with state: LambdaLR saves only plain state for functions.
    def factor(step: int) -> float:
        return _lr_factor(
            step, name=name, warmup=warmup, total_steps=int(total_steps), min_lr_ratio=min_lr_ratio
        )

    return LambdaLR(optimizer, lr_lambda=factor)
