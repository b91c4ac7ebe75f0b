"""TimeBudget: stops once the wall-clock budget is spent, scores the final weights, resumes."""

from __future__ import annotations

import pytest

from ftlab.errors import ConfigError
from ftlab.training import Checkpointer, StepEnd, TimeBudget, TrainStart, build_optimizer, fit
from ftlab.training import _time_budget

from ._toys import ToyModel, ToySource, sum_ce


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _step(n: int) -> StepEnd:
    return StepEnd(step=n, epoch=0, loss=1.0, lr=0.1, grad_norm=1.0, examples=4, tokens=8,
                   padded_tokens=8, seconds=0.01)


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(_time_budget.time, "monotonic", fake)
    return fake


def test_stops_once_spent_and_asks_for_a_final_evaluation(clock):
    budget = TimeBudget(60)
    budget.on_train_start(TrainStart(100, 10, 10, None, {}))
    clock.now += 59.9
    assert budget.on_step_end(_step(1)) is None
    clock.now += 0.1
    stop = budget.on_step_end(_step(2))
    assert stop is not None and stop.final_eval
    assert stop.reason == "time budget of 1 min spent after step 2"


def test_a_resumed_run_gets_only_what_is_left(clock):
    first = TimeBudget(100)
    first.on_train_start(TrainStart(100, 10, 10, None, {}))
    clock.now += 70
    saved = first.state_dict()
    assert saved == {"spent": 70.0}
    second = TimeBudget(100)
    second.load_state_dict(saved)
    second.on_train_start(TrainStart(100, 10, 10, 5, {}))
    clock.now += 29
    assert second.on_step_end(_step(6)) is None
    clock.now += 1
    assert second.on_step_end(_step(7)) is not None


def test_rejects_a_budget_that_is_not_positive():
    with pytest.raises(ConfigError, match="must be > 0"):
        TimeBudget(0)


def test_fit_evaluates_the_weights_it_stops_with_mid_epoch(tmp_path, clock):
    evaluated_at: list[int] = []

    class Budget(TimeBudget):
        def on_step_end(self, event):
            clock.now += 10  # every step "takes" 10 s
            return super().on_step_end(event)

    def evaluate(model):
        evaluated_at.append(len(evaluated_at))
        return {"accuracy": 0.5}

    source = ToySource()
    model = ToyModel()
    result = fit(model, source, loss_fn=sum_ce, optimizer=build_optimizer(model, name="sgd", lr=0.1),
                 epochs=5, evaluate=evaluate, observers=[Budget(25)],
                 checkpointer=Checkpointer(tmp_path / "ck", monitor="accuracy"))
    assert result.state.step == 3 < len(source)  # stopped inside the first epoch
    assert result.stop_reason.startswith("time budget of")
    assert evaluated_at == [0]  # no epoch end was reached: the evaluation is the final one
    assert result.best_step == 3 and result.last_checkpoint is not None
