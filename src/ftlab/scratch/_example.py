"""The small worked example behind ``ftlab scratch --example``: one forward, backward, SGD step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ftlab.scratch._mlp import (
    Cache,
    Grads,
    Params,
    backward,
    forward,
    init_params,
    losses,
    one_hot,
    sgd_step,
)

__all__ = ["WorkedExample", "format_worked_example", "worked_example"]

# t=4 examples, f=3 features, d=5 hidden units, m=3 classes.
_T, _F, _D, _M = 4, 3, 5, 3
_LABELS = (0, 2, 1, 2)


@dataclass(frozen=True)
class WorkedExample:
    """Everything one SGD step on the worked example computes.

    Attributes:
        X: the batch, ``(t, f)``.
        Y: one-hot labels, ``(t, m)``.
        params: the parameters before the step.
        cache: the forward pass before the step (``K, S, Z, O``).
        losses_before: per-example cross-entropies before the step, ``(t,)``.
        grads: every partial derivative of the summed loss.
        lr: the learning rate of the step.
        params_after: the parameters after the step.
        losses_after: per-example cross-entropies after the step, ``(t,)``.
        seed: the seed that drew ``X`` and the initial parameters.
    """

    X: np.ndarray
    Y: np.ndarray
    params: Params
    cache: Cache
    losses_before: np.ndarray
    grads: Grads
    lr: float
    params_after: Params
    losses_after: np.ndarray
    seed: int


def worked_example(seed: int = 0, lr: float = 0.1) -> WorkedExample:
    """Run one forward pass, backward pass and SGD step on a small fixed problem.

    t=4 examples with f=3 features drawn from N(0, 1) and rounded to 2 decimals (easy to
    follow by hand), labels ``(0, 2, 1, 2)`` over m=3 classes, d=5 hidden units,
    Xavier-uniform weights and zero biases.

    Args:
        seed: seeds the features and the initial weights.
        lr: the SGD learning rate.

    Returns:
        The inputs, every intermediate, the gradients and the losses before and after.

    Raises:
        ValueError: ``lr`` is negative or not finite.
    """
    if not (np.isfinite(lr) and lr >= 0.0):
        raise ValueError(f"`lr >= 0` must hold and be finite, but got lr={lr!r}.")
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(_T, _F)), 2)  # (t, f)
    Y = one_hot(list(_LABELS), _M)  # (t, m)
    params = init_params(_F, _D, _M, rng)
    cache = forward(params, X)
    before = losses(cache.Z, Y)
    grads = backward(params, cache, X, Y)
    after_params = sgd_step(params, grads, lr)
    after = losses(forward(after_params, X).Z, Y)
    return WorkedExample(X=X, Y=Y, params=params, cache=cache, losses_before=before,
                         grads=grads, lr=lr, params_after=after_params, losses_after=after,
                         seed=seed)


def _section(title: str, name: str, a: np.ndarray, precision: int) -> str:
    # + 0.0 turns -0.0 (e.g. a negative dl/dS times 1[K > 0] = 0) into 0.0 for printing.
    body = np.array2string(np.asarray(a) + 0.0, precision=precision, floatmode="fixed",
                           suppress_small=True, max_line_width=120)
    return f"{name} {a.shape}  {title}\n{body}"


def format_worked_example(ex: WorkedExample, precision: int = 4) -> str:
    """The worked example as plain text: inputs, forward pass, losses, gradients, step.

    Args:
        ex: the result of :func:`worked_example`.
        precision: digits after the decimal point.

    Returns:
        A multi-line string, one titled matrix after another.
    """
    p, c, g = ex.params, ex.cache, ex.grads
    t, f = ex.X.shape
    d, m = p.U.shape
    lines: list[str] = [
        f"Backprop by hand: t={t} examples, f={f} features, d={d} hidden units, m={m} classes "
        f"(seed {ex.seed})",
        "loss l = SUM over the batch of the per-example cross-entropies, so dl/dZ = O - Y",
        "",
        "== inputs ==",
        _section("features", "X", ex.X, precision),
        _section("one-hot labels", "Y", ex.Y, precision),
        "",
        "== parameters (Xavier-uniform weights, zero biases) ==",
        _section("input -> hidden", "H", p.H, precision),
        _section("hidden bias", "b_H", p.b_H, precision),
        _section("hidden -> output", "U", p.U, precision),
        _section("output bias", "b_U", p.b_U, precision),
        "",
        "== forward pass ==",
        _section("K = X H + b_H", "K", c.K, precision),
        _section("S = ReLU(K)", "S", c.S, precision),
        _section("Z = S U + b_U", "Z", c.Z, precision),
        _section("O = softmax(Z), row by row", "O", c.O, precision),
        "",
        "== per-example losses before the step ==",
        _section("l_i = -sum_j Y_ij log O_ij", "losses", ex.losses_before, precision),
        f"sum {ex.losses_before.sum():.{precision}f}",
        "",
        "== backward pass ==",
        _section("dl/dZ = O - Y", "dl/dZ", g.dZ, precision),
        _section("dl/dU = S^T dl/dZ", "dl/dU", g.dU, precision),
        _section("dl/db_U = sum over rows of dl/dZ", "dl/db_U", g.db_U, precision),
        _section("dl/dS = dl/dZ U^T", "dl/dS", g.dS, precision),
        _section("dl/dK = dl/dS * 1[K > 0]", "dl/dK", g.dK, precision),
        _section("dl/dH = X^T dl/dK", "dl/dH", g.dH, precision),
        _section("dl/db_H = sum over rows of dl/dK", "dl/db_H", g.db_H, precision),
        "",
        f"== after one SGD step, p <- p - {ex.lr:g} * dl/dp ==",
        _section("per-example losses after", "losses", ex.losses_after, precision),
        f"sum {ex.losses_after.sum():.{precision}f} "
        f"(before {ex.losses_before.sum():.{precision}f}, "
        f"change {ex.losses_after.sum() - ex.losses_before.sum():+.{precision}f})",
    ]
    return "\n".join(lines)
