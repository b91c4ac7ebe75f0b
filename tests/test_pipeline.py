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
    from ftlab.data import Example
    from ftlab.preprocessing import TextEncoder

    cfg = _cfg(tmp_path, "data.source=builtin:anagram", "data.options={size: 300}",
               "preprocess.tokenizer.kind=char", "train.epochs=1")
    summary = train_run(cfg, name="joined")
    assert summary["status"] == "completed" and summary["text_pairs"] is False
    # the run's encoder joins a pair as one sequence: first text, <sep>, second text
    enc = TextEncoder.load(tmp_path / "joined" / "artifacts" / "encoder")
    label = enc.labels.names[0]
    [alone] = enc.encode([Example(id="a", text="abc", label=label)])
    [pair] = enc.encode([Example(id="p", text="abc", text_pair="cab", label=label)])
    [back] = enc.encode([Example(id="b", text="cab", label=label)])
    sep = enc.tokenizer.sep_id  # the id of <sep>
    assert pair.pair_ids is None
    assert pair.ids == [*alone.ids, sep, *back.ids]


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
    from ftlab.runs import update_summary

    # run records as training writes them (no training needed to test a table)
    for name, lr, test in [("run0", 0.01, 0.8), ("run1", 0.001, 0.7), ("run2", None, None)]:
        (tmp_path / name).mkdir()
        update_summary(tmp_path / name, name=name, status="completed", model="bow",
                       hparams={"lr": lr} if lr is not None else {}, test_metric=test)
    (tmp_path / "run3").mkdir()  # left "running" by a process that is gone
    update_summary(tmp_path / "run3", name="run3", status="running", pid=-1,
                   hparams={"lr": 0.1})
    rows = collect_runs(tmp_path, sort="lr")
    assert [r["name"] for r in rows] == ["run1", "run0", "run3", "run2"]  # missing values last
    assert [r["name"] for r in collect_runs(tmp_path, sort="lr", descending=True)] == \
        ["run3", "run0", "run1", "run2"]
    assert [r["name"] for r in collect_runs(tmp_path, filters=["lr>0.005"])] == ["run0", "run3"]
    assert [r["name"] for r in collect_runs(tmp_path, filters=["status=killed"])] == ["run3"]
    assert [r["test"] for r in rows] == [0.7, 0.8, None, None]
    with pytest.raises(ConfigError, match="cannot sort"):
        collect_runs(tmp_path, sort="colour")