"""EarlyStopping: patience, target, state round trip, and best weights restored by fit."""

from __future__ import annotations

import pytest
import torch

from ftlab.errors import ConfigError
from ftlab.training import Checkpointer, EarlyStopping, EvalEnd, build_optimizer, fit

from ._toys import ToyModel, ToySource, sum_ce


def _feed(early, values, key="accuracy"):
    answers = []
    for i, v in enumerate(values, start=1):
        answers.append(early.on_eval_end(EvalEnd(step=100 * i, epoch=0, metrics={key: v})))
    return answers


def test_stops_after_patience_with_a_clear_reason():
    answers = _feed(EarlyStopping(patience=3), [0.5, 0.871, 0.86, 0.871, 0.8])
    assert answers[:4] == [None] * 4
    assert answers[4].reason == (
        "no improvement in validation accuracy > 0 for 3 evaluations; best 0.871 at step 200"
    )


def test_min_delta_min_mode_and_target():
    early = EarlyStopping(monitor="loss", mode="min", patience=2, min_delta=0.05)
    answers = _feed(early, [1.0, 0.97, 0.96], key="loss")  # improvements below min_delta
    assert answers[-1] is not None and "loss < 0.05 for 2 evaluations" in answers[-1].reason
    answers = _feed(EarlyStopping(target=0.9, patience=10), [0.5, 0.95])
    assert answers[0] is None
    assert answers[1].reason.startswith("target reached: validation accuracy 0.95 >= 0.9")


def test_state_round_trip_continues_counting():
    a = EarlyStopping(patience=3)
    _feed(a, [0.9, 0.8])
    b = EarlyStopping(patience=3)
    b.load_state_dict(a.state_dict())
    assert b.state_dict() == {"best": 0.9, "best_step": 100, "bad_evals": 1}
    assert _feed(b, [0.7, 0.7])[-1] is not None  # 1 + 2 bad evaluations


def test_missing_metric_and_bad_arguments():
    with pytest.raises(ConfigError, match="returned only \\['loss'\\]"):
        _feed(EarlyStopping(), [0.1], key="loss")
    with pytest.raises(ConfigError, match="patience"):
        EarlyStopping(patience=0)


@pytest.mark.parametrize("with_checkpointer", [True, False])
def test_fit_stops_and_restores_the_best_weights(tmp_path, with_checkpointer):
    scripted = iter([0.5, 0.8, 0.7, 0.6, 0.9, 0.95])  # best 0.8 at the 2nd evaluation
    snapshots = []

    def evaluate(model):
        snapshots.append({k: v.clone() for k, v in model.state_dict().items()})
        return {"accuracy": next(scripted)}

    torch.manual_seed(0)
    model = ToyModel()
    ckpt = Checkpointer(tmp_path / "checkpoints", monitor="accuracy") if with_checkpointer else None
    opt = build_optimizer(model, name="sgd", lr=0.5)
    result = fit(model, ToySource(), loss_fn=sum_ce, optimizer=opt,
                 epochs=10, evaluate=evaluate, eval_every=1, observers=[EarlyStopping(patience=2)],
                 checkpointer=ckpt, restore_best=True)
    assert result.state.step == 4
    assert result.stop_reason.startswith("no improvement in validation accuracy")
    assert (result.best_metric, result.best_step) == (0.8, 2)
    source = "step-00000002" if with_checkpointer else "from memory"
    assert result.restored_best is not None and source in result.restored_best
    for name, value in model.state_dict().items():
        assert torch.equal(value, snapshots[1][name]), name
    assert not torch.equal(snapshots[1]["head.weight"], snapshots[3]["head.weight"])
