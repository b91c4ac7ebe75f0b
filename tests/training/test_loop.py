"""fit(): gradient accumulation, reproducibility, stopping, the non-finite guard."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from ._toys import ListSource, Recorder, StopAt, ToyModel, ToySource, make_batch, softmax, sum_ce

from ftlab.errors import ConfigError, TrainingError
from ftlab.training import (
    Checkpointer,
    EpochEnd,
    EvalEnd,
    StepEnd,
    TrainEnd,
    TrainStart,
    build_optimizer,
    find_resume_checkpoint,
    fit,
    load_checkpoint,
    run_validation,
    seed_everything,
)


def _sgd(model):
    return build_optimizer(model, name="sgd", lr=1.0)


def _delta(before, model):
    return {k: v - before[k] for k, v in model.state_dict().items()}


def test_grad_accum_of_unequal_micro_batches_equals_one_union_batch():
    sizes = [2, 5, 3]
    parts, start = [], 0
    for s in sizes:
        parts.append(list(range(start, start + s)))
        start += s
    union = [i for p in parts for i in p]

    torch.manual_seed(0)
    ref = ToyModel()
    init = {k: v.clone() for k, v in ref.state_dict().items()}
    fit(ref, ListSource([make_batch(union)]), loss_fn=sum_ce, optimizer=_sgd(ref), clip_norm=None)

    acc = ToyModel()
    acc.load_state_dict(init)
    fit(acc, ListSource([make_batch(p) for p in parts]), loss_fn=sum_ce, optimizer=_sgd(acc),
        grad_accum=3, clip_norm=None)

    # SGD with lr 1 and no momentum: the update is minus the gradient
    d_ref, d_acc = _delta(init, ref), _delta(init, acc)
    for k in d_ref:
        assert float((d_acc[k] - d_ref[k]).abs().max()) <= 1e-6, k

    # the test can fail: averaging per micro-batch (the known bug) gives a different gradient
    naive = ToyModel()
    naive.load_state_dict(init)
    naive_loss = sum(F.cross_entropy(naive(make_batch(p)), make_batch(p).labels) for p in parts) / 3
    naive_loss.backward()
    assert not torch.allclose(-naive.head.weight.grad, d_ref["head.weight"], atol=1e-4)


def _run(seed: int, epochs: int = 2):
    seed_everything(seed)
    model = ToyModel(dropout=0.3)
    opt = build_optimizer(model, name="adamw", lr=0.05, weight_decay=0.01)
    val = [make_batch(list(range(i, i + 5)), data_seed=7) for i in range(0, 20, 5)]
    result = fit(model, ToySource(seed=seed), loss_fn=sum_ce, optimizer=opt, epochs=epochs,
                 grad_accum=2,
                 evaluate=lambda m: run_validation(m, val, loss_fn=sum_ce, probs_fn=softmax))
    return model, result


def test_same_seed_gives_identical_weights_and_metrics():
    m1, r1 = _run(3)
    m2, r2 = _run(3)
    for (k, a), b in zip(m1.state_dict().items(), m2.state_dict().values()):
        assert torch.equal(a, b), k
    assert r1.metrics == r2.metrics
    m3, _ = _run(4)
    assert not torch.equal(m1.head.weight, m3.head.weight)


def test_events_are_emitted_in_order_with_counts():
    rec = Recorder()
    model = ToyModel()
    src = ToySource(n=16, sizes=(4,))  # 4 batches per epoch
    result = fit(model, src, loss_fn=sum_ce, optimizer=_sgd(model), epochs=2, grad_accum=3,
                 evaluate=lambda m: {"accuracy": 0.5}, eval_every=1, eval_each_epoch=True,
                 observers=[rec])
    kinds = [type(e) for e in rec.events]
    assert kinds[0] is TrainStart and kinds[-1] is TrainEnd
    start = rec.events[0]
    assert (start.steps_per_epoch, start.total_steps, start.resumed_from_step) == (2, 4, None)
    steps = [e for e in rec.events if isinstance(e, StepEnd)]
    assert [s.step for s in steps] == [1, 2, 3, 4]
    assert [s.examples for s in steps] == [12, 4, 12, 4]  # the last window of an epoch is short
    assert all(s.padded_tokens >= s.tokens > 0 and s.grad_norm > 0 for s in steps)
    evals = [e for e in rec.events if isinstance(e, EvalEnd)]
    assert len(evals) == 4  # no second evaluation at the epoch end
    assert [(e.epoch, e.step) for e in rec.events if isinstance(e, EpochEnd)] == [(0, 2), (1, 4)]
    assert result.stop_reason == "completed 2 epochs"
    assert result.state.examples_seen == 32


def test_max_steps_and_observer_stop():
    for stop, steps, reason in [({"max_steps": 3}, 3, "max_steps reached (3)"),
                                ({"observers": [StopAt(2)]}, 2, "test stop at step 2")]:
        model = ToyModel()
        before = {k: v.clone() for k, v in model.state_dict().items()}
        rec = Recorder()
        r = fit(model, ToySource(), loss_fn=sum_ce, optimizer=_sgd(model), epochs=5,
                **{**stop, "observers": [*stop.get("observers", []), rec]})
        assert (r.state.step, r.stop_reason) == (steps, reason)
        assert [e.step for e in rec.events if isinstance(e, StepEnd)] == list(range(1, steps + 1))
        # the steps were taken on this model: its weights moved
        assert any(not torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_clip_norm_bounds_the_update_and_grad_norm_is_logged_unclipped():
    torch.manual_seed(0)
    model = ToyModel()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rec = Recorder()
    fit(model, ListSource([make_batch(list(range(8)))]), loss_fn=sum_ce, optimizer=_sgd(model),
        clip_norm=1e-3, observers=[rec])
    step = next(e for e in rec.events if isinstance(e, StepEnd))
    total = torch.sqrt(sum((d ** 2).sum() for d in _delta(before, model).values()))
    assert step.grad_norm > 1e-2  # logged before clipping
    assert float(total) == pytest.approx(1e-3, rel=1e-3)


def test_bf16_autocast_runs_on_cpu():
    model = ToyModel()
    r = fit(model, ToySource(n=8), loss_fn=sum_ce, optimizer=_sgd(model), precision="bf16")
    assert r.state.step > 0 and torch.isfinite(model.head.weight).all()


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"precision": "fp16"}, "needs a CUDA device"),
        ({"grad_accum": 0}, "grad_accum must be >= 1"),
        ({"epochs": 0, "clip_norm": -1.0}, "clip_norm must be > 0"),  # all problems at once
        ({"evaluate": lambda m: {"f1": 1.0}}, "returned only ['f1']"),
    ],
)
def test_bad_arguments_raise_config_error(kwargs, fragment):
    model = ToyModel()
    with pytest.raises(ConfigError, match=None) as info:
        fit(model, ToySource(n=8), loss_fn=sum_ce, optimizer=_sgd(model), **kwargs)
    assert fragment in str(info.value)


class _Poisoned(torch.nn.Module):
    """Produces inf logits for batches holding example ``bad``."""

    def __init__(self, bad: int):
        super().__init__()
        self.inner, self.bad = ToyModel(), bad

    def forward(self, batch):
        logits = self.inner(batch)
        hit = (batch.index == self.bad).any()
        return logits * torch.where(hit, torch.tensor(float("inf")), torch.tensor(1.0))


def test_non_finite_loss_stops_before_the_step_with_a_diagnosis(tmp_path):
    torch.manual_seed(0)
    model = _Poisoned(bad=9)
    batches = [make_batch([3 * i, 3 * i + 1, 3 * i + 2]) for i in range(4)]
    ckpt = Checkpointer(tmp_path / "checkpoints", every_n_steps=1, monitor=None)
    rec = Recorder()
    with pytest.raises(TrainingError) as info:
        fit(model, ListSource(batches), loss_fn=sum_ce, optimizer=_sgd(model), grad_accum=2,
            checkpointer=ckpt, observers=[rec])
    msg = str(info.value)
    assert "non-finite loss at step 2" in msg and "9" in msg and "diagnosis.json" in msg
    diag = json.loads((tmp_path / "diagnosis.json").read_text())
    assert diag["step"] == 2 and diag["epoch"] == 0
    assert diag["example_indices"] == [6, 7, 8, 9, 10, 11]
    assert diag["last_good_lr"] == 1.0 and len(diag["grad_norm_history"]) == 1
    assert isinstance(rec.events[-1], TrainEnd)
    assert rec.events[-1].reason.startswith("non-finite loss")
    # the last good checkpoint is intact, and the failed step changed nothing
    last = find_resume_checkpoint(tmp_path)
    assert last is not None and last.name == "step-00000001"
    loaded = load_checkpoint(last)
    assert loaded.step == 1
    from safetensors.torch import load_file

    saved = load_file(str(last / "model.safetensors"))
    assert torch.equal(saved["inner.head.weight"], model.inner.head.weight)
    assert not (tmp_path / "checkpoints" / "step-00000002").exists()


class _InfGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad * float("inf")


def test_non_finite_gradient_norm_is_caught_too():
    class M(ToyModel):
        def forward(self, batch):
            return _InfGrad.apply(super().forward(batch))

    model = M()
    before = model.head.weight.detach().clone()
    with pytest.raises(TrainingError, match="non-finite gradient norm at step 1"):
        fit(model, ToySource(n=8), loss_fn=sum_ce, optimizer=_sgd(model))
    assert torch.equal(model.head.weight, before)


def test_source_shorter_than_its_len_is_reported():
    class Liar(ListSource):
        def __len__(self):
            return 5

    model = ToyModel()
    with pytest.raises(TrainingError, match="len\\(\\) says 5"):
        fit(model, Liar([make_batch([0, 1])] * 2), loss_fn=sum_ce, optimizer=_sgd(model))
