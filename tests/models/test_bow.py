import pytest
import torch

from ftlab.errors import ConfigError
from ftlab.models import BagOfEmbeddings
from ftlab.models._layers import combine_pair

from ._batches import batch_from, random_batch

# Embedding table with known rows: token t has vector [t, -t] (t = 0 is padding).
TABLE = torch.tensor([[float(t), -float(t)] for t in range(6)])


def _bow(pooling: str, **kw) -> BagOfEmbeddings:
    model = BagOfEmbeddings(6, 2, embed_dim=2, pooling=pooling, embeddings=TABLE, **kw)
    return model.eval()


@pytest.mark.parametrize(
    ("pooling", "expected"),
    [
        # rows [1, 2, 3] and [5] (padded): pads must not count in any pooling
        ("mean", [[2.0, -2.0], [5.0, -5.0]]),
        ("sum", [[6.0, -6.0], [5.0, -5.0]]),
        ("max", [[3.0, -1.0], [5.0, -5.0]]),  # max of -5 alone, not the pad's 0
    ],
)
def test_pooling_over_real_tokens_only(pooling, expected):
    model = _bow(pooling)
    batch = batch_from([[1, 2, 3], [5]], [0, 1], width=6)
    assert torch.allclose(model.encode(batch.ids, batch.mask), torch.tensor(expected))


@pytest.mark.parametrize("pooling", ["mean", "sum", "max"])
def test_padding_invariance(pooling):
    torch.manual_seed(0)
    model = BagOfEmbeddings(30, 3, embed_dim=8, pooling=pooling, hidden_dims=(8,)).eval()
    rows = [[4, 9, 2], [7]]
    short = model(batch_from(rows, [0, 1]))
    long = model(batch_from(rows, [0, 1], width=12))
    # Padding slots holding real token ids (mask 0) must not matter either.
    junk = model(batch_from(rows, [0, 1], width=7, fill=13))
    alone = model(batch_from(rows[1:], [1]))
    assert torch.allclose(short, long, atol=1e-6)
    assert torch.allclose(short, junk, atol=1e-6)
    assert torch.allclose(short[1:], alone, atol=1e-6)


def test_pretrained_embeddings_and_freeze():
    model = BagOfEmbeddings(6, 2, embeddings=TABLE, freeze_embeddings=True)
    assert model.embedding.embedding_dim == 2
    assert torch.equal(model.embedding.weight, TABLE)
    assert not model.embedding.weight.requires_grad
    batch = batch_from([[1, 2], [3]], [0, 1])
    torch.nn.functional.cross_entropy(model(batch), batch.labels).backward()
    assert model.embedding.weight.grad is None  # an optimizer step cannot move it
    assert model.head.out.weight.grad is not None
    trainable = BagOfEmbeddings(6, 2, embeddings=TABLE)
    assert trainable.embedding.weight.requires_grad


def test_pretrained_shape_mismatch():
    with pytest.raises(ConfigError, match="does not match vocab_size=7"):
        BagOfEmbeddings(7, 2, embeddings=TABLE)
    with pytest.raises(ConfigError, match="embed_dim=3"):
        BagOfEmbeddings(6, 2, embed_dim=3, embeddings=TABLE)


@pytest.mark.parametrize(("combine", "width"), [("concat", 2 * 8), ("concat_diff_prod", 4 * 8)])
def test_pair_mode(combine, width):
    model = BagOfEmbeddings(40, 3, embed_dim=8, text_pairs=True, pair_combine=combine).eval()
    assert model.head.in_dim == width
    batch = random_batch(n=4, pairs=True)
    assert model(batch).shape == (4, 3)
    # Swapping which side is which changes [u; v] (order matters for entailment-style tasks).
    swapped = batch_from([[1, 2]], [0], pairs=[[3]])
    other = batch_from([[3]], [0], pairs=[[1, 2]])
    assert not torch.allclose(model(swapped), model(other))


def test_pair_combine_features():
    model = _bow("mean", text_pairs=True, pair_combine="concat_diff_prod")
    u, v = torch.tensor([[1.0, -1.0]]), torch.tensor([[3.0, -3.0]])
    assert torch.equal(
        combine_pair(u, v, "concat_diff_prod"), torch.tensor([[1.0, -1, 3, -3, 2, 2, 3, 3]])
    )
    assert model.head.in_dim == 8


def test_pair_mismatch_errors():
    single = BagOfEmbeddings(40, 3, embed_dim=4)
    paired = BagOfEmbeddings(40, 3, embed_dim=4, text_pairs=True)
    with pytest.raises(ConfigError, match="text_pairs=True"):
        single(random_batch(pairs=True))
    with pytest.raises(ConfigError, match="no pair_ids"):
        paired(random_batch())


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"pooling": "avg"}, "pooling"),
        ({"pair_combine": "concat_diff"}, "Did you mean"),
        ({"pad_id": 40}, "pad_id"),
        ({"binary_mode": "sigmoid"}, "exactly 2"),
    ],
)
def test_rejects_bad_arguments(kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment):
        BagOfEmbeddings(40, 3, **kwargs)


def test_sigmoid_mode_has_one_output():
    model = BagOfEmbeddings(40, 2, embed_dim=4, binary_mode="sigmoid")
    assert model.num_outputs == 1 and model.num_classes == 2
    assert model(random_batch(n=3, num_classes=2)).shape == (3, 1)
