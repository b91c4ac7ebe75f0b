"""Output layer size, classification loss and probabilities (softmax or one-logit sigmoid)."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from ftlab.errors import ConfigError, DataError
from ftlab.models._validate import check_choice

__all__ = ["BinaryMode", "num_outputs", "classification_loss", "probabilities"]

BinaryMode = Literal["softmax", "sigmoid"]
_BINARY_MODES = ("softmax", "sigmoid")


def num_outputs(num_classes: int, binary_mode: BinaryMode = "softmax") -> int:
    """Number of logits a classifier head produces.

    Args:
        num_classes: number of classes (>= 2).
        binary_mode: ``"softmax"`` gives one logit per class; ``"sigmoid"`` gives a single logit
            for two-class problems (``p(class 1) = sigmoid(logit)``).

    Returns:
        ``1`` for a binary problem in sigmoid mode, else ``num_classes``.

    Raises:
        ConfigError: ``num_classes < 2``, an unknown ``binary_mode``, or sigmoid mode with more
            than two classes.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ConfigError(
            f"num_classes: a classifier needs at least 2 classes, got {num_classes!r}. "
            "Check the label map of the training data."
        )
    check_choice("binary_mode", binary_mode, _BINARY_MODES)
    if binary_mode == "sigmoid":
        if num_classes != 2:
            raise ConfigError(
                f"binary_mode='sigmoid' needs exactly 2 classes, got num_classes={num_classes}. "
                "Use binary_mode='softmax' for multi-class problems."
            )
        return 1
    return num_classes


def classification_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    *,
    class_weights: torch.Tensor | None = None,
    reduction: Literal["sum", "mean"] = "sum",
) -> torch.Tensor:
    """Cross-entropy for ``C >= 2`` logits, binary cross-entropy with logits for one logit.

    Class weights scale each example's loss by the weight of its true class (for one logit the
    two weights are ``[w_0, w_1]``). ``"mean"`` divides the (weighted) sum by the number of
    examples, not by the sum of weights as ``torch.nn.functional.cross_entropy`` does, so that
    a weighted batch loss means the same thing as the training loop's own normalisation (sum
    over an accumulation window divided by its real example count).

    Args:
        logits: (B, C) raw scores; C = 1 means sigmoid binary mode.
        labels: (B,) class indices in ``[0, max(C, 2))``.
        class_weights: optional (max(C, 2),) non-negative weights, one per class.
        reduction: ``"sum"`` (what the training loop uses) or ``"mean"``.

    Returns:
        A scalar tensor.

    Raises:
        DataError: shapes disagree or a label is out of range (e.g. ``-1`` for unlabelled data).
        ConfigError: bad ``reduction`` or ``class_weights`` of the wrong length.
    """
    check_choice("reduction", reduction, ("sum", "mean"))
    if logits.dim() != 2 or labels.dim() != 1 or logits.shape[0] != labels.shape[0]:
        raise DataError(
            f"classification_loss: expected logits (B, C) and labels (B,), got logits "
            f"{tuple(logits.shape)} and labels {tuple(labels.shape)}."
        )
    n_out = logits.shape[1]
    n_classes = max(n_out, 2)
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= n_classes):
        raise DataError(
            f"classification_loss: labels must lie in [0, {n_classes}), got values in "
            f"[{int(labels.min())}, {int(labels.max())}]. Label -1 marks unlabelled examples, "
            "which cannot be trained on; check the label map and the split's labels."
        )
    if class_weights is not None:
        if class_weights.dim() != 1 or class_weights.shape[0] != n_classes:
            raise ConfigError(
                f"class_weights: expected {n_classes} weights (one per class), got shape "
                f"{tuple(class_weights.shape)}."
            )
        class_weights = class_weights.to(device=logits.device, dtype=logits.dtype)
    if n_out == 1:
        # (B,) per-example BCE; the weight is that of the example's true class.
        per_example = F.binary_cross_entropy_with_logits(
            logits[:, 0], labels.to(logits.dtype), reduction="none"
        )
    else:
        per_example = F.cross_entropy(logits, labels, reduction="none")
    if class_weights is not None:
        per_example = per_example * class_weights[labels]
    total = per_example.sum()
    return total / max(labels.shape[0], 1) if reduction == "mean" else total


def probabilities(logits: torch.Tensor) -> torch.Tensor:
    """Class probabilities from logits.

    Args:
        logits: (B, C) with C >= 2 (softmax) or C = 1 (sigmoid, probability of class 1).

    Returns:
        (B, num_classes) probabilities summing to 1 per row; one logit gives ``[1 - p, p]``.

    Raises:
        DataError: ``logits`` is not two-dimensional.
    """
    if logits.dim() != 2 or logits.shape[1] < 1:
        raise DataError(f"probabilities: expected logits (B, C), got {tuple(logits.shape)}.")
    if logits.shape[1] == 1:
        z = logits[:, 0]  # (B,)
        # sigmoid(-z) == 1 - sigmoid(z) without cancellation when p is close to 1.
        return torch.stack([torch.sigmoid(-z), torch.sigmoid(z)], dim=1)
    return torch.softmax(logits, dim=1)
