"""Tiny, honest stand-ins for the training tests: a resumable batch source and a model."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ftlab.batching import Batch

VOCAB, CLASSES, SEQ, POOL = 24, 3, 6, 128


def make_batch(indices: Sequence[int], *, data_seed: int = 0) -> Batch:
    """Batch of the examples ``indices`` of a fixed synthetic split (label = first token % 3)."""
    g = torch.Generator().manual_seed(data_seed)
    ids_all = torch.randint(1, VOCAB, (POOL, SEQ), generator=g)  # a fixed pool: same data per index
    len_all = torch.randint(1, SEQ + 1, (POOL,), generator=g)
    idx = torch.tensor(list(indices), dtype=torch.long)
    lengths = len_all[idx]
    mask = (torch.arange(SEQ)[None, :] < lengths[:, None]).long()
    ids = ids_all[idx] * mask  # pad id 0
    labels = ids_all[idx, 0] % CLASSES
    return Batch(ids=ids, mask=mask, lengths=lengths, labels=labels, index=idx)


class ToySource:
    """Seeded per-epoch shuffling, uneven batch sizes, resumable position (a fake BatchSource)."""

    def __init__(
        self, n: int = 30, sizes: Sequence[int] = (3, 5), seed: int = 1, data_seed: int = 0
    ):
        self.n, self.sizes, self.seed, self.data_seed = n, list(sizes), seed, data_seed
        self.epoch, self.position = 0, 0

    def _chunks(self) -> list[list[int]]:
        g = torch.Generator().manual_seed(self.seed * 1000 + self.epoch)
        order = torch.randperm(self.n, generator=g)
        chunks, start, i = [], 0, 0
        while start < self.n:
            size = self.sizes[i % len(self.sizes)]
            chunks.append(order[start:start + size].tolist())
            start, i = start + size, i + 1
        return chunks

    def __iter__(self) -> Iterator[Batch]:
        chunks = self._chunks()
        while self.position < len(chunks):
            chunk = chunks[self.position]
            self.position += 1
            yield make_batch(chunk, data_seed=self.data_seed)

    def __len__(self) -> int:
        return len(self._chunks())

    def set_epoch(self, epoch: int) -> None:
        self.epoch, self.position = epoch, 0

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "seed": self.seed, "position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch, self.seed = int(state["epoch"]), int(state["seed"])
        self.position = int(state["position"])


class ListSource:
    """Yields a fixed list of batches in order (resumable)."""

    def __init__(self, batches: Sequence[Batch]):
        self.batches, self.epoch, self.position = list(batches), 0, 0

    def __iter__(self) -> Iterator[Batch]:
        while self.position < len(self.batches):
            self.position += 1
            yield self.batches[self.position - 1]

    def __len__(self) -> int:
        return len(self.batches)

    def set_epoch(self, epoch: int) -> None:
        self.epoch, self.position = epoch, 0

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "seed": 0, "position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch, self.position = int(state["epoch"]), int(state["position"])


class ToyModel(nn.Module):
    """Embedding -> masked mean -> LayerNorm -> dropout -> linear: Batch -> logits (B, C)."""

    def __init__(self, dim: int = 8, dropout: float = 0.0):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, dim, padding_idx=0)
        self.norm = nn.LayerNorm(dim)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(dim, CLASSES)

    def forward(self, batch: Batch) -> torch.Tensor:
        x = self.emb(batch.ids)  # (B, T, D)
        m = batch.mask.unsqueeze(-1).to(x.dtype)  # (B, T, 1)
        pooled = (x * m).sum(1) / m.sum(1).clamp(min=1.0)  # (B, D)
        return self.head(self.drop(self.norm(pooled)))  # (B, C)


def sum_ce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits, labels, reduction="sum")


def softmax(logits: torch.Tensor) -> torch.Tensor:
    return logits.softmax(-1)


class Recorder:
    """Observer keeping every event it receives."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def on_train_start(self, e: Any) -> None:
        self.events.append(e)

    def on_step_end(self, e: Any) -> None:
        self.events.append(e)

    def on_eval_end(self, e: Any) -> None:
        self.events.append(e)

    def on_epoch_end(self, e: Any) -> None:
        self.events.append(e)

    def on_train_end(self, e: Any) -> None:
        self.events.append(e)


class StopAt:
    """Observer asking to stop after a given step."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, e: Any) -> Any:
        from ftlab.training import StopRequest

        return StopRequest(f"test stop at step {e.step}") if e.step == self.step else None
