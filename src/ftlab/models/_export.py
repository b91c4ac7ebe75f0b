"""Save a transformer (LoRA merged) as a plain Hugging Face model directory (no ftlab needed).

Exporting a whole run (loading its config, encoder and checkpoint) is
:func:`ftlab.runs.export_merged`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from torch import nn

from ftlab.core import staged_dir
from ftlab.errors import ConfigError

__all__ = ["save_merged", "check_export_target"]

_NOTE = (
    "Exported by ftlab. transformers applies its own tokenizer only: ftlab's text normalisation "
    "and its truncation strategy (see 'preprocessing') are not replayed; texts longer than "
    "model_max_length are cut at the end when called with truncation=True."
)


def check_export_target(out_dir: Path) -> None:
    """Raise :class:`ConfigError` unless ``out_dir`` is new or an empty directory."""
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
    check_export_target(out_dir)
    hf: Any = model.merged_hf_model() if merge or not model.is_lora else model.hf_model
    names = list(label_names) if model.num_outputs == model.num_classes else [label_names[1]]
    config = model.core.config if hf is model.hf_model else hf.config
    config.id2label = {i: str(n) for i, n in enumerate(names)}
    config.label2id = {str(n): i for i, n in enumerate(names)}
    with staged_dir(out_dir) as tmp:
        hf.save_pretrained(str(tmp))
        if tokenizer is not None:
            tokenizer.save_pretrained(str(tmp))
        info = {
            "format_version": 1, "note": _NOTE, "source": model.name, "labels": list(label_names),
            "num_outputs": model.num_outputs, "lora": model.is_lora,
            "merged": bool(merge and model.is_lora), **dict(metadata or {}),
        }
        (tmp / "ftlab_export.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    return out_dir
