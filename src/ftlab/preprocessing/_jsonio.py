"""Atomic JSON files for fitted preprocessing state (vocabularies, label maps, encoder settings)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ftlab._atomic import atomic_write_json
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
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CheckpointError(
            f"{what} file not found: {path}; point at the directory written by save()"
        ) from exc
    except OSError as exc:
        raise CheckpointError(f"cannot read {what} file {path}: {exc}") from exc
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CheckpointError(
            f"{what} file {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}); it is corrupted, write it again with save()"
        ) from exc
    if not isinstance(obj, dict):
        raise CheckpointError(
            f"{what} file {path} must hold a JSON object, got {type(obj).__name__}; "
            "write it again with save()"
        )
    return obj
