import pytest
import torch
from torch import nn

from ftlab.errors import ConfigError, TrainingError
from ftlab.models import MLPHead


@pytest.mark.parametrize("norm", ["none", "batch", "layer"])
@pytest.mark.parametrize("activation", ["relu", "gelu", "tanh", "leaky_relu"])
def test_shapes(norm, activation):
    head = MLPHead(6, 3, hidden_dims=(5, 5), activation=activation, norm=norm, dropout=0.1)
    assert head(torch.randn(4, 6)).shape == (4, 3)


def test_no_hidden_layers_is_a_linear_classifier():
    head = MLPHead(6, 2)
    assert len(head.blocks) == 0
    x = torch.randn(3, 6)
    assert torch.allclose(head(x), x @ head.out.weight.T + head.out.bias)


def test_residual_only_where_widths_match():
    head = MLPHead(4, 2, hidden_dims=(4, 8, 8), residual=True)
    assert [b.residual for b in head.blocks] == [True, False, True]
    block = head.blocks[0]
    x = torch.randn(3, 4)
    assert torch.allclose(block(x), x + torch.relu(block.linear(x)))
    plain = MLPHead(4, 2, hidden_dims=(4,), residual=False).blocks[0]
    assert torch.allclose(plain(x), torch.relu(plain.linear(x)))


def test_batch_norm_refuses_a_single_training_example():
    head = MLPHead(4, 2, hidden_dims=(3,), norm="batch")
    with pytest.raises(TrainingError, match="norm='layer'"):
        head(torch.randn(1, 4))
    assert head.eval()(torch.randn(1, 4)).shape == (1, 2)  # running statistics in eval


def test_norm_layers_are_built():
    assert isinstance(MLPHead(4, 2, hidden_dims=(3,), norm="batch").blocks[0].norm, nn.BatchNorm1d)
    assert isinstance(MLPHead(4, 2, hidden_dims=(3,), norm="layer").blocks[0].norm, nn.LayerNorm)


def test_dropout_active_only_in_training():
    torch.manual_seed(0)
    head = MLPHead(8, 2, hidden_dims=(64,), dropout=0.5)
    x = torch.randn(4, 8)
    head.eval()
    assert torch.equal(head(x), head(x))
    head.train()
    assert not torch.equal(head(x), head(x))


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"hidden_dims": (4, 0)}, r"hidden_dims\[1\]"),
        ({"activation": "rellu"}, "Did you mean 'relu'"),
        ({"norm": "batchnorm"}, "norm"),
        ({"dropout": 1.0}, "0 <= p < 1"),
        ({"dropout": -0.1}, "0 <= p < 1"),
    ],
)
def test_rejects_bad_arguments(kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment):
        MLPHead(4, 2, **kwargs)


def test_rejects_bad_widths():
    with pytest.raises(ConfigError, match="in_dim"):
        MLPHead(0, 2)
    with pytest.raises(ConfigError, match="num_outputs"):
        MLPHead(4, 0)
