import pytest
import torch

from ftlab.errors import ConfigError, DataError
from ftlab.models import RNNClassifier

from ._batches import batch_from, random_batch

ROWS = [[4, 9, 2, 7, 5], [7], [3, 3, 8]]


def _rnn(**kw) -> RNNClassifier:
    torch.manual_seed(0)
    base = dict(embed_dim=6, hidden_size=5)
    return RNNClassifier(30, 3, **{**base, **kw}).eval()


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_padding_invariance(cell, bidirectional, pooling):
    model = _rnn(cell=cell, bidirectional=bidirectional, pooling=pooling, num_layers=2,
                 dropout=0.3)
    labels = [0, 1, 2]
    short = model(batch_from(ROWS, labels))
    long = model(batch_from(ROWS, labels, width=11))
    junk = model(batch_from(ROWS, labels, width=8, fill=13))  # real ids in masked slots
    alone = torch.cat([model(batch_from([r], [0])) for r in ROWS])
    assert torch.allclose(short, long, atol=1e-6)
    assert torch.allclose(short, junk, atol=1e-6)
    assert torch.allclose(short, alone, atol=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_last_pooling_is_the_final_hidden_state_of_each_direction(cell):
    model = _rnn(cell=cell, bidirectional=True)
    row = torch.tensor([ROWS[0]])
    out, _ = model.rnn(model.embedding(row))  # (1, T, 2H) on the unpadded sequence
    h = model.rnn.hidden_size
    expected = torch.cat([out[:, -1, :h], out[:, 0, h:]], dim=1)  # forward end, backward start
    batch = batch_from(ROWS, [0, 1, 2], width=9)
    got = model.encode(batch.ids, batch.mask)[:1]
    assert torch.allclose(got, expected, atol=1e-6)


def test_mean_and_max_pool_real_outputs_only():
    model = _rnn(pooling="mean")
    row = torch.tensor([ROWS[2]])
    out, _ = model.rnn(model.embedding(row))
    batch = batch_from(ROWS, [0, 1, 2], width=9)
    assert torch.allclose(model.encode(batch.ids, batch.mask)[2:], out.mean(1), atol=1e-6)
    model.pooling = "max"
    assert torch.allclose(model.encode(batch.ids, batch.mask)[2:], out.max(1).values, atol=1e-6)


@pytest.mark.parametrize(("combine", "factor"), [("concat", 2), ("concat_diff_prod", 4)])
def test_pair_mode(combine, factor):
    model = _rnn(bidirectional=True, text_pairs=True, pair_combine=combine)
    assert model.head.in_dim == factor * 2 * 5
    assert model(random_batch(n=4, vocab_size=30, pairs=True)).shape == (4, 3)
    with pytest.raises(ConfigError, match="no pair_ids"):
        model(random_batch(n=4, vocab_size=30))


def test_empty_row_is_a_data_error():
    model = _rnn()
    batch = batch_from([[1, 2], [3]], [0, 1])
    batch.mask[1] = 0
    with pytest.raises(DataError, match=r"rows \[1\]"):
        model(batch)


def test_single_layer_dropout_does_not_warn(recwarn):
    model = _rnn(dropout=0.5, num_layers=1)
    assert model.rnn.dropout == 0.0 and model.drop.p == 0.5
    assert not [w for w in recwarn if "dropout" in str(w.message)]


def test_frozen_pretrained_embeddings():
    table = torch.randn(30, 4)
    model = RNNClassifier(30, 2, embeddings=table, freeze_embeddings=True, hidden_size=3)
    assert torch.equal(model.embedding.weight, table)
    assert not model.embedding.weight.requires_grad


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"cell": "lsmt"}, "Did you mean 'lstm'"),
        ({"pooling": "first"}, "pooling"),
        ({"num_layers": 0}, "num_layers"),
        ({"hidden_size": -1}, "hidden_size"),
        ({"dropout": 1.5}, "dropout"),
    ],
)
def test_rejects_bad_arguments(kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment):
        RNNClassifier(30, 3, **kwargs)
