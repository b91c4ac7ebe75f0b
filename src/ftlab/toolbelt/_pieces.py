"""What the probes need from a config: training data, model, optimizer factory, step loss.

Assembled by :func:`ftlab.runs._assemble.build_run`, as ``ftlab train`` and its dry run
assemble a run (same builders, same seeds); nothing is written to disk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ftlab.config import RunConfig
from ftlab.errors import ConfigError

__all__ = ["Pieces", "build_pieces"]


@dataclass
class Pieces:
    """The training side of a run, built from its config (no run directory)."""

    config: RunConfig
    train: list[Any]  # list[Encoded] of the training split
    pad_id: int
    model: torch.nn.Module
    device: torch.device
    make_optimizer: Callable[[torch.nn.Module], torch.optim.Optimizer]
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # summed over the batch
    autocast: torch.dtype | None


def build_pieces(config: RunConfig, *, device: str | None = None) -> Pieces:
    """Load and encode the data, build the model on ``device`` and the optimizer factory.

    Args:
        config: the run config.
        device: ``cpu``/``cuda``/``auto``; None uses ``train.device``.

    Raises:
        ConfigError, DataError: as for ``ftlab train --dry-run``.
    """
    from ftlab.runs import build_run, resolve_device
    from ftlab.training import autocast_dtype, build_optimizer

    parts = build_run(config, resolve_device(device or config.train.device), optimization=False)
    train: Sequence[Any] = parts.encoded["train"]
    if not train:
        raise ConfigError("the training split is empty; check data.source and data.split")

    def make_optimizer(m: torch.nn.Module) -> torch.optim.Optimizer:
        # build_optimization without the schedule (a schedule's constructor rescales the lr):
        # the probes need the optimizer at the config's peak learning rate
        t = config.train
        groups_of = getattr(m, "optimizer_groups", None)
        groups = groups_of(t.lr) if callable(groups_of) else None
        return build_optimizer(m if groups is None else groups, name=t.optimizer, lr=t.lr,
                               weight_decay=t.weight_decay, momentum=t.momentum,
                               nesterov=t.nesterov, betas=t.betas)

    return Pieces(
        config=config, train=list(train), pad_id=parts.encoder.tokenizer.pad_id,
        model=parts.model, device=parts.device, make_optimizer=make_optimizer,
        loss_fn=parts.loss_fn, autocast=autocast_dtype(config.train.precision, parts.device),
    )
