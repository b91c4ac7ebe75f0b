"""Feed-forward classification head."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from ftlab.errors import TrainingError
from ftlab.models._validate import check_choice, check_dropout, check_positive_int

__all__ = ["Activation", "Norm", "MLPHead"]

Activation = Literal["relu", "gelu", "tanh", "leaky_relu"]
Norm = Literal["none", "batch", "layer"]

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "leaky_relu": nn.LeakyReLU,
}
_NORMS = ("none", "batch", "layer")


class _Block(nn.Module):
    """Linear -> norm -> activation -> dropout, with an optional skip connection."""

    def __init__(
        self, d_in: int, d_out: int, activation: str, dropout: float, norm: str, residual: bool
    ) -> None:
        super().__init__()
        self.linear = nn.Linear(d_in, d_out)
        self.norm: nn.Module
        if norm == "batch":
            self.norm = nn.BatchNorm1d(d_out)
        elif norm == "layer":
            self.norm = nn.LayerNorm(d_out)
        else:
            self.norm = nn.Identity()
        self.act = _ACTIVATIONS[activation]()
        self.drop = nn.Dropout(dropout)
        # A skip only makes sense when the widths match (no projection is added).
        self.residual = residual and d_in == d_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and x.shape[0] == 1 and isinstance(self.norm, nn.BatchNorm1d):
            raise TrainingError(
                "MLPHead with norm='batch' got a training batch of 1 example, whose batch "
                "statistics are undefined. Drop the last incomplete batch (drop_last), use a "
                "batch size that leaves no single example, or use norm='layer'."
            )
        y = self.drop(self.act(self.norm(self.linear(x))))  # (B, d_out)
        return x + y if self.residual else y


class MLPHead(nn.Module):
    """A multi-layer perceptron mapping pooled features (B, in_dim) to logits (B, num_outputs).

    Each hidden layer is Linear -> norm -> activation -> dropout; with ``residual=True`` a
    hidden layer whose input and output widths match adds its input to its output. The last
    layer is a plain Linear to the logits (no activation, no dropout after it).

    Args:
        in_dim: width of the input features.
        num_outputs: number of logits (see :func:`ftlab.models.num_outputs`).
        hidden_dims: widths of the hidden layers; ``()`` gives a linear classifier.
        activation: nonlinearity after each hidden layer.
        dropout: dropout probability after each hidden activation.
        norm: ``"batch"`` (BatchNorm1d; needs batches of 2+ in training), ``"layer"`` or ``"none"``.
        residual: add skip connections where consecutive widths match.

    Raises:
        ConfigError: a non-positive width, an unknown activation or norm, or dropout outside [0, 1).
    """

    def __init__(
        self,
        in_dim: int,
        num_outputs: int,
        *,
        hidden_dims: Sequence[int] = (),
        activation: Activation = "relu",
        dropout: float = 0.0,
        norm: Norm = "none",
        residual: bool = False,
    ) -> None:
        super().__init__()
        check_positive_int("MLPHead.in_dim", in_dim)
        check_positive_int("MLPHead.num_outputs", num_outputs)
        for i, width in enumerate(hidden_dims):
            check_positive_int(f"hidden_dims[{i}]", width)
        check_choice("activation", activation, _ACTIVATIONS)
        check_choice("norm", norm, _NORMS)
        dropout = check_dropout("head dropout", dropout)
        widths = [in_dim, *hidden_dims]
        self.blocks = nn.ModuleList(
            _Block(a, b, activation, dropout, norm, residual) for a, b in zip(widths, widths[1:])
        )
        self.out = nn.Linear(widths[-1], num_outputs)
        self.in_dim = in_dim
        self.num_outputs = num_outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map (B, in_dim) features to (B, num_outputs) logits."""
        for block in self.blocks:
            x = block(x)
        return self.out(x)
