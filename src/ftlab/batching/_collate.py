"""Collate encoded examples into a padded :class:`Batch` (dynamic padding, right side)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ftlab.core import Batch, Encoded
from ftlab.errors import DataError

__all__ = ["collate"]


def _pad(rows: Sequence[Sequence[int]], pad_id: int, min_width: int = 1) -> np.ndarray:
    """Right-pad ``rows`` into a (B, T) int64 array, T = longest row (at least ``min_width``)."""
    width = max(min_width, max(len(r) for r in rows))
    out = np.full((len(rows), width), pad_id, dtype=np.int64)
    for i, row in enumerate(rows):
        if row:
            out[i, : len(row)] = row
    return out


def _mask(lengths: np.ndarray, width: int) -> torch.Tensor:
    # (B, T): 1 where the position is a real token
    return (torch.arange(width)[None, :] < torch.from_numpy(lengths)[:, None]).long()


def collate(items: Sequence[Encoded], *, pad_id: int = 0) -> Batch:
    """Pad a list of encoded examples to the longest one in the batch.

    Args:
        items: the examples of one batch (all with or all without ``pair_ids``).
        pad_id: id used for padding ``ids`` and ``pair_ids`` (``token_type_ids`` pad with 0).

    Multiple-choice items (``Encoded.choices``) give ``ids``/``mask``/``token_type_ids`` of
    shape (B, N, T), padded to the longest ``(context, choice)`` sequence of the batch, and
    ``lengths`` (B, N).

    Returns:
        A :class:`Batch` with ``ids``/``mask`` (B, T), ``lengths``/``labels``/``index`` (B,),
        ``pair_ids``/``pair_mask`` (B, T2) and ``pair_lengths`` (B,) when the items have pairs,
        and ``token_type_ids`` (B, T) when they have segment ids.

    Raises:
        DataError: for an empty batch, an example without tokens, a mix of examples with and
            without ``pair_ids`` / ``token_type_ids``, or segment ids whose length differs from
            the ids; for multiple choice also a mix with plain items, differing choice counts
            or an empty choice sequence.
    """
    if len(items) == 0:
        raise DataError("collate: got an empty batch; a batch needs at least one example.")
    if any(item.choices is not None for item in items):
        return _collate_choices(items, pad_id)
    has_pair = items[0].pair_ids is not None
    has_types = items[0].token_type_ids is not None
    for item in items:
        if len(item.ids) == 0:
            raise DataError(
                f"collate: example index={item.index} has no tokens (ids=[]); drop empty texts "
                "or make the tokenizer keep at least one token."
            )
        if (item.pair_ids is not None) != has_pair:
            raise DataError(
                f"collate: example index={item.index} {'lacks' if has_pair else 'has'} "
                "pair_ids while others in the batch do not; encode all examples of a split "
                "with the same pair mode."
            )
        if (item.token_type_ids is not None) != has_types:
            raise DataError(
                f"collate: example index={item.index} {'lacks' if has_types else 'has'} "
                "token_type_ids while others in the batch do not; use one tokenizer per split."
            )
        if item.token_type_ids is not None and len(item.token_type_ids) != len(item.ids):
            raise DataError(
                f"collate: example index={item.index} has {len(item.token_type_ids)} "
                f"token_type_ids for {len(item.ids)} ids; they must have the same length."
            )

    lengths = np.fromiter((len(i.ids) for i in items), dtype=np.int64, count=len(items))
    ids = _pad([i.ids for i in items], pad_id)
    width = ids.shape[1]
    batch = Batch(
        ids=torch.from_numpy(ids),
        mask=_mask(lengths, width),
        lengths=torch.from_numpy(lengths),
        labels=torch.tensor([i.label for i in items], dtype=torch.long),
        index=torch.tensor([i.index for i in items], dtype=torch.long),
    )
    if has_types:
        batch.token_type_ids = torch.from_numpy(_pad([i.token_type_ids or [] for i in items], 0))
    if has_pair:
        pair_rows = [i.pair_ids or [] for i in items]
        pair_lengths = np.fromiter((len(r) for r in pair_rows), dtype=np.int64, count=len(items))
        # width >= 1 even if every second text is empty, so models never see a (B, 0) tensor
        pair_ids = _pad(pair_rows, pad_id)
        batch.pair_ids = torch.from_numpy(pair_ids)
        batch.pair_mask = _mask(pair_lengths, pair_ids.shape[1])
        batch.pair_lengths = torch.from_numpy(pair_lengths)
    return batch


def _collate_choices(items: Sequence[Encoded], pad_id: int) -> Batch:
    """(B, N, T) batch of multiple-choice items: every (context, choice) sequence padded to T."""
    n = len(items[0].choices or [])
    has_types = items[0].choice_token_type_ids is not None
    for item in items:
        if item.choices is None or len(item.choices) != n:
            got = "no" if item.choices is None else len(item.choices)
            raise DataError(
                f"collate: example index={item.index} has {got} choices while index="
                f"{items[0].index} has {n}; every item of a multiple-choice split needs the "
                "same number of choices.")
        if any(len(c) == 0 for c in item.choices):
            raise DataError(f"collate: example index={item.index} has a choice without tokens; "
                            "drop empty choices in the data.")
        if (item.choice_token_type_ids is not None) != has_types:
            raise DataError(f"collate: example index={item.index} mixes items with and without "
                            "segment ids; use one tokenizer per split.")
    rows = [c for item in items for c in item.choices or []]  # B*N sequences
    flat = _pad(rows, pad_id)  # (B*N, T)
    width = flat.shape[1]
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    b = len(items)
    batch = Batch(
        ids=torch.from_numpy(flat).view(b, n, width),
        mask=_mask(lengths, width).view(b, n, width),
        lengths=torch.from_numpy(lengths).view(b, n),
        labels=torch.tensor([i.label for i in items], dtype=torch.long),
        index=torch.tensor([i.index for i in items], dtype=torch.long),
    )
    if has_types:
        types = [t for item in items for t in item.choice_token_type_ids or []]
        batch.token_type_ids = torch.from_numpy(_pad(types, 0, width)).view(b, n, width)
    return batch
