"""Atomic JSON files for fitted preprocessing state (vocabularies, label maps, encoder settings)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ftlab.errors import CheckpointError

__all__ = ["write_json", "read_json"]


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as UTF-8 JSON atomically (temp file, fsync, rename), creating parents."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(obj, fh, ensure_ascii=False, indent=1)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
