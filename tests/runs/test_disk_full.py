"""A full disk during training and during the final evaluation: one message, exit 2, the
previous checkpoint intact, and an exact resume once space is free (a fake raises ENOSPC)."""

from __future__ import annotations

import errno
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

import ftlab.core._atomic as atomic
from ftlab.config import load_config
from ftlab.runs import train_run

from ._faults import cli, tiny_config


class Disk:
    """Fake disk that fills up: once ``full``, every ftlab write path raises ENOSPC."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = False
        self.fill_at_model_save: int | None = None
        self.model_saves = 0
        import safetensors.torch as st

        real_save_model, real_text = st.save_model, atomic.atomic_write_text

        def save_model(*args: Any, **kwargs: Any) -> Any:
            self.model_saves += 1
            if self.fill_at_model_save is not None and self.model_saves >= self.fill_at_model_save:
                self.full = True
            self._check()
            return real_save_model(*args, **kwargs)

        def write_text(*args: Any, **kwargs: Any) -> Any:
            self._check()
            return real_text(*args, **kwargs)

        monkeypatch.setattr(st, "save_model", save_model)
        monkeypatch.setattr(atomic, "atomic_write_text", write_text)

    def _check(self) -> None:
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> Iterator[Disk]:
    yield Disk(monkeypatch)


TRAIN = "lr: 0.05, epochs: 3, checkpoint: {every_n_steps: 2, keep_best: 1}"


def _final_weights(run: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    last = json.loads((run / "checkpoints" / "last.json").read_text())["path"]
    return load_file(str(run / "checkpoints" / last / "model.safetensors"))


def _one_error(out: str) -> str:
    assert "Traceback" not in out, out
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, out
    return " ".join(out[out.index("error:"):].split())  # undo the console's line wrapping


def test_disk_full_while_checkpointing_then_exact_resume(tmp_path: Path, disk: Disk) -> None:
    cfg = tiny_config(tmp_path, train=TRAIN)
    reference = Path(train_run(load_config(cfg), name="reference")["path"])

    disk.model_saves, disk.fill_at_model_save = 0, 3  # the 3rd checkpoint hits a full disk
    code, out = cli("train", str(cfg), "--name", "r")
    run = tmp_path / "runs" / "r"
    assert code == 2
    msg = _one_error(out)
    assert "no space left on device" in msg and "step-00000004" in msg and "intact" in msg
    last = json.loads((run / "checkpoints" / "last.json").read_text())
    assert last["step"] == 4  # the previous checkpoint is still the one to resume from
    assert not list((run / "checkpoints").glob(".tmp-*"))

    disk.full, disk.fill_at_model_save = False, None  # space freed
    code, out = cli("train", "--resume", str(run))
    assert code == 0, out
    summary = json.loads((run / "run.json").read_text())
    assert summary["status"] == "completed"
    ref, got = _final_weights(reference), _final_weights(run)
    assert ref.keys() == got.keys() and all(torch.equal(ref[k], got[k]) for k in ref)


def test_disk_full_during_final_evaluation(tmp_path: Path, disk: Disk,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import ftlab.runs._evaluate as ev

    real = ev._write_predictions

    def full_predictions(*args: Any, **kwargs: Any) -> None:
        disk.full = True  # the disk fills while writing predictions: run.json cannot be updated
        raise OSError(errno.ENOSPC, "No space left on device", str(args[0]))

    monkeypatch.setattr(ev, "_write_predictions", full_predictions)
    cfg = tiny_config(tmp_path, train=TRAIN)
    code, out = cli("train", str(cfg), "--name", "r")
    run = tmp_path / "runs" / "r"
    assert code == 2
    msg = _one_error(out)
    assert "no space left on device" in msg and "predictions" in msg
    assert "could not record" not in msg  # the failed run.json update is only logged

    disk.full = False
    monkeypatch.setattr(ev, "_write_predictions", real)
    code, out = cli("train", "--resume", str(run))
    assert code == 0, out
    assert json.loads((run / "run.json").read_text())["status"] == "completed"
    assert (run / "predictions" / "test.jsonl").is_file()


def test_short_write_on_a_nearly_full_disk_says_so(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10 * 2**20, 9 * 2**20, 2**20))
    text = atomic.describe_write_error(RuntimeError("unexpected pos 207488 vs 207376"), tmp_path)
    assert "no space left on device" in text and "1.0 MiB free" in text


def test_failure_before_the_first_step_is_recorded(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path)
    (tmp_path / "data.jsonl").write_text('{"text": "a", "label": "x"}\n{"text": 5}\n')
    code, out = cli("train", str(cfg), "--name", "bad")
    assert code == 2 and "Traceback" not in out
    summary = json.loads((tmp_path / "runs" / "bad" / "run.json").read_text())
    assert summary["status"] == "failed" and "DataError" in summary["stop_reason"]


def test_stale_temp_checkpoints_are_removed_on_resume(tmp_path: Path) -> None:
    cfg = load_config(tiny_config(tmp_path, train=TRAIN))
    run = Path(train_run(cfg, name="r", stop_after=2)["path"])
    junk = run / "checkpoints" / ".tmp-step-00000003-abc"
    junk.mkdir()
    (junk / "model.safetensors").write_bytes(b"half")
    code, out = cli("train", "--resume", str(run))
    assert code == 0, out
    assert not junk.exists()


def test_checkpoint_pointer_outside_the_run_is_refused(tmp_path: Path) -> None:
    cfg = load_config(tiny_config(tmp_path, train=TRAIN))
    run = Path(train_run(cfg, name="r", stop_after=2)["path"])
    (run / "checkpoints" / "last.json").write_text(json.dumps(
        {"step": 2, "path": "../../outside/step-00000002"}))
    code, out = cli("train", "--resume", str(run))
    assert code == 2, out
    assert "must name a checkpoint folder" in " ".join(out.split()) and "Traceback" not in out


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs (root only; skipped elsewhere)."""
    import os
    import subprocess

    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (the ENOSPC fakes above cover the logic)")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)],
                          check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_real_full_filesystem_during_training(tmp_path: Path, small_fs: Path) -> None:
    import os

    cfg_path = tiny_config(tmp_path, train=TRAIN)
    reference = Path(train_run(load_config(cfg_path), name="reference")["path"])
    cfg = load_config(cfg_path, [f"output_dir={small_fs / 'runs'}"])
    run = Path(train_run(cfg, name="r", stop_after=2)["path"])
    st = os.statvfs(small_fs)
    filler = small_fs / "filler"
    filler.write_bytes(b"\0" * max(st.f_bavail * st.f_frsize - 16 * 1024, 0))  # 16 KiB left
    code, out = cli("train", "--resume", str(run))
    assert code == 2
    msg = _one_error(out)
    assert "no space left on device" in msg, msg
    assert "could not write checkpoint" in msg and "step-00000002 is intact" in msg, msg
    assert json.loads((run / "checkpoints" / "last.json").read_text())["step"] == 2
    filler.unlink()  # space freed
    code, out = cli("train", "--resume", str(run))
    assert code == 0, out
    ref, got = _final_weights(reference), _final_weights(run)
    assert ref.keys() == got.keys() and all(torch.equal(ref[k], got[k]) for k in ref)
