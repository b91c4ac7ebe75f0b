"""``ftlab gradcheck``: finite differences agree with a correct backward, and name a wrong one."""

from __future__ import annotations

import sys
import types

import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from ftlab.batching import Encoded, collate
from ftlab.cli import app
from ftlab.errors import FtlabError
from ftlab.models import build_model
from ftlab.toolbelt import gradcheck


class _Cube(torch.autograd.Function):
    """x**3 with a hand-written backward; ``wrong`` plants twice the true gradient."""

    @staticmethod
    def forward(ctx, x, wrong):
        ctx.save_for_backward(x)
        ctx.wrong = wrong
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        true = grad * 3 * x**2
        return (2 * true if ctx.wrong else true), None


class Custom(nn.Module):
    """Embeddings -> linear -> custom cube -> tanh -> head."""

    def __init__(self, vocab_size: int = 30, num_classes: int = 3, pad_id: int = 0,
                 wrong: bool = False, dropout: float = 0.0) -> None:
        super().__init__()
        self.num_classes = self.num_outputs = num_classes
        self.emb = nn.Embedding(vocab_size, 6, padding_idx=pad_id)
        self.proj = nn.Linear(6, 6)
        self.head = nn.Linear(6, num_classes)
        self.drop = nn.Dropout(dropout)
        self.wrong = wrong

    def forward(self, batch):
        mask = batch.mask.unsqueeze(-1).to(self.emb.weight.dtype)  # (B, T, 1)
        x = (self.emb(batch.ids) * mask).sum(1) / mask.sum(1)  # (B, 6)
        h = torch.tanh(_Cube.apply(self.proj(x), self.wrong))
        return self.head(self.drop(h))


@pytest.fixture
def batch():
    gen = torch.Generator().manual_seed(0)
    items = [Encoded(index=i, ids=torch.randint(1, 30, (3 + i,), generator=gen).tolist(),
                     label=i % 3) for i in range(5)]
    return collate(items, pad_id=0)


def test_a_correct_module_passes(batch):
    torch.manual_seed(0)
    rows = gradcheck(Custom(dropout=0.5), batch)  # dropout is off in the eval-mode copy
    assert [r.name for r in rows] == ["emb.weight", "proj.weight", "proj.bias", "head.weight",
                                      "head.bias"]
    assert all(r.passed and r.max_rel_error < 1e-6 for r in rows), rows
    assert [r.sampled for r in rows] == [5, 5, 5, 5, 3]  # head.bias has 3 entries


def test_registered_family_passes(batch):
    torch.manual_seed(0)
    model = build_model("bow", vocab_size=30, pad_id=0, num_classes=3, binary_mode="softmax",
                        init="default", embeddings=None, embed_dim=8, hidden_dims=[8])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rows = gradcheck(model, batch, n_samples=3)
    assert all(r.passed for r in rows), rows
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # untouched
    assert next(model.parameters()).dtype == torch.float32


def test_a_wrong_custom_backward_fails_with_the_right_tensors_named(batch):
    torch.manual_seed(0)
    rows = {r.name: r for r in gradcheck(Custom(wrong=True), batch)}
    # the head sits after the custom function: its gradient is right; everything before is 2x
    assert {n for n, r in rows.items() if not r.passed} == {"emb.weight", "proj.weight",
                                                             "proj.bias"}
    worst = rows["proj.weight"]
    assert worst.max_rel_error > 0.4
    assert worst.analytic == pytest.approx(2 * worst.numeric, rel=1e-5)


def test_a_non_deterministic_model_is_refused(batch):
    class Noisy(Custom):
        def forward(self, batch):
            return super().forward(batch) + 1e-3 * torch.randn(len(batch), self.num_classes,
                                                                 dtype=torch.float64)

    with pytest.raises(FtlabError, match="not deterministic"):
        gradcheck(Noisy(), batch)


def test_cli_names_the_wrong_tensor(monkeypatch):
    mod = types.ModuleType("planted_models")
    mod.Good = Custom
    mod.Bad = lambda vocab_size, num_classes: Custom(vocab_size, num_classes, wrong=True)
    monkeypatch.setitem(sys.modules, "planted_models", mod)
    runner = CliRunner()
    good = runner.invoke(app, ["gradcheck", "--model", "planted_models:Good", "--num-classes", "3"])
    assert good.exit_code == 0, good.output
    assert "all 5 parameter tensors match" in good.output
    bad = runner.invoke(app, ["gradcheck", "--model", "planted_models:Bad"])
    assert bad.exit_code == 1, bad.output
    assert "wrong gradients: emb.weight, proj.weight, proj.bias" in bad.output
