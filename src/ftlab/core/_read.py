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


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (YAML says they are an error; PyYAML
    silently keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the base class reports it
                break
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    f"while reading a mapping (line {node.start_mark.line + 1})", first,
                    f"duplicate key {key!r} (first at line {first.line + 1}); keep only one",
                    key_node.start_mark)
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


_MAX_FLOW_DEPTH = 100


def _flow_depth(text: str) -> int:
    """Deepest nesting of flow brackets (``[`` ``{``), a cheap upper bound (quotes ignored)."""
    depth = deepest = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(depth - 1, 0)
    return deepest


def parse_yaml(text: str, *, origin: str | Path, error: type[FtlabError] = ConfigError) -> Any:
    """Strict ``yaml.safe_load`` of text read from ``origin``: a syntax error names its line and
    column; duplicate keys, integers beyond Python's 4300-digit limit and absurd nesting are
    errors too.

    Raises:
        FtlabError: ``error`` naming ``origin`` (and the position of a syntax error or duplicate
            key) and the fix.
    """
    depth = _flow_depth(text)
    if depth > _MAX_FLOW_DEPTH:  # PyYAML takes seconds on such input before it fails
        raise error(f"{origin}: the YAML nests [ ] / {{ }} {depth} levels deep (at most "
                    f"{_MAX_FLOW_DEPTH}); a config is a few levels of sections, fix the file")
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None)
        if isinstance(problem, str) and problem.startswith("duplicate key"):
            raise error(f"{origin}{where}: {problem}") from None
        raise error(f"{origin}: YAML syntax error{where}: {exc}") from None
    except ValueError as exc:  # int('9' * 5000): "Exceeds the limit (4300 digits)"
        raise error(f"{origin}: a value cannot be read ({str(exc)[:200]}); numbers have "
                    "at most 4300 digits: fix the value") from None
    except RecursionError:
        raise error(f"{origin}: the YAML is nested too deeply to read; a config is a few "
                    "levels of sections, fix the file") from None
