"""Seed studies (``ftlab seeds``): separate init/order/split seeds, seeds.json, the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import ftlab.runs._assemble as assemble_module
from ftlab.analysis import evp_curve
from ftlab.config import parse_config
from ftlab.errors import ConfigError
from ftlab.runs import seed_study, study_configs
from ftlab.testing import check_report

from _tiny_data import write_sentiment_jsonl

def _data(path: Path, n: int = 100) -> Path:
    return write_sentiment_jsonl(path, n)


def _config(tmp: Path, **train):
    return parse_config({
        "seed": 5, "output_dir": str(tmp / "runs"),
        "data": {"source": str(_data(tmp / "d.jsonl")), "split": {"validation": 0.2, "test": 0.2}},
        "preprocess": {"max_length": 16},
        "batching": {"batch_size": 8},
        "model": {"family": "bow", "embed_dim": 8, "hidden_dims": [8], "dropout": 0.1},
        "train": {"lr": 0.05, "epochs": 1, "trackers": [], "log_every": 100, **train},
        "eval": {"splits": ["validation", "test"]},
    })


@pytest.fixture()
def capture(monkeypatch):
    """Record, per run, the initial weights and the example indices of the first train batch."""
    records: list[dict] = []
    real = assemble_module.build_model_for

    def build(config, encoder, num_classes, **kw):
        model, coverage = real(config, encoder, num_classes, **kw)
        rec = {"init": {k: v.detach().clone() for k, v in model.state_dict().items()}}
        records.append(rec)

        def first_batch(module, args):
            if module.training and "batch" not in rec:
                rec["batch"] = args[0].index.tolist()

        model.register_forward_pre_hook(first_batch)
        return model, coverage

    monkeypatch.setattr(assemble_module, "build_model_for", build)
    return records


def _same_weights(a: dict, b: dict) -> bool:
    return all(torch.equal(a[k], b[k]) for k in a)


def _split_ids(run_dir: Path) -> dict[str, list[str]]:
    return {s: [json.loads(x)["id"] for x in (run_dir / "predictions" / f"{s}.jsonl")
                .read_text().splitlines()] for s in ("validation", "test")}


def test_unset_seeds_fall_back_to_seed_and_study_configs_fix_the_split(tmp_path):
    cfg = _config(tmp_path)
    assert [cfg.seed_for(p) for p in ("split", "init", "order")] == [5, 5, 5]
    init_only = study_configs(cfg, 3, "init")
    assert [c.seed_for("init") for c in init_only] == [1, 2, 3]
    assert {c.seed_for("order") for c in init_only} == {5}
    assert {c.seed_for("split") for c in study_configs(cfg, 3, "all")} == {5}
    with pytest.raises(ConfigError, match="--vary"):
        study_configs(cfg, 2, "weights")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="--n"):
        study_configs(cfg, 0)


def test_vary_init_keeps_order_and_vary_order_keeps_init(tmp_path, capture):
    cfg = _config(tmp_path, max_steps=2)
    seed_study(cfg, 2, "init", "init-study")
    (a, b) = capture[-2:]
    assert a["batch"] == b["batch"]  # same data order
    assert not _same_weights(a["init"], b["init"])  # different initialization
    seed_study(cfg, 2, "order", "order-study")
    (c, d) = capture[-2:]
    assert _same_weights(c["init"], d["init"])
    assert c["batch"] != d["batch"]
    # the split is fixed across every run of both studies
    runs = sorted((tmp_path / "runs").glob("*-study/seed-*"))
    assert len(runs) == 4
    first = _split_ids(runs[0])
    assert all(_split_ids(r) == first for r in runs[1:])


def test_seed_study_writes_summary_evp_tags_and_report(tmp_path):
    cfg = _config(tmp_path)
    result = seed_study(cfg, 3, "all", "study")
    study = tmp_path / "runs" / "study"
    saved = json.loads((study / "seeds.json").read_text())
    assert saved["n"] == 3 and len(saved["runs"]) == 3 and saved["vary"] == "all"
    assert saved["runs"] == result["runs"]
    best = []
    for k, row in enumerate(saved["runs"], start=1):
        run = json.loads((study / f"seed-{k}" / "run.json").read_text())
        assert run["tags"]["study"] == "study" and run["tags"]["seed_study"] is True
        assert run["seeds"] == {"split": 5, "init": k, "order": k}
        assert row["best_metric"] == run["best_metric"]
        best.append(run["best_metric"])
    val = saved["validation"]
    assert val["mean"] == pytest.approx(sum(best) / 3)
    assert val["std"] == pytest.approx(torch.tensor(best, dtype=torch.float64).std().item())
    assert (val["min"], val["max"]) == (min(best), max(best))
    curve = evp_curve(best)
    assert val["evp"]["n"] == [1, 2, 3]
    assert val["evp"]["mean"] == pytest.approx(list(curve.mean))
    assert val["evp"]["std"] == pytest.approx(list(curve.std))
    assert saved["test"]["n"] == 3
    assert check_report(study / "seeds.html", section_ids=("summary", "runs", "evp", "scores")) == 2


def test_resume_with_own_init_and_order_seeds_is_exact(tmp_path):
    from ftlab.runs import resume_run, train_run

    cfg = _config(tmp_path, epochs=2, init_seed=2, order_seed=3)
    whole = train_run(cfg, name="whole")
    train_run(cfg, name="cut", stop_after=3)
    resumed = resume_run(tmp_path / "runs" / "cut")

    def losses(run: str) -> list[float]:
        rows = [json.loads(x) for x in (tmp_path / "runs" / run / "metrics.jsonl")
                .read_text().splitlines()]
        return [r["values"]["loss"] for r in rows if r["kind"] == "step" and r["step"] > 3]

    assert len(losses("whole")) == 13
    assert losses("cut") == losses("whole")  # the steps after the cut, bit for bit
    assert resumed["best_metric"] == whole["best_metric"]
    assert resumed["test_metric"] == whole["test_metric"]
