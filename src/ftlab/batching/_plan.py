"""Pure functions that turn (lengths, seed, epoch) into a list of batches.

Everything here is deterministic given its arguments, so every rank computes the same global
plan from ``(seed, epoch)`` alone and no communication is needed.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np

Balance = Literal["none", "oversample", "undersample"]

# Independent random streams per purpose, so that e.g. turning bucketing on does not change
# which examples oversampling draws.
_STREAM_BALANCE = 0
_STREAM_ORDER = 1
_STREAM_BATCHES = 2


def rng_for(seed: int, epoch: int, stream: int) -> np.random.Generator:
    """A generator that depends only on ``(seed, epoch, stream)``."""
    return np.random.default_rng([seed, epoch, stream])


def balanced_pool(
    labels: np.ndarray, balance: Balance, seed: int, epoch: int
) -> np.ndarray:
    """Indices that make up one epoch, sorted ascending (duplicates possible for oversampling).

    ``"oversample"`` keeps every example and draws extra ones of each smaller class with
    replacement up to the largest class count; ``"undersample"`` draws, without replacement,
    as many examples of every class as the smallest class has. Only classes that occur count.
    """
    n = len(labels)
    if balance == "none":
        return np.arange(n, dtype=np.int64)
    rng = rng_for(seed, epoch, _STREAM_BALANCE)
    classes, counts = np.unique(labels, return_counts=True)
    parts: list[np.ndarray] = []
    target = int(counts.max()) if balance == "oversample" else int(counts.min())
    for cls, count in zip(classes.tolist(), counts.tolist(), strict=True):
        members = np.flatnonzero(labels == cls)
        if balance == "oversample":
            extra = rng.choice(members, size=target - count, replace=True)
            parts.append(np.concatenate([members, extra]))
        else:
            parts.append(rng.choice(members, size=target, replace=False))
    return np.sort(np.concatenate(parts)).astype(np.int64)


def cut(
    order: np.ndarray,
    lengths: np.ndarray,
    batch_size: int | None,
    max_tokens: int | None,
) -> list[list[int]]:
    """Cut ``order`` greedily into consecutive batches.

    A batch closes when it holds ``batch_size`` examples or when adding the next example would
    make ``len(batch) * longest > max_tokens``. An example longer than ``max_tokens`` on its own
    gets a batch of one (it is never dropped).
    """
    if max_tokens is None:
        size = batch_size or len(order) or 1  # the sampler guarantees one of the two is set
        flat = order.tolist()
        return [flat[i : i + size] for i in range(0, len(flat), size)]
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i, cost in zip(order.tolist(), lengths[order].tolist(), strict=True):
        new_longest = max(longest, cost)
        full = batch_size is not None and len(current) >= batch_size
        if current and (full or (len(current) + 1) * new_longest > max_tokens):
            batches.append(current)
            current, new_longest = [], cost
        current.append(i)
        longest = new_longest
    if current:
        batches.append(current)
    return batches


def bucketed(
    order: np.ndarray,
    lengths: np.ndarray,
    chunk: int,
    batch_size: int | None,
    max_tokens: int | None,
) -> list[list[int]]:
    """Marian/fairseq bucketing: maxi-batches of ``chunk`` examples, each sorted by length, cut."""
    batches: list[list[int]] = []
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        # stable sort: equal lengths keep their (random) order
        part = part[np.argsort(lengths[part], kind="stable")]
        batches.extend(cut(part, lengths, batch_size, max_tokens))
    return batches


def equalize(batches: list[list[int]], world_size: int) -> tuple[list[list[int]], bool]:
    """Make the number of batches a multiple of ``world_size`` without dropping examples.

    Splits the batch with the most examples in two until the count is a multiple. When that is
    impossible (fewer examples than the next multiple, i.e. almost every batch holds a single
    example) it merges the two smallest batches instead, which can exceed ``batch_size`` /
    ``max_tokens``; the second return value says whether that happened.
    """
    if world_size == 1 or len(batches) % world_size == 0:
        return batches, False
    total = sum(len(b) for b in batches)
    target = -(-len(batches) // world_size) * world_size
    out = [list(b) for b in batches]
    if target <= total:
        while len(out) < target:
            k = max(range(len(out)), key=lambda j: len(out[j]))
            half = (len(out[k]) + 1) // 2
            out[k : k + 1] = [out[k][:half], out[k][half:]]
        return out, False
    target -= world_size
    while len(out) > target:
        a, b = sorted(range(len(out)), key=lambda j: len(out[j]))[:2]
        a, b = min(a, b), max(a, b)
        out[a] = out[a] + out.pop(b)
    return out, True


def longest_to_front(
    batches: list[list[int]], lengths: np.ndarray, k: int
) -> list[list[int]]:
    """Move the ``k`` batches with the longest sequences (ties: most padded tokens) to the front."""
    if not batches:
        return batches

    def cost(j: int) -> tuple[int, int]:
        longest = int(lengths[batches[j]].max())
        return longest, longest * len(batches[j])

    top = sorted(range(len(batches)), key=cost, reverse=True)[:k]
    chosen = set(top)
    return [batches[j] for j in top] + [b for j, b in enumerate(batches) if j not in chosen]


def plan_epoch(
    *,
    lengths: np.ndarray,
    labels: np.ndarray | None,
    batch_size: int | None,
    max_tokens: int | None,
    shuffle: bool,
    bucket: bool,
    chunk: int,
    longest_first: bool,
    drop_last: bool,
    seed: int,
    epoch: int,
    world_size: int,
    balance: Balance,
) -> tuple[list[list[int]], bool]:
    """The global list of batches for one epoch (all ranks), and whether batches were merged.

    Returns:
        ``(batches, merged)``; rank ``r`` takes ``batches[r::world_size]``.
    """
    pool = balanced_pool(labels, balance, seed, epoch) if labels is not None else np.arange(
        len(lengths), dtype=np.int64
    )
    if shuffle:
        pool = rng_for(seed, epoch, _STREAM_ORDER).permutation(pool)
    if drop_last and batch_size is not None:
        keep = len(pool) // (batch_size * world_size) * batch_size * world_size
        pool = pool[:keep]
    if bucket and shuffle:
        batches = bucketed(pool, lengths, chunk, batch_size, max_tokens)
        perm = rng_for(seed, epoch, _STREAM_BATCHES).permutation(len(batches))
        batches = [batches[j] for j in perm.tolist()]
    elif bucket:
        # evaluation: one global sort by length (fastest inference); Batch.index restores order
        batches = cut(pool[np.argsort(lengths[pool], kind="stable")], lengths, batch_size, max_tokens)
    else:
        batches = cut(pool, lengths, batch_size, max_tokens)
    batches, merged = equalize(batches, world_size)
    if longest_first:
        batches = longest_to_front(batches, lengths, world_size)
    return batches, merged


def warn_merged(world_size: int) -> None:
    """Warn (once per sampler) that equal step counts needed merging batches."""
    warnings.warn(
        f"BucketBatchSampler: to give all {world_size} ranks the same number of batches without "
        "dropping or duplicating examples, some batches were merged and may exceed batch_size / "
        "max_tokens (almost every batch held a single example). Use a larger batch_size or "
        "max_tokens, or fewer ranks.",
        RuntimeWarning,
        stacklevel=3,
    )

