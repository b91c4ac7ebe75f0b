"""Seeded, stratified train/validation/test splits that respect the source's own splits.

Carved splits are leak-free by default: identical texts (after :func:`normalize_text`; for
pairs, the pair) form one group, and a group lands in one split. When no text repeats, the
split is exactly the one ungrouped stratified splitting gives (same code path, same draws).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from ftlab.core import Example
from ftlab.data._checks import normalize_text
from ftlab.errors import ConfigError, DataError

__all__ = ["split_examples", "complete_splits", "subsample_examples", "canonical_split",
           "duplicate_groups"]

logger = logging.getLogger("ftlab.data")

_ALIASES = {"val": "validation", "valid": "validation", "dev": "validation",
            "development": "validation", "eval": "validation"}


def canonical_split(name: str) -> str:
    """Return the canonical split name (``dev``/``val``/``valid`` -> ``validation``)."""
    return _ALIASES.get(name.lower(), name)


def _size(value: float | int, n: int, name: str) -> int:
    """Turn a fraction (float in [0, 1)) or an absolute count (int) into a count of ``n``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"`{name}` must be a fraction in [0, 1) or a count, got {value!r}.")
    if isinstance(value, float):
        if not 0.0 <= value < 1.0:
            raise ConfigError(f"`{name}` must be a fraction in [0, 1) or an int count, got "
                              f"{value!r}. Use e.g. {name}=0.1 or {name}=500.")
        return int(round(value * n))
    if value < 0:
        raise ConfigError(f"`{name}` must be >= 0, got {value!r}.")
    return value


def _strata(examples: Sequence[Example], stratify: bool) -> list[list[int]]:
    """Index groups: one per label (sorted, missing label last) or a single group."""
    if not stratify:
        return [list(range(len(examples)))]
    groups: dict[str, list[int]] = {}
    for i, ex in enumerate(examples):
        groups.setdefault("\x00missing" if ex.label is None else ex.label, []).append(i)
    return [groups[k] for k in sorted(groups)]


def _allocate(total: int, sizes: list[int], caps: list[int]) -> list[int]:
    """Split ``total`` over groups proportionally to ``sizes``, at most ``caps`` each.

    Largest remainder first; ties broken by group order, so every machine gets the same result.
    """
    n = sum(sizes)
    if n == 0 or total == 0:
        return [0] * len(sizes)
    quotas = [total * s / n for s in sizes]
    alloc = [min(int(q), c) for q, c in zip(quotas, caps, strict=True)]
    order = sorted(range(len(sizes)), key=lambda i: (-(quotas[i] - int(quotas[i])), i))
    while sum(alloc) < total:
        grew = False
        for i in order:
            if sum(alloc) < total and alloc[i] < caps[i]:
                alloc[i] += 1
                grew = True
        if not grew:  # total exceeds the capacity left; callers prevent this
            break
    return alloc


def _partition(examples: Sequence[Example], sizes: list[int], seed: int,
               stratify: bool) -> list[list[Example]]:
    """Randomly draw parts of ``sizes`` (per stratum, proportionally) plus the rest, in order.

    Returns ``len(sizes) + 1`` lists: the drawn parts, then everything left over.
    """
    parts = _partition_indices(examples, sizes, seed, stratify)
    return [[examples[i] for i in sorted(idx)] for idx in parts]


def _partition_indices(examples: Sequence[Example], sizes: list[int], seed: int,
                       stratify: bool) -> list[list[int]]:
    """:func:`_partition` as example indices (unsorted within a part)."""
    rng = np.random.default_rng(seed)
    groups = _strata(examples, stratify)
    group_sizes = [len(g) for g in groups]
    left = list(group_sizes)
    per_part = []
    for size in sizes:
        alloc = _allocate(size, group_sizes, left)
        left = [a - b for a, b in zip(left, alloc, strict=True)]
        per_part.append(alloc)
    parts: list[list[int]] = [[] for _ in range(len(sizes) + 1)]
    for gi, group in enumerate(groups):
        perm = rng.permutation(len(group))
        start = 0
        for pi in range(len(sizes)):
            take = per_part[pi][gi]
            parts[pi].extend(group[j] for j in perm[start : start + take])
            start += take
        parts[-1].extend(group[j] for j in perm[start:])
    return parts


def duplicate_groups(examples: Sequence[Example]) -> list[list[int]]:
    """Indices of examples whose texts are identical after normalization (pairs: the pair;
    multiple choice: the context with its choices), one list per text in first-occurrence
    order; singletons included."""
    groups: dict[tuple[str, str | None], list[int]] = {}
    for i, ex in enumerate(examples):
        second = ex.text_pair if ex.choices is None else "\x1f".join(ex.choices)
        key = (normalize_text(ex.text), None if second is None else normalize_text(second))
        groups.setdefault(key, []).append(i)
    return list(groups.values())


def _home(group: list[int], home_of: dict[int, int], pool: dict[tuple[int, str | None], list[int]],
          n_parts: int, examples: Sequence[Example], stratify: bool) -> int:
    """The part a group of copies gathers in: the one holding most of its copies (ties: the
    part of its first copy) among those with enough single texts of the copies' labels to
    swap out; when none has, the part holding most copies (the part sizes then shift)."""
    counts = np.bincount([home_of[i] for i in group], minlength=n_parts)
    order = sorted(range(n_parts), key=lambda p: (-counts[p], p != home_of[group[0]], p))
    for part in order:
        need: dict[str | None, int] = {}
        for i in group:
            if home_of[i] != part:
                key = examples[i].label if stratify else None
                need[key] = need.get(key, 0) + 1
        if all(len(pool.get((part, k), [])) >= n for k, n in need.items()):
            return part
    return order[0]  # no part can swap: keep most copies where they are (sizes shift)


def _partition_grouped(examples: Sequence[Example], sizes: list[int], seed: int,
                       stratify: bool, groups: list[list[int]]) -> list[list[Example]]:
    """:func:`_partition`, then every group of identical texts gathered into one part.

    The ungrouped split is drawn first (the same draws as without duplicates). Each group of
    copies then moves to one part (see :func:`_home`); for every copy moved from part A into
    part H, a single (unrepeated) text with the copy's label moves from H back to A, so every
    part keeps its size and label counts. Only when no part holds enough such single texts do
    the counts shift. The split thus differs from the ungrouped one only in the examples
    moved.
    """
    parts = _partition_indices(examples, sizes, seed, stratify)
    home_of = {i: pi for pi, idx in enumerate(parts) for i in idx}
    singles = {i for g in groups if len(g) == 1 for i in g}
    rng = np.random.default_rng([seed, 1])  # its own stream: the first draws stay as they are
    # single texts per (part, label), in a seeded order, to swap against moved copies
    pool: dict[tuple[int, str | None], list[int]] = {}
    for i in sorted(singles):
        pool.setdefault((home_of[i], examples[i].label if stratify else None), []).append(i)
    for key in pool:
        pool[key] = [pool[key][j] for j in rng.permutation(len(pool[key]))]
    for group in (g for g in groups if len(g) > 1):
        home = _home(group, home_of, pool, len(parts), examples, stratify)
        for i in group:
            away = home_of[i]
            if away == home:
                continue
            home_of[i] = home
            swap = pool.get((home, examples[i].label if stratify else None))
            if swap:
                j = swap.pop()
                home_of[j] = away
                pool.setdefault((away, examples[j].label if stratify else None), []).append(j)
    out: list[list[int]] = [[] for _ in parts]
    for i, pi in home_of.items():
        out[pi].append(i)
    return [[examples[i] for i in sorted(idx)] for idx in out]


def split_examples(
    examples: Sequence[Example],
    *,
    validation: float | int = 0.1,
    test: float | int = 0.1,
    seed: int = 0,
    stratify: bool = True,
    group_duplicates: bool = True,
) -> dict[str, list[Example]]:
    """Split one pool into train/validation/test, seeded and (by default) stratified by label.

    Args:
        examples: the pool; every example lands in exactly one split.
        validation: fraction in [0, 1) of the pool, or an absolute count.
        test: fraction in [0, 1) of the pool, or an absolute count.
        seed: the only source of randomness; same seed and input -> same splits everywhere.
        stratify: keep label proportions equal across splits (largest-remainder allocation).
        group_duplicates: keep identical texts (after normalization; pairs by the pair) in
            one split, so no text of validation or test also occurs in train. Without repeated
            texts the split is the same either way.

    Returns:
        ``{"train", "validation", "test"}`` lists, each in the pool's original order.

    Raises:
        ConfigError: when sizes are invalid or leave no training examples.
    """
    n = len(examples)
    n_val, n_test = _size(validation, n, "validation"), _size(test, n, "test")
    if n_val + n_test >= n:
        raise ConfigError(
            f"validation ({validation!r} -> {n_val}) + test ({test!r} -> {n_test}) leave no "
            f"training examples out of {n}. Lower `validation`/`test`."
        )
    groups = duplicate_groups(examples) if group_duplicates else []
    repeated = [g for g in groups if len(g) > 1]
    if not repeated:  # every text unique: exactly the ungrouped split
        val, tst, train = _partition(examples, [n_val, n_test], seed, stratify)
    else:
        val, tst, train = _partition_grouped(examples, [n_val, n_test], seed, stratify, groups)
        logger.info("kept %d groups of identical texts (%d examples) together, each in one "
                    "split", len(repeated), sum(len(g) for g in repeated))
        for name, want, got in (("validation", n_val, len(val)), ("test", n_test, len(tst))):
            if got < want:
                logger.warning("carved %s has %d examples, %d fewer than asked: too few unique "
                               "texts to fill it without splitting groups of copies", name,
                               got, want - got)
    return {"train": train, "validation": val, "test": tst}


def subsample_examples(examples: Sequence[Example], n: int, *, seed: int = 0,
                       stratify: bool = True) -> list[Example]:
    """Return ``n`` examples drawn without replacement (seeded, stratified), in original order.

    Args:
        examples: the pool.
        n: how many to keep; the whole pool when ``n >= len(examples)``.
        seed: random seed.
        stratify: keep label proportions.

    Returns:
        The kept examples.

    Raises:
        ConfigError: when ``n`` is negative.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ConfigError(f"`max_examples` must be a non-negative int, got {n!r}.")
    if n >= len(examples):
        return list(examples)
    return _partition(examples, [n], seed, stratify)[0]


def complete_splits(
    splits: dict[str, list[Example]],
    *,
    validation: float | int = 0.1,
    test: float | int = 0.1,
    seed: int = 0,
    stratify: bool = True,
    group_duplicates: bool = True,
) -> dict[str, list[Example]]:
    """Fill in missing train/validation/test splits, keeping the source's own splits.

    train+validation+test are kept as is; train+test -> validation carved from train;
    train+validation -> test carved from train; one pool (``"all"`` or ``"train"``) -> split three
    ways. Fractions are of the pool being carved. Other split names pass through unchanged.

    Args:
        splits: split name -> examples (``dev``/``val``/``valid`` are read as ``validation``).
        validation: fraction or count for a validation split carved here.
        test: fraction or count for a test split carved here.
        seed: random seed.
        stratify: stratify carved splits by label.
        group_duplicates: keep identical texts in one carved split (see
            :func:`split_examples`); given splits are never re-split.

    Returns:
        A new dict with at least ``train``, ``validation`` and ``test``.

    Raises:
        DataError: when there is no training pool, ``all`` and ``train`` both exist, or ids
            repeat within a split.
    """
    named: dict[str, list[Example]] = {}
    for name, exs in splits.items():
        key = canonical_split(name)
        if key in named:
            raise DataError(f"splits {sorted(splits)} name {key!r} twice; keep one of them.")
        named[key] = list(exs)
    if "all" in named:
        if "train" in named:
            raise DataError("both an 'all' and a 'train' split were given; use one training pool.")
        named["train"] = named.pop("all")
    if "train" not in named:
        raise DataError(f"no training data: got splits {sorted(splits)}. Provide a 'train' split "
                        f"(or one pool to split) via `data.source` or `data.files.train`.")
    train = named.pop("train")
    has_val, has_test = "validation" in named, "test" in named
    if has_val and has_test:
        out = {"train": train, **named}
    elif has_test or has_val:
        missing = "test" if has_val else "validation"
        frac = test if has_val else validation
        parts = split_examples(train, validation=frac, test=0, seed=seed, stratify=stratify,
                               group_duplicates=group_duplicates)
        out = {"train": parts["train"], missing: parts["validation"], **named}
        logger.info("carved %d %s examples from train (seed %d)", len(out[missing]), missing, seed)
    else:
        out = {**split_examples(train, validation=validation, test=test, seed=seed,
                                stratify=stratify, group_duplicates=group_duplicates), **named}
    for name, exs in out.items():
        _check_unique_ids(name, exs)
    return {k: out[k] for k in ("train", "validation", "test")} | out


def _check_unique_ids(split: str, examples: list[Example]) -> None:
    seen: set[str] = set()
    dupes: list[str] = []
    for ex in examples:
        if ex.id in seen:
            dupes.append(ex.id)
        seen.add(ex.id)
    if dupes:
        raise DataError(
            f"split {split!r}: {len(dupes)} duplicate id(s), e.g. {dupes[:3]}. Ids must be unique "
            f"within a split: fix `id_column` or unset it to use '<split>-<row>' ids."
        )
