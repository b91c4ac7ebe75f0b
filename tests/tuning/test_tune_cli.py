"""``ftlab tune`` end to end through the real command table."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from ftlab.cli import app

from .conftest import tiny_raw

pytest.importorskip("optuna")


def test_tune_cli_end_to_end(tmp_path):
    raw = tiny_raw(tmp_path, epochs=2)
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(raw), encoding="utf-8")
    space = tmp_path / "space.yaml"
    space.write_text("params:\n"
                     "  train.lr: {low: 1.0e-3, high: 0.3, log: false, grid: [0.3, 0.001]}\n",
                     encoding="utf-8")
    res = CliRunner().invoke(app, ["tune", str(cfg), "--space", str(space), "--sampler", "grid",
                                   "--pruner", "none", "--name", "cli", "--refine",
                                   "--set", "train.weight_decay=0.01"])
    assert res.exit_code == 0, res.output
    out = res.output
    assert "linearly spaced learning rates" in out  # the explicit log: false warning
    assert "best trial: #" in out and "retrain with: ftlab train" in out
    assert "--set train.lr=0.3" in out  # 0.3 learns this data, 0.001 barely moves in 2 epochs
    # the retrain command reproduces the trial: the study's own overrides, then the trial's
    retrain = next(ln for ln in out.splitlines() if ln.startswith("retrain with:"))
    assert retrain.index("--set train.weight_decay=0.01") < retrain.index("--set train.lr=0.3")
    assert f"report: {tmp_path / 'runs' / 'cli' / 'report.html'}" in out
    assert "upper edge" in out and "extend the range" in out
    study_dir = tmp_path / "runs" / "cli"
    summary = json.loads((study_dir / "study.json").read_text())
    assert len(summary["trials"]) == 2  # the grid's size
    assert summary["epochs_total"] == 4 and summary["epochs_per_trial"] == 2
    refined = yaml.safe_load((study_dir / "space.refined.yaml").read_text())
    assert refined["params"]["train.lr"]["high"] <= 0.3 and "grid" not in refined["params"]["train.lr"]
    assert "refined space written to" in out
    from ftlab.testing import check_report

    html = (study_dir / "report.html").read_text(encoding="utf-8")
    check_report(html, section_ids=("summary", "history", "parallel", "slices", "curves", "trials"))
    assert "retrain with" in html and "trial-0000" in html
    runs = CliRunner().invoke(app, ["runs", "--dir", str(study_dir)])
    assert runs.exit_code == 0 and "trial-0000" in runs.output


def test_tune_cli_bad_space_exits_2(tmp_path):
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(tiny_raw(tmp_path)), encoding="utf-8")
    space = tmp_path / "space.yaml"
    space.write_text("params:\n  train.lrr: {low: 1.0, high: 0.1}\n", encoding="utf-8")
    from ftlab.errors import ConfigError

    res = CliRunner().invoke(app, ["tune", str(cfg), "--space", str(space)])
    assert isinstance(res.exception, ConfigError)
    assert "did you mean 'train.lr'" in str(res.exception) and str(space) in str(res.exception)
