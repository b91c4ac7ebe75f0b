"""find-lr: exact restore, a suggestion in the known good range, refusal, plot, CLI."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from ftlab.cli import app
from ftlab.config import load_config
from ftlab.errors import ConfigError
from ftlab.report import PNG_SIGNATURE
from ftlab.toolbelt import find_lr, lr_range_test

from ._bs_lr_helpers import write_tiny


def _regression():
    """Least squares on standardised features: the Hessian of 0.5 * MSE is the feature
    covariance (eigenvalues near 1), so plain gradient descent works for lr in [1e-2, 1],
    crawls at 1e-5 and diverges at 100. Full batch: deterministic."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 4, generator=g)
    x = (x - x.mean(0)) / x.std(0)
    y = x @ torch.tensor([1.5, -2.0, 0.5, 1.0])
    return x, y


def _loss(model, batch):
    x, y = batch
    return 0.5 * ((model(x).squeeze(1) - y) ** 2).mean()


def _linear():
    torch.manual_seed(1)
    return torch.nn.Linear(4, 1)


def _train(lr, batch, steps=50):
    model = _linear()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        _loss(model, batch).backward()
        opt.step()
    return _loss(model, batch).item()


def test_the_synthetic_problem_has_the_claimed_good_range():
    batch = _regression()
    start = _loss(_linear(), batch).item()
    assert _train(1e-5, batch) > 0.99 * start  # too small: barely moves
    assert all(_train(lr, batch) < 0.5 * start for lr in (1e-2, 1e-1, 1.0))
    assert not np.isfinite(_train(100.0, batch)) or _train(100.0, batch) > 1e6  # diverges


def test_suggestion_lies_in_the_known_good_range():
    batch = _regression()
    model = _linear()
    res = lr_range_test(model, torch.optim.SGD(model.parameters(), lr=0.1), [batch], _loss,
                        start=1e-5, end=100, steps=100)
    assert res.suggestion is not None and 1e-2 <= res.suggestion <= 1.0
    assert res.stop_reason.startswith("diverged")  # stopped early, before lr 100
    assert res.lrs[-1] < 100 and len(res.lrs) < 100
    assert res.lrs[0] == pytest.approx(1e-5)
    assert np.all(np.diff(res.lrs) > 0)
    assert res.smoothed[0] == pytest.approx(res.losses[0])  # bias-corrected EMA
    assert "steepest descent" in res.reason and "suggested lr" in res.format()
    png = res.plot_png()
    assert png.startswith(PNG_SIGNATURE)


def test_model_optimizer_and_rng_are_restored_exactly():
    torch.manual_seed(3)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.3),
                                torch.nn.Linear(8, 1))
    opt = torch.optim.AdamW(
        [{"params": model[0].parameters(), "lr": 1e-3},
         {"params": model[2].parameters(), "lr": 2e-3}], weight_decay=0.01)
    batch = _regression()
    _loss(model, batch).backward()
    opt.step()  # non-empty optimizer state (exp_avg, exp_avg_sq, step)
    _loss(model, batch).backward()  # and gradients that are not None
    model.eval()
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    grads = [p.grad.clone() for p in model.parameters()]
    import copy
    opt_state = copy.deepcopy(opt.state_dict())
    py, npy, tch = random.getstate(), np.random.get_state(), torch.get_rng_state()

    res = lr_range_test(model, opt, [batch], _loss, start=1e-4, end=1.0, steps=20)
    assert len(res.lrs) >= 1

    assert not model.training
    after = model.state_dict()
    assert after.keys() == weights.keys()
    assert all(torch.equal(after[k], weights[k]) for k in weights)
    assert all(torch.equal(p.grad, g) for p, g in zip(model.parameters(), grads))
    state = opt.state_dict()
    assert state["param_groups"] == opt_state["param_groups"]
    assert [g["lr"] for g in opt.param_groups] == [1e-3, 2e-3]
    assert state["state"].keys() == opt_state["state"].keys()
    for i, entry in opt_state["state"].items():
        assert entry.keys() == state["state"][i].keys()
        assert all(torch.equal(torch.as_tensor(entry[k]), torch.as_tensor(state["state"][i][k]))
                   for k in entry)
    assert random.getstate() == py
    assert torch.equal(torch.get_rng_state(), tch)
    got = np.random.get_state()
    assert np.array_equal(got[1], npy[1]) and got[2] == npy[2]


def test_refuses_when_the_loss_never_falls():
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def constant(m, batch):  # depends on the weights but is flat in them
        return 0.0 * m(batch[0]).sum() + 1.0

    res = lr_range_test(model, opt, [_regression()], constant, start=1e-4, end=10, steps=30)
    assert res.suggestion is None
    assert "never fell below its starting value" in res.reason
    assert "check the data/labels" in res.reason and "widen the range" in res.reason
    assert "no suggestion" in res.format()
    assert res.plot_png().startswith(PNG_SIGNATURE)


def test_bad_ranges_are_refused_before_any_work():
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ConfigError, match="--start < --end"):
        lr_range_test(model, opt, [_regression()], _loss, start=1.0, end=1e-3)
    with pytest.raises(ConfigError, match="batches are empty"):
        lr_range_test(model, opt, [], _loss, steps=10)


def test_find_lr_on_a_config_and_the_cli(tmp_path):
    path = write_tiny(tmp_path)
    res = find_lr(load_config(path), start=1e-4, end=100, steps=60)
    assert len(res.lrs) >= 10 and res.losses[0] > 0
    plot = tmp_path / "lr.png"
    out = CliRunner().invoke(app, ["find-lr", str(path), "--steps", "60", "--start", "1e-4",
                                   "--end", "100", "--plot", str(plot), "--write"])
    assert out.exit_code == 0, out.output
    assert plot.read_bytes().startswith(PNG_SIGNATURE)
    written = load_config(tmp_path / "tiny.lr.yaml")
    assert written.train.lr == pytest.approx(float(f"{res.suggestion:.3g}"))
    assert "# tuned by hand" in (tmp_path / "tiny.lr.yaml").read_text()
