"""What a model receives."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from typing import Any, Protocol, runtime_checkable

import torch

__all__ = ["Encoded", "Batch", "BatchSource"]


@dataclass(frozen=True)
class Encoded:
    """One example after preprocessing.

    Attributes:
        index: position of the example in its split (used to map predictions back).
        ids: token ids of the model input (for ``pair_mode="joined"`` both sides with a separator).
        label: class index from the label map, or -1 when unlabelled.
        pair_ids: token ids of the second text when pairs are encoded separately
            (``pair_mode="separate"``), else ``None``.
        token_type_ids: segment ids for pretrained tokenizers that use them, else ``None``.
        choices: multiple choice: one joined ``(context, choice)`` sequence per choice (``ids``
            then holds the context alone, for inspection), else ``None``.
        choice_token_type_ids: segment ids of each ``choices`` sequence, when the tokenizer
            produces them.
    """

    index: int
    ids: list[int]
    label: int
    pair_ids: list[int] | None = None
    token_type_ids: list[int] | None = None
    choices: list[list[int]] | None = None
    choice_token_type_ids: list[list[int]] | None = None

    @property
    def length(self) -> int:
        """Number of tokens the model will see (both sides for separately encoded pairs).

        Multiple choice: N times the longest ``(context, choice)`` sequence, since every
        choice is padded to that one: samplers sort by it (the longest pair, N being the same
        for every item) and a token budget counts what the batch really holds (B x N x T).
        """
        if self.choices is not None:
            return len(self.choices) * max(len(c) for c in self.choices)
        return len(self.ids) + (len(self.pair_ids) if self.pair_ids is not None else 0)


@dataclass
class Batch:
    """A padded batch. Shapes: B = batch size, T = longest sequence in the batch.

    Attributes:
        ids: (B, T) long, padded with the tokenizer's pad id.
        mask: (B, T) long, 1 for real tokens and 0 for padding (HF ``attention_mask`` convention).
        lengths: (B,) long, real lengths (>= 1).
        labels: (B,) long, class indices (-1 when unlabelled).
        index: (B,) long, positions of the examples in their split.
        pair_ids / pair_mask / pair_lengths: the second text of separately encoded pairs.
        token_type_ids: (B, T) long segment ids, when the tokenizer produces them.

    Multiple choice (N choices per example): ``ids``, ``mask`` and ``token_type_ids`` are
    (B, N, T), one joined ``(context, choice)`` sequence per choice, and ``lengths`` is (B, N);
    :attr:`num_choices` is N (``None`` for every other batch).
    """

    ids: torch.Tensor
    mask: torch.Tensor
    lengths: torch.Tensor
    labels: torch.Tensor
    index: torch.Tensor
    pair_ids: torch.Tensor | None = None
    pair_mask: torch.Tensor | None = None
    pair_lengths: torch.Tensor | None = None
    token_type_ids: torch.Tensor | None = None

    def to(self, device: torch.device | str, non_blocking: bool = False) -> Batch:
        """Return a copy with every tensor on ``device``."""
        moved = {
            f.name: (v.to(device, non_blocking=non_blocking) if isinstance(v, torch.Tensor) else v)
            for f in fields(self)
            for v in [getattr(self, f.name)]
        }
        return replace(self, **moved)

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @property
    def num_choices(self) -> int | None:
        """N for a multiple-choice batch (``ids`` is (B, N, T)), else ``None``."""
        return int(self.ids.shape[1]) if self.ids.dim() == 3 else None

    @property
    def n_tokens(self) -> int:
        """Real (unpadded) tokens in the batch, both sides of pairs included."""
        n = int(self.lengths.sum())
        if self.pair_lengths is not None:
            n += int(self.pair_lengths.sum())
        return n

    @property
    def n_padded(self) -> int:
        """Token slots including padding (what the model computes over)."""
        n = int(self.ids.numel())
        if self.pair_ids is not None:
            n += int(self.pair_ids.numel())
        return n


@runtime_checkable
class BatchSource(Protocol):
    """A resumable, epoch-aware iterable of :class:`Batch` (what ``fit`` consumes).

    ``state_dict()`` must be JSON-serialisable (ints/strings/lists) and hold the epoch, seed and
    the number of batches already yielded in the current epoch, so that after
    ``load_state_dict`` iteration yields exactly the remaining batches of that epoch.

    A source whose batch count changes from epoch to epoch (a token budget) also offers
    ``epoch_length(epoch) -> int``, so that the run's steps can be planned before training
    (:func:`ftlab.training.plan_steps`); without it every epoch is planned with ``len()``.
    """

    def __iter__(self) -> Iterator[Batch]: ...

    def __len__(self) -> int: ...  # batches in one full epoch (on this rank)

    def set_epoch(self, epoch: int) -> None: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...
