"""Averaging the class probabilities of several models (the pure part of ensembling).

Building an ensemble from run directories or checkpoints and writing it as a run is
:func:`ftlab.runs.ensemble_runs` / :func:`ftlab.runs.ensemble_checkpoints`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ftlab.errors import ConfigError, DataError

__all__ = ["average_probabilities"]


def average_probabilities(probs: Sequence[Any],
                          weights: Sequence[float] | None = None) -> np.ndarray:
    """The (weighted) mean of several members' class probabilities, rows summing to 1.

    Args:
        probs: one (N, C) array per member, rows in the same example order and columns in the
            same label order.
        weights: one non-negative weight per member (default: equal weights).

    Returns:
        (N, C) float64 probabilities.

    Raises:
        DataError: no member, or members of different shapes.
        ConfigError: weights of the wrong length, negative, or all zero.
    """
    arrays = [np.asarray(p, dtype=np.float64) for p in probs]
    if not arrays:
        raise DataError("average_probabilities: no member given; pass at least one (N, C) array")
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1 or arrays[0].ndim != 2:
        raise DataError(f"average_probabilities: every member must be an (N, C) array of the same "
                        f"shape, got shapes {[a.shape for a in arrays]}")
    w = np.ones(len(arrays)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (len(arrays),) or not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
        raise ConfigError(f"average_probabilities: weights must be {len(arrays)} non-negative "
                          f"numbers, not all zero, got {weights!r}")
    mean = np.tensordot(w / w.sum(), np.stack(arrays), axes=1)  # (M,) . (M, N, C) -> (N, C)
    total = mean.sum(axis=1, keepdims=True)
    return np.divide(mean, total, out=np.full_like(mean, 1.0 / mean.shape[1]), where=total > 0)
