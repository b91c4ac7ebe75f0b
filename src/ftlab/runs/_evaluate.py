"""Evaluate a trained model on splits or a file; write ``predictions/<split>.jsonl``."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ftlab.config import RunConfig, load_config
from ftlab.errors import CheckpointError, DataError
from ftlab.runs._builders import build_eval_loader, build_model_for, resolve_device
from ftlab.runs._rundir import read_summary, update_summary, write_json_atomic

__all__ = ["evaluate_splits", "evaluate_run", "split_metrics", "load_run_model"]


def split_metrics(labels: np.ndarray, probs: np.ndarray, train_labels: Sequence[int]) -> dict[str, Any]:
    """Accuracy, macro-F1, log loss and the majority-class baseline for one split."""
    from sklearn.metrics import accuracy_score, f1_score, log_loss

    preds = probs.argmax(axis=1)
    majority = Counter(train_labels).most_common(1)[0][0] if len(train_labels) else 0
    classes = list(range(probs.shape[1]))
    return {
        "n": int(len(labels)),
        "accuracy": float(accuracy_score(labels, preds)),
        "macro_f1": float(f1_score(labels, preds, average="macro", labels=classes, zero_division=0)),
        "loss": float(log_loss(labels, np.clip(probs, 1e-12, 1.0), labels=classes)),
        "majority_baseline": float(np.mean(labels == majority)),
    }


def _write_predictions(path: Path, examples: Sequence[Any], index: np.ndarray, probs: np.ndarray,
                       encoder: Any) -> None:
    order = np.argsort(index)  # back to input order
    path.parent.mkdir(parents=True, exist_ok=True)
    names = encoder.labels.names
    with path.open("w", encoding="utf-8") as fh:
        for row in order:
            ex = examples[int(index[row])]
            p = probs[row]
            rec = {"id": ex.id, "text": ex.text, "label": ex.label,
                   "pred": names[int(p.argmax())], "probs": {n: round(float(v), 6) for n, v in zip(names, p)}}
            if ex.text_pair is not None:
                rec["text_pair"] = ex.text_pair
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")


def evaluate_splits(
    run_dir: Path, *, model: torch.nn.Module, encoder: Any, config: RunConfig,
    splits: dict[str, list[Any]], encoded: dict[str, list[Any]], device: torch.device,
    which: Sequence[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Metrics per split (default: ``config.eval.splits``) plus prediction files."""
    from ftlab.models import probabilities
    from ftlab.training import predict

    train_labels = [e.label for e in encoded.get("train", [])]
    out: dict[str, dict[str, Any]] = {}
    for split in which or config.eval.splits:
        if split not in encoded or not encoded[split]:
            continue
        loader = build_eval_loader(encoded[split], config.batching, pad_id=encoder.tokenizer.pad_id)
        index, probs, labels = predict(model, loader, probs_fn=probabilities, device=device)
        if (labels < 0).any():
            raise DataError(f"split {split!r} has unlabelled examples; evaluation needs labels")
        out[split] = split_metrics(labels, probs, train_labels)
        _write_predictions(run_dir / "predictions" / f"{split}.jsonl", splits[split], index, probs, encoder)
    if out:
        write_json_atomic(run_dir / "eval.json", out)
    return out


def load_run_model(run_dir: Path, *, device: torch.device | None = None) -> tuple[RunConfig, Any, torch.nn.Module]:
    """Rebuild a run's model from its config, saved encoder and best (else last) checkpoint.

    Raises:
        CheckpointError: not a run directory, or no checkpoint.
    """
    from ftlab.preprocessing import TextEncoder
    from ftlab.training import find_resume_checkpoint, load_checkpoint, restore

    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file():
        raise CheckpointError(f"{run_dir} is not a run directory (no config.yaml)")
    config = load_config(run_dir / "config.yaml")
    encoder = TextEncoder.load(run_dir / "artifacts" / "encoder")
    ckpt = _best_checkpoint(run_dir) or find_resume_checkpoint(run_dir)
    if ckpt is None:
        raise CheckpointError(f"{run_dir} has no checkpoint; train it first (ftlab train)")
    # weights come from the checkpoint: skip the GloVe lookup of the original build
    no_glove = config.model_copy(update={"model": config.model.model_copy(update={"embeddings": "random"})})
    text_pairs = bool(read_summary(run_dir).get("text_pairs", False))
    model, _ = build_model_for(no_glove, encoder, encoder.labels.num_classes, text_pairs=text_pairs)
    model.to(device or resolve_device(config.train.device))
    restore(load_checkpoint(ckpt), model, restore_rng=False)
    model.eval()
    return config, encoder, model


def _best_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoint named by ``checkpoints/best.json`` (what training ends with), if any."""
    pointer = run_dir / "checkpoints" / "best.json"
    if not pointer.is_file():
        return None
    try:
        target = pointer.parent / str(json.loads(pointer.read_text(encoding="utf-8"))["path"])
    except (ValueError, KeyError) as exc:
        raise CheckpointError(f"{pointer} is damaged ({exc}); delete it to fall back to "
                              f"checkpoints/last.json") from exc
    return target if target.is_dir() else None


def evaluate_run(run_dir: Path, *, split: str = "test", data: Path | None = None,
                 console: Any = None) -> dict[str, Any]:
    """``ftlab evaluate``: metrics of a trained run on one of its splits or on a labelled file."""
    from ftlab.runs._prepare import prepare_data

    run_dir = Path(run_dir)
    config, encoder, model = load_run_model(run_dir)
    device = next(model.parameters()).device
    if data is not None:
        from ftlab.data import read_file

        cols = config.data.columns
        examples = read_file(data, text_column=cols.text, text_pair_column=cols.text_pair,
                             label_column=cols.label, id_column=cols.id, encoding=config.data.encoding,
                             split=Path(data).stem)
        unknown = sorted({e.label for e in examples} - set(encoder.labels.names), key=str)
        if unknown:
            raise DataError(f"{data}: labels {unknown} were never seen in training (known: "
                            f"{encoder.labels.names}); the model cannot predict them - map them to "
                            f"known labels or train a run that includes them")
        name = Path(data).name.split(".")[0]
        splits = {name: examples}
        encoded = {name: encoder.encode(examples)}
        split = name
    else:
        prepared = prepare_data(config, encoder_dir=run_dir / "artifacts" / "encoder")
        splits, encoded = prepared.splits, prepared.encoded
        if split not in splits:
            raise DataError(f"split {split!r} not in the run's data; choose one of {sorted(splits)}")
    train_enc = encoded.get("train") or []
    result = evaluate_splits(run_dir, model=model, encoder=encoder, config=config,
                             splits={**splits}, encoded={**encoded, "train": train_enc},
                             device=device, which=[split])
    if split in result and data is None:
        update_summary(run_dir, **{f"eval_{split}": result[split]})
    return result.get(split, {})
