"""Atomic JSON files for fitted preprocessing state (vocabularies, label maps, encoder settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ftlab.core import atomic_write_json
from ftlab.core import read_json as _read_json
from ftlab.errors import CheckpointError

__all__ = ["write_json", "read_json"]


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as UTF-8 JSON atomically (temp file, fsync, rename), creating parents."""
    atomic_write_json(path, obj)


def read_json(path: Path, *, what: str) -> dict[str, Any]:
    """Read a JSON object written by :func:`write_json`.

    Args:
        path: the file.
        what: what the file holds, for the error message (``"label map"``).

    Raises:
        CheckpointError: the file is missing, not valid JSON, or not a JSON object.
    """
    return _read_json(path, what=f"{what} file", error=CheckpointError,
                      fix="write it again with save() (or point at the directory save() wrote)")
