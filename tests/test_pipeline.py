"""The whole line in-process: text pairs, class imbalance, resume guards, run summaries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftlab.config import load_config
from ftlab.errors import CheckpointError, ConfigError
from ftlab.runs import collect_runs, resume_run, train_run


def _cfg(tmp: Path, *extra: str):
    return load_config(None, [f"output_dir={tmp}", "train.log_every=1000",
                              "train.trackers=[]", *extra])


def test_text_pairs_flow_through_the_whole_pipeline(tmp_path: Path) -> None:
    """The anagram pair task, both sides encoded separately, learns well above chance."""
    cfg = _cfg(tmp_path, "data.source=builtin:anagram", "data.options={size: 1200, word_length: 5}",
               "preprocess.tokenizer.kind=char", "preprocess.max_length=8",
               "preprocess.pair_mode=separate", "model.family=rnn", "model.cell=gru",
               "model.hidden_size=32", "model.embed_dim=16", "model.pooling=max",
               "model.pair_combine=concat_diff_prod", "train.lr=0.005", "train.epochs=8",
               "seed=1")
    summary = train_run(cfg, name="pairs")
    assert summary["text_pairs"] is True
    assert summary["test"]["test"]["accuracy"] > 0.75
    rec = json.loads((tmp_path / "pairs" / "predictions" / "test.jsonl").read_text().splitlines()[0])
    assert "text_pair" in rec


def test_joined_pairs_use_a_separator(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, "data.source=builtin:anagram", "data.options={size: 300}",
               "preprocess.tokenizer.kind=char", "train.epochs=1")
    summary = train_run(cfg, name="joined")
    assert summary["status"] == "completed" and summary["text_pairs"] is False


def test_oversampling_and_class_weights_run(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, "data.source=builtin:anagram", "data.options={size: 300}",
               "preprocess.tokenizer.kind=char", "batching.balance=oversample",
               "batching.class_weights=inverse", "train.epochs=1")
    assert train_run(cfg, name="balanced")["status"] == "completed"


def test_resume_refuses_changes_that_would_make_it_another_run(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, "data.source=builtin:anagram", "data.options={size: 200}",
               "preprocess.tokenizer.kind=char", "train.epochs=1")
    train_run(cfg, name="r", stop_after=2)
    with pytest.raises(ConfigError, match="cannot change"):
        resume_run(tmp_path / "r", overrides=["train.lr=0.1"])
    summary = resume_run(tmp_path / "r", overrides=["train.epochs=2"])
    assert summary["status"] == "completed" and summary["epoch"] == 2


def test_resume_without_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not a run directory"):
        resume_run(tmp_path)
    (tmp_path / "config.yaml").write_text("seed: 1\n")
    with pytest.raises(CheckpointError, match="no checkpoint"):
        resume_run(tmp_path)


def test_runs_table_sorts_and_filters(tmp_path: Path) -> None:
    for i, lr in enumerate([0.01, 0.001]):
        cfg = _cfg(tmp_path, "data.source=builtin:anagram", "data.options={size: 200}",
                   "preprocess.tokenizer.kind=char", "train.epochs=1", f"train.lr={lr}")
        train_run(cfg, name=f"run{i}")
    rows = collect_runs(tmp_path, sort="lr")
    assert [r["name"] for r in rows] == ["run1", "run0"]
    assert [r["name"] for r in collect_runs(tmp_path, filters=["lr>0.005"])] == ["run0"]
    assert all(r["status"] == "completed" and r["test"] is not None for r in rows)
    with pytest.raises(ConfigError, match="cannot sort"):
        collect_runs(tmp_path, sort="colour")
