"""Export a trained transformer run as a plain Hugging Face model directory (no ftlab needed).

The run layer loads the run (config, saved encoder, checkpoint); :func:`ftlab.models.save_merged`
writes the model.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ftlab.errors import CheckpointError
from ftlab.models import check_export_target, save_merged
from ftlab.runs._evaluate import load_run_model

__all__ = ["export_merged"]


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
    run_dir = Path(run_dir)
    check_export_target(Path(out_dir))
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
