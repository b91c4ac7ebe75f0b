import pytest
import torch
from torch import nn

from ftlab.errors import ConfigError
from ftlab.models import (
    MODELS,
    BagOfEmbeddings,
    Model,
    RNNClassifier,
    build_model,
    count_parameters,
    register_model,
)

from ._batches import random_batch

COMMON = dict(vocab_size=40, pad_id=0, num_classes=3)


def test_builtin_families():
    assert {"bow", "rnn"} <= set(MODELS)
    bow = build_model("bow", **COMMON, pooling="max", embed_dim=8)
    rnn = build_model("rnn", **COMMON, cell="gru", embed_dim=8, hidden_size=4)
    assert isinstance(bow, BagOfEmbeddings) and bow.pooling == "max"
    assert isinstance(rnn, RNNClassifier) and rnn.cell == "gru"
    for model in (bow, rnn):
        assert isinstance(model, Model)
        assert (model.num_classes, model.num_outputs) == (3, 3)
        assert model(random_batch(n=2)).shape == (2, 3)


def test_binary_sigmoid_through_the_builder():
    model = build_model("rnn", **{**COMMON, "num_classes": 2}, binary_mode="sigmoid")
    assert (model.num_classes, model.num_outputs) == (2, 1)
    with pytest.raises(ConfigError, match="exactly 2"):
        build_model("rnn", **COMMON, binary_mode="sigmoid")


def test_unknown_family_names_the_closest():
    with pytest.raises(ConfigError, match="Did you mean 'bow'") as info:
        build_model("bwo", **COMMON)
    assert "registered families" in str(info.value)


def test_unknown_option_names_the_closest():
    with pytest.raises(ConfigError, match="Did you mean 'pooling'") as info:
        build_model("bow", **COMMON, poolin="max")
    assert "'poolin'" in str(info.value) and "'bow'" in str(info.value)
    with pytest.raises(ConfigError, match="Did you mean 'hidden_size'"):
        build_model("rnn", **COMMON, hiden_size=8)
    with pytest.raises(ConfigError, match="hidden_size"):  # an rnn option is not a bow option
        build_model("bow", **COMMON, hidden_size=8)


def test_bad_values_are_config_errors():
    with pytest.raises(ConfigError, match="at least 2"):
        build_model("bow", vocab_size=10, pad_id=0, num_classes=1)
    with pytest.raises(ConfigError, match="pad_id"):
        build_model("bow", vocab_size=10, pad_id=10, num_classes=2)
    with pytest.raises(ConfigError, match="vocab_size"):
        build_model("bow", vocab_size=0, pad_id=0, num_classes=2)


class _Tiny(nn.Module):
    def __init__(self, num_classes: int, width: int) -> None:
        super().__init__()
        self.num_classes = self.num_outputs = num_classes
        self.width = width
        self.linear = nn.Linear(1, num_classes)

    def forward(self, batch):
        return self.linear(batch.lengths.float().unsqueeze(1))


def test_register_model_is_open():
    seen = {}

    def builder(*, vocab_size, pad_id, num_classes, binary_mode, init, embeddings, width=2):
        seen.update(init=init, vocab_size=vocab_size)
        return _Tiny(num_classes, width)

    register_model("tiny", builder)
    try:
        model = build_model("tiny", **COMMON, init="xavier_normal", width=5)
        assert model.width == 5 and seen == {"init": "xavier_normal", "vocab_size": 40}
        with pytest.raises(ConfigError, match="Did you mean 'width'"):
            build_model("tiny", **COMMON, widht=5)
        with pytest.raises(ConfigError, match="already registered"):
            register_model("tiny", builder)
        register_model("tiny", lambda **kw: _Tiny(kw["num_classes"], 9), overwrite=True)
        assert build_model("tiny", **COMMON, anything=1).width == 9  # **kwargs builder: open
    finally:
        MODELS.pop("tiny", None)
    assert "tiny" not in MODELS


def test_builder_must_set_the_attributes():
    register_model("broken", lambda **kw: nn.Linear(1, 1))
    try:
        with pytest.raises(ConfigError, match="num_classes"):
            build_model("broken", **COMMON)
    finally:
        MODELS.pop("broken", None)
    with pytest.raises(ConfigError, match="callable"):
        register_model("nope", "not a function")


def test_count_parameters():
    model = build_model("bow", vocab_size=10, pad_id=0, num_classes=3, embed_dim=4)
    assert count_parameters(model) == (10 * 4 + 4 * 3 + 3, 10 * 4 + 4 * 3 + 3)
    frozen = build_model(
        "bow", vocab_size=10, pad_id=0, num_classes=3, embeddings=torch.zeros(10, 4),
        freeze_embeddings=True,
    )
    assert count_parameters(frozen) == (55, 15)
    tied = nn.Sequential(nn.Linear(2, 2, bias=False))
    tied.append(tied[0])
    assert count_parameters(tied) == (4, 4)
