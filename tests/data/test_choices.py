"""Multiple-choice data: reading choices from every format, the WinoGrande and COPA schemas,
the row checks (one line naming file, line, field and fix), the built-in task, and properties
of the reader and of (B, N, T) batching."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftlab.batching import collate
from ftlab.core import Encoded
from ftlab.data import check_splits, load_builtin, load_dataset, read_file, read_rows
from ftlab.errors import DataError


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


ROWS = [{"q": "pick a fruit", "opts": ["hammer", "apple", "red"], "label": 1},
        {"q": "pick a colour", "opts": ["blue", "saw", "plum"], "label": 0}]


def test_list_field_columns_and_parquet_read_the_same(tmp_path: Path) -> None:
    a = read_file(_jsonl(tmp_path / "a.jsonl", ROWS), text_column="q", choices="opts")
    lines = ["q,o1,o2,o3,label"] + [f"{r['q']},{','.join(r['opts'])},{r['label']}" for r in ROWS]
    (tmp_path / "b.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    b = read_file(tmp_path / "b.csv", text_column="q", choices=["o1", "o2", "o3"])
    assert [(e.text, e.choices, e.label) for e in a] == [(e.text, e.choices, e.label) for e in b]
    assert a[0].choices == ("hammer", "apple", "red") and a[0].label == "1"
    pq = pytest.importorskip("pyarrow.parquet")
    pa = pytest.importorskip("pyarrow")
    pq.write_table(pa.table({"q": [r["q"] for r in ROWS], "opts": [r["opts"] for r in ROWS],
                             "label": [r["label"] for r in ROWS]}), tmp_path / "c.parquet")
    c = read_file(tmp_path / "c.parquet", text_column="q", choices="opts")
    assert [(e.text, e.choices, e.label) for e in c] == [(e.text, e.choices, e.label) for e in a]
    # a CSV list column holds a JSON array as text
    (tmp_path / "d.csv").write_text('q,opts,label\nx,"[""a"", ""b""]",b\n', encoding="utf-8")
    d = read_file(tmp_path / "d.csv", text_column="q", choices="opts", choice_label="text")
    assert d[0].choices == ("a", "b") and d[0].label == "1"


def test_winogrande_schema_cuts_the_sentence_at_the_blank(tmp_path: Path) -> None:
    rows = [{"sentence": "The trophy did not fit in the case because the _ was too big.",
             "option1": "trophy", "option2": "case", "answer": "1"},
            {"sentence": "Sam thanked Ann because _ had helped.", "option1": "Sam",
             "option2": "Ann", "answer": "2"}]
    exs = read_file(_jsonl(tmp_path / "wino.jsonl", rows), preset="winogrande")
    assert exs[0].text == "The trophy did not fit in the case because the"
    assert exs[0].choices == ("trophy was too big.", "case was too big.")
    assert [e.label for e in exs] == ["0", "1"]  # 1-based answers become 0-based indices
    # a blank at the start leaves an empty context: still an item (the choices hold the text)
    first = _jsonl(tmp_path / "first.jsonl", [{**rows[1], "sentence": "_ had helped Sam."}])
    (item,) = read_file(first, preset="winogrande")
    assert item.text == "" and item.choices == ("Sam had helped Sam.", "Ann had helped Sam.")
    assert not check_splits({"train": [item, *exs]}).stats["train"].empty
    bad = _jsonl(tmp_path / "nob.jsonl", [{**rows[0], "sentence": "no blank here"}])
    with pytest.raises(DataError, match=r"line 1: the WinoGrande sentence must hold exactly one"):
        read_file(bad, preset="winogrande")


def test_copa_schema_joins_premise_and_question(tmp_path: Path) -> None:
    (tmp_path / "copa.csv").write_text(
        "premise,choice1,choice2,question,label\n"
        "The man broke his toe.,He dropped a hammer on his foot.,He got a hole in his sock.,"
        "cause,0\n"
        "I tipped the bottle.,The liquid fell out.,The bottle broke.,effect,0\n",
        encoding="utf-8")
    exs = read_file(tmp_path / "copa.csv", preset="copa")
    assert [e.text for e in exs] == ["The man broke his toe because", "I tipped the bottle so"]
    assert exs[0].choices == ("He dropped a hammer on his foot.", "He got a hole in his sock.")
    rows = [{"premise": "It rained.", "choice1": "a", "choice2": "b", "question": "why",
             "label": 1}]
    with pytest.raises(DataError, match="'question' must be 'cause' or 'effect'"):
        read_rows(rows, source="hf:copa[train]", preset="copa")


BAD = {
    "count": ([{"q": "a", "opts": ["x", "y"], "label": 0},
               {"q": "b", "opts": ["x", "y", "z"], "label": 0}],
              r"line 2: 3 choices, but line 1 has 2"),
    "empty": ([{"q": "a", "opts": ["x", " "], "label": 0}], r"line 1: choice 'opts\[1\]' is empty"),
    "range": ([{"q": "a", "opts": ["x", "y"], "label": 2}],
              r"line 1: label field 'label' is '2', out of range for 2 choices"),
    "duplicate": ([{"q": "a", "opts": ["Same", "same "], "label": 0}],
                  r"line 1: choices 0 and 1 are the same text"),
    "not_a_list": ([{"q": "a", "opts": "x", "label": 0}], r"line 1: field 'opts' .* must be a list"),
    "one_choice": ([{"q": "a", "opts": ["x"], "label": 0}], r"line 1: 1 choice\(s\)"),
    "not_a_number": ([{"q": "a", "opts": ["x", "y"], "label": "x"}], r"not a choice number"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_choice_rows_are_one_line_errors(tmp_path: Path, case: str) -> None:
    rows, pattern = BAD[case]
    path = _jsonl(tmp_path / "bad.jsonl", rows)
    with pytest.raises(DataError, match=pattern) as info:
        read_file(path, text_column="q", choices="opts")
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg  # one line, naming the file


def test_choice_counts_must_agree_across_splits() -> None:
    from ftlab.core import Example

    train = [Example(id=f"t{i}", text="c", label=str(i % 2), choices=("a", f"b{i}"))
             for i in range(4)]
    test = [Example(id="x", text="c", label="2", choices=("a", "b", "c"))]
    report = check_splits({"train": train, "test": test})
    # position 2 never answers a train item, yet it is a valid position: only the count errs
    assert [f.code for f in report.errors] == ["choice_count"]
    assert not check_splits({"train": train, "test": train[:1]}).errors


def test_builtin_task_is_seeded_and_uniform_over_positions() -> None:
    a = load_builtin("category_choice", size=400, num_choices=3, seed=5)["all"]
    b = load_builtin("category_choice", size=400, num_choices=3, seed=5)["all"]
    assert a == b and all(len(e.choices or ()) == 3 for e in a)
    positions = [int(e.label or 0) for e in a]
    assert all(70 < positions.count(k) < 200 for k in range(3))
    right = [e.choices[int(e.label)] for e in a if e.choices and e.label is not None]
    assert len(right) == 400
    splits = load_dataset("builtin:category_choice", builtin_options={"size": 60}, seed=0)
    assert sum(map(len, splits.values())) == 60 and splits["test"][0].choices is not None


_text = st.text(alphabet="abcdefgh ", min_size=1, max_size=8).filter(lambda s: s.strip())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(_text, st.lists(_text, min_size=3, max_size=3,
                                               unique_by=lambda s: " ".join(s.split()).casefold()),
                               st.integers(0, 2)), min_size=1, max_size=6))
def test_reader_keeps_choices_and_labels(tmp_path: Path, rows: list) -> None:
    path = _jsonl(tmp_path / "p.jsonl", [{"q": q, "opts": c, "label": y} for q, c, y in rows])
    exs = read_file(path, text_column="q", choices="opts")
    assert [(e.text, list(e.choices or ()), e.label) for e in exs] == \
        [(q, c, str(y)) for q, c, y in rows]
    # the same answers given as text, and as 1-based indices, read to the same labels
    as_text = _jsonl(tmp_path / "t.jsonl", [{"q": q, "opts": c, "label": c[y]} for q, c, y in rows])
    assert [e.label for e in read_file(as_text, text_column="q", choices="opts",
                                       choice_label="text")] == [e.label for e in exs]
    one = _jsonl(tmp_path / "o.jsonl", [{"q": q, "opts": c, "label": y + 1} for q, c, y in rows])
    assert [e.label for e in read_file(one, text_column="q", choices="opts",
                                       choice_label="index_1")] == [e.label for e in exs]


@settings(max_examples=60, deadline=None)
@given(items=st.lists(st.lists(st.lists(st.integers(1, 50), min_size=1, max_size=9),
                               min_size=2, max_size=2), min_size=1, max_size=5))
def test_choice_batches_pad_to_the_longest_pair(items: list) -> None:
    encoded = [Encoded(index=i, ids=[1], label=i % 2, choices=ch) for i, ch in enumerate(items)]
    # bucketing key: the longest (context, choice) sequence, times the 2 choices it pads
    assert [e.length for e in encoded] == [2 * max(map(len, ch)) for ch in items]
    batch = collate(encoded, pad_id=0)
    width = max(e.length for e in encoded) // 2
    assert batch.n_padded == len(items) * 2 * width
    assert batch.ids.shape == (len(items), 2, width) and batch.num_choices == 2
    assert torch.equal(batch.mask.sum(-1), batch.lengths)
    for i, ch in enumerate(items):
        for k, seq in enumerate(ch):
            assert batch.ids[i, k, :len(seq)].tolist() == seq
            assert not batch.ids[i, k, len(seq):].any()
    with pytest.raises(DataError, match="same number of choices"):
        collate([*encoded, Encoded(index=99, ids=[1], label=0, choices=[[1], [2], [3]])])


@settings(max_examples=40, deadline=None)
@given(longest=st.lists(st.integers(1, 12), min_size=2, max_size=30),
       n=st.integers(2, 4), budget=st.integers(24, 120), seed=st.integers(0, 9))
def test_token_budget_counts_every_padded_choice(longest: list, n: int, budget: int,
                                                 seed: int) -> None:
    from ftlab.batching import BucketBatchSampler

    # item i: N choices, the last of them the longest (length longest[i])
    encoded = [Encoded(index=i, ids=[1], label=0,
                       choices=[[1] * max(1, k - 1)] * (n - 1) + [[1] * k])
               for i, k in enumerate(longest)]
    sampler = BucketBatchSampler([e.length for e in encoded], batch_size=None,
                                 max_tokens=budget, seed=seed, maxi_batch=4)
    seen = []
    for idx in sampler.epoch_batches():
        batch = collate([encoded[i] for i in idx])
        # what the batch really holds (B x N x T) stays within the budget, unless one item
        # alone exceeds it
        assert batch.n_padded <= budget or len(idx) == 1
        seen += idx
    assert sorted(seen) == list(range(len(longest)))
