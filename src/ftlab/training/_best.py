"""The best weights of a run: which evaluation was best, and where its weights come back from
when ``fit(restore_best=True)`` ends (the best checkpoint, else an in-memory copy)."""

from __future__ import annotations

import logging
import math

import torch
from torch import nn

from ftlab.training import _distributed as dist
from ftlab.training._checkpoint import Checkpointer
from ftlab.training._state import TrainState

__all__ = ["BestWeights"]

log = logging.getLogger("ftlab.training")


def _best_in_checkpoints(checkpointer: Checkpointer | None, monitor: str | None,
                         mode: str) -> bool:
    """Whether the checkpointer keeps the best weights by the same metric as ``fit``."""
    return bool(
        checkpointer is not None and checkpointer.monitor == monitor and checkpointer.mode == mode
        and checkpointer.keep_best > 0 and checkpointer.save_on_eval
    )


class BestWeights:
    """The best value of the monitored metric and where its weights come back from at the end:
    the best checkpoint when the checkpointer ranks by the same metric, else an in-memory copy
    (kept only then, and only with ``restore``)."""

    def __init__(self, model: nn.Module, checkpointer: Checkpointer | None, *,
                 monitor: str | None, mode: str, restore: bool) -> None:
        self.model, self.monitor, self.mode, self.restore_best = model, monitor, mode, restore
        self.checkpointer = checkpointer if _best_in_checkpoints(checkpointer, monitor, mode) else None
        self.keep = restore and self.checkpointer is None
        self.weights: dict[str, torch.Tensor] | None = None

    def record(self, state: TrainState, metrics: dict[str, float]) -> None:
        """Keep the latest metrics, and the best value (and weights) of the monitored one."""
        state.last_metrics = metrics
        if self.monitor is not None and _improved(metrics[self.monitor], state.best_metric,
                                                  self.mode):
            state.best_metric, state.best_step = metrics[self.monitor], state.step
            if self.keep:
                self.weights = {k: v.detach().to("cpu", copy=True)
                                for k, v in self.model.state_dict().items()}

    def restore(self, state: TrainState) -> str | None:
        """Load the best weights when asked to (what was done, as text); ``None`` otherwise."""
        if not self.restore_best or state.best_step is None:
            return None
        return _restore_best(self.model, state, self.checkpointer, self.weights, self.monitor)


def _improved(value: float, best: float | None, mode: str) -> bool:
    if not math.isfinite(value):
        return False
    return best is None or (value > best if mode == "max" else value < best)


def _restore_best(model: nn.Module, state: TrainState, checkpointer: Checkpointer | None,
                  best_weights: dict[str, torch.Tensor] | None, monitor: str | None) -> str:
    text = _restore_best_weights(model, state, checkpointer, best_weights, monitor)
    if dist.is_main():  # only rank 0 logs
        log.info(text)
    return text


def _restore_best_weights(model: nn.Module, state: TrainState, checkpointer: Checkpointer | None,
                          best_weights: dict[str, torch.Tensor] | None,
                          monitor: str | None) -> str:
    if state.best_step == state.step:
        return f"the final weights are the best ({monitor}={state.best_metric:.4g})"
    what = f"best weights ({monitor}={state.best_metric:.4g} at step {state.best_step})"
    path = checkpointer.best_path() if checkpointer is not None else None
    if path is not None:
        from safetensors.torch import load_model

        device = next((p.device for p in model.parameters()), torch.device("cpu"))
        load_model(model, str(path / "model.safetensors"), strict=True, device=str(device))
        return f"restored {what} from {path}"
    if best_weights is not None:
        model.load_state_dict(best_weights)
        return f"restored {what} from memory"
    return (f"could not restore {what}: not in memory (best predates the resume); the model "
            "holds the last weights")
