"""A killed run's record says so (issue 18)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from _tiny_data import write_sentiment_jsonl


def test_sigterm_during_training_records_killed(tmp_path):
    data = write_sentiment_jsonl(tmp_path / "data.jsonl", n=400)
    config = {"name": "victim", "seed": 0, "output_dir": str(tmp_path / "runs"),
              "data": {"source": str(data)}, "preprocess": {"max_length": 16},
              "batching": {"batch_size": 4},
              "model": {"family": "bow", "embed_dim": 8, "hidden_dims": [8]},
              "train": {"epochs": 500, "trackers": [], "log_every": 1000}}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "ftlab", "train", str(path)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    record = tmp_path / "runs" / "victim" / "run.json"
    deadline = time.time() + 120
    while time.time() < deadline:
        if record.is_file() and json.loads(record.read_text()).get("status") == "running":
            break
        time.sleep(0.2)
    time.sleep(1.0)  # inside fit
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    summary = json.loads(record.read_text())
    assert summary["status"] == "killed" and summary["stop_reason"] == "SIGTERM"
    assert proc.returncode != 0
