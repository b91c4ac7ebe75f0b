"""find-batch-size: the search, the worst-case batch, the arithmetic, token budgets, --write."""

from __future__ import annotations

import math
import re

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from ftlab.batching import Encoded
from ftlab.cli import app
from ftlab.config import load_config
from ftlab.errors import ConfigError, TrainingError
from ftlab.toolbelt import (
    accumulation_plan,
    apply_margin,
    find_batch_size,
    largest_fitting,
    scale_lr,
    worst_case_batch,
    write_config_values,
)

from ._bs_lr_helpers import write_tiny


def _fake(limit: int, per_example: int):
    """A probe that fits iff size * per_example <= limit, reporting that as its peak."""
    def fits(size: int) -> tuple[bool, int]:
        return size * per_example <= limit, size * per_example
    return fits


@given(limit=st.integers(0, 10**6), per_example=st.integers(1, 5000), high=st.integers(1, 4000))
def test_search_returns_the_exact_largest_size(limit, per_example, high):
    found, probes = largest_fitting(_fake(limit, per_example), high=high)
    assert found == min(limit // per_example, high)
    assert len(probes) <= 2 * math.ceil(math.log2(high + 1)) + 2
    assert all(p.fits == (p.size * per_example <= limit) for p in probes)


def test_search_rejects_a_bad_range():
    with pytest.raises(ValueError, match="low <= high"):
        largest_fitting(_fake(10, 1), high=0)


def test_worst_case_batch_takes_the_longest_examples_padded_to_the_longest():
    lengths = [3, 9, 1, 9, 5, 7, 2, 8]
    encoded = [Encoded(index=i, ids=list(range(1, n + 1)), label=i % 2)
               for i, n in enumerate(lengths)]
    batch = worst_case_batch(encoded, 4, pad_id=0)
    assert batch.index.tolist() == [1, 3, 7, 5]  # lengths 9, 9 (ties by index), 8, 7
    assert batch.lengths.tolist() == [9, 9, 8, 7]
    assert tuple(batch.ids.shape) == (4, 9)
    assert batch.mask.sum(1).tolist() == [9, 9, 8, 7]
    with pytest.raises(ValueError, match=r"size must be in \[1, 8\]"):
        worst_case_batch(encoded, 9)


def test_margin_accumulation_and_lr_scaling_arithmetic():
    assert apply_margin(100, 0.1) == 90
    assert apply_margin(5, 0.1) == 4
    assert apply_margin(1, 0.5) == 1 and apply_margin(37, 0.0) == 37
    with pytest.raises(ConfigError, match="margin"):
        apply_margin(10, 1.0)
    assert accumulation_plan(100, 256) == (86, 3)  # 3 steps of 86 = 258, not 100+100+56
    assert accumulation_plan(64, 256) == (64, 4)
    assert accumulation_plan(300, 256) == (256, 1)
    lr, rule = scale_lr(0.1, 32, 128, "sgd")
    assert lr == pytest.approx(0.4) and "linear" in rule
    lr, rule = scale_lr(1e-3, 32, 128, "adamw")
    assert lr == pytest.approx(2e-3) and "square-root" in rule


def test_find_batch_size_with_a_fake_memory_limit(tmp_path):
    cfg = load_config(write_tiny(tmp_path))
    seen = []

    def probe(size):
        seen.append(size)
        return size * 1000 <= 20_500, size * 1000

    res = find_batch_size(cfg, probe=probe, margin=0.1, target_batch=64)
    assert res.found == 20 and res.recommended == 18 and res.peak_bytes == 20_000
    assert (res.micro, res.grad_accum, res.effective) == (16, 4, 64)
    assert res.suggested_lr == pytest.approx(0.02 * math.sqrt(64 / 8))  # adamw: sqrt rule
    assert not res.capped and res.mode == "batch_size"
    assert res.config_values == {"batching.batch_size": 16, "train.grad_accum": 4}
    assert sorted(set(seen)) == sorted(p.size for p in res.probes)
    assert "largest that fits 20" in res.format()


def test_not_even_one_example_fits(tmp_path):
    cfg = load_config(write_tiny(tmp_path))
    with pytest.raises(TrainingError, match="not even one example"):
        find_batch_size(cfg, probe=lambda k: (False, None))


def test_token_budget_mode(tmp_path):
    path = write_tiny(tmp_path)
    cfg = load_config(path)
    res = find_batch_size(cfg, tokens=True, probe=lambda k: (k <= 6, k * 10), margin=0.0)
    assert res.mode == "max_tokens" and res.longest == 11
    assert res.found == 6 * 11 and res.recommended == 66
    assert res.suggested_lr is None  # the config has no token budget to scale from
    assert res.config_values["batching.max_tokens"] == 66
    budget = load_config(path, ["batching.max_tokens=100"])
    res = find_batch_size(budget, tokens=True, probe=lambda k: (k <= 6, None), margin=0.0,
                          target_batch=200)
    assert (res.micro, res.grad_accum) == (50, 4)
    assert res.suggested_lr == pytest.approx(0.02 * math.sqrt(200 / 100))
    with pytest.raises(ConfigError, match="--tokens"):
        find_batch_size(budget, probe=lambda k: (True, None))


def test_measured_probe_runs_real_steps_on_the_longest_examples(tmp_path, monkeypatch):
    import ftlab.toolbelt._batch_size as bs

    cfg = load_config(write_tiny(tmp_path))
    seen: list[list[int]] = []
    real_step = bs._train_step

    def spy(model, optimizer, batch, *args):
        seen.append(batch.lengths.tolist())
        real_step(model, optimizer, batch, *args)

    monkeypatch.setattr(bs, "_train_step", spy)
    before = torch.random.get_rng_state()
    res = find_batch_size(cfg, max_memory="2GB", max_size=24)
    assert torch.equal(torch.random.get_rng_state(), before)  # RNG state restored
    assert res.found == 24 and res.capped and res.peak_bytes is not None
    assert res.budget_bytes == 2 * 1024**3
    from ftlab.toolbelt._pieces import build_pieces

    lengths = sorted((e.length for e in build_pieces(cfg).train), reverse=True)
    assert [len(x) for x in seen] == [p.size for p in res.probes]
    assert all(x == lengths[: len(x)] for x in seen)  # the longest examples, longest first


def test_cli_write_gives_a_config_that_loads_with_the_new_values(tmp_path):
    path = write_tiny(tmp_path)
    res = CliRunner().invoke(app, ["find-batch-size", str(path), "--max-memory", "2GB",
                                   "--target-batch", "100", "--write"])
    assert res.exit_code == 0, res.output
    out = tmp_path / "tiny.batch.yaml"
    assert "largest that fits" in res.output and str(out) in res.output.replace("\n", "")
    cfg = load_config(out)
    # 48 train examples all fit (capped); 10% margin -> 43; 100 = 3 x 34 (rounded up)
    assert cfg.batching.batch_size == 34 and cfg.train.grad_accum == 3
    text = out.read_text()
    assert "# examples per step" in text and "# tuned by hand" in text  # comments kept
    assert load_config(path).batching.batch_size == 8  # the original is untouched


def test_write_config_values_in_place_and_in_flow_style(tmp_path):
    path = write_tiny(tmp_path)
    w = write_config_values(path, {"batching.batch_size": 12, "train.grad_accum": 2})
    assert w.path == path and w.comments_kept
    cfg = load_config(path)
    assert cfg.batching.batch_size == 12 and cfg.train.grad_accum == 2
    flow = tmp_path / "flow.yaml"
    assert re.search(r"batch_size: 12 +# examples per step", path.read_text())  # comment kept
    flow.write_text(re.sub(r"batching:\n  batch_size: 12 +# examples per step",
                           "batching: {batch_size: 12}", path.read_text()))
    assert "batching: {batch_size: 12}" in flow.read_text()
    w = write_config_values(flow, {"batching.max_tokens": 300}, out=tmp_path / "o.yaml")
    assert w.comments_kept  # a round trip keeps flow style and the other sections' comments
    text = w.path.read_text()
    assert "batching: {batch_size: 12, max_tokens: 300}" in text
    assert text.replace("batching: {batch_size: 12, max_tokens: 300}", "") == \
        flow.read_text().replace("batching: {batch_size: 12}", "")
    written = load_config(w.path)
    assert written.batching.max_tokens == 300 and written.batching.batch_size == 12
    with pytest.raises(ConfigError, match="batch_size"):
        write_config_values(path, {"batching.batch_size": 0}, out=tmp_path / "bad.yaml")


def test_relative_precision_stops_early_but_still_fits():
    limit = 1000
    exact, probes_exact = largest_fitting(lambda n: (n <= limit, None), high=10_000)
    rough, probes_rough = largest_fitting(lambda n: (n <= limit, None), high=10_000, rel_tol=0.02)
    assert exact == limit and rough <= limit and rough >= limit * 0.98
    assert len(probes_rough) < len(probes_exact)
