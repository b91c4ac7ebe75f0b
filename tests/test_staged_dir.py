"""core.staged_dir: a directory appears whole or not at all (exports use it)."""

from __future__ import annotations

import pytest

from ftlab.core import staged_dir


def test_a_finished_block_publishes_the_directory(tmp_path):
    out = tmp_path / "export"
    with staged_dir(out) as tmp:
        assert tmp.parent == tmp_path and tmp != out and not out.exists()
        (tmp / "model.onnx").write_text("x")
    assert (out / "model.onnx").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]  # no temp left behind


def test_an_error_leaves_nothing_and_an_empty_target_as_it_was(tmp_path):
    out = tmp_path / "export"
    out.mkdir()
    with pytest.raises(RuntimeError), staged_dir(out) as tmp:
        (tmp / "half.bin").write_text("x")
        raise RuntimeError("killed mid-export")
    assert out.is_dir() and not any(out.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]


def test_a_non_empty_target_is_never_replaced(tmp_path):
    out = tmp_path / "export"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(OSError), staged_dir(out) as tmp:
        (tmp / "model.onnx").write_text("x")
    assert (out / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]
