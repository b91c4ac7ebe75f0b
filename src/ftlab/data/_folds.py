"""Seeded, stratified K-fold cross-validation folds.

Cross-validation pools the training and validation splits (whether the source shipped a
validation split or it was carved from train) and cuts the pool into ``k`` folds; fold ``i``
becomes the validation split and the other folds the training split. The test split is held
out: it is never folded, so every fold run is evaluated on the same untouched test set.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from ftlab.core import Example
from ftlab.errors import ConfigError

__all__ = ["kfold_examples", "fold_splits"]


def _check_k(k: int, n: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise ConfigError(f"eval.cv_folds must be an integer >= 2, got {k!r}; use e.g. "
                          f"cv_folds: 5 (or unset it to train one run)")
    if k > n:
        raise ConfigError(f"eval.cv_folds ({k}) is larger than the {n} examples of "
                          f"train+validation; lower cv_folds to at most {n}")


def kfold_examples(
    examples: Sequence[Example], k: int, *, seed: int, stratify: bool = True
) -> list[list[Example]]:
    """Cut a pool into ``k`` disjoint folds that cover it, seeded and stratified by label.

    Each label's examples are shuffled with ``seed``, the labels are laid end to end (in sorted
    order) and position ``j`` of that sequence goes to fold ``j % k``. So every label's count
    differs by at most one between folds, and so do the fold sizes.

    Args:
        examples: the pool (train + validation).
        k: number of folds, ``2 <= k``.
        seed: the only source of randomness (the run's split seed).
        stratify: keep label proportions in every fold; without it one shuffled sequence is
            dealt out.

    Returns:
        ``k`` lists of examples, each in the pool's original order.

    Raises:
        ConfigError: ``k`` is below 2, above the pool size, or (stratified) above the size of
            the smallest class, which would leave a fold without that class.
    """
    n = len(examples)
    _check_k(k, n)
    groups: dict[str, list[int]] = {}
    for i, ex in enumerate(examples):
        key = "" if not stratify else ("\x00missing" if ex.label is None else ex.label)
        groups.setdefault(key, []).append(i)
    if stratify:
        smallest = min(groups, key=lambda g: (len(groups[g]), g))
        if len(groups[smallest]) < k:
            raise ConfigError(
                f"eval.cv_folds ({k}) is larger than the smallest class {smallest!r} "
                f"({len(groups[smallest])} examples in train+validation): some folds would have "
                f"no {smallest!r} example to validate on; lower cv_folds to at most "
                f"{len(groups[smallest])}, or add data for that class")
    rng = np.random.default_rng(seed)
    order: list[int] = []
    for key in sorted(groups):
        idx = groups[key]
        order.extend(idx[j] for j in rng.permutation(len(idx)))
    folds: list[list[int]] = [[] for _ in range(k)]
    for pos, i in enumerate(order):
        folds[pos % k].append(i)
    return [[examples[i] for i in sorted(f)] for f in folds]


def fold_splits(
    splits: dict[str, list[Example]], *, k: int, fold: int, seed: int, stratify: bool = True
) -> dict[str, list[Example]]:
    """Replace train/validation by fold ``fold`` of ``k`` over their union (test untouched).

    Validation examples whose id also occurs in train are renamed ``validation/<id>`` so the
    pooled ids stay unique.

    Args:
        splits: ``{"train", "validation", "test", ...}`` as made by
            :func:`~ftlab.data.complete_splits`.
        k: number of folds.
        fold: which fold validates, ``0 <= fold < k``.
        seed: seed of the folds (the same for every fold of one cross-validation).
        stratify: stratify the folds by label.

    Returns:
        A new dict: ``train`` = the other folds, ``validation`` = fold ``fold``, the other
        splits as given.

    Raises:
        ConfigError: ``fold`` out of range, or ``k`` invalid for the data (see
            :func:`kfold_examples`).
    """
    if not 0 <= fold < k:
        raise ConfigError(f"eval.cv_fold must be in [0, {k}) for cv_folds={k}, got {fold!r}")
    train = list(splits.get("train", []))
    seen = {ex.id for ex in train}
    val = [ex if ex.id not in seen else dataclasses.replace(ex, id=f"validation/{ex.id}")
           for ex in splits.get("validation", [])]
    pool = train + val
    folds = kfold_examples(pool, k, seed=seed, stratify=stratify)
    held = {id(ex) for ex in folds[fold]}
    return {**splits, "train": [ex for ex in pool if id(ex) not in held],
            "validation": folds[fold]}
