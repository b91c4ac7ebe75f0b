"""Robustness on runs: ``train.augment``, ``robustness.transforms`` after training,
``ftlab evaluate --transform``, the report's robustness section and the comparison."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ftlab.cli import app
from ftlab.runs import parse_config
from ftlab.errors import ConfigError
from ftlab.report import SECTION_IDS, render_report
from ftlab.robustness import Change, apply_changes
from ftlab.runs import evaluate_transforms, read_summary, resume_run, train_run
from ftlab.runs._robustness import paired_bootstrap_drop

from _tiny_data import write_sentiment_jsonl

def _data(path: Path, n: int = 160) -> Path:
    return write_sentiment_jsonl(path, n)


def _config(tmp: Path, **extra):
    raw = {
        "seed": 5, "output_dir": str(tmp / "runs"),
        "data": {"source": str(_data(tmp / "d.jsonl")), "split": {"validation": 0.2, "test": 0.25}},
        "preprocess": {"max_length": 16},
        "batching": {"batch_size": 8},
        "model": {"family": "bow", "embed_dim": 16, "hidden_dims": [16]},
        "train": {"lr": 0.02, "epochs": 4, "trackers": [], "log_every": 100},
    }
    for key, value in extra.items():
        section, _, field = key.partition(".")
        raw.setdefault(section, {})[field] = value
    return parse_config(raw)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rob")
    cfg = _config(tmp, **{"train.augment": [{"transform": "char_swap:0.3", "n": 40}],
                          "robustness.transforms": ["char_drop:0.5", "names"],
                          "robustness.suites": ["builtin:sentiment"]})
    summary = train_run(cfg, name="aug")
    plain = train_run(_config(tmp), name="plain")
    return tmp, Path(summary["path"]), Path(plain["path"])


def test_paired_bootstrap_drop_golden():
    ok_c = np.array([1, 1, 1, 1, 0, 1, 1, 1, 1, 1], dtype=bool)
    same = paired_bootstrap_drop(ok_c, ok_c, seed=0)
    assert same == [0.0, 0.0]  # identical predictions: no uncertainty in the drop
    worse = paired_bootstrap_drop(ok_c, np.zeros(10, dtype=bool), seed=0)
    assert 0.5 <= worse[0] <= 0.9 <= worse[1] <= 1.0


def test_augmentation_is_recorded_and_trained_on(trained):
    _, run, _ = trained
    lines = [json.loads(x) for x in (run / "augment.jsonl").read_text().splitlines()]
    assert len(lines) == 40 and all(x["transform"] == "char_swap:0.3" for x in lines)
    assert all(x["id"].endswith("~aug0") and x["changes"] for x in lines)
    summary = read_summary(run)
    assert summary["augment"][0]["added"] == 40 and summary["augment"][0]["requested"] == 40
    assert summary["status"] == "completed"


def test_robustness_runs_after_training_and_writes_the_transformed_sets(trained):
    _, run, _ = trained
    rep = json.loads((run / "robustness" / "test.json").read_text())
    assert set(rep["transforms"]) == {"char_drop:0.5", "names"}
    test_rows = [json.loads(x) for x in (run / "predictions" / "test.jsonl").read_text().splitlines()]
    assert rep["n"] == len(test_rows)
    e = rep["transforms"]["char_drop:0.5"]
    assert e["changed_share"] > 0.9
    assert e["drop"] == pytest.approx(rep["clean"]["accuracy"] - e["accuracy"])
    assert e["drop_ci"][0] <= e["drop"] <= e["drop_ci"][1]
    assert 0 <= e["flip_rate"] <= 1 and len(e["flips"]) <= 10
    rows = [json.loads(x) for x in (run / e["predictions"]).read_text().splitlines()]
    assert [r["id"] for r in rows] == [r["id"] for r in test_rows]
    flipped = sum(r["pred"] != c["pred"] for r, c in zip(rows, test_rows))
    assert e["flip_rate"] == pytest.approx(flipped / len(rows))
    for r in rows:
        if "changes" in r:  # the record replays the transformation exactly
            changes = [Change(c["start"], c["end"], c["before"], c["after"]) for c in r["changes"]]
            assert apply_changes(r["original_text"], changes) == r["text"]
    for flip in e["flips"]:
        assert flip["pred"] != flip["clean_pred"]
    assert read_summary(run)["robustness_test"]["names"]["drop"] == rep["transforms"]["names"]["drop"]


def test_suites_run_after_training_and_show_in_the_report(trained):
    _, run, plain = trained
    res = json.loads((run / "checks" / "sentiment.json").read_text())
    assert res["summary"]["cases"] > 100 and res["tests"]
    assert all(0 <= t["failure_rate"] <= 1 for t in res["tests"])
    html = render_report([run])
    assert 'id="behavior"' in html and "failure rate per test" in html
    assert not (plain / "checks").exists()


def test_evaluate_transform_is_deterministic_and_merges(trained):
    _, _, plain = trained
    a = evaluate_transforms(plain, ["typos:0.2"])
    first = (plain / "predictions" / "test@typos-0.2.jsonl").read_text()
    b = evaluate_transforms(plain, ["char_swap:0.2,contractions"])
    assert set(b["transforms"]) == {"typos:0.2", "char_swap:0.2,contractions"}
    c = evaluate_transforms(plain, ["typos:0.2"])
    assert (plain / "predictions" / "test@typos-0.2.jsonl").read_text() == first
    assert c["transforms"]["typos:0.2"]["accuracy"] == a["transforms"]["typos:0.2"]["accuracy"]
    with pytest.raises(ConfigError, match="no transformation to evaluate"):
        evaluate_transforms(plain, [])
    with pytest.raises(ConfigError, match="Did you mean 'typos'"):
        evaluate_transforms(plain, ["tpyos:0.1"])


def test_cli_evaluate_with_transform(trained):
    _, _, plain = trained
    res = CliRunner().invoke(app, ["evaluate", str(plain), "-t", "char_repeat:0.3",
                                   "--no-baseline", "--no-report"])
    assert res.exit_code == 0, res.output
    assert "robustness on test" in res.output and "char_repeat:0.3" in res.output
    bad = CliRunner().invoke(app, ["evaluate", str(plain), "-t", "typos",
                                   "--data", str(plain / "predictions" / "test.jsonl")])
    assert bad.exit_code != 0 and "cannot be combined with --data" in str(bad.exception)


def test_report_has_robustness_section_and_comparison(trained):
    _, aug, plain = trained
    evaluate_transforms(plain, ["char_drop:0.5"])
    html = render_report([aug])
    assert "robustness" in SECTION_IDS and 'id="robustness"' in html
    assert "char_drop:0.5" in html and "drop 95% interval" in html
    both = render_report([aug, plain])
    assert "clean test accuracy" in both
    empty = render_report([trained[0] / "runs" / "aug"])  # still fine
    assert "Behavioral tests" in empty


def test_resume_replays_the_same_augmentation(tmp_path):
    cfg = _config(tmp_path, **{"train.augment": [{"transform": "typos:0.1", "n": 30}],
                               "train.epochs": 2})
    full = train_run(cfg, name="full")
    part = train_run(cfg, name="part", stop_after=5)
    assert part["status"] == "stopped"
    resumed = resume_run(Path(part["path"]))
    assert (Path(full["path"]) / "augment.jsonl").read_text() == \
        (Path(resumed["path"]) / "augment.jsonl").read_text()
    assert resumed["test"]["test"]["accuracy"] == full["test"]["test"]["accuracy"]


def test_config_rejects_bad_transform_specs():
    with pytest.raises(ConfigError, match="robustness.transforms.*Did you mean 'typos'"):
        parse_config({"robustness": {"transforms": ["typo:0.1"]}})
    with pytest.raises(ConfigError, match="did you mean 'builtin:sentiment'"):
        parse_config({"robustness": {"suites": ["builtin:sentimnt"]}})
    with pytest.raises(ConfigError, match="train.augment.0.n"):
        parse_config({"train": {"augment": [{"transform": "typos", "n": 0}]}})
