"""build_optimizer: weight-decay grouping, explicit param groups, errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ftlab.errors import ConfigError
from ftlab.training import build_optimizer


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.ln = nn.LayerNorm(4)  # a norm layer whose name lacks "norm"
        self.bn = nn.BatchNorm1d(4)
        self.final_norm_scale = nn.Parameter(torch.ones(4, 4))  # 2-D, but named "norm"
        self.fc = nn.Linear(4, 3)
        self.frozen = nn.Linear(4, 4)
        self.frozen.requires_grad_(False)


def _names(opt):
    return {wd: set(g["param_names"]) for g in opt.param_groups for wd in [g["weight_decay"]]}


def test_weight_decay_skips_biases_norms_and_1d_params_but_not_embeddings():
    opt = build_optimizer(_Net(), name="adamw", lr=1e-3, weight_decay=0.1)
    groups = _names(opt)
    assert groups[0.1] == {"emb.weight", "fc.weight"}
    assert groups[0.0] == {
        "ln.weight", "ln.bias", "bn.weight", "bn.bias", "final_norm_scale", "fc.bias"
    }
    assert isinstance(opt, torch.optim.AdamW)
    assert all("frozen" not in n for names in groups.values() for n in names)


def test_decay_actually_shrinks_only_decayed_weights():
    net = nn.Linear(3, 3)
    w, b = net.weight.detach().clone(), net.bias.detach().clone()
    opt = build_optimizer(net, name="sgd", lr=0.5, weight_decay=0.1)
    (net.weight.sum() * 0 + net.bias.sum() * 0).backward()  # zero gradients
    opt.step()
    assert torch.allclose(net.weight, w * (1 - 0.5 * 0.1))
    assert torch.equal(net.bias, b)


def test_explicit_param_groups_for_layer_wise_rates():
    net = _Net()
    opt = build_optimizer(
        [
            {"params": list(net.emb.named_parameters(prefix="emb")), "lr": 1e-4},
            {"params": list(net.fc.named_parameters(prefix="fc"))},
        ],
        name="sgd", lr=1e-2, weight_decay=0.05, momentum=0.9, nesterov=True,
    )
    summary = sorted(
        (g["lr"], g["weight_decay"], tuple(g["param_names"])) for g in opt.param_groups
    )
    assert summary == [
        (1e-4, 0.05, ("emb.weight",)), (1e-2, 0.0, ("fc.bias",)), (1e-2, 0.05, ("fc.weight",))
    ]
    bare = build_optimizer([{"params": [net.fc.weight], "weight_decay": 0.3}], name="adam", lr=1e-3,
                           weight_decay=0.1)
    assert bare.param_groups[0]["weight_decay"] == 0.3 and isinstance(bare, torch.optim.Adam)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"name": "lamb", "lr": 1e-3}, "must be one of"),
        ({"name": "adamw", "lr": 0.0}, "lr must be > 0"),
        ({"name": "adamw", "lr": 1e-3, "weight_decay": -1.0}, "weight_decay must be >= 0"),
        ({"name": "sgd", "lr": 1e-3, "nesterov": True}, "nesterov=True needs"),
    ],
)
def test_bad_arguments(kwargs, fragment):
    with pytest.raises(ConfigError, match=None) as info:
        build_optimizer(nn.Linear(2, 2), **kwargs)
    assert fragment in str(info.value)


def test_no_trainable_parameter():
    net = nn.Linear(2, 2).requires_grad_(False)
    with pytest.raises(ConfigError, match="no trainable parameter"):
        build_optimizer(net, name="adamw", lr=1e-3)
