"""Streaming validation: one batch on the device at a time, probabilities moved to CPU at once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np
import torch
from torch import nn

from ftlab.batching import Batch
from ftlab.core import phase
from ftlab.training import _distributed as dist

__all__ = ["run_validation", "predict"]

ProbsFn = Callable[[torch.Tensor], torch.Tensor]


def _stream(
    model: nn.Module,
    batches: Iterable[Batch],
    probs_fn: ProbsFn,
    device: str | torch.device,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None,
    label: str,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, float]]:
    """Yield (index, probs, labels, summed loss) per batch, all on the CPU; shows progress."""
    try:
        total: int | None = len(batches)  # type: ignore[arg-type]
    except TypeError:  # a plain iterator
        total = None
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), phase(label, total) as progress:
            for batch in batches:
                batch = batch.to(device)
                logits = model(batch).float()  # (B, C)
                labelled = batch.labels >= 0
                loss = 0.0
                if loss_fn is not None and bool(labelled.any()):
                    loss = float(loss_fn(logits[labelled], batch.labels[labelled]))
                yield (
                    batch.index.cpu().numpy(),
                    probs_fn(logits).cpu().numpy(),  # (B, C): leaves the device right away
                    batch.labels.cpu().numpy(),
                    loss,
                )
                progress.advance()
    finally:
        model.train(was_training)


def predict(
    model: nn.Module,
    batches: Iterable[Batch],
    probs_fn: ProbsFn,
    device: str | torch.device = "cpu",
    *,
    shard: bool = False,
    label: str = "predict",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predict class probabilities, keeping at most one batch on the device.

    Args:
        model: Batch -> logits ``(B, C)``.
        batches: any iterable of Batch (e.g. a sequential loader over the split).
        probs_fn: logits -> probabilities (softmax, sigmoid, temperature-scaled...).
        device: where the model runs.
        shard: under torchrun, run only this rank's share of the batches (every
            ``world_size``-th) and gather all ranks' results onto every rank. A collective:
            every rank must call it with the same batches. No effect in a single process.
        label: what the progress display calls this pass (e.g. ``"test evaluation"``).

    Returns:
        ``(index (N,), probs (N, C), labels (N,))`` NumPy arrays in batch order (sharded: rank
        0's batches, then rank 1's, ...); ``index`` holds each example's position in the
        split, so ``np.argsort(index)`` restores input order. Labels are -1 when unlabelled.
    """
    if shard:
        batches = dist.shard(batches)
    parts = [p[:3] for p in _stream(model, batches, probs_fn, device, None, label)]
    if shard:
        parts = [p for rank_parts in dist.gather_objects(parts) for p in rank_parts]
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, np.zeros((0, 0), dtype=np.float32), empty.copy()
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
    )


def run_validation(
    model: nn.Module,
    batches: Iterable[Batch],
    *,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    probs_fn: ProbsFn,
    device: str | torch.device = "cpu",
    shard: bool = False,
) -> dict[str, float]:  # "n" is an int (a count)
    """Loss, accuracy and macro-F1 over the labelled examples of ``batches``.

    Args:
        model: Batch -> logits ``(B, C)``.
        batches: the validation batches.
        loss_fn: ``loss_fn(logits, labels)`` -> loss summed over the batch.
        probs_fn: logits -> probabilities; the prediction is their argmax.
        device: where the model runs.
        shard: under torchrun, each rank validates every ``world_size``-th batch and the
            losses and predictions are gathered, so every rank returns the metrics of the whole
            set. A collective: every rank must call it with the same batches.

    Returns:
        ``{"loss": mean per example, "accuracy": ..., "macro_f1": ..., "n": examples}``
        (``n`` counts labelled examples, an int; the other values are NaN when there are none).
    """
    from sklearn.metrics import f1_score

    if shard:
        batches = dist.shard(batches)
    parts = []  # (summed loss, predictions, labels) of each labelled batch
    n_classes = 0
    for _, probs, y, loss in _stream(model, batches, probs_fn, device, loss_fn, "validation"):
        n_classes = max(n_classes, probs.shape[1])
        keep = y >= 0
        parts.append((loss, probs.argmax(axis=1)[keep], y[keep]))
    if shard:
        parts = [p for rank_parts in dist.gather_objects(parts) for p in rank_parts]
        n_classes = max(dist.gather_objects(n_classes))
    total_loss = sum(p[0] for p in parts)
    preds, labels = [p[1] for p in parts], [p[2] for p in parts]
    y_pred = np.concatenate(preds) if preds else np.zeros(0, dtype=np.int64)
    y_true = np.concatenate(labels) if labels else np.zeros(0, dtype=np.int64)
    n = int(y_true.size)
    if n == 0:
        return {"loss": float("nan"), "accuracy": float("nan"), "macro_f1": float("nan"), "n": 0}
    return {
        "loss": total_loss / n,
        "accuracy": float((y_pred == y_true).mean()),
        # macro over every class known at training (the probability columns), the definition
        # of ftlab.evaluation.label_metrics that every command reports
        "macro_f1": float(f1_score(y_true, y_pred, labels=list(range(n_classes)),
                                   average="macro", zero_division=0)),
        "n": n,
    }
