"""The one-hidden-layer network of the course: forward, per-example losses, backward, SGD step.

Shapes: t examples, f features, d hidden units, m classes (see the package docstring for the
full derivation). The loss that is differentiated is the batch **sum** of the per-example
cross-entropies, so ``dl/dZ = O - Y`` with no ``1/t``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "Cache",
    "Grads",
    "Params",
    "backward",
    "forward",
    "init_params",
    "log_softmax",
    "losses",
    "one_hot",
    "sgd_step",
    "softmax",
]

PARAM_NAMES: tuple[str, ...] = ("H", "b_H", "U", "b_U")


@dataclass(frozen=True)
class Params:
    """The network's parameters.

    Attributes:
        H: input-to-hidden weights, ``(f, d)``.
        b_H: hidden biases, ``(d,)``.
        U: hidden-to-output weights, ``(d, m)``.
        b_U: output biases, ``(m,)``.
    """

    H: np.ndarray
    b_H: np.ndarray
    U: np.ndarray
    b_U: np.ndarray

    def __post_init__(self) -> None:
        f, d = _shape2("H", self.H)
        d2, m = _shape2("U", self.U)
        if d2 != d:
            raise ValueError(f"H is (f, d) = {self.H.shape} and U is (d, m) = {self.U.shape}: "
                             f"U must have d={d} rows (one per hidden unit), but has {d2}.")
        if np.shape(self.b_H) != (d,):
            raise ValueError(f"b_H must have shape (d,) = ({d},), but got {np.shape(self.b_H)}.")
        if np.shape(self.b_U) != (m,):
            raise ValueError(f"b_U must have shape (m,) = ({m},), but got {np.shape(self.b_U)}.")

    def as_dict(self) -> dict[str, np.ndarray]:
        """The parameters by name (``H``, ``b_H``, ``U``, ``b_U``), as the optimizers take them."""
        return {name: getattr(self, name) for name in PARAM_NAMES}

    @classmethod
    def from_dict(cls, arrays: dict[str, np.ndarray]) -> Params:
        """The inverse of :meth:`as_dict`."""
        return cls(**{name: arrays[name] for name in PARAM_NAMES})


@dataclass(frozen=True)
class Cache:
    """Every intermediate of the forward pass, kept for the backward pass.

    Attributes:
        K: hidden pre-activations ``X H + b_H``, ``(t, d)``.
        S: hidden activations ``ReLU(K)``, ``(t, d)``.
        Z: logits ``S U + b_U``, ``(t, m)``.
        O: probabilities ``softmax(Z)`` row by row, ``(t, m)``.
    """

    K: np.ndarray
    S: np.ndarray
    Z: np.ndarray
    O: np.ndarray


@dataclass(frozen=True)
class Grads:
    """Every partial derivative of the summed loss ``l``, each the shape of what it is w.r.t.

    Attributes:
        dZ: ``dl/dZ``, ``(t, m)``.
        dU: ``dl/dU``, ``(d, m)``.
        db_U: ``dl/db_U``, ``(m,)``.
        dS: ``dl/dS``, ``(t, d)``.
        dK: ``dl/dK``, ``(t, d)``.
        dH: ``dl/dH``, ``(f, d)``.
        db_H: ``dl/db_H``, ``(d,)``.
    """

    dZ: np.ndarray
    dU: np.ndarray
    db_U: np.ndarray
    dS: np.ndarray
    dK: np.ndarray
    dH: np.ndarray
    db_H: np.ndarray

    def wrt_params(self) -> dict[str, np.ndarray]:
        """The gradients of the parameters only, keyed like :meth:`Params.as_dict`."""
        return {"H": self.dH, "b_H": self.db_H, "U": self.dU, "b_U": self.db_U}


def _shape2(name: str, a: np.ndarray) -> tuple[int, int]:
    if np.ndim(a) != 2:
        raise ValueError(f"{name} must be a 2-D array, but got shape {np.shape(a)}.")
    rows, cols = np.shape(a)
    return rows, cols


def init_params(f: int, d: int, m: int, rng: np.random.Generator) -> Params:
    """Xavier-uniform weights and zero biases, the way ftlab initializes its own models.

    Args:
        f: number of input features.
        d: number of hidden units.
        m: number of classes.
        rng: the random generator.

    Returns:
        The initial :class:`Params`.
    """
    from ftlab.scratch._init import xavier_uniform

    return Params(H=xavier_uniform(f, d, rng), b_H=np.zeros(d),
                  U=xavier_uniform(d, m, rng), b_U=np.zeros(m))


def one_hot(labels: np.ndarray | list[int], m: int) -> np.ndarray:
    """One-hot rows: ``Y[i, labels[i]] = 1``.

    Args:
        labels: integer class indices, ``(t,)``, each in ``[0, m)``.
        m: number of classes.

    Returns:
        A ``(t, m)`` float64 array.

    Raises:
        ValueError: a label is outside ``[0, m)``.
    """
    labels = np.asarray(labels, dtype=np.int64)
    bad = labels[(labels < 0) | (labels >= m)]
    if bad.size:
        raise ValueError(f"labels must lie in [0, m) = [0, {m}), but got {bad.tolist()}.")
    Y = np.zeros((labels.shape[0], m))
    Y[np.arange(labels.shape[0]), labels] = 1.0
    return Y


def log_softmax(Z: np.ndarray) -> np.ndarray:
    """Row-wise ``log softmax(Z)``, stable for any finite logits (the max trick).

    ``softmax`` is unchanged when the same constant is subtracted from a row, so subtract the
    row's max ``c``: every exponent is then <= 0 (no overflow) and the largest is exactly
    ``exp(0) = 1`` (the sum cannot underflow to 0), and
    ``log softmax(Z)_j = (Z_j - c) - log sum_k exp(Z_k - c)``.

    Args:
        Z: logits, ``(t, m)``.

    Returns:
        Log-probabilities, ``(t, m)``.
    """
    shifted = Z - Z.max(axis=1, keepdims=True)  # (t, m), every entry <= 0
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(Z: np.ndarray) -> np.ndarray:
    """Row-wise ``softmax(Z)``, stable for any finite logits (same max trick as log_softmax).

    Args:
        Z: logits, ``(t, m)``.

    Returns:
        Probabilities, ``(t, m)``; each row sums to 1.
    """
    E = np.exp(Z - Z.max(axis=1, keepdims=True))  # (t, m), entries in (0, 1], max exactly 1
    return E / E.sum(axis=1, keepdims=True)


def forward(params: Params, X: np.ndarray) -> Cache:
    """The forward pass, ``K -> S -> Z -> O``.

    Args:
        params: the parameters.
        X: the batch, ``(t, f)``.

    Returns:
        Every intermediate, for :func:`backward`.

    Raises:
        ValueError: ``X`` does not have f columns.
    """
    _, f = _shape2("X", X)
    if f != params.H.shape[0]:
        raise ValueError(f"X has {f} features (columns) but H expects f={params.H.shape[0]} "
                         f"(H is (f, d) = {params.H.shape}).")
    K = X @ params.H + params.b_H  # (t, d) = (t, f)(f, d) + (d,) broadcast over rows
    S = np.maximum(K, 0.0)  # (t, d)
    Z = S @ params.U + params.b_U  # (t, m) = (t, d)(d, m) + (m,)
    O = softmax(Z)  # (t, m)
    return Cache(K=K, S=S, Z=Z, O=O)


def losses(Z: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Per-example cross-entropies ``l_i = -sum_j Y_ij log O_ij``, computed from the logits.

    The loss takes the logits ``Z`` rather than the probabilities ``O``: ``log O`` computed as
    ``log(softmax(Z))`` is ``-inf`` once a probability underflows to 0 (a logit gap above ~745
    in float64), while :func:`log_softmax` stays finite. The value is the same otherwise.

    Args:
        Z: logits, ``(t, m)`` (``cache.Z``).
        Y: one-hot labels, ``(t, m)``.

    Returns:
        The loss of each example, ``(t,)``. The loss that :func:`backward` differentiates is
        their **sum**.

    Raises:
        ValueError: ``Y`` is not the shape of ``Z``.
    """
    if np.shape(Y) != np.shape(Z):
        raise ValueError(f"Y must be one-hot with the shape of Z, (t, m) = {np.shape(Z)}, "
                         f"but got {np.shape(Y)}; build it with one_hot(labels, m).")
    return -(Y * log_softmax(Z)).sum(axis=1)  # (t,)


def backward(params: Params, cache: Cache, X: np.ndarray, Y: np.ndarray) -> Grads:
    """The backward pass: every partial derivative of ``l = sum_i l_i``, by the chain rule.

    Args:
        params: the parameters the forward pass used.
        cache: the forward pass's intermediates.
        X: the batch, ``(t, f)``.
        Y: one-hot labels, ``(t, m)``.

    Returns:
        All seven partial derivatives.
    """
    # Softmax + cross-entropy together: dl_i/dZ_ij = O_ij - Y_ij (the sum loss: no 1/t).
    dZ = cache.O - Y  # (t, m)
    # Z = S U + b_U
    dU = cache.S.T @ dZ  # (d, m) = (d, t)(t, m): sums over the t examples
    db_U = dZ.sum(axis=0)  # (m,): b_U was broadcast over rows, so its gradient sums the rows
    dS = dZ @ params.U.T  # (t, d) = (t, m)(m, d)
    # S = ReLU(K): the derivative is 1 where K > 0 and 0 elsewhere (0 at K = 0, as torch)
    dK = dS * (cache.K > 0)  # (t, d), element-wise
    # K = X H + b_H
    dH = X.T @ dK  # (f, d) = (f, t)(t, d)
    db_H = dK.sum(axis=0)  # (d,)
    return Grads(dZ=dZ, dU=dU, db_U=db_U, dS=dS, dK=dK, dH=dH, db_H=db_H)


def sgd_step(params: Params, grads: Grads, lr: float) -> Params:
    """One plain gradient-descent step, ``p <- p - lr * dl/dp``, for every parameter.

    Args:
        params: the current parameters (left unchanged).
        grads: their gradients, from :func:`backward`.
        lr: the learning rate.

    Returns:
        The new parameters.
    """
    return Params(
        H=params.H - lr * grads.dH,
        b_H=params.b_H - lr * grads.db_H,
        U=params.U - lr * grads.dU,
        b_U=params.b_U - lr * grads.db_U,
    )
