"""The one mutable object of a run: TrainState (saved and restored whole) and the result of fit."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ftlab.errors import CheckpointError

__all__ = ["TrainState", "TrainResult", "GRAD_NORM_HISTORY"]

GRAD_NORM_HISTORY = 50  # grad norms kept for the non-finite diagnosis


@dataclass
class TrainState:
    """Progress of a run at an optimizer-step boundary; JSON-serialisable.

    Attributes:
        step: optimizer steps done.
        epoch: current 0-based epoch (incremented when an epoch completes).
        batches_in_epoch: micro-batches already consumed in ``epoch`` (0 = the epoch has not
            started, so ``fit`` calls ``set_epoch``; otherwise the loader's restored position
            is trusted).
        examples_seen / tokens_seen: totals over the run.
        best_metric / best_step: best value of the monitored metric and its step.
        grad_norm_history: the last ``GRAD_NORM_HISTORY`` gradient norms.
        last_good_lr: learning rate of the last finite step.
        last_metrics: metrics of the latest evaluation.
        stop_reason: why the run stopped (empty while running).
        initial_loss: the first step's training loss (the divergence check's reference).
    """

    step: int = 0
    epoch: int = 0
    batches_in_epoch: int = 0
    examples_seen: int = 0
    tokens_seen: int = 0
    best_metric: float | None = None
    best_step: int | None = None
    grad_norm_history: list[float] = field(default_factory=list)
    last_good_lr: float | None = None
    last_metrics: dict[str, float] = field(default_factory=dict)
    stop_reason: str = ""
    initial_loss: float | None = None

    def record_step(self, *, examples: int, tokens: int, grad_norm: float, lr: float) -> None:
        """Count one optimizer step taken with ``examples``/``tokens`` at learning rate ``lr``."""
        self.step += 1
        self.examples_seen += examples
        self.tokens_seen += tokens
        self.record_grad_norm(grad_norm)
        self.last_good_lr = lr

    def record_grad_norm(self, value: float) -> None:
        """Append a gradient norm, keeping only the most recent ``GRAD_NORM_HISTORY``."""
        self.grad_norm_history.append(float(value))
        del self.grad_norm_history[:-GRAD_NORM_HISTORY]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "trainer_state.json") -> TrainState:
        """Rebuild from :meth:`to_dict` output.

        Raises:
            CheckpointError: unknown or missing fields (written by another ftlab version?).
        """
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown or not isinstance(data.get("step"), int):
            raise CheckpointError(
                f"{source}: 'train_state' is not a TrainState (unknown fields {unknown}, "
                f"step={data.get('step')!r}); was it written by a different ftlab version?"
            )
        return cls(**data)


@dataclass
class TrainResult:
    """What ``fit`` returns.

    Attributes:
        state: the final TrainState.
        stop_reason: why training stopped.
        metrics: metrics of the last evaluation (empty when none ran).
        best_metric / best_step: best monitored value and its step.
        restored_best: a sentence saying where best weights were restored from, or ``None``
            when the model holds the last weights.
        last_checkpoint: directory of the last checkpoint written, if any.
    """

    state: TrainState
    stop_reason: str
    metrics: dict[str, float]
    best_metric: float | None
    best_step: int | None
    restored_best: str | None = None
    last_checkpoint: Path | None = None
