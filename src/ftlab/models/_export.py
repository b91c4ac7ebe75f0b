"""Export a trained transformer run as a plain Hugging Face model directory (no ftlab needed)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ftlab.errors import CheckpointError, ConfigError

__all__ = ["save_merged", "export_merged"]

_NOTE = (
    "Exported by ftlab. transformers applies its own tokenizer only: ftlab's text normalisation "
    "and its truncation strategy (see 'preprocessing') are not replayed; texts longer than "
    "model_max_length are cut at the end when called with truncation=True."
)


def _check_target(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ConfigError(
            f"export: {out_dir} already exists and is not an empty directory; choose a new "
            "directory (--out) or delete it first."
        )


def save_merged(
    model: nn.Module,
    out_dir: str | Path,
    *,
    label_names: Sequence[str],
    tokenizer: Any = None,
    merge: bool = True,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write a :class:`~ftlab.models.TransformerClassifier` as a transformers model directory.

    With ``merge=True`` LoRA/DoRA adapters are merged into the weights (``merge_and_unload``)
    and the trained head replaces the original one, so ``AutoModelForSequenceClassification``
    loads the directory without PEFT. With ``merge=False`` a LoRA model is written as a PEFT
    adapter directory (adapters + head; loading it needs peft and the base model).
    ``config.json`` gets ``id2label``/``label2id`` from ``label_names`` (a one-logit sigmoid
    model names its single logit after class 1). The write is atomic (temp dir, rename).

    Args:
        model: a TransformerClassifier.
        out_dir: a new (or empty) directory.
        label_names: class names in label-index order.
        tokenizer: a transformers tokenizer (or anything with ``save_pretrained``) saved along.
        merge: merge LoRA adapters into the weights.
        metadata: extra entries for ``ftlab_export.json``.

    Returns:
        ``out_dir``.

    Raises:
        ConfigError: not a transformer model, label count mismatch, or ``out_dir`` not empty.
    """
    from ftlab.models._transformer import TransformerClassifier

    if not isinstance(model, TransformerClassifier):
        raise ConfigError(
            f"export: only the transformer family can be exported as a transformers model, got "
            f"{type(model).__name__}; its checkpoint (model.safetensors) is the exportable form."
        )
    if len(label_names) != model.num_classes:
        raise ConfigError(
            f"export: {len(label_names)} label names for a model of {model.num_classes} classes."
        )
    out_dir = Path(out_dir)
    _check_target(out_dir)
    hf: Any = model.merged_hf_model() if merge or not model.is_lora else model.hf_model
    names = list(label_names) if model.num_outputs == model.num_classes else [label_names[1]]
    config = model.core.config if hf is model.hf_model else hf.config
    config.id2label = {i: str(n) for i, n in enumerate(names)}
    config.label2id = {str(n): i for i, n in enumerate(names)}
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{out_dir.name}-", dir=out_dir.parent))
    try:
        hf.save_pretrained(str(tmp))
        if tokenizer is not None:
            tokenizer.save_pretrained(str(tmp))
        info = {
            "format_version": 1, "note": _NOTE, "source": model.name, "labels": list(label_names),
            "num_outputs": model.num_outputs, "lora": model.is_lora,
            "merged": bool(merge and model.is_lora), **dict(metadata or {}),
        }
        (tmp / "ftlab_export.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
        if out_dir.exists():
            out_dir.rmdir()  # empty (checked above)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def export_merged(run_dir: str | Path, out_dir: str | Path, *, merge: bool = True) -> Path:
    """Export a run's best checkpoint as a plain transformers model directory.

    Loads the run like ``ftlab evaluate`` does (config, saved encoder, best else last
    checkpoint), merges LoRA if any, and writes the weights (``save_pretrained``), the run's
    tokenizer (with ``model_max_length`` set to the run's ``max_length``), ``id2label`` /
    ``label2id`` from the run's label map, and ``ftlab_export.json`` (source run, labels,
    ftlab preprocessing settings that transformers does not replay).

    Args:
        run_dir: a run directory (``runs/<name>``) of a transformer model.
        out_dir: a new (or empty) directory.
        merge: merge LoRA adapters (else write a PEFT adapter directory).

    Returns:
        ``out_dir``, loadable with ``AutoModelForSequenceClassification.from_pretrained``.

    Raises:
        CheckpointError: not a run directory or no checkpoint; or the run's tokenizer is not a
            pretrained one.
        ConfigError: the run's model is not a transformer, or ``out_dir`` is not empty.
    """
    from ftlab.runs import load_run_model  # the run layer; imported lazily (it imports models)

    run_dir = Path(run_dir)
    _check_target(Path(out_dir))
    config, encoder, model = load_run_model(run_dir, device=torch.device("cpu"))
    hf_tokenizer = getattr(encoder.tokenizer, "hf_tokenizer", None)
    if hf_tokenizer is None:
        raise CheckpointError(
            f"export: {run_dir} was trained with a {type(encoder.tokenizer).__name__}, not a "
            "pretrained tokenizer; only transformer runs can be exported."
        )
    if encoder.max_length is not None:
        hf_tokenizer.model_max_length = int(encoder.max_length)
    return save_merged(
        model, out_dir, label_names=list(encoder.labels.names), tokenizer=hf_tokenizer,
        merge=merge, metadata={"run_dir": str(run_dir.resolve()),
                               "preprocessing": encoder.settings()},
    )
