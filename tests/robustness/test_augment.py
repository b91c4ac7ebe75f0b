"""``augment_examples``: seeded choice, only changed copies, records that replay the edits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftlab.data import Example
from ftlab.errors import ConfigError
from ftlab.robustness import apply_changes, augment_examples, build_pipeline


def _train(n: int) -> list[Example]:
    return [Example(id=f"t{i}", text=f"this movie number {i} was really good fun",
                    label="pos" if i % 2 else "neg") for i in range(n)]


def test_adds_n_changed_examples_with_labels_and_records():
    train = _train(50)
    added, records, stats = augment_examples(train, build_pipeline("char_swap:0.3"), 20, seed=3)
    assert len(added) == len(records) == 20
    assert stats == {"requested": 20, "added": 20, "tried": stats["tried"],
                     "unchanged": stats["tried"] - 20}
    by_id = {e.id: e for e in train}
    for ex, rec in zip(added, records):
        src = by_id[rec.source_id]
        assert ex.id == rec.id == f"{src.id}~aug0"
        assert ex.label == src.label and ex.text != src.text
        assert ex.meta["augmented_from"] == src.id
        assert apply_changes(src.text, rec.changes.text) == ex.text  # the record replays
        assert rec.to_dict()["changes"][0].keys() == {"start", "end", "before", "after"}
    assert len({r.source_id for r in records}) == 20  # without replacement within a round
    assert [e.text for e in train] == [e.text for e in _train(50)]  # inputs untouched


def test_deterministic_for_a_seed_and_tag_and_different_otherwise():
    train = _train(40)
    t = build_pipeline("typos:0.1")
    a = augment_examples(train, t, 10, seed=1)[0]
    b = augment_examples(train, t, 10, seed=1)[0]
    c = augment_examples(train, t, 10, seed=2)[0]
    d = augment_examples(train, t, 10, seed=1, tag="aug1")[0]
    assert a == b
    assert [e.id for e in a] != [e.id for e in c]
    assert [e.id.split("~")[0] for e in a] != [e.id.split("~")[0] for e in d]


def test_more_than_the_training_set_draws_further_rounds_with_new_ids():
    train = _train(8)
    added, records, stats = augment_examples(train, build_pipeline("char_swap:0.5"), 20, seed=0)
    assert len(added) == 20
    assert len({e.id for e in added}) == 20
    assert any(".1" in e.id.split("~")[1] for e in added)


def test_stops_short_when_nothing_can_change():
    # no listed name in these texts: the name swap changes none of them
    added, _, stats = augment_examples(_train(10), build_pipeline("names"), 5, seed=0)
    assert added == [] and stats["added"] == 0 and stats["unchanged"] == 10


def test_bad_arguments():
    with pytest.raises(ConfigError, match="n must be >= 1"):
        augment_examples(_train(3), build_pipeline("typos"), 0, seed=0)
    with pytest.raises(ConfigError, match="training split is empty"):
        augment_examples([], build_pipeline("typos"), 3, seed=0)


@settings(max_examples=25, deadline=None)
@given(n_train=st.integers(1, 30), n=st.integers(1, 40), seed=st.integers(0, 10**6))
def test_property_count_ids_unique_and_labels_kept(n_train, n, seed):
    train = _train(n_train)
    added, records, stats = augment_examples(train, build_pipeline("char_swap:0.5"), n, seed=seed)
    assert len(added) == stats["added"] <= n
    assert len({e.id for e in added}) == len(added)
    assert not ({e.id for e in added} & {e.id for e in train})
    labels = {e.id: e.label for e in train}
    assert all(e.label == labels[r.source_id] for e, r in zip(added, records))
