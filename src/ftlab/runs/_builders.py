"""Builders: the only place where config objects become components' keyword arguments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ftlab.batching import Encoded
from ftlab.config import (
    BatchingConfig,
    BowConfig,
    DataConfig,
    PreprocessConfig,
    RnnConfig,
    RunConfig,
    TrainConfig,
)
from ftlab.errors import ConfigError

__all__ = [
    "build_splits",
    "build_run_splits",
    "build_encoder",
    "build_train_loader",
    "build_eval_loader",
    "build_model_for",
    "check_model_family",
    "build_optimization",
    "resolve_device",
]


def resolve_device(name: str) -> torch.device:
    """``auto`` -> cuda when available, else mps, else cpu."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("train.device is 'cuda' but no CUDA device is available here "
                          "(torch.cuda.is_available() is False); set train.device: auto (uses "
                          "what exists) or cpu")
    if name == "mps" and not (getattr(torch.backends, "mps", None)
                              and torch.backends.mps.is_available()):
        raise ConfigError("train.device is 'mps' but Apple's MPS backend is not available here; "
                          "set train.device: auto (uses what exists) or cpu")
    return torch.device(name)


def build_splits(data: DataConfig, *, seed: int) -> dict[str, list[Any]]:
    """Load the examples of every split (source splits kept, missing ones made, seeded)."""
    from ftlab.data import load_dataset

    cols = data.columns
    return load_dataset(
        "" if data.files else data.source,  # separate split files replace the source
        format=data.format,
        text_column=cols.text,
        text_pair_column=cols.text_pair,
        label_column=cols.label,
        id_column=cols.id,
        extra_columns=tuple(cols.extra),
        encoding=data.encoding,
        files={str(k): v for k, v in data.files.items()} if data.files else None,
        validation=data.split.validation,
        test=data.split.test,
        seed=seed,
        stratify=data.split.stratify,
        builtin_options=dict(data.options),
        max_examples=data.max_examples,
        group_duplicates=data.split.group_duplicates,
        max_bytes=None if data.max_input_mb is None else int(data.max_input_mb * 2**20),
        max_field_chars=data.max_field_chars,
        choices=cols.choices,
        choice_label=cols.choice_label,
        preset=data.preset,
    )


def build_run_splits(config: RunConfig) -> dict[str, list[Any]]:
    """The run's splits: :func:`build_splits` with ``data.split_seed`` (default ``seed``), then,
    for one fold of a cross-validation (``eval.cv_fold``), train+validation re-cut into that fold.
    """
    seed = config.seed_for("split")
    splits = build_splits(config.data, seed=seed)
    ev = config.eval
    if ev.cv_fold is not None and ev.cv_folds is not None:
        from ftlab.data import fold_splits

        splits = fold_splits(splits, k=ev.cv_folds, fold=ev.cv_fold, seed=seed,
                             stratify=config.data.split.stratify)
    return splits


def build_encoder(pre: PreprocessConfig) -> Any:
    """An unfitted :class:`~ftlab.preprocessing.TextEncoder` from the preprocess section.

    A transformer model's tokenizer is settled in the config, not here: with
    ``model.family: transformer`` an unset ``preprocess.tokenizer`` is resolved to
    ``{kind: pretrained, name: <model.name>}`` (see :class:`~ftlab.config.TransformerConfig`),
    so the resolved ``config.yaml`` of a run names the tokenizer that ran. The model builder
    checks that the tokenizer's ids fit the model's embedding table.
    """
    from ftlab.preprocessing import Normalizer, TextEncoder, build_tokenizer

    tok = pre.tokenizer
    if tok.kind == "pretrained":
        tokenizer = build_tokenizer("pretrained", name_or_path=tok.name)
    else:
        tokenizer = build_tokenizer(tok.kind, min_freq=tok.min_freq, max_size=tok.max_size)
    normalizer = Normalizer(
        lowercase=pre.lowercase,
        strip_html=pre.strip_html,
        nfkc=pre.nfkc,
        collapse_whitespace=pre.collapse_whitespace,
    )
    return TextEncoder(
        tokenizer=tokenizer,
        normalizer=normalizer,
        max_length=pre.max_length,
        truncation=pre.truncation,
        head=pre.head_tokens,
        pair_truncation=pre.pair_truncation,
        pair_mode=pre.pair_mode,
    )


def build_train_loader(
    encoded: Sequence[Encoded], cfg: BatchingConfig, *, seed: int, pad_id: int,
    rank: int = 0, world_size: int = 1,
) -> Any:
    """The shuffled, bucketed, resumable training loader."""
    from ftlab.batching import BucketBatchSampler, Loader

    sampler = BucketBatchSampler(
        [e.length for e in encoded],
        batch_size=None if cfg.max_tokens else cfg.batch_size,
        max_tokens=cfg.max_tokens,
        shuffle=True,
        bucket=cfg.bucket,
        maxi_batch=cfg.maxi_batch,
        longest_first=cfg.longest_first,
        seed=seed,
        rank=rank,
        world_size=world_size,
        labels=[e.label for e in encoded],
        balance=cfg.balance,
    )
    return Loader(encoded, sampler, pad_id=pad_id, num_workers=cfg.num_workers)


def build_eval_loader(encoded: Sequence[Encoded], cfg: BatchingConfig, *, pad_id: int) -> Any:
    """Length-sorted, unshuffled batches for evaluation/prediction (index restores order)."""
    from ftlab.batching import BucketBatchSampler, Loader

    sampler = BucketBatchSampler(
        [e.length for e in encoded], batch_size=cfg.eval_batch_size, shuffle=False, bucket=True,
    )
    return Loader(encoded, sampler, pad_id=pad_id)


def build_model_for(
    config: RunConfig, encoder: Any, num_classes: int, *, text_pairs: bool = False,
    demonstrations: Sequence[Any] = (),
) -> tuple[torch.nn.Module, Any]:
    """Build the model family of ``config.model``; returns (model, glove coverage or None).

    ``text_pairs`` is true when the data has pairs encoded separately (``pair_mode: separate``):
    the model then encodes both sides and combines them. An encoder fitted on multiple-choice
    data (``encoder.num_choices``) gives a multiple-choice model (a registered family receives
    ``multiple_choice=True`` then). ``demonstrations`` are the solved examples a ``prompt``
    model shows before each query (drawn by :func:`build_run`).
    """
    from ftlab.models import build_model, load_glove
    from ftlab.preprocessing import tokenizer_kind

    m = config.model
    if m.family == "prompt":
        options = m.model_dump(exclude={"family", "init", "binary_mode"})
        model = build_model(
            "prompt", vocab_size=encoder.tokenizer.vocab_size, pad_id=encoder.tokenizer.pad_id,
            num_classes=num_classes, binary_mode=m.binary_mode, init=m.init,
            label_names=list(encoder.labels.names), demonstrations=list(demonstrations),
            **options)
        return model, None
    choice = getattr(encoder, "num_choices", None) is not None
    if m.family == "transformer":
        # Pretrained weights: no GloVe, and `init` reaches the new head only.
        options = m.model_dump(exclude={"family", "init", "binary_mode"})
        model = build_model(
            "transformer",
            vocab_size=encoder.tokenizer.vocab_size,
            pad_id=encoder.tokenizer.pad_id,
            num_classes=num_classes,
            binary_mode=m.binary_mode,
            init=m.init,
            text_pairs=text_pairs and config.preprocess.pair_mode == "separate",
            multiple_choice=choice,
            **options,
        )
        return model, None
    common = m.model_dump(exclude={"family", "init", "binary_mode", "embeddings"})
    embeddings = None
    coverage = None
    if m.embeddings == "glove" and isinstance(m, (BowConfig, RnnConfig)):  # their own vectors
        if tokenizer_kind(encoder.tokenizer) != "word":
            from ftlab.errors import ConfigError

            raise ConfigError("model.embeddings: glove needs an own word vocabulary "
                              "(preprocess.tokenizer.kind: word)")
        embeddings, coverage = load_glove(encoder.tokenizer.vocab, dim=m.embed_dim,
                                          seed=config.seed_for("init"),
                                          pad_id=encoder.tokenizer.pad_id)
    pairs = text_pairs and config.preprocess.pair_mode == "separate"
    if m.family in ("bow", "rnn") or pairs:  # a registered family gets text_pairs when needed
        common["text_pairs"] = pairs
    if m.family in ("bow", "rnn") or choice:
        common["multiple_choice"] = choice
    model = build_model(
        m.family,
        vocab_size=encoder.tokenizer.vocab_size,
        pad_id=encoder.tokenizer.pad_id,
        num_classes=num_classes,
        binary_mode=m.binary_mode,
        init=m.init,
        embeddings=embeddings,
        **common,
    )
    return model, coverage


def check_model_family(family: str) -> None:
    """Fail before any work when ``model.family`` names no registered family.

    Raises:
        ConfigError: the family is unknown, with the closest registered name.
    """
    from ftlab.errors import ConfigError
    from ftlab.models import MODELS

    try:
        MODELS.lookup(family)
    except ConfigError as exc:
        raise ConfigError(f"model.family: {exc} A plugin's family must be registered with "
                          "ftlab.models.register_model before the config is run.") from None


def build_optimization(model: torch.nn.Module, cfg: TrainConfig, *, total_steps: int) -> tuple[Any, Any]:
    """Optimizer (decay excluded from biases/norms) and learning-rate schedule.

    A model with an ``optimizer_groups(lr)`` method (the transformer family with
    ``layer_decay`` / ``head_lr``) supplies explicit param groups, each with its own peak
    learning rate; the schedule then scales every group's rate by the same factor.
    """
    from ftlab.training import build_optimizer, build_scheduler

    groups_of = getattr(model, "optimizer_groups", None)
    groups = groups_of(cfg.lr) if callable(groups_of) else None
    optimizer = build_optimizer(
        model if groups is None else groups,
        name=cfg.optimizer,
        lr=cfg.lr,
        weight_decay=cfg.weight_decay,
        momentum=cfg.momentum,
        nesterov=cfg.nesterov,
        betas=cfg.betas,
    )
    warmup: int | float = cfg.warmup if cfg.warmup < 1 else int(cfg.warmup)
    scheduler = build_scheduler(
        optimizer, name=cfg.schedule, total_steps=total_steps, warmup_steps=warmup,
        min_lr_ratio=cfg.min_lr_ratio,
    )
    return optimizer, scheduler
