"""Typed events, notify(), and the observer conformance check over every observer we ship."""

from __future__ import annotations

import io

import pytest

from ftlab.testing import check_observer
from ftlab.training import (
    EarlyStopping,
    EvalEnd,
    JsonlTracker,
    ProgressObserver,
    StepEnd,
    StopRequest,
    TensorBoardTracker,
    notify,
)

from ._toys import Recorder, StopAt

STEP = StepEnd(step=2, epoch=0, loss=0.1, lr=0.1, grad_norm=1.0, examples=4, tokens=8,
               padded_tokens=8, seconds=0.1)


def test_notify_calls_every_observer_and_returns_the_first_stop():
    rec1, rec2 = Recorder(), Recorder()
    answer = notify([rec1, StopAt(2), rec2, StopAt(2)], STEP)
    assert answer == StopRequest("test stop at step 2")
    assert rec1.events == [STEP] and rec2.events == [STEP]
    assert notify([object()], STEP) is None  # hooks are optional


def test_a_hook_returning_something_else_is_an_error():
    class Bad:
        def on_step_end(self, e):
            return "stop"

    with pytest.raises(TypeError, match="may only return None or StopRequest"):
        notify([Bad()], STEP)


def test_events_are_read_only():
    event = EvalEnd(step=1, epoch=0, metrics={"accuracy": 0.5})
    with pytest.raises(TypeError):
        event.metrics["accuracy"] = 1.0  # type: ignore[index]
    with pytest.raises(AttributeError):
        event.step = 3  # type: ignore[misc]


def _shipped_observers(tmp_path):
    return [
        EarlyStopping(patience=2),
        EarlyStopping(monitor="loss", mode="min", target=0.1),
        JsonlTracker(tmp_path / "metrics.jsonl"),
        TensorBoardTracker(tmp_path / "tb", hparams={"lr": 0.1, "layers": [1, 2]}),
        ProgressObserver(total_steps=2, log_every=1, stream=io.StringIO()),
        Recorder(),
    ]


def test_every_shipped_observer_passes_the_conformance_check(tmp_path):
    for observer in _shipped_observers(tmp_path):
        check_observer(observer)


def test_conformance_check_catches_broken_observers():
    class Mutating:
        def on_eval_end(self, e):
            object.__setattr__(e, "step", 99)

    class NoLoad:
        def on_step_end(self, e):
            return None

        def state_dict(self):
            return {"x": 1}

    class Lossy:
        def __init__(self):
            self.n = 0

        def on_step_end(self, e):
            self.n += 1

        def state_dict(self):
            return {"n": self.n}

        def load_state_dict(self, state):
            pass  # forgets to restore

    with pytest.raises(AssertionError, match="mutated the event"):
        check_observer(Mutating())
    with pytest.raises(AssertionError, match="no load_state_dict"):
        check_observer(NoLoad())
    with pytest.raises(AssertionError, match="did not restore"):
        check_observer(Lossy())
    with pytest.raises(AssertionError, match="none of the observer hooks"):
        check_observer(object())
