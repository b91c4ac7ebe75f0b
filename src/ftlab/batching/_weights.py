"""Per-class loss weights from training label counts."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np
import torch

from ftlab.errors import ConfigError, DataError

__all__ = ["class_weights", "WeightScheme"]

WeightScheme = Literal["inverse", "sqrt_inverse", "effective"]


def class_weights(
    labels: Sequence[int],
    num_classes: int,
    *,
    scheme: WeightScheme = "inverse",
    beta: float = 0.999,
) -> torch.Tensor:
    """Class weights for a weighted cross-entropy, computed from the training labels only.

    Raw weights are ``1 / n_c`` (``"inverse"``), ``1 / sqrt(n_c)`` (``"sqrt_inverse"``) or
    ``(1 - beta) / (1 - beta ** n_c)`` (``"effective"``, the effective number of samples of
    Cui et al. 2019). They are then scaled so that the weight averaged over the training
    examples is 1 (``sum_c n_c * w_c == N``), which keeps the loss scale and learning rate
    comparable to the unweighted loss. A class with no training example gets weight 0 and a
    ``UserWarning`` (its loss term can never occur in training anyway).

    Args:
        labels: class index of every training example, in ``[0, num_classes)``.
        num_classes: number of classes C.
        scheme: how counts become weights.
        beta: the ``"effective"`` scheme's parameter in ``[0, 1)``; ignored otherwise.

    Returns:
        A float32 tensor of shape (C,).

    Raises:
        ConfigError: for ``num_classes < 1``, an unknown scheme or ``beta`` outside ``[0, 1)``.
        DataError: for no labels or a label outside ``[0, num_classes)``.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ConfigError(f"class_weights: `num_classes` must be an int >= 1, got {num_classes!r}.")
    if scheme not in get_args(WeightScheme):
        raise ConfigError(
            f"class_weights: `scheme` must be one of {get_args(WeightScheme)}, got {scheme!r}."
        )
    if not 0.0 <= beta < 1.0:
        raise ConfigError(f"class_weights: `beta` must be in [0, 1), got {beta!r}.")
    arr = np.asarray(list(labels), dtype=np.int64)
    if arr.size == 0:
        raise DataError("class_weights: got no labels; pass the labels of the training split.")
    bad = np.flatnonzero((arr < 0) | (arr >= num_classes))
    if bad.size:
        i = int(bad[0])
        raise DataError(
            f"class_weights: labels[{i}] = {int(arr[i])} is outside [0, {num_classes}); "
            "pass class indices from the label map (unlabelled examples have no class)."
        )
    counts = np.bincount(arr, minlength=num_classes).astype(np.float64)
    present = counts > 0
    raw = np.zeros(num_classes, dtype=np.float64)
    if scheme == "inverse":
        raw[present] = 1.0 / counts[present]
    elif scheme == "sqrt_inverse":
        raw[present] = 1.0 / np.sqrt(counts[present])
    else:
        raw[present] = (1.0 - beta) / (1.0 - beta ** counts[present]) if beta > 0 else 1.0
    # scale so that the mean weight over training examples is 1: sum_c n_c w_c = N
    raw *= counts.sum() / float((counts * raw).sum())
    if not present.all():
        missing = np.flatnonzero(~present).tolist()
        warnings.warn(
            f"class_weights: classes {missing} have no training example; their weight is 0. "
            "Check the label map and the training split.",
            UserWarning,
            stacklevel=2,
        )
    return torch.tensor(raw, dtype=torch.float32)
