"""Exact resume: stop mid-epoch, resume from the checkpoint, end bit-identical to one run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ftlab.batching import BucketBatchSampler, Encoded, Loader
from ftlab.training import (
    Checkpointer,
    EarlyStopping,
    JsonlTracker,
    build_optimizer,
    build_scheduler,
    find_resume_checkpoint,
    fit,
    run_validation,
    seed_everything,
)

from ._toys import StopAt, ToyModel, ToySource, make_batch, softmax, sum_ce

EPOCHS, ACCUM = 3, 3
VAL = [make_batch(list(range(i, i + 6)), data_seed=5) for i in range(0, 24, 6)]


def _evaluate(model):
    return run_validation(model, VAL, loss_fn=sum_ce, probs_fn=softmax)


def _real_loader() -> Loader:
    g = torch.Generator().manual_seed(0)
    encoded = [
        Encoded(index=i, ids=torch.randint(1, 24, (int(n),), generator=g).tolist(), label=i % 3)
        for i, n in enumerate(torch.randint(1, 7, (30,), generator=g))
    ]
    sampler = BucketBatchSampler([e.length for e in encoded], batch_size=4, seed=3)
    return Loader(encoded, sampler)


def _run(run_dir: Path, make_source, *, seed=0, max_steps=None, observers=(), resume=False):
    """One fit; a resumed run starts from another seed to prove the RNG state is restored."""
    seed_everything(seed + 100 if resume else seed)
    model = ToyModel(dropout=0.3)  # dropout: the torch RNG must be restored exactly
    opt = build_optimizer(model, name="adamw", lr=0.05, weight_decay=0.01)
    src = make_source()
    total = EPOCHS * -(-len(src) // ACCUM)
    sched = build_scheduler(opt, name="cosine", total_steps=total, warmup_steps=2)
    early = EarlyStopping(patience=100)
    jsonl = JsonlTracker(run_dir / "metrics.jsonl")
    ckpt = Checkpointer(run_dir / "checkpoints", every_n_steps=None, every_epoch=True, keep_best=1)
    result = fit(
        model, src, loss_fn=sum_ce, optimizer=opt, scheduler=sched, epochs=EPOCHS,
        max_steps=max_steps, grad_accum=ACCUM, evaluate=_evaluate, eval_every=2,
        observers=[early, jsonl, *observers], checkpointer=ckpt,
        resume_from=find_resume_checkpoint(run_dir) if resume else None,
    )
    return model, opt, result, early


def _steps(run_dir: Path) -> list[tuple]:
    lines = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [(r["kind"], r["step"], r["values"].get("loss"), r["values"].get("accuracy"))
            for r in lines if r["kind"] in ("step", "eval")]


@pytest.mark.parametrize(
    "source, stop, at",
    [
        # step 4 is mid-epoch 1 (3 steps per epoch), off the eval/epoch checkpoint schedule
        ("toy", "max_steps", 4),
        ("toy", "observer", 4),
        ("real_loader", "max_steps", 4),
        ("real_loader", "observer", 4),
        ("real_loader", "max_steps", 3),  # exactly at an epoch end
    ],
)
def test_stop_and_resume_matches_an_uninterrupted_run(tmp_path, source, stop, at):
    make_source = ToySource if source == "toy" else _real_loader
    m_ref, opt_ref, r_ref, early_ref = _run(tmp_path / "ref", make_source)

    stop_kwargs = {"max_steps": at} if stop == "max_steps" else {"observers": [StopAt(at)]}
    _, _, r_part, _ = _run(tmp_path / "run", make_source, **stop_kwargs)
    assert r_part.state.step == at and (r_part.state.batches_in_epoch > 0) == (at == 4)
    assert find_resume_checkpoint(tmp_path / "run").name == f"step-{at:08d}"

    m_res, opt_res, r_res, early_res = _run(tmp_path / "run", make_source, resume=True)
    assert r_res.state.step == r_ref.state.step == 9
    for (name, a), b in zip(m_ref.state_dict().items(), m_res.state_dict().values()):
        assert torch.equal(a, b), f"{name} differs after resume"
    for a, b in zip(opt_ref.state_dict()["state"].values(), opt_res.state_dict()["state"].values()):
        assert torch.equal(a["exp_avg"], b["exp_avg"])
    assert r_res.metrics == r_ref.metrics and r_res.best_metric == r_ref.best_metric
    assert early_res.state_dict() == early_ref.state_dict()
    # metrics.jsonl of the resumed run holds every step once, with the same values
    assert _steps(tmp_path / "run") == _steps(tmp_path / "ref")


def test_resume_without_restoring_rng_diverges(tmp_path):
    """Sanity check that the resume test can fail: dropout depends on the restored RNG."""
    from ftlab.training import load_checkpoint, restore

    m_ref, _, _, _ = _run(tmp_path / "ref", ToySource)
    _run(tmp_path / "run", ToySource, max_steps=4)
    seed_everything(100)
    model = ToyModel(dropout=0.3)
    opt = build_optimizer(model, name="adamw", lr=0.05, weight_decay=0.01)
    src = ToySource()
    sched = build_scheduler(opt, name="cosine", total_steps=9, warmup_steps=2)
    state = restore(load_checkpoint(find_resume_checkpoint(tmp_path / "run")), model, opt, sched,
                    src, restore_rng=False)
    fit(model, src, loss_fn=sum_ce, optimizer=opt, scheduler=sched, epochs=EPOCHS,
        grad_accum=ACCUM, state=state)
    assert not torch.equal(m_ref.head.weight, model.head.weight)
