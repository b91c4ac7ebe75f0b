"""A wall-clock training budget: an Observer that stops ``fit`` once the budget is spent."""

from __future__ import annotations

import time
from typing import Any

from ftlab.errors import ConfigError
from ftlab.training._events import StepEnd, StopRequest, TrainStart

__all__ = ["TimeBudget"]


class TimeBudget:
    """Stop after ``seconds`` of training wall-clock time, with a final evaluation.

    The clock runs from ``TrainStart`` and is checked after every optimizer step, so the run
    overshoots by at most one step (plus the final evaluation and checkpoint). Time spent before
    an interruption is carried in the checkpoint: a resumed run gets only what is left.
    The stop asks ``fit`` to evaluate the final weights first, so a run cut mid-epoch still
    ends with a validation score of what it trained.

    Args:
        seconds: the budget (> 0).

    Raises:
        ConfigError: a budget that is not positive.
    """

    def __init__(self, seconds: float) -> None:
        if not seconds > 0:
            raise ConfigError(f"TimeBudget seconds must be > 0, got {seconds!r}")
        self.seconds = float(seconds)
        self.spent_before = 0.0  # seconds used by earlier (interrupted) processes of this run
        self._t0: float | None = None

    def elapsed(self) -> float:
        """Seconds of the budget used so far, earlier processes included."""
        now = time.monotonic() - self._t0 if self._t0 is not None else 0.0
        return self.spent_before + now

    def on_train_start(self, event: TrainStart) -> None:
        """Start the clock."""
        self._t0 = time.monotonic()

    def on_step_end(self, event: StepEnd) -> StopRequest | None:
        """Ask to stop (with a final evaluation) once the budget is spent."""
        if self.elapsed() >= self.seconds:
            return StopRequest(
                f"time budget of {self.seconds / 60:g} min spent after step {event.step}",
                final_eval=True,
            )
        return None

    def state_dict(self) -> dict[str, Any]:
        """The seconds spent so far."""
        return {"spent": self.elapsed()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the seconds spent (on resume)."""
        self.spent_before = float(state["spent"])
        self._t0 = None
