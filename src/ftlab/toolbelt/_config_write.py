"""Write a few ``section.key`` values into a config YAML, keeping its comments where possible.

PyYAML drops comments on a round trip (and ruamel.yaml is not a dependency), so block-style
files are edited line by line: the value after ``key:`` inside the ``section:`` block is
replaced (its trailing comment kept), a missing key is added under its section, a missing
section is appended. The edited text is then re-read and validated; if it does not hold exactly
the requested values (flow style ``batching: {batch_size: 8}``, anchors, odd indentation), the
whole config is re-dumped from the parsed values instead and the comments are lost - the result
says which happened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ftlab.core import atomic_write_text
from ftlab.config import apply_overrides, parse_config
from ftlab.errors import ConfigError

__all__ = ["WrittenConfig", "write_config_values"]


@dataclass(frozen=True)
class WrittenConfig:
    """Where the values went and whether the file's comments and layout survived."""

    path: Path
    values: dict[str, Any]
    comments_kept: bool


def _scalar(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def _edit_lines(text: str, dotted: str, value: Any) -> str | None:
    """``text`` with ``section.key: value`` set; None when the layout is not plain block style."""
    parts = dotted.split(".")
    if len(parts) != 2:
        return None
    section, key = parts
    lines = text.splitlines(keepends=True)
    head = re.compile(rf"^{re.escape(section)}\s*:\s*(#.*)?$")
    start = next((i for i, ln in enumerate(lines) if head.match(ln.rstrip("\r\n"))), None)
    rendered = _scalar(value)
    if start is None and any(re.match(rf"^{re.escape(section)}\s*:", ln) for ln in lines):
        return None  # the section exists in another form (flow style, anchor): not ours to edit
    if start is None:  # no such section: append one
        sep = "" if not text or text.endswith("\n") else "\n"
        return f"{text}{sep}{section}:\n  {key}: {rendered}\n"
    end = len(lines)
    for j in range(start + 1, len(lines)):
        s = lines[j]
        if s.strip() and not s.startswith((" ", "\t")) and not s.lstrip().startswith("#"):
            end = j
            break
    child = re.compile(rf"^(\s+){re.escape(key)}(\s*:\s*)([^#\n\r]*?)(\s*#.*)?(\r?\n)?$")
    indents = [len(ln) - len(ln.lstrip(" ")) for ln in lines[start + 1:end]
               if ln.strip() and not ln.lstrip().startswith("#")]
    indent = min(indents) if indents else 2
    for j in range(start + 1, end):
        m = child.match(lines[j])
        if m and len(m.group(1)) == indent:
            newline = m.group(5) or ""
            lines[j] = f"{m.group(1)}{key}{m.group(2)}{rendered}{m.group(4) or ''}{newline}"
            return "".join(lines)
    if not lines[start].endswith("\n"):
        lines[start] += "\n"
    lines.insert(start + 1, f"{' ' * indent}{key}: {rendered}\n")
    return "".join(lines)


def _holds(text: str, expected: dict[str, Any], origin: str) -> bool:
    """The edited text parses to exactly ``expected`` (the original plus the new values)."""
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return False
    if raw != expected:
        return False
    parse_config(raw, origin=origin)  # the edited file must still be a valid config
    return True


def write_config_values(
    config_path: Path | str, values: dict[str, Any], *, out: Path | str | None = None,
) -> WrittenConfig:
    """Set ``values`` (``{"batching.batch_size": 48}``) in a config file, written to ``out``.

    Args:
        config_path: the YAML file to start from.
        values: dotted keys (``section.key``) and their new values.
        out: the file to write; None writes back to ``config_path`` (in place).

    Returns:
        Where it was written, the values and whether comments and layout were kept.

    Raises:
        ConfigError: the file is missing or unreadable, or the new values make it invalid.
    """
    src = Path(config_path)
    if not src.is_file():
        raise ConfigError(f"config file not found: {src}; pass the YAML the values belong to")
    text = src.read_text(encoding="utf-8")
    target = Path(out) if out is not None else src
    origin = f"{target} (written by ftlab)"
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{src}: YAML syntax error: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{src}: the top level must be a mapping of sections")
    raw = apply_overrides(raw, [f"{k}={_scalar(v)}" for k, v in values.items()])
    edited: str | None = text
    for dotted, value in values.items():
        edited = _edit_lines(edited, dotted, value) if edited is not None else None
    if edited is not None and _holds(edited, raw, origin):
        atomic_write_text(target, edited)
        return WrittenConfig(target, dict(values), comments_kept=True)
    # fallback: the parsed config with the new values, re-dumped (valid, comments gone)
    parse_config(raw, origin=origin)
    atomic_write_text(target, yaml.safe_dump(raw, sort_keys=False))
    return WrittenConfig(target, dict(values), comments_kept=False)
