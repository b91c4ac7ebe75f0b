"""Trackers: metrics.jsonl contents, TensorBoard event files, optional trackers, progress lines."""

from __future__ import annotations

import importlib.util
import io
import json

import pytest

from ftlab.core import MissingDependencyError
from ftlab.training import (
    JsonlTracker,
    MLflowTracker,
    ProgressObserver,
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


def test_tensorboard_tracker_writes_event_files(tmp_path):
    _fit([TensorBoardTracker(tmp_path / "tb", hparams={"lr": 0.1, "model": "bow"})])
    events = list((tmp_path / "tb").rglob("events.out.tfevents.*"))
    assert len(events) >= 2  # scalars + the hparams run
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    tags = acc.Tags()["scalars"]
    assert {"train/loss", "train/lr", "train/grad_norm", "eval/accuracy"} <= set(tags)
    assert [e.step for e in acc.Scalars("train/loss")] == [1, 2, 3, 4]


@pytest.mark.parametrize("cls, module, kwargs",
                         [(MLflowTracker, "mlflow", {}), (WandbTracker, "wandb", {"project": "p"})])
def test_optional_trackers_name_the_extra_when_missing(cls, module, kwargs):
    if importlib.util.find_spec(module) is not None:
        pytest.skip(f"{module} is installed")
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


class _Recorder:
    """Stands in for the mlflow / wandb module: records every call made to it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple, dict]] = []
        self.summary: dict = {}

    def __getattr__(self, name):
        if name.startswith("_"):  # module machinery (__spec__, __file__, ...) is not the API
            raise AttributeError(name)

        def record(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            return self if name == "init" else None
        return record

    def named(self, name):
        return [(a, k) for n, a, k in self.calls if n == name]


def test_mlflow_tracker_logs_params_steps_evals_and_the_stop_reason(monkeypatch):
    import sys

    fake = _Recorder()
    monkeypatch.setitem(sys.modules, "mlflow", fake)
    _fit([MLflowTracker(experiment="exp", run_name="r1", tracking_uri="file:./x")])
    assert fake.named("set_tracking_uri") == [(("file:./x",), {})]
    assert fake.named("set_experiment") == [(("exp",), {})]
    assert fake.named("start_run") == [((), {"run_name": "r1"})]
    assert fake.named("log_params")[0][0][0]["lr"] == 0.1
    metrics = fake.named("log_metrics")
    train = [k["step"] for a, k in metrics if "train/loss" in a[0]]
    evals = [k["step"] for a, k in metrics if "eval/accuracy" in a[0]]
    assert train == [1, 2, 3, 4] and evals == [2, 4]
    assert fake.named("set_tag") == [(("stop_reason", "completed 1 epoch"), {})]
    assert [n for n, _, _ in fake.calls][-1] == "end_run"


def test_wandb_tracker_runs_offline_by_default_and_finishes(monkeypatch, tmp_path):
    import sys

    fake = _Recorder()
    monkeypatch.setitem(sys.modules, "wandb", fake)
    _fit([WandbTracker(project="p", run_name="r", dir=tmp_path)])
    (args, kwargs), = fake.named("init")
    assert kwargs["mode"] == "offline" and kwargs["project"] == "p"
    assert kwargs["dir"] == str(tmp_path) and kwargs["config"]["lr"] == 0.1
    steps = [k["step"] for a, k in fake.named("log") if "train/loss" in a[0]]
    assert steps == [1, 2, 3, 4]
    assert fake.summary["stop_reason"] == "completed 1 epoch"
    assert fake.named("finish") == [((), {})]
