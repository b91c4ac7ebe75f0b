"""JSON and YAML readers with one error convention.

A bad file raises the caller's :class:`~ftlab.core.FtlabError` subclass (``error=``) whose
message starts with the path (and line, for syntax errors), says what is wrong and ends with
the fix. Writes go through :mod:`ftlab.core._atomic` (temp file, fsync, rename).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from ftlab.core._errors import CheckpointError, ConfigError, FtlabError

__all__ = ["read_json", "read_yaml", "parse_yaml"]


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
