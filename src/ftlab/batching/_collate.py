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

    Returns:
        A :class:`Batch` with ``ids``/``mask`` (B, T), ``lengths``/``labels``/``index`` (B,),
        ``pair_ids``/``pair_mask`` (B, T2) and ``pair_lengths`` (B,) when the items have pairs,
        and ``token_type_ids`` (B, T) when they have segment ids.

    Raises:
        DataError: for an empty batch, an example without tokens, a mix of examples with and
            without ``pair_ids`` / ``token_type_ids``, or segment ids whose length differs from
            the ids.
    """
    if len(items) == 0:
        raise DataError("collate: got an empty batch; a batch needs at least one example.")
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
