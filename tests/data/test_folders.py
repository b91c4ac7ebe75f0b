"""Folder-per-class layouts: aclImdb-style splits and BBC-style label folders."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ftlab.data import read_folder
from ftlab.errors import DataError


def _write(root: Path, rel: str, text: str, encoding: str = "utf-8") -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))


def test_split_layout_skips_unsup_and_loose_files(tmp_path, caplog):
    for rel, text in [("train/pos/1_9.txt", "great"), ("train/pos/0_8.txt", "good"),
                      ("train/neg/0_2.txt", "bad"), ("train/unsup/0_0.txt", "???"),
                      ("train/urls_pos.txt", "http://x"), ("dev/neg/5_1.txt", "awful"),
                      ("test/pos/3_10.txt", "superb"), ("test/neg/4_1.txt", "dull")]:
        _write(tmp_path, rel, text)
    with caplog.at_level(logging.WARNING, logger="ftlab.data"):
        out = read_folder(tmp_path)
    assert set(out) == {"train", "validation", "test"}  # dev -> validation
    assert [e.id for e in out["train"]] == ["train/neg/0_2.txt", "train/pos/0_8.txt",
                                            "train/pos/1_9.txt"]
    assert [e.label for e in out["train"]] == ["neg", "pos", "pos"]
    assert out["test"][1].text == "superb"
    assert "train/unsup" in caplog.text


def test_label_layout_returns_all_and_filters_labels(tmp_path):
    _write(tmp_path, "sport/001.txt", "goal")
    _write(tmp_path, "tech/001.txt", "chip")
    _write(tmp_path, "misc/001.txt", "other")
    out = read_folder(tmp_path, labels=["sport", "tech"])
    assert list(out) == ["all"]
    assert [(e.id, e.label) for e in out["all"]] == [("sport/001.txt", "sport"),
                                                     ("tech/001.txt", "tech")]
    assert read_folder(tmp_path, split="train").keys() == {"train"}


def test_select_one_split(tmp_path):
    _write(tmp_path, "train/a/1.txt", "x")
    _write(tmp_path, "test/a/1.txt", "y")
    assert list(read_folder(tmp_path, split="test")) == ["test"]
    with pytest.raises(DataError, match="split 'dev' not found"):
        read_folder(tmp_path, split="dev")


def test_encoding_error_and_fallback(tmp_path):
    _write(tmp_path, "a/1.txt", "caf\u00e9", encoding="latin-1")
    _write(tmp_path, "b/1.txt", "ok")
    with pytest.raises(DataError) as info:
        read_folder(tmp_path)
    assert "1.txt" in str(info.value) and "encoding" in str(info.value)
    out = read_folder(tmp_path, fallback_encoding="latin-1")["all"]
    assert out[0].text == "caf\u00e9" and out[0].meta["encoding"] == "latin-1"
    assert read_folder(tmp_path, encoding="latin-1")["all"][0].text == "caf\u00e9"


def test_empty_or_missing_folder(tmp_path):
    with pytest.raises(DataError, match="no labelled"):
        read_folder(tmp_path)
    with pytest.raises(DataError, match="not found"):
        read_folder(tmp_path / "nope")
