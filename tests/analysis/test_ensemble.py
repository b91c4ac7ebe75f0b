"""Ensembles of runs and of one run's checkpoints, written and evaluated as runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from ftlab.analysis import average_probabilities, read_predictions
from ftlab.errors import CheckpointError, ConfigError, DataError
from ftlab.runs import ensemble_checkpoints, ensemble_runs, read_summary


def test_average_probabilities():
    a = np.array([[0.9, 0.1], [0.2, 0.8]])
    b = np.array([[0.5, 0.5], [0.6, 0.4]])
    np.testing.assert_allclose(average_probabilities([a, b]), [[0.7, 0.3], [0.4, 0.6]])
    np.testing.assert_allclose(average_probabilities([a, b], weights=[3, 1]),
                               [[0.8, 0.2], [0.3, 0.7]])
    rounded = average_probabilities([[[0.333333, 0.666666]], [[0.5, 0.5]]])
    assert rounded.sum() == pytest.approx(1.0, abs=1e-12)  # rows renormalised
    with pytest.raises(DataError, match="same shape"):
        average_probabilities([a, b[:1]])
    with pytest.raises(ConfigError, match="2 non-negative numbers"):
        average_probabilities([a, b], weights=[1, -1])
    with pytest.raises(DataError, match="no member"):
        average_probabilities([])


def _accuracy(run: Path) -> float:
    return json.loads((run / "evaluation" / "test.json").read_text())["metrics"]["accuracy"]


def test_ensemble_of_runs_is_a_complete_run(tiny_runs, tmp_path):
    members = [tiny_runs[k] for k in ("s1", "s2", "s3")]
    res = ensemble_runs(members, name="ens", output_dir=tmp_path)
    assert res.run_dir == tmp_path / "ens" and res.kind == "runs"
    # each member's own score is its evaluated accuracy
    assert [m.accuracy for m in res.members] == pytest.approx([_accuracy(r) for r in members])
    summary = read_summary(res.run_dir)
    assert summary["status"] == "completed" and summary["model"] == "ensemble"
    assert [m["path"] for m in summary["members"]] == [str(r) for r in members]
    assert summary["test"]["test"]["accuracy"] == pytest.approx(res.accuracy)
    assert _accuracy(res.run_dir) == pytest.approx(res.accuracy)
    # predictions are the mean of the members' probabilities, in the first member's order
    mine = read_predictions(res.run_dir)
    theirs = [read_predictions(r) for r in members]
    assert mine.ids == theirs[0].ids and len(mine.ids) == 80
    np.testing.assert_allclose(mine.probs, np.mean([t.probs for t in theirs], axis=0), atol=2e-6)
    html = res.report_html.read_text(encoding="utf-8")
    assert res.report_html == res.run_dir / "report.html" and "ens" in html
    # a second ensemble with the same name gets a fresh directory
    again = ensemble_runs(members[:2], name="ens", output_dir=tmp_path)
    assert again.run_dir.name == "ens-2" and len(again.members) == 2


def test_ensemble_of_checkpoints(tiny_runs, tmp_path):
    run = tiny_runs["s1"]
    res = ensemble_checkpoints(run, output_dir=tmp_path)
    kept = sorted(p.name for p in (run / "checkpoints").glob("step-*"))
    assert res.kind == "checkpoints" and [m.name for m in res.members] == kept
    assert len(kept) >= 2 and all(m.step is not None for m in res.members)
    # the run ends on its best checkpoint (restore_best): same accuracy as that member
    best = json.loads((run / "checkpoints" / "best.json").read_text())["path"]
    assert {m.name: m.accuracy for m in res.members}[best] == pytest.approx(_accuracy(run))
    assert read_summary(res.run_dir)["ensemble"]["kind"] == "checkpoints"
    assert (res.run_dir / "predictions" / "test.jsonl").is_file()
    assert res.run_dir.name == "s1-checkpoint-ensemble"


def test_ensemble_errors_say_what_to_do(tiny_runs, tmp_path):
    with pytest.raises(ConfigError, match="at least 2 distinct runs"):
        ensemble_runs([tiny_runs["s1"], tiny_runs["s1"]])
    with pytest.raises(ConfigError, match="plain directory name"):
        ensemble_runs([tiny_runs["s1"], tiny_runs["s2"]], name="../x", output_dir=tmp_path)
    with pytest.raises(DataError, match=r"ftlab evaluate .* --split validation"):
        ensemble_runs([tiny_runs["s1"], tiny_runs["s2"]], split="validation")
    one = tmp_path / "one"
    shutil.copytree(tiny_runs["s2"], one)
    for path in sorted((one / "checkpoints").glob("step-*"))[:-1]:
        shutil.rmtree(path)
    with pytest.raises(CheckpointError, match="train.checkpoint.keep_best=3"):
        ensemble_checkpoints(one)
    with pytest.raises(DataError, match="not in"):
        ensemble_checkpoints(tiny_runs["s3"], split="dev", output_dir=tmp_path)
    assert not (tmp_path / "s3-checkpoint-ensemble").exists()  # nothing written on failure
