"""Non-finite anything stops the line: lr=1e6 runs stop with a divergence diagnosis, no
checkpoint with a non-finite validation loss is best, predict/evaluate refuse NaN models (exit 2),
and every JSON file written stays valid JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from ftlab.config import load_config
from ftlab.errors import TrainingError
from ftlab.runs import train_run
from ftlab.training import Checkpointer, TrainState

from ._faults import cli, strict_json_lines, tiny_config


def _best_is_finite(run: Path) -> None:
    best = run / "checkpoints" / "best.json"
    if not best.is_file():
        return
    data = json.loads(best.read_text(encoding="utf-8"), parse_constant=lambda t: pytest.fail(t))
    for entry in data["ranking"]:
        state = json.loads((run / "checkpoints" / entry["path"] / "trainer_state.json")
                           .read_text(encoding="utf-8"))
        assert all(math.isfinite(v) for v in state["metrics"].values()), state["metrics"]


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_lr_1e6_stops_with_a_divergence_diagnosis(tmp_path: Path, optimizer: str) -> None:
    cfg = tiny_config(tmp_path, train=f"optimizer: {optimizer}, lr: 1.0e6, epochs: 3, "
                                      "eval_every: 1, clip_norm: null, schedule: constant")
    code, out = cli("train", str(cfg), "--name", "r")
    run = tmp_path / "runs" / "r"
    assert code == 2, out
    assert "Traceback" not in out
    assert "diverged" in out or "non-finite" in out
    diagnosis = json.loads((run / "diagnosis.json").read_text(encoding="utf-8"))
    assert "diverged" in diagnosis["problem"] or "non-finite" in diagnosis["problem"]
    summary = json.loads((run / "run.json").read_text(encoding="utf-8"))
    assert summary["status"] == "failed" and "TrainingError" in summary["stop_reason"]
    assert "test" not in summary  # no test metrics were reported for a diverged model
    _best_is_finite(run)
    strict_json_lines(run / "metrics.jsonl")
    code, out = cli("predict", str(run), "-i", str(tmp_path / "data.jsonl"),
                    "-o", str(tmp_path / "p.jsonl"))
    assert code == 2 and "Traceback" not in out, out


def test_divergence_without_nan_is_caught_and_can_be_disabled(tmp_path: Path) -> None:
    cfg = load_config(tiny_config(tmp_path, train="optimizer: adamw, lr: 1.0e6, epochs: 2, "
                                                  "clip_norm: null, schedule: constant"))
    with pytest.raises(TrainingError, match="diverged|non-finite"):
        train_run(cfg, name="a")
    assert cfg.train.divergence_factor == 1000.0


def test_nan_validation_never_ranked_and_stops(tmp_path: Path) -> None:
    from ftlab.training._guards import check_evaluation

    state = TrainState(step=4, initial_loss=0.7)
    with pytest.raises(TrainingError, match="non-finite validation loss"):
        check_evaluation(state, {"accuracy": 0.5, "loss": float("nan")}, 1000.0, lr=0.1,
                         run_dir=tmp_path, observers=())
    assert json.loads((tmp_path / "diagnosis.json").read_text())["step"] == 4
    with pytest.raises(TrainingError, match="validation loss exploded"):
        check_evaluation(state, {"accuracy": 0.5, "loss": 701.0}, 1000.0, lr=0.1,
                         run_dir=None, observers=())
    check_evaluation(state, {"accuracy": 0.5, "loss": 699.0}, 1000.0, lr=0.1, run_dir=None,
                     observers=())  # below the limit: fine
    check_evaluation(state, {"accuracy": 0.5, "loss": 1e9}, None, lr=0.1, run_dir=None,
                     observers=())  # check disabled


def test_checkpointer_never_ranks_an_evaluation_with_a_nan(tmp_path: Path) -> None:
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    ck = Checkpointer(tmp_path / "checkpoints", monitor="accuracy", keep_best=2)
    ck.save(step=1, model=model, optimizer=opt, train_state=TrainState(step=1),
            loader_state=None, metrics={"accuracy": 0.9, "loss": float("nan")})
    assert ck.best_path() is None
    ck.save(step=2, model=model, optimizer=opt, train_state=TrainState(step=2),
            loader_state=None, metrics={"accuracy": 0.6, "loss": 0.5})
    assert ck.best_path() == ck.path_for(2)


def test_predict_and_evaluate_refuse_a_nan_checkpoint(tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    cfg = load_config(tiny_config(tmp_path))
    run = Path(train_run(cfg, name="ok")["path"])
    best = run / "checkpoints" / json.loads((run / "checkpoints" / "best.json").read_text())["path"]
    weights = load_file(str(best / "model.safetensors"))
    save_file({k: torch.full_like(v, float("nan")) for k, v in weights.items()},
              str(best / "model.safetensors"))
    out_file = tmp_path / "p.jsonl"
    code, out = cli("predict", str(run), "-i", str(tmp_path / "data.jsonl"), "-o", str(out_file))
    assert code == 2, out
    assert str(best) in out and "non-finite" in out and "train.lr" in out
    assert not out_file.exists()
    code, out = cli("evaluate", str(run), "--no-baseline", "--no-report")
    assert code == 2 and str(best) in out and "Traceback" not in out, out


def test_json_outputs_are_valid_json_with_nan_values(tmp_path: Path) -> None:
    from ftlab.core import atomic_write_json, dumps_json

    atomic_write_json(tmp_path / "x.json", {"a": float("nan"), "b": [float("inf"), 1.5]})
    assert json.loads((tmp_path / "x.json").read_text()) == {"a": None, "b": [None, 1.5]}
    assert dumps_json({"p": float("-inf")}) == '{"p": null}'


def test_divergence_check_records_the_first_loss_then_stops(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from ftlab.training._guards import check_divergence

    state = TrainState()
    check_divergence(state, 0.7, 1000.0, lr=0.1, run_dir=tmp_path, observers=())
    assert state.initial_loss == 0.7
    check_divergence(state, 600.0, 1000.0, lr=0.1, run_dir=tmp_path, observers=())  # < 700
    batch = SimpleNamespace(index=torch.tensor([4, 9]))
    with pytest.raises(TrainingError, match="training loss exploded"):
        check_divergence(state, 701.0, 1000.0, lr=0.1, run_dir=tmp_path, observers=(),
                         window=[batch])
    diagnosis = json.loads((tmp_path / "diagnosis.json").read_text())
    assert diagnosis["example_indices"] == [4, 9] and diagnosis["initial_loss"] == 0.7
    check_divergence(state, 1e30, None, lr=0.1, run_dir=None, observers=())  # disabled
    assert TrainState.from_dict({"step": 1}).initial_loss is None  # older checkpoints load
