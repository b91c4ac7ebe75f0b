"""End to end through the real CLI: train -> stop / kill -> resume -> evaluate -> runs table."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

POSITIVE = ["great", "wonderful", "superb", "lovely", "brilliant", "moving", "funny", "smart"]
NEGATIVE = ["awful", "boring", "dull", "terrible", "bland", "tedious", "clumsy", "stale"]
FILLER = ["the", "film", "was", "plot", "acting", "and", "really", "quite", "a", "story"]


def _write_data(path: Path, n: int = 160) -> None:
    import random

    rng = random.Random(0)
    lines = ["text,label"]
    for i in range(n):
        label = i % 2
        words = rng.sample(FILLER, 4) + rng.sample(POSITIVE if label else NEGATIVE, 2)
        rng.shuffle(words)
        lines.append(f"{' '.join(words)} {i},{'pos' if label else 'neg'}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _config(tmp: Path, *, epochs: int = 8, every: int = 4) -> Path:
    data = tmp / "reviews.csv"
    _write_data(data)
    cfg = tmp / "tiny.yaml"
    cfg.write_text(
        f"""
seed: 7
output_dir: {tmp / 'runs'}
data: {{source: {data}, split: {{validation: 0.2, test: 0.2}}}}
preprocess: {{max_length: 16}}
batching: {{batch_size: 8}}
model: {{family: bow, embed_dim: 16, hidden_dims: [16], dropout: 0.1}}
train:
  lr: 0.01
  epochs: {epochs}
  log_every: 5
  checkpoint: {{every_n_steps: {every}, keep_best: 1}}
""",
        encoding="utf-8",
    )
    return cfg


def _ftlab(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run([sys.executable, "-m", "ftlab", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"ftlab {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


def _weights(run_dir: Path) -> dict:
    from safetensors.torch import load_file

    last = json.loads((run_dir / "checkpoints" / "last.json").read_text())["path"]
    return load_file(str(run_dir / "checkpoints" / last / "model.safetensors"))


def _same_weights(a: Path, b: Path) -> bool:
    import torch

    wa, wb = _weights(a), _weights(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("e2e")
    cfg = _config(tmp)
    _ftlab("train", str(cfg), "--name", "full", cwd=tmp)
    return tmp, cfg


def test_train_writes_a_complete_run_directory(workspace: tuple[Path, Path]) -> None:
    tmp, _ = workspace
    run = tmp / "runs" / "full"
    for name in ("config.yaml", "env.json", "run.json", "metrics.jsonl", "data_report.json",
                 "eval.json", "artifacts/encoder", "checkpoints/last.json", "predictions/test.jsonl"):
        assert (run / name).exists(), name
    assert list((run / "tb").glob("events.out.tfevents.*")), "no TensorBoard events"
    summary = json.loads((run / "run.json").read_text())
    assert summary["status"] == "completed"
    assert summary["test"]["test"]["n"] == 32
    # the words decide the label: the tiny model must beat the 50% majority baseline clearly
    assert summary["test"]["test"]["accuracy"] > 0.8
    preds = (run / "predictions" / "test.jsonl").read_text().splitlines()
    assert len(preds) == 32 and {"id", "text", "label", "pred", "probs"} <= json.loads(preds[0]).keys()
    env = json.loads((run / "env.json").read_text())
    assert env["seed"] == 7 and "torch" in json.dumps(env)


def test_stop_mid_epoch_then_resume_equals_uninterrupted(workspace: tuple[Path, Path]) -> None:
    tmp, cfg = workspace
    out = _ftlab("train", str(cfg), "--name", "part", "--stop-after", "7", cwd=tmp)
    part = tmp / "runs" / "part"
    assert json.loads((part / "run.json").read_text())["status"] == "stopped"
    assert "resume" in out.stdout
    _ftlab("train", "--resume", str(part), cwd=tmp)
    full = tmp / "runs" / "full"
    assert json.loads((part / "run.json").read_text())["status"] == "completed"
    assert _same_weights(part, full)
    assert json.loads((part / "eval.json").read_text()) == json.loads((full / "eval.json").read_text())


def test_killed_run_resumes_to_the_same_result(tmp_path: Path) -> None:
    cfg = _config(tmp_path, epochs=16, every=20)
    _ftlab("train", str(cfg), "--name", "ref", cwd=tmp_path)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "ftlab", "train", str(cfg), "--name", "victim"],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pointer = tmp_path / "runs" / "victim" / "checkpoints" / "last.json"
    deadline = time.time() + 120
    while not pointer.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    victim = tmp_path / "runs" / "victim"
    killed_at = json.loads(pointer.read_text())["step"]
    # the victim's own row: "killed" (run.json still says running, its process is gone), or
    # "completed" only if the run outran the kill; never both, never "running"
    outran = json.loads((victim / "run.json").read_text())["status"] == "completed"
    row = _ftlab("runs", "--dir", str(tmp_path / "runs"), "--filter", "name=victim",
                 cwd=tmp_path).stdout
    assert "victim" in row and "ref" not in row
    assert ("completed" if outran else "killed") in row
    assert ("killed" if outran else "completed") not in row and "running" not in row
    _ftlab("train", "--resume", str(victim), cwd=tmp_path)
    summary = json.loads((victim / "run.json").read_text())
    assert summary["status"] == "completed" and summary["step"] > killed_at
    assert _same_weights(victim, tmp_path / "runs" / "ref")


def test_evaluate_and_runs_table(workspace: tuple[Path, Path]) -> None:
    tmp, _ = workspace
    out = _ftlab("evaluate", str(tmp / "runs" / "full"), "--split", "validation", cwd=tmp).stdout
    assert "accuracy" in out
    assert (tmp / "runs" / "full" / "predictions" / "validation.jsonl").is_file()
    table = _ftlab("runs", "--dir", str(tmp / "runs"), "--sort", "val", "--desc", cwd=tmp).stdout
    assert "full" in table and "completed" in table and "bow" in table


def test_evaluate_on_file_with_unseen_labels_is_a_clear_error(workspace: tuple[Path, Path]) -> None:
    tmp, _ = workspace
    bad = tmp / "other.csv"
    bad.write_text("text,label\nsome text,neutral\n", encoding="utf-8")
    proc = _ftlab("evaluate", str(tmp / "runs" / "full"), "--data", str(bad), cwd=tmp, check=False)
    assert proc.returncode == 2
    assert "neutral" in proc.stderr and "never seen in training" in proc.stderr


def test_bad_config_fails_before_work_with_every_problem(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("train: {lr: -1, epochz: 3}\nmodel: {family: bow, poolin: max}\n")
    proc = _ftlab("train", str(cfg), cwd=tmp_path, check=False)
    assert proc.returncode == 2
    assert "did you mean 'epochs'" in proc.stderr and "did you mean 'pooling'" in proc.stderr
    assert "train.lr" in proc.stderr
    assert not (tmp_path / "runs").exists()


def test_bad_data_names_file_line_and_field(tmp_path: Path) -> None:
    data = tmp_path / "broken.csv"
    data.write_text("text,label\nfine,pos\n\"unterminated,neg\nok,neg\n", encoding="utf-8")
    proc = _ftlab("data", "inspect", str(data), cwd=tmp_path, check=False)
    assert proc.returncode != 0
    assert "broken.csv" in proc.stderr and "line" in proc.stderr
    assert "Traceback" not in proc.stderr
