"""The benchmark methodology helpers (bench/_common.py): interleaving, medians, ratios, FLOPs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import _common as bench  # noqa: E402


def test_interleaved_runs_a_b_a_b_and_records_load():
    calls = []

    def run_one(variant: str, rep: int) -> dict:
        calls.append(f"{variant}{rep}")
        return {"rate": {"a": 1.0, "b": 2.0}[variant] + rep}

    out = bench.interleaved(["a", "b"], 3, run_one)
    assert calls == ["a0", "b0", "a1", "b1", "a2", "b2"]
    assert [r["rate"] for r in out["runs"]["b"]] == [2.0, 3.0, 4.0]
    assert out["order"] == ["a#1", "b#1", "a#2", "b#2", "a#3", "b#3"]
    assert len(out["load"]) == 2 and all("load_before" in r for r in out["runs"]["a"])


@pytest.mark.parametrize("variants, pairs", [(["a", "b"], 2), (["a"], 3)])
def test_interleaving_needs_three_pairs_of_two_variants(variants, pairs):
    with pytest.raises(ValueError):
        bench.interleaved_order(variants, pairs)


def test_summaries_and_ratios():
    assert bench.summarize([3.0, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0, "n": 3}
    r = bench.ratio_of([2.0, 4.0, 3.0], [1.0, 2.0, 4.0])
    assert r["ratio"] == pytest.approx(3.0 / 2.0)
    assert (r["min"], r["max"]) == (0.75, 2.0)
    assert "parity" in bench.fmt_ratio(r)
    assert "parity" not in bench.fmt_ratio(bench.ratio_of([2.0, 2.2, 2.1], [1.0, 1.0, 1.0]))
    with pytest.raises(ValueError):
        bench.ratio_of([1.0], [1.0, 2.0])


def test_flops_count_non_embedding_parameters():
    model = torch.nn.Sequential(torch.nn.Embedding(100, 8), torch.nn.Linear(8, 4))
    assert bench.non_embedding_parameters(model) == 8 * 4 + 4
    assert bench.training_flops(36, 10) == 6 * 36 * 10
    # 6 * 36 * 10 FLOPs in 1 s against a 2,160 FLOP/s (2.16e-6 GFLOP/s) peak: all of it
    assert bench.share_of_peak(36, 10, 1.0, 2.16e-6) == pytest.approx(1.0)


def test_matmul_peak_restores_the_thread_count():
    torch.set_num_threads(1)
    peak = bench.matmul_peak(2, n=64, repeats=3)
    assert torch.get_num_threads() == 1
    assert peak["threads"] == 2 and peak["peak_gflops"] >= peak["median_gflops"] > 0


def test_methodology_section_comes_first_once(tmp_path: Path):
    path = tmp_path / "B.md"
    path.write_text("# ftlab benchmarks\n\nintro\n\n## Old\n\nx\n", encoding="utf-8")
    bench.write_section("## New\n\ny\n", path)
    bench.write_section("## New\n\nz\n", path)
    text = path.read_text(encoding="utf-8")
    titles = [line for line in text.splitlines() if line.startswith("## ")]
    assert titles == ["## Methodology", "## Old", "## New"]
    assert "z" in text and "\ny\n" not in text
