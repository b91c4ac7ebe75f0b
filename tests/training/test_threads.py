"""train.threads / --threads: resolved (config, else OMP_NUM_THREADS, else torch) and applied."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from ftlab.cli import app
from ftlab.config import load_config
from ftlab.errors import ConfigError
from ftlab.runs import predict_file, read_summary, train_run
from ftlab.training import apply_threads, resolve_threads

from _tiny_data import write_sentiment_jsonl


def test_configured_count_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert resolve_threads(2) == 2


def test_omp_num_threads_is_the_default(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert resolve_threads(None) == 3


@pytest.mark.parametrize("value", [None, "", "0", "two", "-1"])
def test_without_a_usable_environment_torch_keeps_its_count(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", value)
    torch.set_num_threads(2)
    assert resolve_threads(None) == 2
    assert apply_threads(None) == 2 and torch.get_num_threads() == 2


def test_apply_sets_torch():
    torch.set_num_threads(1)
    assert apply_threads(2) == 2
    assert torch.get_num_threads() == 2


def test_threads_must_be_positive(tmp_path):
    with pytest.raises(ConfigError, match="threads"):
        load_config(None, [f"output_dir={tmp_path}", "train.threads=0"])


class _ThreadProbe:
    """Records torch's thread count inside the training loop, at every step."""

    def __init__(self) -> None:
        self.seen: set[int] = set()

    def on_step_end(self, event):
        self.seen.add(torch.get_num_threads())


@pytest.fixture(scope="module")
def two_thread_run(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("threads")
    data = write_sentiment_jsonl(tmp / "d.jsonl", 60)
    cfg = load_config(None, [
        f"output_dir={tmp}", f"data.source={data}", "data.split={validation: 0.2, test: 0.2}",
        "model.family=bow", "model.embed_dim=8", "model.hidden_dims=[8]",
        "preprocess.max_length=12", "batching.batch_size=8", "train.epochs=1",
        "train.trackers=[]", "train.log_every=1000", "train.threads=2", "train.device=cpu",
    ])
    torch.set_num_threads(1)  # the conftest's setting; the run must change it
    probe = _ThreadProbe()
    train_run(cfg, name="two-threads", observers=[probe])
    assert probe.seen == {2}, f"torch thread counts seen inside fit: {probe.seen}"
    return tmp / "two-threads"


def test_train_threads_reaches_torch_and_the_records(two_thread_run: Path):
    assert read_summary(two_thread_run)["threads"] == 2
    env = json.loads((two_thread_run / "env.json").read_text())
    assert env["threads"] == 2


def test_predict_threads_override_the_runs(two_thread_run: Path, tmp_path: Path):
    rows = tmp_path / "in.jsonl"
    rows.write_text('{"text": "great film"}\n{"text": "awful plot"}\n', encoding="utf-8")
    info = predict_file(two_thread_run, input=rows, output=tmp_path / "out.jsonl", threads=1)
    assert info["threads"] == 1 and torch.get_num_threads() == 1
    # without --threads the run's train.threads applies
    info = predict_file(two_thread_run, input=rows, output=tmp_path / "out2.jsonl")
    assert info["threads"] == 2


def test_cli_threads_flag(two_thread_run: Path, tmp_path: Path):
    rows = tmp_path / "in.jsonl"
    rows.write_text('{"text": "great film"}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["predict", str(two_thread_run), "-i", str(rows),
                                      "-o", str(tmp_path / "o.jsonl"), "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert "1 CPU thread)" in result.output
    bad = CliRunner().invoke(app, ["predict", str(two_thread_run), "-i", str(rows),
                                   "-o", str(tmp_path / "o.jsonl"), "--threads", "0"])
    assert bad.exit_code == 2
