"""Atomic file writes (temp file in the same directory, fsync, rename), used by every stage
that persists state: encoders, checkpoints, run summaries."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["atomic_write_json", "atomic_write_text", "fsync_dir", "fsync_tree"]

_UMASK = os.umask(0)
os.umask(_UMASK)


def fsync_dir(path: Path) -> None:
    """Flush a directory entry (a rename) to disk; a no-op where directories cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """fsync every file and directory under ``root`` (the contents of a checkpoint)."""
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            with open(os.path.join(dirpath, name), "rb+") as fh:
                os.fsync(fh.fileno())
        fsync_dir(Path(dirpath))


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` so readers see the old or the new file, never half.

    Args:
        path: destination; its directory is created if needed.
        text: the whole content.

    Returns:
        The destination path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def atomic_write_json(path: str | Path, obj: Any, *, sort_keys: bool = False) -> Path:
    """Write ``obj`` as JSON to ``path`` so readers see the old or the new file, never half.

    Args:
        path: destination; its directory is created if needed.
        obj: JSON-serialisable value (other objects are written with ``str``).
        sort_keys: sort mapping keys.

    Returns:
        The destination path.
    """
    text = json.dumps(obj, indent=2, sort_keys=sort_keys, ensure_ascii=False, default=str)
    return atomic_write_text(path, text + "\n")
