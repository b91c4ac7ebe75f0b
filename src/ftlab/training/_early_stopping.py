"""Early stopping: an Observer that asks to stop when the monitored metric stops improving."""

from __future__ import annotations

import math
from typing import Any, Literal

from ftlab.errors import ConfigError
from ftlab.training._events import EvalEnd, StopRequest

__all__ = ["EarlyStopping"]


class EarlyStopping:
    """Stop after ``patience`` evaluations without improvement, or when ``target`` is reached.

    Args:
        monitor: the EvalEnd metric to watch.
        mode: ``"max"`` if larger is better, else ``"min"``.
        patience: evaluations without an improvement larger than ``min_delta`` before stopping.
        min_delta: the smallest change that counts as an improvement (>= 0).
        target: stop as soon as the metric reaches this value (>= for max, <= for min).

    Raises:
        ConfigError: invalid arguments; or, at the first evaluation, ``monitor`` is not among
            the metrics.
    """

    def __init__(
        self,
        monitor: str = "accuracy",
        mode: Literal["max", "min"] = "max",
        patience: int = 3,
        min_delta: float = 0.0,
        target: float | None = None,
    ) -> None:
        if mode not in ("max", "min"):
            raise ConfigError(f"EarlyStopping mode must be 'max' or 'min', got {mode!r}")
        if patience < 1:
            raise ConfigError(f"EarlyStopping patience must be >= 1, got {patience=}")
        if min_delta < 0:
            raise ConfigError(f"EarlyStopping min_delta must be >= 0, got {min_delta=}")
        self.monitor, self.mode, self.patience = monitor, mode, patience
        self.min_delta, self.target = min_delta, target
        self.best: float | None = None
        self.best_step: int | None = None
        self.bad_evals = 0

    def on_eval_end(self, event: EvalEnd) -> StopRequest | None:
        """Update the best value and the count of evaluations without improvement."""
        if self.monitor not in event.metrics:
            raise ConfigError(
                f"EarlyStopping(monitor={self.monitor!r}) but the evaluation returned only "
                f"{sorted(event.metrics)}; monitor one of those"
            )
        value = float(event.metrics[self.monitor])
        sign = 1.0 if self.mode == "max" else -1.0
        better = self.best is None or sign * (value - self.best) > self.min_delta
        if math.isfinite(value) and better:
            self.best, self.best_step, self.bad_evals = value, event.step, 0
        else:
            self.bad_evals += 1
        if self.target is not None and math.isfinite(value) and sign * (value - self.target) >= 0:
            op = ">=" if self.mode == "max" else "<="
            return StopRequest(
                f"target reached: validation {self.monitor} {value:.4g} {op} {self.target:g} "
                f"at step {event.step}"
            )
        if self.bad_evals >= self.patience:
            best = "none" if self.best is None else f"{self.best:.4g}"
            word = ">" if self.mode == "max" else "<"
            return StopRequest(
                f"no improvement in validation {self.monitor} {word} {self.min_delta:g} for "
                f"{self.bad_evals} evaluations; best {best} at step {self.best_step}"
            )
        return None

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state (best value, its step, bad evaluations)."""
        return {"best": self.best, "best_step": self.best_step, "bad_evals": self.bad_evals}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output (on resume)."""
        self.best = None if state["best"] is None else float(state["best"])
        self.best_step = None if state["best_step"] is None else int(state["best_step"])
        self.bad_evals = int(state["bad_evals"])
