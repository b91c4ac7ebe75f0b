"""The step plan: the scheduler is sized from the steps ``fit`` takes, also with a token budget
whose batch count changes per epoch, and the stop reason says what ended the run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ftlab.batching import BucketBatchSampler, Encoded, Loader
from ftlab.config import load_config
from ftlab.errors import TrainingError
from ftlab.runs import train_run
from ftlab.training import build_optimizer, build_scheduler, fit, plan_steps

from ._toys import ListSource, ToyModel, make_batch, sum_ce


def _token_budget_loader(seed: int = 0) -> Loader:
    # lengths 1..12 under a budget of 24 padded tokens: each epoch's order cuts differently
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, 13, (60,), generator=g).tolist()
    encoded = [Encoded(index=i, ids=list(range(1, n + 1)), label=i % 2) for i, n in enumerate(lengths)]
    sampler = BucketBatchSampler([e.length for e in encoded], batch_size=None, max_tokens=24,
                                 bucket=False, seed=seed)
    return Loader(encoded, sampler)


def test_token_budget_epochs_are_planned_from_their_own_batches():
    loader = _token_budget_loader()
    counts = [len(loader.sampler.epoch_batches(e)) for e in range(4)]
    assert len(set(counts)) > 1  # the premise: the batch count changes per epoch
    plan = plan_steps(loader, epochs=4, grad_accum=2)
    assert plan.batches_per_epoch == tuple(counts)
    assert plan.total_steps == sum((n + 1) // 2 for n in counts)
    assert plan.finished_reason() == "completed 4 epochs"
    # max_steps ends the plan early and names itself as the reason
    short = plan_steps(loader, epochs=4, grad_accum=2, max_steps=3)
    assert short.total_steps == 3 and short.finished_reason() == "max_steps reached (3)"
    # beyond the epochs, max_steps changes nothing
    long = plan_steps(loader, epochs=4, grad_accum=2, max_steps=10_000)
    assert long.total_steps == plan.total_steps
    assert long.finished_reason() == "completed 4 epochs"


def _final_lr_fit(loader, *, epochs: int, max_steps: int | None = None):
    torch.manual_seed(0)
    model = ToyModel()
    opt = build_optimizer(model, name="sgd", lr=0.5)
    plan = plan_steps(loader, epochs=epochs, max_steps=max_steps)
    sched = build_scheduler(opt, name="linear", total_steps=plan.total_steps, min_lr_ratio=0.1)
    result = fit(model, loader, loss_fn=sum_ce, optimizer=opt, scheduler=sched, epochs=epochs,
                 max_steps=max_steps)
    return plan, opt, result


def test_a_token_budget_run_takes_every_planned_step_and_ends_the_schedule():
    loader = _token_budget_loader()
    plan, opt, result = _final_lr_fit(loader, epochs=3)
    assert result.state.step == plan.total_steps
    assert result.state.epoch == 3 and result.state.batches_in_epoch == 0  # no epoch cut short
    assert result.stop_reason == "completed 3 epochs"
    assert opt.param_groups[0]["lr"] == pytest.approx(0.5 * 0.1)  # the schedule's final value


def test_max_steps_beyond_the_epochs_ends_the_schedule_with_the_epochs():
    loader = ListSource([make_batch([i, i + 1]) for i in range(0, 10, 2)])  # 5 steps per epoch
    plan, opt, result = _final_lr_fit(loader, epochs=2, max_steps=50)
    assert plan.total_steps == result.state.step == 10
    assert result.stop_reason == "completed 2 epochs"
    assert opt.param_groups[0]["lr"] == pytest.approx(0.5 * 0.1)


def test_a_source_whose_length_changes_without_epoch_length_is_refused():
    class Growing(ListSource):
        def __len__(self):
            return len(self.batches) + self.epoch

        def __iter__(self):
            yield from [self.batches[0]] * (len(self) - self.position)

    model = ToyModel()
    with pytest.raises(TrainingError, match="epoch_length"):
        fit(model, Growing([make_batch([0, 1])] * 2), loss_fn=sum_ce,
            optimizer=build_optimizer(model, name="sgd", lr=0.1), epochs=2)


def _lrs(run_dir: Path) -> list[float]:
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [r["values"]["lr"] for r in rows if r["kind"] == "step"]


@pytest.mark.parametrize(("extra", "reason"), [
    (["train.max_steps=500"], "completed 2 epochs"),  # far beyond what 2 epochs take
    # word pairs of 2..12 characters: the token budget cuts each epoch into another count
    (["batching.max_tokens=60", "batching.bucket=false", "preprocess.max_length=30",
      "data.options={size: 200, word_length: [2, 12]}"], "completed 2 epochs"),
    (["train.max_steps=5"], "max_steps reached (5)"),
])
def test_a_run_ends_with_the_schedule_at_its_final_value(tmp_path, extra, reason):
    cfg = load_config(None, [f"output_dir={tmp_path}", "train.log_every=1000",
                             "train.trackers=[]", "data.source=builtin:anagram",
                             "data.options={size: 200}", "preprocess.tokenizer.kind=char",
                             "train.epochs=2", "train.schedule=linear", "train.warmup=0",
                             "train.lr=0.01", "train.min_lr_ratio=0", "eval.splits=[]", *extra])
    summary = train_run(cfg, name="r")
    lrs = _lrs(tmp_path / "r")
    assert summary["stop_reason"] == reason and summary["step"] == len(lrs)
    # linear decay to 0 without warmup: the last step uses 1/total of the peak, the one
    # before 2/total; a schedule sized for more steps than taken stays higher
    assert lrs[-1] == pytest.approx(0.01 / len(lrs))
    assert lrs[-2] == pytest.approx(0.02 / len(lrs))
