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
    assert any(ln.startswith("eval step 2 (epoch 1/1): accuracy 0.5000") for ln in lines)
    assert all(" epoch 1/1 " in ln for ln in lines if ln.startswith("step"))  # from 1, of N
    assert lines[-1] == "training stopped at step 4: completed 1 epoch"


def test_progress_prints_counts_as_integers():
    from ftlab.training import EvalEnd, TrainStart

    stream = io.StringIO()
    obs = ProgressObserver(total_steps=4, stream=stream)
    obs.on_train_start(TrainStart(total_steps=4, steps_per_epoch=2, epochs=2,
                                  resumed_from_step=None))
    obs.on_eval_end(EvalEnd(step=2, epoch=0, metrics={"accuracy": 0.75, "n": 1281.0}))
    assert stream.getvalue().strip() == "eval step 2 (epoch 1/2): accuracy 0.7500  n 1281"


def test_progress_smooths_the_rate_and_prints_a_line_when_one_is_due(monkeypatch):
    from ftlab.training import StepEnd, TrainStart

    stream = io.StringIO()
    obs = ProgressObserver(total_steps=100, log_every=1000, stream=stream, smoothing=0.1)
    obs.on_train_start(TrainStart(total_steps=100, steps_per_epoch=50, epochs=2,
                                  resumed_from_step=None))
    step = dict(lr=0.1, grad_norm=1.0, tokens=10, padded_tokens=10, epoch=0, loss=1.0)
    monkeypatch.setenv("FTLAB_PROGRESS_EVERY", "0")  # every step is "30 s later"
    obs.on_step_end(StepEnd(step=1, examples=100, seconds=1.0, **step))  # 100 ex/s
    obs.on_step_end(StepEnd(step=2, examples=100, seconds=0.001, **step))  # one very fast step
    lines = stream.getvalue().splitlines()
    assert [ln.split()[1] for ln in lines] == ["1/100", "2/100"]  # due although log_every=1000
    rate = float(lines[1].split(" ex/s")[0].split()[-1].replace(",", ""))
    assert 100 <= rate < 120  # smoothed: not the 100,000 ex/s of the fast step alone
    monkeypatch.setenv("FTLAB_PROGRESS_EVERY", "3600")
    obs.on_step_end(StepEnd(step=3, examples=100, seconds=1.0, **step))
    assert len(stream.getvalue().splitlines()) == 2  # not due, not a log_every step


def test_phases_print_progress_off_a_terminal_when_due(monkeypatch):
    from ftlab.core import phase

    stream = io.StringIO()
    monkeypatch.setenv("FTLAB_PROGRESS_EVERY", "0")
    with phase("test evaluation", total=4, stream=stream) as p:
        for _ in range(4):
            p.advance()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("test evaluation: 1/4 batches (25%)") and "eta" in lines[0]
    assert lines[-1].startswith("test evaluation: done, 4 batches in")
    quiet = io.StringIO()
    monkeypatch.setenv("FTLAB_PROGRESS_EVERY", "3600")
    with phase("validation", total=4, stream=quiet) as p:
        p.advance(4)
    assert quiet.getvalue() == ""  # a short phase prints nothing


def test_validation_shows_its_progress_bar_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    from ftlab.core import phase

    stream = Tty()
    with phase("validation", total=3, stream=stream) as p:
        p.advance(3)
    assert "validation" in stream.getvalue()


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


def test_a_phase_without_ticks_still_prints_when_a_line_is_due(monkeypatch):
    import time

    from ftlab.core import phase

    stream = io.StringIO()
    monkeypatch.setenv("FTLAB_PROGRESS_EVERY", "0.5")
    with phase("preparing data", stream=stream, heartbeat=True):
        time.sleep(2.5)  # one long call, no advance()
    lines = stream.getvalue().splitlines()
    assert any(ln.startswith("preparing data: still running after") for ln in lines)
    assert lines[-1].startswith("preparing data: done")
