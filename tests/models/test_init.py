import pytest
import torch
from torch import nn

from ftlab.errors import ConfigError
from ftlab.models import INIT_SCHEMES, BagOfEmbeddings, build_model, init_weights

FAN_IN, FAN_OUT = 400, 600  # 240k weights: the variance estimate is within ~1%


def _linear(scheme: str) -> nn.Linear:
    torch.manual_seed(0)
    layer = nn.Linear(FAN_IN, FAN_OUT)
    nn.init.normal_(layer.bias)  # init_weights must reset it
    init_weights(layer, scheme)
    return layer


@pytest.mark.parametrize(
    ("scheme", "variance"),
    [
        ("xavier_uniform", 2 / (FAN_IN + FAN_OUT)),
        ("xavier_normal", 2 / (FAN_IN + FAN_OUT)),
        ("kaiming_uniform", 2 / FAN_IN),
        ("kaiming_normal", 2 / FAN_IN),
        ("uniform_fan_in", 1 / (3 * FAN_IN)),
    ],
)
def test_weight_variance_matches_the_scheme(scheme, variance):
    layer = _linear(scheme)
    assert layer.weight.var().item() == pytest.approx(variance, rel=0.05)
    assert layer.weight.mean().abs().item() < 0.02 * variance**0.5  # SE of mean is std/490
    assert torch.count_nonzero(layer.bias) == 0


def test_uniform_fan_in_bounds():
    w = _linear("uniform_fan_in").weight
    bound = 1 / FAN_IN**0.5
    assert w.abs().max().item() <= bound
    assert w.abs().max().item() > 0.99 * bound  # really uniform over the whole interval


def test_default_leaves_pytorch_init():
    torch.manual_seed(0)
    layer = nn.Linear(8, 4)
    before = [p.detach().clone() for p in layer.parameters()]
    init_weights(layer, "default")
    assert all(torch.equal(a, b) for a, b in zip(before, layer.parameters()))


@pytest.mark.parametrize("scheme", ["zeros", "zero", "Zeros", "constant"])
def test_zero_init_is_refused_with_the_symmetry_explanation(scheme):
    with pytest.raises(ConfigError) as info:
        init_weights(nn.Linear(4, 4), scheme)
    msg = str(info.value)
    assert "symmetry" in msg and "same gradient" in msg and "single unit" in msg
    assert "xavier_uniform" in msg


def test_zero_init_is_refused_by_build_model():
    with pytest.raises(ConfigError, match="symmetry"):
        build_model("bow", vocab_size=10, pad_id=0, num_classes=2, init="zeros")


def test_unknown_scheme_names_the_closest():
    with pytest.raises(ConfigError, match="Did you mean 'xavier_uniform'"):
        init_weights(nn.Linear(4, 4), "xavier_unifrom")


def test_embeddings_and_norms_untouched():
    torch.manual_seed(0)
    model = BagOfEmbeddings(20, 3, embed_dim=6, hidden_dims=(6,), norm="layer")
    emb = model.embedding.weight.detach().clone()
    init_weights(model, "kaiming_normal")
    assert torch.equal(model.embedding.weight, emb)
    ln = model.head.blocks[0].norm
    assert torch.equal(ln.weight, torch.ones(6)) and torch.equal(ln.bias, torch.zeros(6))


@pytest.mark.parametrize("scheme", [s for s in INIT_SCHEMES if s != "default"])
def test_rnn_init(scheme):
    torch.manual_seed(0)
    h = 8
    lstm = nn.LSTM(5, h, num_layers=2, bidirectional=True)
    init_weights(lstm, scheme)
    for name, p in lstm.named_parameters():
        if name.startswith("weight_hh"):
            for chunk in p.detach().split(h):  # each gate's (H, H) matrix is orthogonal
                assert torch.allclose(chunk @ chunk.T, torch.eye(h), atol=1e-5)
        elif name.startswith("bias_ih"):
            assert torch.equal(p[h : 2 * h], torch.ones(h))  # forget gate
            assert torch.count_nonzero(p) == h
        elif name.startswith("bias_hh"):
            assert torch.count_nonzero(p) == 0
    gru = nn.GRU(5, h)
    init_weights(gru, scheme)
    assert torch.count_nonzero(gru.bias_ih_l0) == 0


def test_build_model_applies_init():
    model = build_model(
        "bow", vocab_size=10, pad_id=0, num_classes=2, init="uniform_fan_in", embed_dim=16
    )
    w = model.head.out.weight
    assert w.abs().max().item() <= 1 / 16**0.5
    assert torch.count_nonzero(model.head.out.bias) == 0
