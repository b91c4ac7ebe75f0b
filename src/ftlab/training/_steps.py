"""The step plan: which optimizer steps a run takes, planned once before training.

The scheduler is sized from :attr:`StepPlan.total_steps` and ``fit`` executes exactly this plan,
so a linear or cosine schedule ends at its final value when the run ends. With a token budget
(``max_tokens``) the number of batches changes from epoch to epoch; each epoch's step count is
then taken from the batch source's plan for that epoch (``epoch_length(epoch)``), never from
the current epoch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["StepPlan", "plan_steps"]


@dataclass(frozen=True)
class StepPlan:
    """The optimizer steps of one run.

    Attributes:
        epochs: epochs requested.
        grad_accum: micro-batches per optimizer step.
        max_steps: the step limit (``None``: none).
        batches_per_epoch: micro-batches of each planned epoch (on this rank). When
            ``max_steps`` ends the run early, only the epochs up to that step are listed.
    """

    epochs: int
    grad_accum: int
    max_steps: int | None
    batches_per_epoch: tuple[int, ...]

    @property
    def steps_per_epoch(self) -> tuple[int, ...]:
        """Optimizer steps of each planned epoch (the last window of an epoch may be short)."""
        return tuple(math.ceil(n / self.grad_accum) for n in self.batches_per_epoch)

    @property
    def total_steps(self) -> int:
        """Optimizer steps the run takes unless an observer stops it early."""
        steps = sum(self.steps_per_epoch)
        return steps if self.max_steps is None else min(steps, self.max_steps)

    @property
    def ends_at_max_steps(self) -> bool:
        """Whether ``max_steps`` (not the last epoch) ends the run."""
        return self.max_steps is not None and self.max_steps <= sum(self.steps_per_epoch)

    def batches_in(self, epoch: int) -> int:
        """Micro-batches of ``epoch`` (0-based) in the plan."""
        return self.batches_per_epoch[epoch]

    def done(self, step: int, epoch: int) -> bool:
        """Whether a run at optimizer ``step`` entering ``epoch`` (0-based) has taken the plan."""
        return step >= self.total_steps or epoch >= len(self.batches_per_epoch)

    def finished_reason(self) -> str:
        """The stop reason of a run that took every planned step."""
        if self.ends_at_max_steps:
            return f"max_steps reached ({self.max_steps})"
        return f"completed {self.epochs} epoch{'s' if self.epochs != 1 else ''}"


def _epoch_length(train: Any, epoch: int) -> int:
    length = getattr(train, "epoch_length", None)
    return int(length(epoch)) if callable(length) else len(train)


def plan_steps(train: Any, *, epochs: int, grad_accum: int = 1,
               max_steps: int | None = None) -> StepPlan:
    """Plan the optimizer steps of ``epochs`` epochs over ``train`` (at most ``max_steps``).

    Args:
        train: the batch source. When it has ``epoch_length(epoch) -> int`` (``Loader`` and
            ``BucketBatchSampler`` do), each epoch's batch count comes from its own plan;
            otherwise every epoch has ``len(train)`` batches.
        epochs: epochs to train (>= 1).
        grad_accum: micro-batches per optimizer step (>= 1).
        max_steps: stop after this many optimizer steps (``None``: train all epochs).

    Returns:
        The plan; ``plan.total_steps`` sizes the learning-rate schedule.
    """
    batches: list[int] = []
    steps = 0
    for epoch in range(epochs):
        if max_steps is not None and steps >= max_steps:
            break  # max_steps ends the run before this epoch
        n = _epoch_length(train, epoch)
        batches.append(n)
        steps += math.ceil(n / grad_accum)
    return StepPlan(epochs=epochs, grad_accum=grad_accum, max_steps=max_steps,
                    batches_per_epoch=tuple(batches))
