"""Conformance (ftlab.testing check_model) over every registered family, and overfitting."""

import pytest
import torch
from torch import nn

from ftlab.models import MODELS, build_model
from ftlab.testing import check_model

from ._batches import random_batch
from ._overfit import overfit_losses

VOCAB = 40
SMALL = dict(embed_dim=12)
RNN = dict(embed_dim=12, hidden_size=12)

# (id, family, num_classes, binary_mode, family kwargs): every family, pooling, cell,
# direction, pair mode and sigmoid binary mode.
CASES = [
    ("bow-mean", "bow", 3, "softmax", dict(SMALL, pooling="mean", hidden_dims=(16,))),
    ("bow-sum", "bow", 3, "softmax", dict(SMALL, pooling="sum")),
    ("bow-max", "bow", 3, "softmax", dict(SMALL, pooling="max", hidden_dims=(16, 16),
                                          residual=True, norm="layer")),
    ("bow-pair", "bow", 3, "softmax", dict(SMALL, text_pairs=True,
                                           pair_combine="concat_diff_prod", hidden_dims=(16,))),
    ("bow-sigmoid", "bow", 2, "sigmoid", dict(SMALL, hidden_dims=(16,))),
    ("rnn-lstm-uni", "rnn", 3, "softmax", dict(RNN, cell="lstm")),
    ("rnn-lstm-bi", "rnn", 3, "softmax", dict(RNN, cell="lstm", bidirectional=True,
                                              num_layers=2, pooling="max")),
    ("rnn-gru-uni", "rnn", 3, "softmax", dict(RNN, cell="gru", pooling="mean")),
    ("rnn-gru-bi", "rnn", 3, "softmax", dict(RNN, cell="gru", bidirectional=True)),
    ("rnn-pair", "rnn", 3, "softmax", dict(RNN, text_pairs=True, bidirectional=True)),
    ("rnn-sigmoid", "rnn", 2, "sigmoid", dict(RNN, cell="gru", hidden_dims=(8,), norm="batch")),
]
IDS = [c[0] for c in CASES]


def _build(case, seed=0):
    _, family, num_classes, binary_mode, kwargs = case
    torch.manual_seed(seed)
    model = build_model(family, vocab_size=VOCAB, pad_id=0, num_classes=num_classes,
                        binary_mode=binary_mode, **kwargs)
    batch = random_batch(n=8, vocab_size=VOCAB, num_classes=num_classes,
                         pairs=kwargs.get("text_pairs", False), seed=seed)
    return model, batch


def test_every_registered_family_is_covered():
    # transformer and prompt need a pretrained directory: test_transformer.py builds tiny
    # encoders, test_prompt.py a tiny causal LM (frozen: nothing to backpropagate into)
    assert {case[1] for case in CASES} >= set(MODELS) - {"transformer", "prompt"}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conformance(case):
    model, batch = _build(case)
    check_model(model, batch)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_overfits_a_single_batch(case):
    model, batch = _build(case)
    losses = overfit_losses(model, batch, torch.optim.Adam(model.parameters(), lr=1e-2), 200)
    assert losses[-1] < 0.05, f"{case[0]}: loss {losses[0]:.3f} -> {losses[-1]:.3f} in 200 steps"
    assert losses[-1] < losses[0] / 10


# --- the check itself must catch broken models -------------------------------------------


class _Broken(nn.Module):
    def __init__(self, flaw: str) -> None:
        super().__init__()
        self.flaw = flaw
        self.num_classes = self.num_outputs = 3
        self.embedding = nn.Embedding(VOCAB, 4)
        self.out = nn.Linear(4, 3)
        self.unused = nn.Linear(2, 2)  # left out of forward by the 'unused' flaw only

    def forward(self, batch):
        if self.flaw == "mutates":
            batch.ids[batch.mask == 0] = 1
        logits = self.out(self.embedding(batch.ids).mean(1))
        if self.flaw == "random" and not self.training:
            logits = logits + torch.rand_like(logits)
        if self.flaw == "shape":
            logits = logits[:, :2]
        if self.flaw == "nan":
            logits = logits / 0.0 * 0.0
        if self.flaw != "unused":
            logits = logits + 1e-3 * (self.unused.weight.sum() + self.unused.bias.sum())
        return logits


@pytest.mark.parametrize(
    ("flaw", "fragment"),
    [
        ("mutates", "forward mutated batch.ids"),
        ("random", "not deterministic"),
        ("shape", "logits shape"),
        ("nan", "non-finite"),
        ("unused", "got no gradient"),
    ],
)
def test_check_model_catches_broken_models(flaw, fragment):
    torch.manual_seed(0)
    with pytest.raises(AssertionError, match=fragment):
        check_model(_Broken(flaw), random_batch(n=4, vocab_size=VOCAB))


def test_check_model_catches_missing_attributes():
    with pytest.raises(AssertionError, match="num_classes"):
        check_model(nn.Linear(2, 2), random_batch(n=2))


def test_check_model_restores_mode_and_clears_grads():
    model, batch = _build(CASES[0])
    model.eval()
    check_model(model, batch)
    assert not model.training
    assert all(p.grad is None for p in model.parameters())
