"""Resuming a run with new values of the hyperparameters that may change mid-run.

Population-based training (``ftlab tune --backend ray --scheduler pbt``) continues a trial from
another trial's checkpoint with perturbed hyperparameters. Only a few fields can change without
making the checkpoint unfit for the rebuilt objects: :data:`RETUNABLE`. ``resume_run(run_dir,
retune={...})`` writes them into the run's config and, after the checkpoint is restored, puts the
freshly built optimizer's hyperparameters back into the restored optimizer and scheduler
(:class:`RetuneOptimizer`), since restoring the optimizer state would bring the old ones back.

This is a library path for tuners, not a ``ftlab train --resume`` option: a user resuming a run
keeps the narrower override whitelist of :func:`ftlab.runs.resume_run`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from ftlab.config import RunConfig, parse_config
from ftlab.errors import ConfigError

__all__ = ["RETUNABLE", "RetuneOptimizer", "retuned_config"]

# Fields a resumed run may change: rebuilt objects still fit the checkpoint. The optimizer's
# values are re-applied by RetuneOptimizer; dropout and clipping are read when the model and the
# loop are built.
RETUNABLE = ("train.lr", "train.weight_decay", "train.momentum", "train.clip_norm",
             "model.dropout")
# param-group keys copied from the freshly built optimizer into the restored one
_GROUP_KEYS = ("initial_lr", "max_lr", "min_lr", "weight_decay", "momentum")


def retuned_config(config: RunConfig, values: Mapping[str, Any], *, origin: str) -> RunConfig:
    """``config`` with the retunable ``values`` (dotted keys) set.

    Raises:
        ConfigError: a key is not in :data:`RETUNABLE`, or the new config is invalid.
    """
    from ftlab.config import set_dotted

    bad = sorted(k for k in values if k not in RETUNABLE)
    if bad:
        raise ConfigError(f"{origin}: cannot change {bad} in a resumed run (the checkpoint would "
                          f"not fit); fields that may change mid-run: {', '.join(RETUNABLE)}")
    raw = config.model_dump(mode="json")
    for key, value in values.items():
        set_dotted(raw, key, value)
    return parse_config(raw, origin=origin)


class RetuneOptimizer:
    """Observer that, when a resumed run starts, replaces the restored optimizer's
    hyperparameters (peak lr, weight decay, momentum) by those of the optimizer built from the
    new config, and moves the scheduler to the new peak learning rates at the restored step.

    Build it right after the optimizer and scheduler, before the checkpoint is restored (it
    records the new values then).

    Args:
        optimizer: the optimizer built from the new config.
        scheduler: its learning-rate scheduler (``None``: the lr is set directly).
    """

    def __init__(self, optimizer: Any, scheduler: Any = None) -> None:
        self.optimizer, self.scheduler = optimizer, scheduler
        self._groups = [{k: g[k] for k in _GROUP_KEYS + ("lr",) if k in g}
                        for g in optimizer.param_groups]
        self.applied = False

    def on_train_start(self, event: Any) -> None:
        """After the restore: put the new hyperparameters back (resumed runs only)."""
        if event.resumed_from_step is None:
            return
        groups = self.optimizer.param_groups
        if len(groups) != len(self._groups):
            raise ConfigError(f"the restored optimizer has {len(groups)} parameter groups but "
                              f"the rebuilt one {len(self._groups)}; only {', '.join(RETUNABLE)} "
                              "may change when resuming")
        for group, new in zip(groups, self._groups):
            group.update({k: v for k, v in new.items() if k != "lr"})
        sched = self.scheduler
        if sched is None:
            for group, new in zip(groups, self._groups):
                group["lr"] = new["lr"]
        else:
            if hasattr(sched, "base_lrs"):
                sched.base_lrs = [g.get("initial_lr", g["lr"]) for g in groups]
            with warnings.catch_warnings():  # get_lr() outside step() warns; here it is meant
                warnings.simplefilter("ignore")
                lrs = sched.get_lr()  # the schedule's value at the restored step
            for group, lr in zip(groups, lrs):
                group["lr"] = lr
            sched._last_lr = [float(g["lr"]) for g in groups]
        self.applied = True
