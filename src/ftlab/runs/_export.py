"""Export a trained run: a plain Hugging Face model directory (transformers, no ftlab needed)
or ONNX (bow and transformer runs), and the ONNX Runtime model ``ftlab predict`` runs.

The run layer loads the run (config, saved encoder, checkpoint); :func:`ftlab.models.save_merged`
and :func:`ftlab.models.export_onnx` write the model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import torch

from ftlab.errors import CheckpointError
from ftlab.models import Int8Settings, check_export_target, save_merged
from ftlab.runs._evaluate import load_run_model

__all__ = ["export_merged", "export_onnx_run", "onnx_model_for_run"]


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


ONNX_DIR = "onnx"  # the run's cached ONNX files (written by predict --backend onnxruntime)
# bumped when the cache's layout changes: 2 = int8 files named after their Int8Settings (version
# 1 had one per-tensor model.int8.onnx, which must not be reused)
CACHE_VERSION = 2


def _checkpoint_key(run_dir: Path) -> dict[str, Any]:
    """What identifies the weights ``load_run_model`` would load: the checkpoint's files."""
    from ftlab.runs._evaluate import run_checkpoint

    ckpt = run_checkpoint(run_dir)
    files = sorted(p for p in ckpt.rglob("*") if p.is_file())
    return {"cache_version": CACHE_VERSION, "checkpoint": str(ckpt.relative_to(run_dir)),
            "files": [[str(p.relative_to(ckpt)), p.stat().st_size, p.stat().st_mtime_ns]
                      for p in files]}


def _write_onnx(model: torch.nn.Module, directory: Path, quantize: Literal["none", "int8"],
                int8: Int8Settings, int8_name: str = "model.int8.onnx") -> Path:
    """``model.onnx`` (and the int8 model ``int8_name``) in ``directory``; the file to run."""
    from ftlab.models import export_onnx, quantize_onnx_int8

    fp32 = export_onnx(model, directory / "model.onnx")
    if quantize == "int8":
        return quantize_onnx_int8(fp32, directory / int8_name, int8)
    return fp32


def export_onnx_run(run_dir: str | Path, out_dir: str | Path, *,
                    quantize: Literal["none", "int8"] = "none",
                    int8: Int8Settings | None = None) -> Path:
    """Export a run's best (else last) checkpoint as ONNX: ``model.onnx`` and what to feed it.

    Writes ``model.onnx`` (inputs ``ids``/``mask`` int64 (B, T), plus ``token_type_ids`` or
    ``pair_ids``/``pair_mask`` where the model takes them; output ``logits``), with
    ``--quantize int8`` also ``model.int8.onnx`` (ONNX Runtime dynamic quantization), the run's
    ftlab encoder in ``encoder/`` (the preprocessing ftlab applies before the model) and
    ``ftlab_export.json`` (labels, inputs, output kind, preprocessing settings, source run).

    Args:
        run_dir: a run directory of a bow or transformer model.
        out_dir: a new (or empty) directory.
        quantize: also write the int8 model.
        int8: how the int8 model is quantized (default :class:`~ftlab.models.Int8Settings`;
            recorded in ``ftlab_export.json``).

    Returns:
        ``out_dir``.

    Raises:
        CheckpointError: not a run directory, or no checkpoint.
        ConfigError: an RNN run (not exportable), or ``out_dir`` is not empty.
    """
    import dataclasses
    import json

    from ftlab.core import staged_dir
    from ftlab.models import onnx_input_names

    run_dir, out_dir = Path(run_dir), Path(out_dir)
    int8 = int8 or Int8Settings()
    check_export_target(out_dir)
    config, encoder, model = load_run_model(run_dir, device=torch.device("cpu"))
    inputs = onnx_input_names(model)  # refuses RNN runs before any work
    with staged_dir(out_dir) as tmp:
        _write_onnx(model, tmp, quantize, int8)
        encoder.save(tmp / "encoder")
        info = {
            "format": "onnx", "format_version": 1, "run_dir": str(run_dir.resolve()),
            "model": config.model.family, "labels": list(encoder.labels.names),
            "inputs": inputs, "output": "logits",
            "probabilities": "sigmoid of the one logit = p(labels[1])"
            if getattr(model, "num_outputs", 2) == 1 else "softmax over the logits",
            "files": sorted(p.name for p in tmp.glob("*.onnx")),
            **({"int8": dataclasses.asdict(int8)} if quantize == "int8" else {}),
            "preprocessing": encoder.settings(),
            "note": "Run ftlab's encoder (encoder/, ftlab.preprocessing.TextEncoder.load) to get "
                    "the ids, or `ftlab predict RUN --backend onnxruntime` on the source run.",
        }
        (tmp / "ftlab_export.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    return out_dir


def onnx_model_for_run(run_dir: Path, model: torch.nn.Module, *,
                       quantize: Literal["none", "int8"] = "none",
                       threads: int | None = None,
                       int8: Int8Settings | None = None) -> torch.nn.Module:
    """An :class:`~ftlab.models.OnnxRuntimeModel` of ``model`` (the run's loaded model).

    The ONNX files are cached in ``RUN/onnx/``: ``model.onnx`` and one
    ``model.int8-<settings digest>.onnx`` per :class:`~ftlab.models.Int8Settings` used, so a
    file quantized with other settings is never reused. The cache is rebuilt when the run's
    checkpoint (or the cache's layout) changes (``source.json`` records which files it came
    from); writes are atomic, so two concurrent predictions at worst both export.
    """
    from ftlab.core import atomic_write_json, read_json
    from ftlab.models import OnnxRuntimeModel

    int8 = int8 or Int8Settings()
    cache = Path(run_dir) / ONNX_DIR
    key = _checkpoint_key(Path(run_dir))
    int8_name = f"model.int8-{int8.key()}.onnx"
    name = int8_name if quantize == "int8" else "model.onnx"
    source = cache / "source.json"
    fresh = source.is_file() and read_json(source) == key
    if not (fresh and (cache / name).is_file()):
        if not fresh:
            for old in cache.glob("*.onnx"):
                old.unlink()
        cache.mkdir(parents=True, exist_ok=True)
        if fresh and quantize == "int8" and (cache / "model.onnx").is_file():
            from ftlab.models import quantize_onnx_int8

            quantize_onnx_int8(cache / "model.onnx", cache / name, int8)
        else:
            _write_onnx(model, cache, quantize, int8, int8_name)
        atomic_write_json(source, key)
    return OnnxRuntimeModel(cache / name, threads=threads)
