"""Splits: seeded, stratified, exhaustive, and respectful of the source's own splits."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ftlab.data import Example, complete_splits, split_examples, subsample_examples
from ftlab.errors import ConfigError, DataError


def _pool(counts: dict[str, int], prefix: str = "x") -> list[Example]:
    out = []
    for label, n in counts.items():
        out += [Example(f"{prefix}-{label}-{i}", f"{label} text {i}", label) for i in range(n)]
    return out


def test_same_seed_same_split_and_different_seed_differs():
    pool = _pool({"a": 60, "b": 40})
    assert split_examples(pool, seed=1) == split_examples(pool, seed=1)
    assert split_examples(pool, seed=1) != split_examples(pool, seed=2)


def test_pinned_split_is_machine_independent():
    # pins the exact ids drawn: a change in the RNG or allocation would show here
    pool = _pool({"a": 6, "b": 4})
    out = split_examples(pool, validation=2, test=2, seed=0)
    assert [e.id for e in out["validation"]] == ["x-a-3", "x-b-1"]
    assert [e.id for e in out["test"]] == ["x-a-2", "x-b-3"]


def test_stratified_proportions():
    pool = _pool({"a": 700, "b": 200, "c": 100})
    out = split_examples(pool, validation=0.1, test=0.2, seed=0)
    assert Counter(e.label for e in out["validation"]) == {"a": 70, "b": 20, "c": 10}
    assert Counter(e.label for e in out["test"]) == {"a": 140, "b": 40, "c": 20}


def test_absolute_counts_and_unstratified():
    pool = _pool({"a": 30, "b": 20})
    out = split_examples(pool, validation=7, test=5, stratify=False, seed=3)
    assert (len(out["validation"]), len(out["test"]), len(out["train"])) == (7, 5, 38)


@given(counts=st.lists(st.integers(1, 30), min_size=1, max_size=5),
       val=st.floats(0, 0.4), test=st.floats(0, 0.4), seed=st.integers(0, 2**32 - 1),
       stratify=st.booleans())
def test_every_example_in_exactly_one_split(counts, val, test, seed, stratify):
    pool = _pool({f"l{i}": n for i, n in enumerate(counts)})
    try:
        out = split_examples(pool, validation=val, test=test, seed=seed, stratify=stratify)
    except ConfigError:
        assert round(val * len(pool)) + round(test * len(pool)) >= len(pool)
        return
    ids = [e.id for part in out.values() for e in part]
    assert sorted(ids) == sorted(e.id for e in pool)
    assert len(out["validation"]) == round(val * len(pool))
    assert len(out["test"]) == round(test * len(pool))


def test_bad_sizes():
    pool = _pool({"a": 10})
    with pytest.raises(ConfigError, match="no training"):
        split_examples(pool, validation=0.5, test=0.5)
    with pytest.raises(ConfigError, match="fraction"):
        split_examples(pool, validation=1.5)
    with pytest.raises(ConfigError):
        split_examples(pool, validation=True)


def test_complete_splits_keeps_full_source_splits():
    src = {"train": _pool({"a": 5, "b": 5}, "tr"), "dev": _pool({"a": 2}, "v"),
           "test": _pool({"b": 2}, "te")}
    out = complete_splits(src, validation=0.5, test=0.5, seed=0, stratify=True)
    assert out["train"] == src["train"] and out["validation"] == src["dev"]
    assert out["test"] == src["test"]


def test_complete_splits_carves_validation_from_train():
    src = {"train": _pool({"a": 50, "b": 50}, "tr"), "test": _pool({"a": 3}, "te")}
    out = complete_splits(src, validation=0.2, test=0.5, seed=0, stratify=True)
    assert out["test"] == src["test"]
    assert len(out["validation"]) == 20 and len(out["train"]) == 80
    assert Counter(e.label for e in out["validation"]) == {"a": 10, "b": 10}
    assert not {e.id for e in out["validation"]} & {e.id for e in out["train"]}


def test_complete_splits_splits_one_pool_three_ways():
    for key in ("all", "train"):
        out = complete_splits({key: _pool({"a": 50, "b": 50})}, validation=0.1, test=0.1,
                              seed=0, stratify=True)
        assert [len(out[k]) for k in ("train", "validation", "test")] == [80, 10, 10]


def test_complete_splits_errors():
    with pytest.raises(DataError, match="no training data"):
        complete_splits({"test": _pool({"a": 3})})
    dup = [Example("same", "a", "x"), Example("same", "b", "y")]
    with pytest.raises(DataError, match="duplicate id"):
        complete_splits({"train": dup, "validation": dup[:1], "test": dup[:1]})


def test_subsample_is_seeded_and_stratified():
    pool = _pool({"a": 80, "b": 20})
    sub = subsample_examples(pool, 10, seed=5)
    assert sub == subsample_examples(pool, 10, seed=5)
    assert Counter(e.label for e in sub) == {"a": 8, "b": 2}
    assert subsample_examples(pool, 1000) == pool
