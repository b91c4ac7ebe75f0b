"""Weight initialisation schemes for the built-in models."""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

from ftlab.core import closest
from ftlab.errors import ConfigError

__all__ = ["InitScheme", "INIT_SCHEMES", "init_weights"]

InitScheme = Literal[
    "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "uniform_fan_in",
    "default",
]
INIT_SCHEMES: tuple[str, ...] = (
    "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "uniform_fan_in",
    "default",
)
_ZERO_NAMES = ("zeros", "zero", "constant", "ones")

_SYMMETRY = (
    "init={scheme!r} is refused: with every weight equal, all hidden units of a layer compute "
    "the same output and receive the same gradient, so they stay identical after every update "
    "(the symmetry is never broken) and the layer behaves like a single unit. Use a random "
    "scheme such as init='xavier_uniform' (the default); biases are already set to zero."
)


def _fill(weight: torch.Tensor, scheme: str) -> None:
    """Initialise one 2-D weight (out_features, in_features) in place."""
    if scheme == "xavier_uniform":
        nn.init.xavier_uniform_(weight)  # Var = 2 / (fan_in + fan_out)
    elif scheme == "xavier_normal":
        nn.init.xavier_normal_(weight)
    elif scheme == "kaiming_uniform":
        nn.init.kaiming_uniform_(weight, nonlinearity="relu")  # Var = 2 / fan_in
    elif scheme == "kaiming_normal":
        nn.init.kaiming_normal_(weight, nonlinearity="relu")
    elif scheme == "uniform_fan_in":
        bound = 1.0 / math.sqrt(weight.shape[1])  # U(-1/sqrt(n), 1/sqrt(n)): Var = 1 / (3n)
        nn.init.uniform_(weight, -bound, bound)


def _init_rnn(rnn: nn.RNNBase, scheme: str) -> None:
    hidden = rnn.hidden_size
    for name, param in rnn.named_parameters():
        if name.startswith("weight_ih"):
            # (gates*H, in): each gate is its own (H, in) matrix, so fans are per gate.
            for chunk in param.data.split(hidden, dim=0):
                _fill(chunk, scheme)
        elif name.startswith("weight_hh"):
            # Orthogonal recurrent matrices keep the hidden state's norm through time steps.
            for chunk in param.data.split(hidden, dim=0):
                nn.init.orthogonal_(chunk)
        elif name.startswith("bias"):
            nn.init.zeros_(param)
            if rnn.mode == "LSTM" and name.startswith("bias_ih"):
                # Forget-gate bias 1 (gate order i, f, g, o): remember by default early in training.
                param.data[hidden : 2 * hidden].fill_(1.0)
        elif name.startswith("weight_hr"):  # LSTM projections (proj_size > 0), if any
            _fill(param.data, scheme)


@torch.no_grad()
def init_weights(module: nn.Module, scheme: InitScheme | str = "xavier_uniform") -> nn.Module:
    """Initialise the weights of ``module`` and its children in place.

    What each scheme touches:

    * ``nn.Linear``: weight by the scheme, bias set to zero.
    * ``nn.LSTM`` / ``nn.GRU``: input-to-hidden weights by the scheme, one gate at a time;
      hidden-to-hidden weights orthogonal; biases zero, except the LSTM forget gate (bias 1).
    * ``nn.Embedding``: untouched. A lookup table has no fan-in, and a fan-based scheme on a
      (vocab, dim) matrix would shrink the vectors as the vocabulary grows; embeddings keep
      PyTorch's N(0, 1) or the pretrained vectors they were given.
    * Normalisation layers: untouched (weight 1, bias 0 from PyTorch).

    Schemes: ``xavier_uniform`` / ``xavier_normal`` (Var = 2/(fan_in+fan_out)),
    ``kaiming_uniform`` / ``kaiming_normal`` (ReLU gain, Var = 2/fan_in), ``uniform_fan_in``
    (U(-1/sqrt(n), 1/sqrt(n)), Var = 1/(3n)), ``default`` (leave PyTorch's own init everywhere).

    Args:
        module: the model (or any sub-module).
        scheme: one of :data:`INIT_SCHEMES`.

    Returns:
        ``module`` (initialised in place), for chaining.

    Raises:
        ConfigError: ``scheme`` is a constant/zero init (symmetry is never broken) or unknown.
    """
    if isinstance(scheme, str) and scheme.lower() in _ZERO_NAMES:
        raise ConfigError(_SYMMETRY.format(scheme=scheme))
    if scheme not in INIT_SCHEMES:
        raise ConfigError(
            f"init: unknown scheme {scheme!r}; expected one of {list(INIT_SCHEMES)}."
            f"{closest(str(scheme), INIT_SCHEMES)}"
        )
    if scheme == "default":
        return module
    for sub in module.modules():
        if isinstance(sub, nn.Linear):
            _fill(sub.weight.data, scheme)
            if sub.bias is not None:
                nn.init.zeros_(sub.bias)
        elif isinstance(sub, nn.LSTM | nn.GRU):
            _init_rnn(sub, scheme)
    return module
