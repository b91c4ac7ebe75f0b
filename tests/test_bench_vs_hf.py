"""bench/vs_hf_trainer.py's seeded comparison: seeds per repetition, the frozen-embedding variant
and the accuracy-against-seed-spread verdict (no training: config and arithmetic only)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import vs_hf_trainer as vs  # noqa: E402


def test_seeds_one_per_repetition_default_the_fixed_seed():
    assert vs.parse_seeds("1,2,3", 3) == [1, 2, 3]
    assert vs.parse_seeds(None, 4) == [vs.SEED] * 4
    with pytest.raises(SystemExit, match="comma-separated integers"):
        vs.parse_seeds("1,x", 3)


@pytest.mark.parametrize("variant, frozen, precision", [
    ("ftlab", False, "fp32"), ("ftlab-frozen-emb", True, "fp32"),
    ("ftlab-frozen-emb-bf16", True, "bf16")])
def test_frozen_variant_freezes_embeddings_and_takes_the_seed(tmp_path: Path, variant, frozen,
                                                              precision):
    config = vs.ftlab_config(variant, tmp_path / "t.jsonl", tmp_path / "v.jsonl", tmp_path,
                             threads=1, seed=7)
    assert config.model.freeze_embeddings is frozen
    assert config.train.precision == precision
    assert config.seed == 7
    assert config.train.threads == 1


def _runs(rate: float, accs: list[float]) -> list[dict]:
    return [{"examples": 100, "train_s": 100 / rate, "val_accuracy": a, "seed": i + 1}
            for i, a in enumerate(accs)]


def test_accuracy_verdict_against_the_seed_spread():
    runs = {"ftlab": _runs(12.0, [0.80, 0.82, 0.81]),
            "ftlab-frozen-emb": _runs(13.0, [0.70, 0.71, 0.72]),
            "hf-grouped": _runs(10.0, [0.81, 0.80, 0.82])}
    spread = vs.accuracy_spread(runs["ftlab"])
    assert spread["mean"] == pytest.approx(81.0) and spread["sd"] == pytest.approx(1.0)
    lines = vs.seeded_ratios(runs).splitlines()
    assert lines[0].startswith("- ftlab / hf-grouped") and "1.20x" in lines[0]
    assert "within the seed spread" in lines[0]
    frozen = [x for x in lines if x.startswith("- ftlab-frozen-emb / hf-grouped")][0]
    assert "1.30x" in frozen and "-10.00 points" in frozen and "outside the seed spread" in frozen
    assert any(x.startswith("- ftlab-frozen-emb / ftlab,") for x in lines)
    runs["hf-grouped-bf16"] = _runs(30.0, [0.80, 0.81, 0.82])
    lines = vs.seeded_ratios(runs).splitlines()
    assert not any("ftlab / hf-grouped-bf16" in x for x in lines)  # equal precisions only
    assert any(x.startswith("- hf-grouped-bf16 / hf-grouped") and "3.00x" in x for x in lines)


def test_profile_section_renders_share_of_peak_and_compile_ratio():
    import profile_step as ps

    profile = {"date": "d", "machine": "m", "threads": 1, "batch": 2, "length": 5, "steps": 3,
               "freeze_embeddings": True, "peak": {"peak_gflops": 10.0, "median_gflops": 9.0},
               "shape_gflops": 8.0, "load": [0.1, 0.2], "step_s": [0.6, 0.5, 0.7],
               "non_embedding": 1000, "trainable": 900, "regions": {"backward": 1.0},
               "ops": [{"key": "aten::mm", "self_ms": 2.0, "share": 0.5, "calls": 4}]}
    text = ps.profile_text(profile)
    # 6 x 1000 x 10 slots = 60 kFLOP in the median 0.6 s step -> 1e-4 GFLOP/s: 0% of 10
    assert "**600 ms** [500, 700]" in text and "80% of that peak" in text
    assert "frozen embedding block" in text and "| `aten::mm` | 2.0 | 50.0% | 4 |" in text
    runs = {v: [{"first_s": [f, 0.5], "step_s": [s, s, s]} for _ in range(3)]
            for v, f, s in (("eager", 1.0, 0.4), ("compile", 90.0, 0.5))}
    compiled = ps.compile_text({"date": "d", "machine": "m", "threads": 1, "batch": 2,
                                "length": 5, "steps": 3, "runs": runs, "load": [0, 0],
                                "order": ["eager#1", "compile#1"]})
    assert "compile / eager: **0.80x [0.80, 0.80]**" in compiled
    assert ps.render({"profiles": {"k": profile}}).count("**600 ms**") == 1
