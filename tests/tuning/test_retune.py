"""Resuming with new mid-run hyperparameters (the PBT exploit path) and ``--backend ray``
without Ray installed; no Ray instance needed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ftlab.core import MissingDependencyError
from ftlab.cli import app
from ftlab.config import dump_config, load_config, parse_config
from ftlab.errors import ConfigError
from ftlab.runs import read_summary, resume_run, train_run

from .conftest import tiny_raw


def _lrs(run_dir: Path) -> dict[int, float]:
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return {r["step"]: r["values"]["lr"] for r in rows if r["kind"] == "step"}


@pytest.mark.parametrize("schedule", ["constant", "linear"])
def test_resume_with_retune_sets_the_new_lr_after_the_restore(tmp_path, schedule):
    raw = tiny_raw(tmp_path, epochs=2)
    raw["train"].update(schedule=schedule, weight_decay=0.01)
    summary = train_run(parse_config(raw), name="r", stop_after=3)  # one epoch: 3 steps
    run_dir = Path(summary["path"])
    resume_run(run_dir, retune={"train.lr": 0.2, "train.weight_decay": 0.03,
                                "model.dropout": 0.1})
    lrs = _lrs(run_dir)
    cfg = load_config(run_dir / "config.yaml")
    assert cfg.train.lr == 0.2 and cfg.model.dropout == 0.1
    assert read_summary(run_dir)["hparams"]["weight_decay"] == 0.03
    assert lrs[3] == pytest.approx(0.05 * (1.0 if schedule == "constant" else 4 / 6))
    expected = 0.2 if schedule == "constant" else 0.2 * (1 - 3 / 6)
    assert lrs[4] == pytest.approx(expected)  # the schedule at step 3, from the new peak


def test_retune_refuses_fields_that_cannot_change_mid_run(tmp_path):
    summary = train_run(parse_config(tiny_raw(tmp_path, epochs=2)), name="r", stop_after=3)
    with pytest.raises(ConfigError, match="batching.batch_size"):
        resume_run(Path(summary["path"]), retune={"batching.batch_size": 8})


def test_backend_ray_without_ray_names_the_extra(tmp_path, monkeypatch):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(dump_config(parse_config(tiny_raw(tmp_path))), encoding="utf-8")
    space = tmp_path / "s.yaml"
    space.write_text("params:\n  train.lr: {low: 1.0e-4, high: 0.1}\n", encoding="utf-8")
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    monkeypatch.setitem(sys.modules, "ray.tune", None)
    result = CliRunner().invoke(app, ["tune", str(cfg), "--space", str(space),
                                      "--backend", "ray", "--scheduler", "pbt"])
    assert isinstance(result.exception, MissingDependencyError)
    assert "ftlab[ray]" in str(result.exception)
