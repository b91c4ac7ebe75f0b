"""Readers: exact round trips (hypothesis) and clear errors for malformed files."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ftlab.data import Example, detect_format, normalize_label, read_file
from ftlab.errors import DataError

# any unicode except lone surrogates (not encodable as UTF-8): commas, quotes, tabs, newlines
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
LABEL = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=10).filter(
    lambda s: s.strip() == s and s != ""
)
ROWS = st.lists(st.tuples(TEXT, TEXT, LABEL), min_size=1, max_size=15)


def _write_delimited(path: Path, rows, delimiter: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=delimiter)
        writer.writerow(["text", "pair", "label"])
        writer.writerows(rows)


def _write_jsonl(path: Path, rows, compress: bool = False) -> None:
    lines = "".join(json.dumps({"text": t, "pair": p, "label": y}, ensure_ascii=False) + "\n"
                    for t, p, y in rows).encode("utf-8")
    path.write_bytes(gzip.compress(lines) if compress else lines)


def _write_parquet(path: Path, rows) -> None:
    cols = list(zip(*rows, strict=True))
    pq.write_table(pa.table({"text": cols[0], "pair": cols[1], "label": cols[2]}), path)


WRITERS = {
    "data.csv": lambda p, r: _write_delimited(p, r, ","),
    "data.tsv": lambda p, r: _write_delimited(p, r, "\t"),
    "data.jsonl": _write_jsonl,
    "data.jsonl.gz": lambda p, r: _write_jsonl(p, r, compress=True),
    "data.parquet": _write_parquet,
}


@pytest.mark.parametrize("filename", list(WRITERS))
@given(rows=ROWS)
def test_round_trip_is_exact(tmp_path_factory, filename, rows):
    path = tmp_path_factory.mktemp("rt") / filename
    WRITERS[filename](path, rows)
    got = read_file(path, text_pair_column="pair", split="s")
    assert [(e.text, e.text_pair, e.label) for e in got] == [tuple(r) for r in rows]
    assert [e.id for e in got] == [f"s-{i}" for i in range(len(rows))]
    assert all(e.meta["source"] == str(path) for e in got)


def test_csv_line_numbers_follow_multiline_records(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text('text,label\n"two\nlines",a\nthird,b\n', encoding="utf-8")
    got = read_file(path)
    assert [e.meta["line"] for e in got] == [2, 4]
    assert got[0].text == "two\nlines"


def test_labels_are_normalised_to_strings(tmp_path):
    path = tmp_path / "d.jsonl"
    rows = [{"text": "a", "label": 1}, {"text": "b", "label": True}, {"text": "c", "label": 1.0},
            {"text": "d", "label": 2.5}, {"text": "e", "label": " pos "}]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    assert [e.label for e in read_file(path)] == ["1", "true", "1", "2.5", "pos"]
    assert normalize_label(False) == "false"
    assert normalize_label(float("nan")) is None


def test_parquet_int_labels_ids_and_extra_columns(tmp_path):
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"t": ["x", "y"], "y": [0, 1], "uid": [10, 11], "src": ["a", "b"]}),
                   path)
    got = read_file(path, text_column="t", label_column="y", id_column="uid",
                    extra_columns=["src"])
    assert got == [
        Example("10", "x", "0", meta={"src": "a", "source": str(path), "line": 1}),
        Example("11", "y", "1", meta={"src": "b", "source": str(path), "line": 2}),
    ]


def test_unlabelled_input_has_none_labels(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text\nhello\n", encoding="utf-8")
    assert read_file(path, label_column=None)[0].label is None


def test_json_array_and_bom_are_accepted(tmp_path):
    arr = tmp_path / "d.json"
    arr.write_text(json.dumps([{"text": "a", "label": "x"}]), encoding="utf-8")
    assert read_file(arr)[0].label == "x"
    bom = tmp_path / "b.csv"
    bom.write_bytes("\ufefftext,label\nq,1\n".encode())
    assert read_file(bom)[0].text == "q"


def test_detect_format():
    assert detect_format("x/train.JSONL.gz") == "jsonl"
    assert detect_format("a.tsv") == "tsv"
    assert detect_format("a.parquet") == "parquet"


# --- malformed input: every message names the file, the line and the field --------------------


def _error(path: Path, **kwargs) -> str:
    with pytest.raises(DataError) as info:
        read_file(path, **kwargs)
    return str(info.value)


def test_missing_column_lists_columns_and_closest_match(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("review,label\ngood,1\n", encoding="utf-8")
    msg = _error(path, text_column="reviews")
    assert "d.csv" in msg and "line 1" in msg and "'reviews'" in msg
    assert "Did you mean 'review'" in msg and "text_column" in msg


def test_missing_jsonl_field_names_line(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "a", "label": 1}\n{"txt": "b", "label": 0}\n', encoding="utf-8")
    msg = _error(path)
    assert "d.jsonl" in msg and "line 2" in msg and "'text'" in msg and "'txt'" in msg


def test_ragged_csv_row(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,label\nok,1\nnot, quoted, text,0\n", encoding="utf-8")
    msg = _error(path)
    assert "d.csv" in msg and "line 3" in msg
    assert "expected 2 fields" in msg and "got 4" in msg and "quote" in msg


def test_bad_json_line(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "a", "label": 1}\n\n{"text": "b", label: 0}\n', encoding="utf-8")
    msg = _error(path)
    assert "d.jsonl" in msg and "line 3" in msg and "invalid JSON" in msg and "label: 0" in msg


def test_non_object_json_line(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "a", "label": 1}\n["b", 0]\n', encoding="utf-8")
    msg = _error(path)
    assert "line 2" in msg and "JSON object" in msg and "list" in msg


def test_wrong_encoding_points_at_line_and_option(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes("text,label\nfine,1\ncafé,0\n".encode("latin-1"))
    msg = _error(path)
    assert "d.csv" in msg and "line 3" in msg and "byte offset" in msg
    assert "encoding: latin-1" in msg
    assert read_file(path, encoding="latin-1")[1].text == "café"


@pytest.mark.parametrize("content", ["", "  \n\n"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "d.jsonl"
    path.write_text(content, encoding="utf-8")
    msg = _error(path)
    assert "d.jsonl" in msg and "empty" in msg


def test_header_only_csv(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,label\n", encoding="utf-8")
    assert "no data rows" in _error(path)


def test_missing_and_empty_labels_all_reported(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,label\na,1\nb,\nc,  \n", encoding="utf-8")
    msg = _error(path)
    assert "2 bad row(s)" in msg and "line 3" in msg and "line 4" in msg and "'label'" in msg
    jl = tmp_path / "d.jsonl"
    jl.write_text('{"text": "a", "label": null}\n', encoding="utf-8")
    msg = _error(jl)
    assert "line 1" in msg and "missing" in msg and "label_column: null" in msg


def test_file_not_found_suggests_similar_names(tmp_path):
    (tmp_path / "train.jsonl").write_text("{}", encoding="utf-8")
    msg = _error(tmp_path / "trian.jsonl")
    assert "not found" in msg and "train.jsonl" in msg


def test_unsupported_suffix_and_directory(tmp_path):
    path = tmp_path / "d.xlsx"
    path.write_text("x", encoding="utf-8")
    msg = _error(path)
    assert "'.xlsx'" in msg and "format" in msg
    assert "directory" in _error(tmp_path, format="csv")


def test_duplicate_ids_and_bad_text_type(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": 1, "text": "a", "label": 1}\n{"id": 1, "text": "b", "label": 1}\n'
                    '{"id": 2, "text": ["x"], "label": 1}\n', encoding="utf-8")
    msg = _error(path, id_column="id")
    assert "line 2" in msg and "already used on line 1" in msg
    assert "line 3" in msg and "must be a string" in msg


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "d.jsonl.gz"
    path.write_bytes(b"not gzip at all")
    assert "could not be decompressed" in _error(path)


def test_not_parquet(tmp_path):
    path = tmp_path / "d.parquet"
    path.write_bytes(b"garbage")
    assert "not a readable Parquet file" in _error(path)


def test_parquet_missing_column(tmp_path):
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": ["a"], "labels": ["x"]}), path)
    msg = _error(path)
    assert "schema" in msg and "Did you mean 'labels'" in msg


def test_csv_malformed_quoting_gives_data_error(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text('text,label\n"unterminated,1\n', encoding="utf-8")
    msg = _error(path)
    assert "d.csv" in msg and "line 2" in msg


def test_tsv_read_as_csv_suggests_format(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text\tlabel\na\tb\n", encoding="utf-8")
    msg = _error(path)
    assert "line 1" in msg and "format: tsv" in msg
