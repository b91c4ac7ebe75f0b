"""Resuming a run with new values of the hyperparameters that may change mid-run.

Population-based training (``ftlab tune --backend ray --scheduler pbt``) continues a trial from
another trial's checkpoint with perturbed hyperparameters. Only a few fields can change without
making the checkpoint unfit for the rebuilt objects: :data:`RETUNABLE`. ``resume_run(run_dir,
retune={...})`` writes them into the run's config and hands the freshly built optimizer's
hyperparameters (:func:`retune_groups`) to ``fit(..., retune=...)``, which puts them over the
restored optimizer and scheduler right after the restore (restoring the optimizer state would
bring the old ones back). No observer changes training state.

This is a library path for tuners, not a ``ftlab train --resume`` option: a user resuming a run
keeps the narrower override whitelist of :func:`ftlab.runs.resume_run`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ftlab.config import RunConfig, parse_config
from ftlab.errors import ConfigError

__all__ = ["RETUNABLE", "retune_groups", "retuned_config"]

# Fields a resumed run may change: rebuilt objects still fit the checkpoint. The optimizer's
# values are re-applied by fit(retune=...); dropout and clipping are read when the model and the
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


def retune_groups(optimizer: Any) -> list[dict[str, Any]]:
    """The hyperparameters of each parameter group of ``optimizer``, freshly built from the
    retuned config, for ``fit(..., retune=...)`` to put over the restored optimizer's values.

    Take them before ``fit`` restores the checkpoint into ``optimizer``.
    """
    return [{k: g[k] for k in _GROUP_KEYS + ("lr",) if k in g} for g in optimizer.param_groups]
