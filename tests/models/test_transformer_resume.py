"""A LoRA transformer stops mid-epoch and resumes through ftlab.training bit-identically."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ftlab.batching import BucketBatchSampler, Encoded, Loader
from ftlab.config import TrainConfig
from ftlab.models import build_model, classification_loss
from ftlab.runs._builders import build_optimization
from ftlab.training import (
    Checkpointer,
    find_resume_checkpoint,
    fit,
    load_checkpoint,
    seed_everything,
)

from ._tiny_transformers import tiny_model_dir

EPOCHS = 2


def _loader() -> Loader:
    g = torch.Generator().manual_seed(0)
    encoded = []
    for i in range(20):
        n = int(torch.randint(2, 10, (1,), generator=g))
        body = torch.randint(1999, 5000, (n,), generator=g).tolist()
        encoded.append(Encoded(index=i, ids=[101, *body, 102], label=i % 2,
                               token_type_ids=[0] * (n + 2)))
    sampler = BucketBatchSampler([e.length for e in encoded], batch_size=4, seed=3)
    return Loader(encoded, sampler, pad_id=0)


def _loss(logits, labels):
    return classification_loss(logits, labels, reduction="sum")


def _run(run_dir: Path, *, max_steps: int | None = None, resume: bool = False):
    """One fit; a resumed run starts from another seed to prove the RNG state is restored."""
    seed_everything(100 if resume else 0)
    # hidden dropout 0.1 and LoRA dropout 0.2: the torch RNG must be restored exactly
    model = build_model("transformer", vocab_size=30522, pad_id=0, num_classes=2,
                        name=str(tiny_model_dir("bert")), head_lr=2e-2,
                        lora={"r": 4, "dropout": 0.2, "use_dora": True})
    src = _loader()
    total = EPOCHS * len(src)
    opt, sched = build_optimization(
        model, TrainConfig(lr=1e-2, weight_decay=0.01, warmup=0.2, schedule="linear"),
        total_steps=total,
    )
    ckpt = Checkpointer(run_dir / "checkpoints", monitor=None, keep_best=0)
    result = fit(model, src, loss_fn=_loss, optimizer=opt, scheduler=sched, epochs=EPOCHS,
                 max_steps=max_steps, checkpointer=ckpt,
                 resume_from=find_resume_checkpoint(run_dir) if resume else None)
    return model, opt, result


@pytest.mark.parametrize("stop_at", [3, 5], ids=["mid-epoch", "epoch-end"])
def test_lora_run_resumes_exactly(tmp_path: Path, stop_at: int):
    m_ref, opt_ref, r_ref = _run(tmp_path / "ref")
    _, _, r_part = _run(tmp_path / "run", max_steps=stop_at)
    assert r_part.state.step == stop_at
    ckpt = load_checkpoint(find_resume_checkpoint(tmp_path / "run"))
    # full state: frozen base + adapters + the trained head copies
    assert any("lora_A" in k for k in ckpt.model_keys)
    assert any("classifier.modules_to_save" in k for k in ckpt.model_keys)
    assert any("word_embeddings" in k for k in ckpt.model_keys)

    m_res, opt_res, r_res = _run(tmp_path / "run", resume=True)
    assert r_res.state.step == r_ref.state.step == EPOCHS * 5
    for (name, a), b in zip(m_ref.state_dict().items(), m_res.state_dict().values(), strict=True):
        assert torch.equal(a, b), f"{name} differs after resume"
    ref_state = opt_ref.state_dict()["state"]
    res_state = opt_res.state_dict()["state"]
    assert ref_state.keys() == res_state.keys()
    for k in ref_state:
        assert torch.equal(ref_state[k]["exp_avg"], res_state[k]["exp_avg"])
    # the head kept its own learning rate through the schedule
    assert [g["lr"] for g in opt_ref.param_groups] == [g["lr"] for g in opt_res.param_groups]
    # training moved the adapters (the comparison above is not between untouched weights)
    lora_b = next(v for k, v in m_res.state_dict().items() if "lora_B" in k)
    assert bool(lora_b.abs().sum() > 0)
