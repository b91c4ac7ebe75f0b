"""The hand-written backward pass against torch autograd and central finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, example, given
from hypothesis import strategies as st

from ftlab.scratch import (
    Params,
    backward,
    forward,
    log_softmax,
    losses,
    one_hot,
    sgd_step,
    softmax,
    worked_example,
)

from ._problems import random_problem

shapes = st.tuples(
    st.integers(1, 6),  # t examples
    st.integers(1, 5),  # f features
    st.integers(1, 6),  # d hidden units
    st.integers(2, 5),  # m classes
)
seeds = st.integers(0, 2**32 - 1)


def _autograd(params: Params, X: np.ndarray, Y: np.ndarray, reduction: str = "sum"):
    """The same network in torch (float64); returns every gradient autograd finds."""
    H, b_H, U, b_U = (torch.tensor(a, dtype=torch.float64, requires_grad=True)
                      for a in (params.H, params.b_H, params.U, params.b_U))
    X_t = torch.tensor(X, dtype=torch.float64)
    K = X_t @ H + b_H
    S = torch.relu(K)
    Z = S @ U + b_U
    for inter in (K, S, Z):
        inter.retain_grad()
    labels = torch.tensor(Y.argmax(axis=1))
    torch.nn.functional.cross_entropy(Z, labels, reduction=reduction).backward()
    return {"dZ": Z.grad, "dU": U.grad, "db_U": b_U.grad, "dS": S.grad, "dK": K.grad,
            "dH": H.grad, "db_H": b_H.grad}


def _central_difference(loss_of, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """dL/dx by (L(x + h e_i) - L(x - h e_i)) / 2h, one entry at a time."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[i] += h
        minus[i] -= h
        grad[i] = (loss_of(plus) - loss_of(minus)) / (2 * h)
    return grad


def _rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """||a - b|| / (||a|| + ||b||), 0 when both are exactly zero (e.g. a dead hidden unit)."""
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


@given(shape=shapes, seed=seeds)
def test_every_gradient_equals_torch_autograd(shape, seed):
    X, Y, params = random_problem(*shape, seed)
    ours = backward(params, forward(params, X), X, Y)
    theirs = _autograd(params, X, Y)
    for name, expected in theirs.items():
        got = getattr(ours, name)
        assert got.shape == tuple(expected.shape), name
        assert np.max(np.abs(got - expected.numpy())) < 1e-10, name


@given(shape=shapes, seed=seeds)
@example(shape=(2, 4, 1, 2), seed=4)  # CI: dK ~1.4e-6, relative error 1.8e-6 from rounding alone
def test_every_gradient_matches_central_differences(shape, seed):
    X, Y, p = random_problem(*shape, seed)
    cache = forward(p, X)
    assume(np.abs(cache.K).min() > 1e-3)  # finite differences are wrong within h of ReLU's kink
    g = backward(p, cache, X, Y)

    def loss_of_params(**changed: np.ndarray) -> float:
        q = Params(**{**p.as_dict(), **changed})
        return float(losses(forward(q, X).Z, Y).sum())

    def loss_of_S(S: np.ndarray) -> float:
        return float(losses(S @ p.U + p.b_U, Y).sum())

    numeric = {
        "dZ": _central_difference(lambda Z: losses(Z, Y).sum(), cache.Z),
        "dS": _central_difference(loss_of_S, cache.S),
        "dK": _central_difference(lambda K: loss_of_S(np.maximum(K, 0.0)), cache.K),
        "dU": _central_difference(lambda U: loss_of_params(U=U), p.U),
        "db_U": _central_difference(lambda b: loss_of_params(b_U=b), p.b_U),
        "dH": _central_difference(lambda H: loss_of_params(H=H), p.H),
        "db_H": _central_difference(lambda b: loss_of_params(b_H=b), p.b_H),
    }
    for name, expected in numeric.items():
        ours = getattr(g, name)
        # relative to the gradient's size, floored: a gradient of ~1e-6 is below what central
        # differences resolve to 1e-6 relative (rounding ~1e-16 * loss / h ~ 1e-11 per entry)
        scale = max(float(np.linalg.norm(ours) + np.linalg.norm(expected)), 1e-2)
        assert float(np.linalg.norm(ours - expected)) < 1e-6 * scale, name


def test_loss_is_the_batch_sum_mean_would_divide_every_gradient_by_t():
    X, Y, params = random_problem(5, 3, 4, 3, seed=7)
    ours = backward(params, forward(params, X), X, Y)
    mean = _autograd(params, X, Y, reduction="mean")
    np.testing.assert_allclose(ours.dH / 5, mean["dH"].numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.dZ, forward(params, X).O - Y, rtol=0, atol=0)


def test_losses_equal_torch_cross_entropy_per_example():
    X, Y, params = random_problem(6, 4, 5, 3, seed=3)
    Z = forward(params, X).Z
    expected = torch.nn.functional.cross_entropy(
        torch.tensor(Z), torch.tensor(Y.argmax(axis=1)), reduction="none")
    np.testing.assert_allclose(losses(Z, Y), expected.numpy(), rtol=1e-13, atol=1e-13)


def test_softmax_and_losses_stay_finite_with_huge_logits():
    Z = np.array([[1e4, 0.0, -1e4],
                  [-1e300, 1e300, 0.0],
                  [800.0, 800.0, 800.0]])
    Y = one_hot([2, 0, 1], 3)
    O = softmax(Z)
    ce = losses(Z, Y)
    assert np.all(np.isfinite(O)) and np.all(np.isfinite(log_softmax(Z)))
    assert np.all(np.isfinite(ce))
    np.testing.assert_allclose(O.sum(axis=1), 1.0)
    np.testing.assert_allclose(O[2], 1 / 3)
    assert ce[0] == pytest.approx(2e4)  # -log softmax = max - Z_label, exactly representable
    assert ce[1] == pytest.approx(2e300)
    assert ce[2] == pytest.approx(np.log(3))
    # A network fed huge inputs stays finite through forward, loss and backward.
    _, Y4, params = random_problem(4, 3, 5, 3, seed=0)
    X = np.full((4, 3), 1e6)
    cache = forward(params, X)
    g = backward(params, cache, X, Y4)
    assert np.all(np.isfinite(losses(cache.Z, Y4)))
    assert all(np.all(np.isfinite(v)) for v in g.wrt_params().values())


@given(seed=seeds, shift=st.floats(-1e3, 1e3))
def test_softmax_ignores_a_constant_added_to_a_row(seed, shift):
    Z = np.random.default_rng(seed).normal(size=(3, 4)) * 10
    np.testing.assert_allclose(softmax(Z + shift), softmax(Z), rtol=1e-9, atol=1e-12)


def test_one_sgd_step_lowers_the_summed_loss_on_the_worked_example():
    for lr in (1e-3, 0.1):
        ex = worked_example(seed=0, lr=lr)
        assert ex.losses_after.sum() < ex.losses_before.sum()
    # Pinned values: catch silent numeric drift in the example the CLI prints.
    ex = worked_example(seed=0, lr=0.1)
    assert ex.losses_before.sum() == pytest.approx(4.890854023389462, rel=1e-9)
    assert ex.losses_after.sum() == pytest.approx(4.214259144238163, rel=1e-9)
    assert ex.X.shape == (4, 3) and ex.params.U.shape == (5, 3)


def test_sgd_step_leaves_its_input_unchanged():
    X, Y, params = random_problem(3, 2, 4, 3, seed=1)
    before = {k: v.copy() for k, v in params.as_dict().items()}
    g = backward(params, forward(params, X), X, Y)
    new = sgd_step(params, g, lr=0.5)
    for name, value in params.as_dict().items():
        np.testing.assert_array_equal(value, before[name])
        np.testing.assert_allclose(getattr(new, name),
                                   value - 0.5 * g.wrt_params()[name], rtol=0, atol=0)


def test_shape_errors_name_the_array_and_the_fix():
    X, Y, params = random_problem(3, 2, 4, 3, seed=1)
    with pytest.raises(ValueError, match="H expects f=2"):
        forward(params, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="one_hot"):
        losses(forward(params, X).Z, Y[:, :2])
    with pytest.raises(ValueError, match="U must have d=4 rows"):
        Params(H=params.H, b_H=params.b_H, U=params.U[:2], b_U=params.b_U)
    with pytest.raises(ValueError, match=r"\[0, m\)"):
        one_hot([0, 3], 3)
