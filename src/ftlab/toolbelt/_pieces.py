"""What the probes need from a config: training data, model, optimizer factory, step loss.

Built the way :func:`ftlab.runs.dry_run` builds them (same builders, same seeds), and nothing
is written to disk.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ftlab.config import RunConfig
from ftlab.errors import ConfigError

__all__ = ["Pieces", "build_pieces", "autocast_dtype"]


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


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype of ``train.precision`` (None for fp32), as the training loop uses."""
    if precision == "fp32":
        return None
    if precision == "fp16" and device.type != "cuda":
        raise ConfigError(f"train.precision: fp16 needs a CUDA device, got device {device}; "
                          f"use bf16 or fp32 (--set train.precision=fp32)")
    return torch.bfloat16 if precision == "bf16" else torch.float16


def build_pieces(config: RunConfig, *, device: str | None = None) -> Pieces:
    """Load and encode the data, build the model on ``device`` and the optimizer factory.

    Args:
        config: the run config.
        device: ``cpu``/``cuda``/``auto``; None uses ``train.device``.

    Raises:
        ConfigError, DataError: as for ``ftlab train --dry-run``.
    """
    from ftlab.batching import class_weights
    from ftlab.models import classification_loss
    from ftlab.runs import build_model_for, resolve_device
    from ftlab.runs import prepare_data
    from ftlab.training import build_optimizer, seed_everything

    dev = resolve_device(device or config.train.device)
    seed_everything(config.seed_for("init"), deterministic=config.train.deterministic)
    prepared = prepare_data(config, augment=True)
    encoder, encoded = prepared.encoder, prepared.encoded
    train: Sequence[Any] = encoded["train"]
    if not train:
        raise ConfigError("the training split is empty; check data.source and data.split")
    num_classes = encoder.labels.num_classes
    text_pairs = any(e.pair_ids is not None for e in train)
    model, _ = build_model_for(config, encoder, num_classes, text_pairs=text_pairs)
    model.to(dev)
    weights = None
    if config.batching.class_weights != "none":
        weights = class_weights([e.label for e in train], num_classes,
                                scheme=config.batching.class_weights).to(dev)

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
        config=config, train=list(train), pad_id=encoder.tokenizer.pad_id, model=model,
        device=dev, make_optimizer=make_optimizer,
        loss_fn=functools.partial(classification_loss, class_weights=weights, reduction="sum"),
        autocast=autocast_dtype(config.train.precision, dev),
    )
