"""Trackers: metrics.jsonl contents, TensorBoard event files, optional trackers, progress lines."""

from __future__ import annotations

import io
import json

import pytest

from ftlab.core import MissingDependencyError
from ftlab.training import (
    JsonlTracker,
    MLflowTracker,
    ProgressObserver,
    RunOutcome,
    TensorBoardTracker,
    WandbTracker,
    build_optimizer,
    fit,
)

from ._toys import ToyModel, ToySource, sum_ce


def _fit(observers, epochs=1):
    model = ToyModel()
    return fit(model, ToySource(n=16, sizes=(4,)), loss_fn=sum_ce,
               optimizer=build_optimizer(model, name="sgd", lr=0.1), epochs=epochs,
               evaluate=lambda m: {"accuracy": 0.5, "loss": 1.0}, eval_every=2,
               observers=observers, hparams={"lr": 0.1})


def test_jsonl_tracker_writes_one_object_per_event(tmp_path):
    path = tmp_path / "run" / "metrics.jsonl"
    _fit([JsonlTracker(path)])
    records = [json.loads(line) for line in path.read_text().splitlines()]
    kinds = [r["kind"] for r in records]
    assert kinds == ["start", "step", "step", "eval", "step", "step", "eval", "epoch", "end"]
    step = records[1]
    assert step["step"] == 1 and step["epoch"] == 0 and isinstance(step["time"], float)
    assert set(step["values"]) >= {
        "loss", "lr", "grad_norm", "examples", "tokens", "examples_per_s"
    }
    assert step["values"]["lr"] == 0.1 and step["values"]["examples"] == 4
    assert records[3]["values"] == {"accuracy": 0.5, "loss": 1.0} and records[3]["step"] == 2
    assert records[0]["values"]["hparams"] == {"lr": 0.1}
    assert records[-1]["values"]["reason"] == "completed 1 epoch"


def test_jsonl_tracker_appends_and_drops_the_abandoned_future_on_resume(tmp_path):
    from ftlab.training import TrainStart

    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(json.dumps({"kind": "step", "step": s}) + "\n" for s in (1, 2, 3))
                    + '{"kind": "step", "st')  # a line cut by a crash
    tracker = JsonlTracker(path)
    tracker.on_train_start(
        TrainStart(total_steps=5, steps_per_epoch=5, epochs=1, resumed_from_step=2)
    )
    tracker.close()
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["kind"], r["step"]) for r in records] == [("step", 1), ("step", 2), ("start", 2)]


def test_tensorboard_tracker_writes_one_event_file_per_run(tmp_path):
    tracker = TensorBoardTracker(tmp_path / "tb", hparams={"lr": 0.1, "model": "bow"})
    _fit([tracker])
    tracker.finish(RunOutcome(metrics={"test/accuracy": 0.75}, tags={"augment": "none"},
                              config_text="train:\n  lr: 0.1\n"))
    events = list((tmp_path / "tb").rglob("events.out.tfevents.*"))
    assert len(events) == 1  # scalars and the HParams entry: one run, not `tb` and `tb/hparams`
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    tags = acc.Tags()["scalars"]
    assert {"train/loss", "train/lr", "train/grad_norm", "eval/accuracy"} <= set(tags)
    assert [e.step for e in acc.Scalars("train/loss")] == [1, 2, 3, 4]
    assert acc.Scalars("hparam/test/accuracy")[-1].value == pytest.approx(0.75)
    assert "config/text_summary" in acc.Tags()["tensors"]


@pytest.mark.parametrize("cls, module, kwargs",
                         [(MLflowTracker, "mlflow", {}), (WandbTracker, "wandb", {"project": "p"})])
def test_optional_trackers_name_the_extra_when_missing(cls, module, kwargs, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, module, None)  # what an environment without it sees
    with pytest.raises(MissingDependencyError, match=f"pip install 'ftlab\\[{module}\\]'"):
        cls(**kwargs)


def test_progress_prints_plain_lines_off_a_tty():
    stream = io.StringIO()
    _fit([ProgressObserver(total_steps=4, log_every=2, stream=stream)])
    lines = stream.getvalue().splitlines()
    assert [ln.split()[1] for ln in lines if ln.startswith("step")] == ["2/4", "4/4"]
    assert "loss" in lines[0] and "ex/s" in lines[0] and "eta" in lines[0]
    assert any(ln.startswith("eval step 2: accuracy 0.5000") for ln in lines)
    assert lines[-1] == "training stopped at step 4: completed 1 epoch"


def test_progress_uses_rich_on_a_tty():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    stream = Tty()
    _fit([ProgressObserver(total_steps=4, stream=stream)])
    assert "4/4" in stream.getvalue() and "training stopped at step 4" in stream.getvalue()


def test_tensorboard_hparams_hold_the_best_evaluation_not_the_last(tmp_path):
    scores = iter([0.5, 0.9, 0.6, 0.55])
    model = ToyModel()
    fit(model, ToySource(n=16, sizes=(4,)), loss_fn=sum_ce,
        optimizer=build_optimizer(model, name="sgd", lr=0.1), epochs=2,
        evaluate=lambda m: {"accuracy": next(scores), "loss": 1.0}, eval_every=2,
        monitor="accuracy", mode="max",
        observers=[tracker := TensorBoardTracker(tmp_path / "tb", hparams={"lr": 0.1})])
    tracker.finish()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    assert acc.Scalars("hparam/accuracy")[-1].value == pytest.approx(0.9)
    assert acc.Scalars("hparam/best_metric")[-1].value == pytest.approx(0.9)
