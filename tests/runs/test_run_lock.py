"""One writer per run directory: a second writer exits 2 at once naming the first; a lock left
by a dead process is taken over."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ftlab.core import HOLDER_FILE, lock_holder, run_lock
from ftlab.errors import RunLockedError

SRC = str(Path(__file__).resolve().parents[2] / "src")
HOLD = """
import sys, time
from ftlab.core import run_lock
with run_lock(sys.argv[1], command="test holder"):
    print("held", flush=True)
    time.sleep(60)
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "PYTHONUNBUFFERED": "1"}


def _holder_process(run_dir: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(run_dir)], env=_env(),
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_second_writer_is_refused_naming_the_holder(tmp_path: Path) -> None:
    proc = _holder_process(tmp_path)
    try:
        started = time.monotonic()
        with pytest.raises(RunLockedError) as err, run_lock(tmp_path):
            pass
        assert time.monotonic() - started < 5  # at once, no waiting
        msg = str(err.value)
        assert f"pid {proc.pid}" in msg and socket.gethostname() in msg and "test holder" in msg
    finally:
        proc.kill()
        proc.wait()
    # the holder died: its OS lock went with it, the next writer gets the run
    with run_lock(tmp_path, command="next"):
        assert lock_holder(tmp_path)["pid"] == os.getpid()
    assert not (tmp_path / HOLDER_FILE).exists()


def test_stale_record_of_a_dead_pid_is_taken_over(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / ".lock").write_text("", encoding="utf-8")
    (tmp_path / HOLDER_FILE).write_text(json.dumps(
        {"pid": dead.pid, "host": socket.gethostname(), "command": "ftlab train", "since": "x"}))
    with caplog.at_level(logging.WARNING, logger="ftlab.runs"), run_lock(tmp_path, command="new"):
        assert lock_holder(tmp_path)["command"] == "new"
    assert any(f"pid {dead.pid}" in r.getMessage() and "gone" in r.getMessage()
               for r in caplog.records)


def test_reentrant_in_one_process(tmp_path: Path) -> None:
    with run_lock(tmp_path, command="outer"):
        with run_lock(tmp_path, command="inner"):
            assert lock_holder(tmp_path)["command"] == "outer"
        assert lock_holder(tmp_path)["command"] == "outer"  # still held after the inner exit
    assert lock_holder(tmp_path) is None


def _ftlab(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "ftlab", *args], cwd=cwd, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_concurrent_resumes_second_exits_2_naming_the_first(tmp_path: Path) -> None:
    from _tiny_data import write_sentiment_jsonl

    data = write_sentiment_jsonl(tmp_path / "d.jsonl", n=120)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"""
seed: 3
output_dir: {tmp_path / 'runs'}
data: {{source: {data}, split: {{validation: 0.2, test: 0.2}}}}
preprocess: {{max_length: 12}}
batching: {{batch_size: 8}}
model: {{family: bow, embed_dim: 8}}
train: {{lr: 0.01, epochs: 2, log_every: 1, trackers: []}}
""", encoding="utf-8")
    from ftlab.config import load_config
    from ftlab.runs import train_run

    run = Path(train_run(load_config(cfg), name="r", stop_after=3)["path"])
    # a long resume (many epochs), then a second resume of the same run while it trains
    one = _ftlab("train", "--resume", str(run), "--set", "train.epochs=5000", cwd=tmp_path)
    try:
        deadline = time.monotonic() + 240
        while (lock_holder(run) or {}).get("pid") != one.pid:
            assert one.poll() is None, one.communicate()[1]
            assert time.monotonic() < deadline
            time.sleep(0.2)
        two = _ftlab("train", "--resume", str(run), cwd=tmp_path)
        _, err2 = two.communicate(timeout=240)
        assert one.poll() is None  # the first still trains: the second did not wait for it
        assert two.returncode == 2, err2
        assert f"pid {one.pid}" in err2 and "Traceback" not in err2
    finally:
        one.send_signal(signal.SIGINT)
        try:
            one.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            one.kill()
            one.communicate()
    steps = [json.loads(line)["step"] for line in
             (run / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip() and json.loads(line).get("kind", json.loads(line).get("event")) == "step"]
    assert steps and steps == sorted(steps) and len(steps) == len(set(steps))
    summary = json.loads((run / "run.json").read_text(encoding="utf-8"))
    assert summary["pid"] == one.pid  # the refused writer never touched the run record
