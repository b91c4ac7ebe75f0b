"""Guards of the training loop beyond the non-finite training loss: a divergence check (a loss
that explodes without becoming NaN) and the validation check (a non-finite or exploded
validation loss or metric is a failed evaluation, never a "best" checkpoint).

Both stop the run the way a NaN training loss does: ``diagnosis.json`` in the run directory, a
``TrainEnd`` event for the observers, and a :class:`~ftlab.errors.TrainingError` whose message
holds the diagnosis.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ftlab.core import atomic_write_json
from ftlab.errors import TrainingError
from ftlab.training._events import TrainEnd, notify
from ftlab.training._state import TrainState

__all__ = ["check_divergence", "check_evaluation"]

_FIXES = ("lower the learning rate (train.lr) or lengthen warmup, keep clip_norm set, and check "
          "the data; if the loss legitimately grows this much, raise train.divergence_factor "
          "(or set it to null to disable the check)")


def check_divergence(state: TrainState, loss: float, factor: float | None, *, lr: float,
                     run_dir: Path | None, observers: Sequence[object],
                     window: Sequence[Any] = ()) -> None:
    """Record the first step's loss; stop when a later training loss exceeds ``factor`` times it.

    Called before the optimizer step, so the step that diverged is not taken and not saved.
    ``window`` holds the step's batches (their example indices go into the diagnosis).

    Raises:
        TrainingError: the loss diverged (diagnosis written to ``run_dir/diagnosis.json``).
    """
    if not math.isfinite(loss):
        return  # the non-finite guard reports it
    if state.initial_loss is None:
        state.initial_loss = float(loss)
        return
    limit = _limit(state, factor)
    if limit is not None and loss > limit:
        _stop(state, problem="diverged: training loss exploded", step=state.step + 1,
              detail=f"training loss {loss:.4g} at step {state.step + 1} is more than "
                     f"train.divergence_factor={factor:g} x the initial loss "
                     f"{state.initial_loss:.4g}; the optimizer step was NOT taken",
              values={"loss": loss}, lr=lr, run_dir=run_dir, observers=observers,
              examples=[int(i) for b in window for i in b.index.tolist()])


def check_evaluation(state: TrainState, metrics: Mapping[str, float], factor: float | None, *,
                     lr: float, run_dir: Path | None, observers: Sequence[object]) -> None:
    """A validation result with a non-finite value (or a loss past the divergence limit) is a
    failed evaluation: the run stops before it can be ranked best or checkpointed.

    Raises:
        TrainingError: with the diagnosis (also in ``run_dir/diagnosis.json``).
    """
    bad = sorted(k for k, v in metrics.items() if not math.isfinite(float(v)))
    if bad:
        _stop(state, problem=f"non-finite validation {', '.join(bad)}", step=state.step,
              detail=f"validation at step {state.step} gave non-finite "
                     f"{', '.join(f'{k}={metrics[k]!r}' for k in bad)} (the weights hold NaN/inf "
                     "or overflowed); this evaluation is not ranked and no checkpoint was written "
                     "for it", values=dict(metrics), lr=lr, run_dir=run_dir, observers=observers)
    limit = _limit(state, factor)
    loss = metrics.get("loss")
    if limit is not None and loss is not None and float(loss) > limit:
        _stop(state, problem="diverged: validation loss exploded", step=state.step,
              detail=f"validation loss {float(loss):.4g} at step {state.step} is more than "
                     f"train.divergence_factor={factor:g} x the initial training loss "
                     f"{state.initial_loss:.4g}; this evaluation is not ranked and no checkpoint "
                     "was written for it", values=dict(metrics), lr=lr, run_dir=run_dir,
              observers=observers)


def _limit(state: TrainState, factor: float | None) -> float | None:
    if factor is None or state.initial_loss is None:
        return None
    # a near-zero first loss (an easy batch) must not make every later loss "diverged"
    return factor * max(state.initial_loss, 1e-3)


def _stop(state: TrainState, *, problem: str, step: int, detail: str, values: dict[str, Any],
          lr: float, run_dir: Path | None, observers: Sequence[object],
          examples: Sequence[int] = ()) -> None:
    diagnosis = {
        "problem": problem,
        "step": step,
        "epoch": state.epoch,
        "values": {k: repr(v) for k, v in values.items()},
        "initial_loss": state.initial_loss,
        "lr": lr,
        "last_good_lr": state.last_good_lr,
        "grad_norm_history": state.grad_norm_history[-20:],
        "example_indices": [int(i) for i in examples],
        "fixes": _FIXES,
    }
    text = (f"{problem} at step {step} (epoch {state.epoch}): {detail}; lr={lr:.3g}, recent grad "
            f"norms={[round(g, 4) for g in state.grad_norm_history[-10:]]}; fix: {_FIXES}")
    if run_dir is not None:
        try:
            atomic_write_json(run_dir / "diagnosis.json", diagnosis)
            text += f"; diagnosis written to {run_dir / 'diagnosis.json'}"
        except OSError as exc:  # the diagnosis is in the message anyway
            text += f"; (diagnosis.json could not be written: {exc.strerror or exc})"
    state.stop_reason = f"{problem} at step {step}"
    notify(observers, TrainEnd(state.step, state.epoch, state.stop_reason, state.best_metric,
                               state.best_step))
    raise TrainingError(text)
