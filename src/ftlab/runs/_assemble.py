"""One run assembly: config -> data, encoder, loaders, model, loss, step plan, optimizer.

Every command that needs a run's pieces builds them here, in the same order with the same
seeds: ``ftlab train`` (and its resume), ``ftlab train --dry-run``, the toolbelt probes,
``ftlab evaluate`` / predict / export (:func:`ftlab.runs.load_run_model`) and ensembles. The
learning-rate schedule is sized from the same :class:`~ftlab.training.StepPlan` that ``fit``
executes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ftlab.config import RunConfig
from ftlab.runs._builders import (
    build_eval_loader,
    build_model_for,
    build_optimization,
    build_train_loader,
    check_model_family,
)
from ftlab.runs._prepare import PreparedData, prepare_data

__all__ = ["RunParts", "build_run", "PROMPT_FILE"]

# A prompt run's demonstrations, next to the saved encoder: what the model showed, reloadable
# without the data (``load_run_model``).
PROMPT_FILE = "prompt.json"


@dataclass
class RunParts:
    """The assembled pieces of one run.

    Attributes:
        config: the run's config.
        device: where the model lives.
        rank, world: this process's rank and the number of processes (torchrun).
        encoder: the fitted (or loaded) ``TextEncoder``.
        prepared: the data stage's output (``None`` when built from a run directory without
            data, as :func:`load_run_model` does).
        text_pairs: whether pairs are encoded separately (the model encodes both sides).
        model: the model on ``device`` (never DDP-wrapped: what checkpoints and evaluation see).
        train_model: what ``fit`` trains: ``model`` wrapped in ``DistributedDataParallel`` when
            ``world > 1``, else ``model``.
        coverage: GloVe coverage of the vocabulary (``None`` without GloVe).
        threads: torch's intra-op CPU threads for this run (``train.threads``, else
            ``OMP_NUM_THREADS``, else torch's default), set by :func:`build_run`.
        loss_fn: ``loss_fn(logits, labels)`` summed over the batch, with the class weights.
        train_loader, val_loader: the resumable training loader and the validation batches
            (``None`` without data).
        plan: the optimizer steps the run takes (``None`` without an optimizer).
        optimizer, scheduler: built on ``model``; the scheduler sized by ``plan.total_steps``.
    """

    config: RunConfig
    device: torch.device
    rank: int
    world: int
    encoder: Any
    prepared: PreparedData | None
    text_pairs: bool
    model: torch.nn.Module
    train_model: torch.nn.Module
    coverage: Any
    threads: int
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    train_loader: Any = None
    val_loader: Any = None
    plan: Any = None  # ftlab.training.StepPlan
    optimizer: Any = None
    scheduler: Any = None

    @property
    def num_classes(self) -> int:
        """Number of classes of the label map."""
        return int(self.encoder.labels.num_classes)

    @property
    def encoded(self) -> dict[str, list[Any]]:
        """Split -> encoded examples (empty without data)."""
        return self.prepared.encoded if self.prepared is not None else {}


def build_run(
    config: RunConfig,
    device: torch.device,
    rank: int = 0,
    world: int = 1,
    *,
    encoder_dir: Path | None = None,
    data: bool = True,
    optimization: bool = True,
    text_pairs: bool = False,
) -> RunParts:
    """Assemble a run from ``config``: data, encoder, loaders, model, loss, plan, optimizer.

    First sets torch's intra-op threads (``train.threads``, else ``OMP_NUM_THREADS``, else
    torch's default) for everything that follows in this process.

    The order and the seeds are those of ``ftlab train``: the global seed before the data,
    ``train.init_seed`` (when set) right before the model is built, ``train.order_seed`` after
    it, and under DDP a per-rank dropout stream after the wrap.

    Args:
        config: the run config.
        device: where the model goes.
        rank, world: this process's rank and the process count (the training sampler shards
            by them; ``world > 1`` wraps the model in ``DistributedDataParallel``).
        encoder_dir: a saved encoder to use instead of fitting one on the training split
            (resuming or reloading a run).
        data: load, check and encode the data and build the loaders. ``False`` builds only the
            model from the encoder in ``encoder_dir``, with random (not GloVe) embeddings: its
            weights come from a checkpoint.
        optimization: plan the steps and build the optimizer and schedule (needs ``data``).
        text_pairs: without data: whether the run encoded pairs separately.

    Raises:
        ConfigError, DataError: as ``ftlab train --dry-run`` reports them.
    """
    from ftlab.batching import class_weights
    from ftlab.models import classification_loss
    from ftlab.training import apply_threads, plan_steps, seed_everything

    check_model_family(config.model.family)  # before any data is loaded
    prompting = config.model.family == "prompt"  # a frozen LM: nothing to optimize
    optimization = optimization and not prompting
    threads = apply_threads(config.train.threads)
    det = config.train.deterministic
    prepared: PreparedData | None = None
    train_loader = val_loader = None
    if data:
        seed_everything(config.seed, deterministic=det)
        prepared = prepare_data(config, encoder_dir=encoder_dir, augment=True)
        encoder, train = prepared.encoder, prepared.encoded["train"]
        pad_id = encoder.tokenizer.pad_id
        train_loader = build_train_loader(train, config.batching, seed=config.seed_for("order"),
                                          pad_id=pad_id, rank=rank, world_size=world)
        if "validation" in prepared.encoded:
            val_loader = build_eval_loader(prepared.encoded["validation"], config.batching,
                                           pad_id=pad_id)
        text_pairs = any(e.pair_ids is not None for e in train)
        model_config = config
    else:
        from ftlab.preprocessing import TextEncoder

        if encoder_dir is None:
            raise ValueError("build_run(data=False) needs the encoder_dir of a trained run")
        encoder = TextEncoder.load(encoder_dir)
        # the weights come from a checkpoint: skip the GloVe lookup of the original build
        model_config = config.model_copy(update={"model": config.model.model_copy(
            update={"embeddings": "random"})})
    # train.init_seed / train.order_seed give init and dropout separate streams (seed studies);
    # unset, one stream seeded by `seed` runs through both, as before they existed
    own_streams = data and (config.train.init_seed is not None
                            or config.train.order_seed is not None)
    if own_streams:
        seed_everything(config.seed_for("init"), deterministic=det)
    demos = _demonstrations(config, prepared, encoder_dir) if prompting else []
    model, coverage = build_model_for(model_config, encoder, encoder.labels.num_classes,
                                      text_pairs=text_pairs, demonstrations=demos)
    if own_streams:
        seed_everything(config.seed_for("order"), deterministic=det)
    model.to(device)
    train_model = _wrap_ddp(model, config, device, rank) if world > 1 else model

    weights = None
    if prepared is not None and config.batching.class_weights != "none":
        weights = class_weights([e.label for e in prepared.encoded["train"]],
                                encoder.labels.num_classes,
                                scheme=config.batching.class_weights).to(device)
    loss_fn = functools.partial(classification_loss, class_weights=weights, reduction="sum")
    parts = RunParts(config=config, device=device, rank=rank, world=world, encoder=encoder,
                     prepared=prepared, text_pairs=text_pairs, model=model,
                     train_model=train_model, coverage=coverage, threads=threads, loss_fn=loss_fn,
                     train_loader=train_loader, val_loader=val_loader)
    if optimization and train_loader is not None:
        t = config.train
        parts.plan = plan_steps(train_loader, epochs=t.epochs, grad_accum=t.grad_accum,
                                max_steps=t.max_steps)
        parts.optimizer, parts.scheduler = build_optimization(
            model, t, total_steps=parts.plan.total_steps)
    return parts


def _demonstrations(config: RunConfig, prepared: PreparedData | None,
                    encoder_dir: Path | None) -> list[Any]:
    """A prompt run's demonstrations: drawn from train (seeded by the split seed,
    class-balanced), or read back from the run's ``artifacts/prompt.json``."""
    import json

    from ftlab.errors import CheckpointError
    from ftlab.models import Demonstration, draw_demonstrations

    shots = int(getattr(config.model, "shots", 0))
    saved = encoder_dir.parent / PROMPT_FILE if encoder_dir is not None else None
    if saved is not None and saved.is_file():  # reloading or resuming: what the run showed
        try:
            data = json.loads(saved.read_text(encoding="utf-8"))
            return [Demonstration.from_dict(d) for d in data["demonstrations"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(f"{saved} is damaged ({exc}); train the prompt run again") \
                from exc
    if prepared is None:
        if shots:
            raise CheckpointError(f"{saved} is missing: the run's {shots} demonstrations "
                                  f"cannot be recovered; train the prompt run again")
        return []
    return draw_demonstrations(prepared.splits.get("train", []), shots,
                               seed=config.seed_for("split"))


def _wrap_ddp(model: torch.nn.Module, config: RunConfig, device: torch.device,
              rank: int) -> torch.nn.Module:
    """Gradients all-reduced over ranks; ``model`` stays the unwrapped module."""
    from torch.nn.parallel import DistributedDataParallel

    from ftlab.training import seed_everything

    # same initial weights on every rank (DDP also broadcasts rank 0's), but each rank
    # draws its own dropout masks: otherwise equal-shaped batches get identical masks
    seed_everything((config.seed_for("order") + 7919 * rank) % 2**32,
                    deterministic=config.train.deterministic)
    return DistributedDataParallel(
        model, device_ids=[device.index] if device.type == "cuda" else None)
