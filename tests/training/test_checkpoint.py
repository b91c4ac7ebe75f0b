"""Checkpoints: layout, pointers, pruning, atomic writes, and refusing bad or unsafe files."""

from __future__ import annotations

import json
import os

import pytest
import torch

from ftlab.errors import CheckpointError, ConfigError
from ftlab.training import (
    Checkpointer,
    TrainState,
    build_optimizer,
    build_scheduler,
    find_resume_checkpoint,
    load_checkpoint,
    restore,
)

from ._toys import ToyModel, ToySource


def _save(ckpt, step, model=None, metrics=None):
    model = model or ToyModel()
    opt = build_optimizer(model, name="adamw", lr=1e-3)
    sched = build_scheduler(opt, name="linear", total_steps=10)
    return ckpt.save(step=step, model=model, optimizer=opt, scheduler=sched,
                     scaler=torch.amp.GradScaler("cpu", enabled=False),
                     train_state=TrainState(step=step), loader_state=ToySource().state_dict(),
                     metrics=metrics, observers={"0:EarlyStopping": {"best": 0.5}})


def test_layout_pointers_and_artifacts(tmp_path):
    (tmp_path / "config.yaml").write_text("lr: 0.1\n")
    (tmp_path / "tok").mkdir()
    (tmp_path / "tok" / "vocab.txt").write_text("a\nb\n")
    ckpt = Checkpointer(tmp_path / "checkpoints",
                        artifacts={"config.yaml": tmp_path / "config.yaml",
                                   "tokenizer": tmp_path / "tok"})
    path = _save(ckpt, 123, metrics={"accuracy": 0.7})
    assert path == tmp_path / "checkpoints" / "step-00000123"
    names = {p.name for p in path.iterdir()}
    assert {"model.safetensors", "optimizer.pt", "scheduler.json", "scaler.pt", "rng.pt",
            "trainer_state.json", "artifacts"} <= names
    assert (path / "artifacts" / "tokenizer" / "vocab.txt").read_text() == "a\nb\n"
    assert json.loads((tmp_path / "checkpoints" / "last.json").read_text())["step"] == 123
    assert json.loads((tmp_path / "checkpoints" / "best.json").read_text())["value"] == 0.7
    assert find_resume_checkpoint(tmp_path) == path
    loaded = load_checkpoint(path)
    assert loaded.step == 123 and loaded.metrics == {"accuracy": 0.7}
    assert loaded.loader_state == {"epoch": 0, "seed": 1, "position": 0}
    assert set(loaded.artifacts) == {"config.yaml", "tokenizer"}
    assert not list((tmp_path / "checkpoints").glob(".tmp-*"))


def test_prunes_to_last_plus_best_k(tmp_path):
    ckpt = Checkpointer(tmp_path, keep_best=2, monitor="loss", mode="min")
    for step, loss in [(1, 0.9), (2, 0.5), (3, 0.7), (4, 0.6), (5, None)]:
        _save(ckpt, step, metrics=None if loss is None else {"loss": loss})
    kept = sorted(p.name for p in tmp_path.glob("step-*"))
    assert kept == ["step-00000002", "step-00000004", "step-00000005"]  # best 2 + last
    assert ckpt.best_path().name == "step-00000002"
    # a new Checkpointer on the same directory (a restarted process) knows the ranking
    again = Checkpointer(tmp_path, keep_best=2, monitor="loss", mode="min")
    assert again.best_path().name == "step-00000002" and again.last_step == 5


def test_restore_round_trip_and_tied_weights(tmp_path):
    class Tied(ToyModel):
        def __init__(self):
            super().__init__()
            self.out = torch.nn.Linear(8, 24, bias=False)
            self.out.weight = self.emb.weight  # shared tensor

    torch.manual_seed(0)
    src_model = Tied()
    path = _save(Checkpointer(tmp_path), 7, model=src_model)
    dst = Tied()
    opt = build_optimizer(dst, name="adamw", lr=1e-3)
    src = ToySource()
    src.set_epoch(3)
    state = restore(load_checkpoint(path), dst, opt, None, src)
    assert state.step == 7 and src.state_dict()["epoch"] == 0
    assert torch.equal(dst.emb.weight, src_model.emb.weight) and dst.out.weight is dst.emb.weight


def test_missing_and_corrupted_files_raise_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope")
    path = _save(Checkpointer(tmp_path), 1)
    (path / "rng.pt").unlink()
    with pytest.raises(CheckpointError, match="missing rng.pt"):
        load_checkpoint(path)

    path = _save(Checkpointer(tmp_path / "b"), 1)
    (path / "trainer_state.json").write_text('{"step": 1,\n "train_state": ')
    with pytest.raises(CheckpointError, match="trainer_state.json, line 2: not valid JSON"):
        load_checkpoint(path)

    path = _save(Checkpointer(tmp_path / "c"), 1)
    data = (path / "model.safetensors").read_bytes()
    (path / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="model.safetensors is truncated or corrupted"):
        load_checkpoint(path)

    path = _save(Checkpointer(tmp_path / "d"), 1)
    (path / "optimizer.pt").write_bytes(b"not a zip")
    with pytest.raises(CheckpointError, match="optimizer.pt is truncated or corrupted"):
        load_checkpoint(path)

    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "last.json").write_text('{"step": 3, "path": "step-00000003"}')
    with pytest.raises(CheckpointError, match="does not exist"):
        find_resume_checkpoint(tmp_path / "e")
    assert find_resume_checkpoint(tmp_path / "empty") is None


def test_mismatched_model_or_optimizer_is_refused(tmp_path):
    path = _save(Checkpointer(tmp_path), 1)
    loaded = load_checkpoint(path)
    with pytest.raises(CheckpointError, match="does not fit the model"):
        restore(loaded, ToyModel(dim=4))
    other = torch.nn.Linear(2, 2)
    with pytest.raises(CheckpointError, match="does not fit the model"):
        restore(loaded, other)
    model = ToyModel()
    wrong_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(CheckpointError, match="optimizer.pt does not fit"):
        restore(loaded, model, wrong_opt)


class _Evil:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (os.system, (f"echo pwned > {self.target}",))


def test_malicious_pickle_is_refused_and_never_runs(tmp_path):
    path = _save(Checkpointer(tmp_path), 1)
    marker = tmp_path / "pwned.txt"
    torch.save({"state": {}, "param_groups": [], "x": _Evil(marker)}, path / "optimizer.pt")
    with pytest.raises(CheckpointError, match="refused: this file would execute code when loaded.*ftlab never loads code"):
        load_checkpoint(path)
    assert not marker.exists()


def test_failed_save_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    ckpt = Checkpointer(tmp_path)
    model = ToyModel()
    first = _save(ckpt, 1, model=model)
    real_save = torch.save

    def broken(obj, f, *a, **k):
        if str(f).endswith("rng.pt"):
            raise OSError("No space left on device")
        return real_save(obj, f, *a, **k)

    monkeypatch.setattr(torch, "save", broken)
    with pytest.raises(CheckpointError, match="previous checkpoint .*step-00000001 is intact"):
        _save(ckpt, 2)
    monkeypatch.undo()
    assert find_resume_checkpoint(tmp_path) == first
    assert not (tmp_path / "step-00000002").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp")]
    restore(load_checkpoint(first), ToyModel())


def test_bad_checkpointer_arguments():
    with pytest.raises(ConfigError, match="keep_best"):
        Checkpointer("x", keep_best=-1)
    with pytest.raises(ConfigError, match="does not exist"):
        Checkpointer("x", artifacts={"config.yaml": "/no/such/file"})


class _Counter:
    """A stateful observer: its count is checkpointed."""

    def __init__(self, count: int = 0) -> None:
        self.count = count

    def state_dict(self) -> dict:
        return {"count": self.count}

    def load_state_dict(self, state: dict) -> None:
        self.count = state["count"]


class _Tracker:
    """A stateless observer (e.g. a tracker that may be added on resume)."""


def test_observer_state_is_keyed_by_a_stable_name_not_by_position(tmp_path):
    from ftlab.training import observer_states

    saved = observer_states([_Tracker(), _Counter(3), _Counter(5)])
    assert saved == {"_Counter": {"count": 3}, "_Counter#2": {"count": 5}}
    ckpt = Checkpointer(tmp_path)
    model = ToyModel()
    path = ckpt.save(step=1, model=model, optimizer=build_optimizer(model, name="sgd", lr=0.1),
                     train_state=TrainState(step=1), loader_state=None, observers=saved)
    # the tracker is gone on resume: positions shift, the names still match
    counters = [_Counter(), _Counter()]
    restore(load_checkpoint(path), ToyModel(), observers=counters, restore_rng=False)
    assert [c.count for c in counters] == [3, 5]


def test_observer_state_of_a_checkpoint_keyed_by_position_still_loads(tmp_path):
    ckpt = Checkpointer(tmp_path)
    model = ToyModel()
    path = ckpt.save(step=1, model=model, optimizer=build_optimizer(model, name="sgd", lr=0.1),
                     train_state=TrainState(step=1), loader_state=None,
                     observers={"1:_Counter": {"count": 7}})  # written by earlier versions
    counter = _Counter()
    restore(load_checkpoint(path), ToyModel(), observers=[_Tracker(), counter],
            restore_rng=False)
    assert counter.count == 7
