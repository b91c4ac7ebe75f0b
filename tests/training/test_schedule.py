"""build_scheduler: golden learning rates and a property over all schedules."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ftlab.errors import ConfigError
from ftlab.training import build_scheduler, resolve_warmup_steps


def _lrs(name, total=10, steps=None, **kw):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = build_scheduler(opt, name=name, total_steps=total, **kw)
    lrs = []
    for _ in range(steps or total):
        lrs.append(opt.param_groups[0]["lr"])  # the lr the optimizer step uses
        opt.step()
        sched.step()
    return lrs


def test_golden_linear_with_warmup():
    # warmup (s+1)/(w+1) for s < 2, then (10 - s) / 8
    assert _lrs("linear", warmup_steps=2) == pytest.approx(
        [1 / 3, 2 / 3, 1.0, 7 / 8, 6 / 8, 5 / 8, 4 / 8, 3 / 8, 2 / 8, 1 / 8])


def test_golden_cosine_with_ratio_warmup_and_floor():
    lrs = _lrs("cosine", warmup_steps=0.2, min_lr_ratio=0.1)
    assert lrs[:3] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert lrs[6] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 4 / 8)))  # 0.55
    assert lrs[9] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 7 / 8)))


def test_golden_constant_and_one_cycle():
    assert _lrs("constant", warmup_steps=3) == pytest.approx([0.25, 0.5, 0.75] + [1.0] * 7)
    lrs = _lrs("one_cycle", warmup_steps=4, min_lr_ratio=0.01)
    assert lrs[0] == pytest.approx(1 / 25)
    assert max(lrs) == pytest.approx(1.0) and lrs.index(max(lrs)) == 3
    assert lrs[-1] == pytest.approx(0.01)


def test_warmup_and_argument_errors():
    assert resolve_warmup_steps(0.25, 100) == 25 and resolve_warmup_steps(7, 100) == 7
    with pytest.raises(ConfigError, match="ratio"):
        resolve_warmup_steps(1.5, 100)
    with pytest.raises(ConfigError, match="total_steps=10"):
        resolve_warmup_steps(11, 10)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    with pytest.raises(ConfigError, match="must be one of"):
        build_scheduler(opt, name="step", total_steps=10)
    with pytest.raises(ConfigError, match="total_steps must be >= 1"):
        build_scheduler(opt, name="linear", total_steps=0)


@given(
    name=st.sampled_from(["constant", "linear", "cosine"]),
    total=st.integers(1, 40),
    warmup_frac=st.floats(0, 1),
    floor=st.floats(0, 1),
)
def test_lr_stays_in_range_and_never_rises_after_warmup(name, total, warmup_frac, floor):
    warmup = int(warmup_frac * total)
    lrs = _lrs(name, total=total, warmup_steps=warmup, min_lr_ratio=floor)
    assert all(0 < lr <= 1.0 + 1e-12 for lr in lrs)
    after = lrs[warmup:]
    assert all(b <= a + 1e-12 for a, b in zip(after, after[1:]))
    assert all(lr >= floor - 1e-12 for lr in after)
