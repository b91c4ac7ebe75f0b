import pytest

from ftlab.errors import FtlabError
from ftlab.preprocessing import CharTokenizer


def test_vocab_and_encode():
    tok = CharTokenizer().fit(["abba", "c"])
    assert tok.vocab == ["<pad>", "<unk>", "<sep>", "a", "b", "c"]
    assert tok.encode("abcz") == [3, 4, 5, 1]
    assert tok.tokenize("a b") == ["a", " ", "b"]


def test_min_freq_max_size_and_pairs():
    tok = CharTokenizer(min_freq=2).fit(["aab"])
    assert tok.vocab[3:] == ["a"]
    assert tok.build_inputs([3], [3]) == ([3, 2, 3], None)
    assert CharTokenizer(max_size=1).fit(["abb"]).vocab[3:] == ["b"]


def test_save_load(tmp_path):
    tok = CharTokenizer().fit(["héllo"])
    tok.save(tmp_path)
    assert CharTokenizer.load(tmp_path).encode("hé!") == tok.encode("hé!")


def test_unfitted_raises():
    with pytest.raises(FtlabError):
        CharTokenizer().encode("a")
    with pytest.raises(FtlabError):
        CharTokenizer().save("unused")
