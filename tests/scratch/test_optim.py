"""From-scratch SGD-with-momentum and Adam against torch.optim, step by step, in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ftlab.scratch import Adam, Params, SGDMomentum, backward, forward

from ._problems import random_problem

STEPS = 10


def _grads_at(arrays: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray):
    params = Params.from_dict(arrays)
    return backward(params, forward(params, X), X, Y).wrt_params()


def _run_side_by_side(ours, make_torch_optimizer):
    """Train the same network with both optimizers; each gets the gradient at its own point."""
    X, Y, start = random_problem(6, 4, 5, 3, seed=11)
    mine = start.as_dict()
    theirs = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in mine.items()}
    opt = make_torch_optimizer(list(theirs.values()))
    worst = 0.0
    for _ in range(STEPS):
        mine = ours.step(mine, _grads_at(mine, X, Y))
        g = _grads_at({k: v.detach().numpy() for k, v in theirs.items()}, X, Y)
        for k, p in theirs.items():
            p.grad = torch.tensor(g[k])
        opt.step()
        for k, p in theirs.items():
            worst = max(worst, float(np.max(np.abs(mine[k] - p.detach().numpy()))))
    moved = max(float(np.max(np.abs(mine[k] - v))) for k, v in start.as_dict().items())
    return worst, moved


@pytest.mark.parametrize("kwargs", [
    {"momentum": 0.9},
    {"momentum": 0.9, "nesterov": True},
    {"momentum": 0.9, "weight_decay": 0.01},
    {"momentum": 0.8, "nesterov": True, "weight_decay": 0.05},
    {"momentum": 0.9, "dampening": 0.5},
    {"momentum": 0.0, "weight_decay": 0.01},
], ids=["heavy-ball", "nesterov", "weight-decay", "nesterov+wd", "dampening", "plain"])
def test_sgd_momentum_matches_torch_sgd(kwargs):
    worst, moved = _run_side_by_side(SGDMomentum(lr=0.05, **kwargs),
                                     lambda ps: torch.optim.SGD(ps, lr=0.05, **kwargs))
    assert moved > 1e-2  # the comparison is over a real trajectory, not a standstill
    assert worst < 1e-12


@pytest.mark.parametrize("kwargs", [
    {},
    {"betas": (0.8, 0.99), "eps": 1e-6},
    {"weight_decay": 0.1},
    {"eps": 0.5},  # a large eps makes its placement (after sqrt of r_hat) visible
], ids=["default", "betas-eps", "weight-decay", "large-eps"])
def test_adam_matches_torch_adam(kwargs):
    worst, moved = _run_side_by_side(Adam(lr=0.01, **kwargs),
                                     lambda ps: torch.optim.Adam(ps, lr=0.01, **kwargs))
    assert moved > 1e-2
    assert worst < 1e-12


def test_adam_first_step_moves_every_weight_by_lr():
    # With bias correction, s_hat = g and r_hat = g^2 on step 1: the step is lr * sign(g).
    p = {"w": np.array([1.0, -2.0, 3.0])}
    new = Adam(lr=0.1, eps=0.0).step(p, {"w": np.array([5.0, -1e-3, 2.0])})
    np.testing.assert_allclose(new["w"], [0.9, -1.9, 2.9], rtol=0, atol=1e-15)


def test_step_is_pure_and_state_lives_in_the_optimizer():
    p, g = {"w": np.ones(3)}, {"w": np.full(3, 2.0)}
    opt = SGDMomentum(lr=0.1, momentum=0.9)
    new = opt.step(p, g)
    np.testing.assert_array_equal(p["w"], np.ones(3))
    np.testing.assert_array_equal(g["w"], np.full(3, 2.0))
    np.testing.assert_allclose(new["w"], 1.0 - 0.1 * 2.0)
    np.testing.assert_allclose(opt.step(new, g)["w"], 0.8 - 0.1 * (0.9 * 2.0 + 2.0))


def test_bad_hyperparameters_are_refused_with_the_value():
    with pytest.raises(ValueError, match="Nesterov"):
        SGDMomentum(lr=0.1, momentum=0.0, nesterov=True)
    with pytest.raises(ValueError, match="lr=-1"):
        SGDMomentum(lr=-1)
    with pytest.raises(ValueError, match="betas"):
        Adam(betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="same names"):
        Adam().step({"w": np.ones(2)}, {"v": np.ones(2)})
