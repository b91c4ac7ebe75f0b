"""Error analysis tables and slice metrics."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ftlab.data import Example
from ftlab.errors import DataError
from ftlab.evaluation import error_analysis, slice_metrics

NAMES = ["neg", "pos"]


def _examples(n: int, lengths=None, meta=None) -> list[Example]:
    lengths = lengths or [10] * n
    return [Example(id=f"t-{i}", text="x" * lengths[i], label=None,
                    meta=(meta[i] if meta else {})) for i in range(n)]


# row: true label, p(pos)
#  0: neg 0.95 -> pred pos, wrong, prob 0.95   <- most confident mistake
#  1: neg 0.10 -> right
#  2: pos 0.20 -> pred neg, wrong, prob 0.80   <- second
#  3: pos 0.55 -> right, margin 0.10           <- least confident
#  4: neg 0.52 -> pred pos, wrong, prob 0.52, margin 0.04  <- least confident of all
#  5: pos 0.99 -> right
LABELS = np.array([0, 0, 1, 1, 0, 1])
POS = np.array([0.95, 0.10, 0.20, 0.55, 0.52, 0.99])
PROBS = np.c_[1 - POS, POS]


def test_most_confident_wrong_in_order():
    out = error_analysis(_examples(6), LABELS, PROBS, NAMES, k=2)
    rows = out["most_confident_wrong"]
    assert [r["id"] for r in rows] == ["t-0", "t-2"]
    assert rows[0] == {"id": "t-0", "text": "x" * 10, "label": "neg", "pred": "pos",
                       "prob": pytest.approx(0.95)}
    assert rows[1]["prob"] == pytest.approx(0.80) and rows[1]["pred"] == "neg"


def test_least_confident_by_margin_right_or_wrong():
    out = error_analysis(_examples(6), LABELS, PROBS, NAMES, k=2)
    rows = out["least_confident"]
    assert [r["id"] for r in rows] == ["t-4", "t-3"]
    assert rows[0]["margin"] == pytest.approx(0.04)
    assert rows[1]["margin"] == pytest.approx(0.10)


def test_k_caps_rows_and_text_pairs_are_kept():
    ex = [Example(id=str(i), text="q" * 2000, text_pair="passage", label=None) for i in range(6)]
    out = error_analysis(ex, LABELS, PROBS, NAMES, k=10)
    assert len(out["most_confident_wrong"]) == 3  # only 3 mistakes exist
    assert len(out["least_confident"]) == 6
    row = out["most_confident_wrong"][0]
    assert row["text_pair"] == "passage"
    assert len(row["text"]) == 1000 and row["text"].endswith("\u2026")  # long texts are cut


def test_misaligned_examples_raise():
    with pytest.raises(DataError, match="5 examples but 6 rows"):
        error_analysis(_examples(5), LABELS, PROBS, NAMES)
    with pytest.raises(DataError, match="5 examples but 6 rows"):
        slice_metrics(_examples(5), LABELS, PROBS)


def test_length_slices_are_readable_quantile_buckets():
    lengths = [10, 20, 30, 40, 50, 60, 70, 80]
    out = slice_metrics(_examples(8, lengths), np.array([0, 1] * 4), np.tile([[0.7, 0.3]], (8, 1)),
                        label_names=NAMES, length_buckets=4)
    names = [s["slice"] for s in out["length"]]
    assert names[0].startswith("<= ") and names[-1].startswith("> ")
    assert all(name.endswith(" chars") for name in names)
    assert [s["n"] for s in out["length"]] == [2, 2, 2, 2]
    # every example predicts neg; label slices: accuracy = recall of the class
    assert out["label"] == [
        {"slice": "neg", "n": 4, "accuracy": 1.0, "precision": 0.5, "recall": 1.0,
         "f1": pytest.approx(2 / 3)},
        {"slice": "pos", "n": 4, "accuracy": 0.0, "precision": 0.0, "recall": 0.0, "f1": 0.0},
    ]


def test_identical_lengths_make_one_bucket():
    out = slice_metrics(_examples(4), np.array([0, 1, 0, 1]), np.tile([[0.4, 0.6]], (4, 1)))
    assert out["length"] == [{"slice": "10 chars", "n": 4, "accuracy": 0.5,
                              "macro_f1": pytest.approx(1 / 3)}]


def test_meta_column_slices_and_missing_values():
    meta = [{"source": "web"}, {"source": "web"}, {"source": "news"}, {}, {"source": "web"},
            {"source": "news"}]
    out = slice_metrics(_examples(6, meta=meta), LABELS, PROBS, columns=["source"])
    assert [(s["slice"], s["n"]) for s in out["source"]] == [("web", 3), ("news", 2),
                                                             ("(missing)", 1)]
    with pytest.raises(DataError, match="no example has meta column 'genre'.*'source'"):
        slice_metrics(_examples(6, meta=meta), LABELS, PROBS, columns=["genre"])


def test_many_valued_columns_are_grouped():
    n = 60
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, n)
    p = rng.dirichlet([1, 1], n)
    words = slice_metrics(_examples(n, meta=[{"user": f"u{i}"} for i in range(n)]), y, p,
                          columns=["user"])["user"]
    assert len(words) == 20 and words[-1]["slice"] == "(other)"
    assert sum(s["n"] for s in words) == n
    nums = slice_metrics(_examples(n, meta=[{"score": i * 1.5} for i in range(n)]), y, p,
                         columns=["score"])["score"]
    assert len(nums) == 4 and sum(s["n"] for s in nums) == n


@given(st.lists(st.integers(0, 500), min_size=1, max_size=50), st.integers(1, 6), st.data())
def test_slices_partition_the_examples(lengths, buckets, data):
    n = len(lengths)
    y = np.array(data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    p = np.random.default_rng(n).dirichlet([1, 1, 1], n)
    out = slice_metrics(_examples(n, lengths), y, p, length_buckets=buckets)
    for key in ("length", "label"):
        assert sum(s["n"] for s in out[key]) == n
        assert all(s["n"] > 0 for s in out[key])
    assert len(out["length"]) <= buckets
    assert len({s["slice"] for s in out["length"]}) == len(out["length"])  # distinct names
    # the per-bucket accuracies recombine into the overall accuracy
    overall = np.mean(p.argmax(1) == y)
    assert sum(s["n"] * s["accuracy"] for s in out["length"]) / n == pytest.approx(overall)
