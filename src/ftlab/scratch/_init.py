"""Two weight initializations, written out, with the variance each one gives.

Both return a ``(fan_in, fan_out)`` matrix: the course multiplies ``X H`` with examples in rows,
so a weight maps ``fan_in`` inputs (rows) to ``fan_out`` outputs (columns). (PyTorch's
``nn.Linear.weight`` is the transpose, ``(out_features, in_features)``.)

A uniform distribution U(-a, a) has variance ``a^2 / 3``; each scheme picks ``a`` for the
variance it wants.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["uniform_inv_sqrt", "xavier_uniform"]


def _check_fans(fan_in: int, fan_out: int) -> None:
    for name, value in (("fan_in", fan_in), ("fan_out", fan_out)):
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
            raise ValueError(f"`{name}` must be a positive integer, but got {name}={value!r}.")


def xavier_uniform(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """Xavier/Glorot uniform initialization (Glorot & Bengio, 2010).

    Draws from U(-a, a) with ``a = sqrt(6 / (fan_in + fan_out))``, so that

        Var[w] = a^2 / 3 = 2 / (fan_in + fan_out),

    the compromise between keeping the forward activations' variance (``1 / fan_in``) and the
    backward gradients' variance (``1 / fan_out``) constant from layer to layer.

    Args:
        fan_in: number of inputs of the layer (rows of the result).
        fan_out: number of outputs of the layer (columns of the result).
        rng: the random generator (explicit, so that the result is reproducible).

    Returns:
        A ``(fan_in, fan_out)`` float64 array.

    Raises:
        ValueError: ``fan_in`` or ``fan_out`` is not a positive integer.
    """
    _check_fans(fan_in, fan_out)
    a = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=(fan_in, fan_out))


def uniform_inv_sqrt(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """The "uniform 1/sqrt(n)" initialization: U(-1/sqrt(n), 1/sqrt(n)) with ``n = fan_in``.

    With ``a = 1 / sqrt(n)``,

        Var[w] = a^2 / 3 = 1 / (3 n),

    so a unit's pre-activation ``sum_i x_i w_i`` over n unit-variance inputs has variance 1/3,
    whatever the width of the previous layer. (This is also the bound PyTorch uses for
    ``nn.Linear``'s bias, and ftlab's ``init="uniform_fan_in"``.)

    Args:
        fan_in: number of inputs of the layer, ``n`` (rows of the result).
        fan_out: number of outputs of the layer (columns of the result).
        rng: the random generator (explicit, so that the result is reproducible).

    Returns:
        A ``(fan_in, fan_out)`` float64 array.

    Raises:
        ValueError: ``fan_in`` or ``fan_out`` is not a positive integer.
    """
    _check_fans(fan_in, fan_out)
    a = 1.0 / math.sqrt(fan_in)
    return rng.uniform(-a, a, size=(fan_in, fan_out))
