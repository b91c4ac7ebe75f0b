"""Validation of the arrays every metric takes, and JSON clean-up of what they return.

Metrics are pure functions over ``labels`` (N,) ints and ``probs`` (N, C) rows of class
probabilities. Bad shapes or values are the caller's (often the user's file's) fault, so they
raise :class:`~ftlab.errors.DataError` with the offending value, never a NumPy traceback.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ftlab.errors import DataError

__all__ = ["check_arrays", "check_label_names", "to_builtin", "predicted"]

# rows of softmax output in float32 sum to 1 within ~1e-6; this tolerance also admits values
# rounded to 6 decimals in predictions/<split>.jsonl, and still catches logits passed as probs
_ROW_SUM_TOL = 1e-3


def check_arrays(
    labels: Any, probs: Any, *, where: str, n_classes: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``labels`` as int64 (N,) and ``probs`` as float64 (N, C), rows renormalised.

    Args:
        labels: true class indices, one per example.
        probs: class probabilities, one row per example.
        where: the calling function, named in error messages.
        n_classes: expected C (e.g. ``len(label_names)``), if known.

    Raises:
        DataError: wrong shapes, non-finite or negative probabilities, rows not summing to 1,
            labels outside ``[0, C)`` or no examples.
    """
    try:
        y = np.asarray(labels)
        p = np.asarray(probs, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{where}: labels/probs are not numeric arrays ({exc})") from exc
    if p.ndim != 2 or p.shape[1] < 2:
        raise DataError(f"{where}: probs must have shape (N, C) with C >= 2 classes, got shape "
                        f"{p.shape}; pass one row of class probabilities per example")
    if y.ndim != 1 or y.shape[0] != p.shape[0]:
        raise DataError(f"{where}: labels must have shape (N,) matching probs {p.shape}, got "
                        f"shape {y.shape}")
    if y.shape[0] == 0:
        raise DataError(f"{where}: no examples to evaluate (N = 0)")
    if n_classes is not None and p.shape[1] != n_classes:
        raise DataError(f"{where}: probs has {p.shape[1]} columns but there are {n_classes} "
                        f"label names; they must match (one column per class)")
    if y.dtype.kind not in "iu":
        if y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            raise DataError(f"{where}: labels must be integer class indices, got dtype {y.dtype} "
                            f"(first value {y[0]!r}); encode label names with the run's label map")
    y = y.astype(np.int64)
    bad = np.flatnonzero((y < 0) | (y >= p.shape[1]))
    if bad.size:
        raise DataError(f"{where}: label {int(y[bad[0]])} at row {int(bad[0])} is outside "
                        f"[0, {p.shape[1]}) ({bad.size} such rows); unlabelled (-1) rows cannot be "
                        f"evaluated")
    if not np.all(np.isfinite(p)):
        row = int(np.flatnonzero(~np.isfinite(p).all(axis=1))[0])
        raise DataError(f"{where}: probs has non-finite values (first at row {row}: {p[row]})")
    if (p < 0).any():
        row = int(np.flatnonzero((p < 0).any(axis=1))[0])
        raise DataError(f"{where}: probs has negative values (first at row {row}: {p[row]}); "
                        f"pass softmax probabilities, not logits")
    sums = p.sum(axis=1)
    off = np.flatnonzero(np.abs(sums - 1.0) > _ROW_SUM_TOL)
    if off.size:
        raise DataError(f"{where}: probability rows must sum to 1, row {int(off[0])} sums to "
                        f"{sums[off[0]]:.6f} ({off.size} such rows); pass softmax probabilities, "
                        f"not logits or scores")
    return y, p / sums[:, None]


def check_label_names(label_names: Sequence[str], *, where: str) -> list[str]:
    """Return the names as a list of strings; they must be unique and at least two.

    Raises:
        DataError: fewer than two names or duplicates.
    """
    names = [str(n) for n in label_names]
    if len(names) < 2:
        raise DataError(f"{where}: need at least 2 label names, got {names}")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DataError(f"{where}: label names must be unique, {dupes} repeat in {names}")
    return names


def predicted(probs: np.ndarray) -> np.ndarray:
    """Arg-max class per row (N,); ties go to the lower index, as ``np.argmax`` does."""
    return probs.argmax(axis=1)


def to_builtin(value: Any) -> Any:
    """Recursively turn NumPy scalars/arrays into Python ints/floats/lists; NaN/inf -> None.

    Keeps the evaluation JSON strict (``json.dumps(..., allow_nan=False)`` accepts it).
    """
    if isinstance(value, Mapping):
        return {str(k): to_builtin(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_builtin(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_builtin(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    return value
