"""Tiny batches for model tests (random token ids, right padding)."""

from __future__ import annotations

import torch

from ftlab.batching import Batch

PAD = 0


def pad_rows(
    rows: list[list[int]], width: int | None = None, fill: int = PAD
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad token id lists to ``width`` (default: longest); return (ids, mask)."""
    width = width or max(len(r) for r in rows)
    ids = torch.full((len(rows), width), fill, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
        mask[i, : len(row)] = 1
    return ids, mask


def batch_from(
    rows: list[list[int]],
    labels: list[int],
    pairs: list[list[int]] | None = None,
    width: int | None = None,
    fill: int = PAD,
) -> Batch:
    """A Batch from token id lists (and optional second texts)."""
    ids, mask = pad_rows(rows, width, fill)
    extra = {}
    if pairs is not None:
        pair_ids, pair_mask = pad_rows(pairs, width, fill)
        extra = {"pair_ids": pair_ids, "pair_mask": pair_mask, "pair_lengths": pair_mask.sum(1)}
    return Batch(
        ids=ids,
        mask=mask,
        lengths=mask.sum(1),
        labels=torch.tensor(labels, dtype=torch.long),
        index=torch.arange(len(rows)),
        **extra,
    )


def random_batch(
    n: int = 8,
    vocab_size: int = 40,
    num_classes: int = 3,
    max_len: int = 9,
    pairs: bool = False,
    seed: int = 0,
) -> Batch:
    """``n`` examples of random ids in [1, vocab_size) with lengths 1..max_len, random labels."""
    g = torch.Generator().manual_seed(seed)

    def rows() -> list[list[int]]:
        lengths = torch.randint(1, max_len + 1, (n,), generator=g).tolist()
        lengths[0] = max_len  # at least one full row
        return [torch.randint(1, vocab_size, (k,), generator=g).tolist() for k in lengths]

    first = rows()
    second = rows() if pairs else None
    labels = torch.randint(0, num_classes, (n,), generator=g).tolist()
    return batch_from(first, labels, second)
