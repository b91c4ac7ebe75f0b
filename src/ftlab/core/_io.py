"""File I/O every stage shares: atomic writes (temp file in the same directory, fsync, rename)
for encoders, checkpoints and run summaries, and JSON/YAML readers with one error convention.

The error convention: a bad file raises the caller's :class:`~ftlab.core.FtlabError` subclass
(``error=``) whose message starts with the path (and line, for syntax errors), says what is
wrong and ends with the fix.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from ftlab.core._errors import CheckpointError, ConfigError, FtlabError

__all__ = [
    "atomic_write_json", "atomic_write_text", "fsync_dir", "fsync_tree",
    "read_json", "read_yaml", "parse_yaml",
]

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


def read_json(
    path: str | Path,
    *,
    what: str = "file",
    error: type[FtlabError] = CheckpointError,
    fix: str = "write it again",
) -> dict[str, Any]:
    """Read a JSON object (as written by :func:`atomic_write_json`).

    Args:
        path: the file.
        what: what the file holds, for the message (``"label map file"``).
        error: the exception class to raise (the caller's layer decides).
        fix: the remedy that ends every message.

    Raises:
        FtlabError: ``error`` naming the file (and the line for a syntax error) when the file is
            missing, unreadable, not valid JSON or not a JSON object.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise error(f"{path}: the {what} was not found; {fix}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read the {what} ({exc}); {fix}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(
            f"{path}, line {exc.lineno}: not valid JSON ({exc.msg} at column {exc.colno}); the "
            f"{what} is truncated or corrupted; {fix}"
        ) from exc
    if not isinstance(data, dict):
        raise error(f"{path}: the {what} must hold a JSON object, got {type(data).__name__}; {fix}")
    return data


def read_yaml(path: str | Path, *, what: str = "file", error: type[FtlabError] = ConfigError) -> Any:
    """``yaml.safe_load`` of a file (configs, search spaces and suites share it).

    Raises:
        FtlabError: ``error`` naming the file, and the line and column of a syntax error.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read the {what} ({exc})") from None
    return parse_yaml(text, origin=path, error=error)


def parse_yaml(text: str, *, origin: str | Path, error: type[FtlabError] = ConfigError) -> Any:
    """``yaml.safe_load`` of text read from ``origin``; a syntax error names its line and column.

    Raises:
        FtlabError: ``error`` naming ``origin`` and the position of the syntax error.
    """
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise error(f"{origin}: YAML syntax error{where}: {exc}") from None
