"""Write a few ``section.key`` values into a config YAML, keeping its comments and layout.

A ruamel.yaml round trip: the file is loaded as a commented mapping, the values are set (a
missing key is added to its section, a missing section is appended) and the document is dumped
again with its comments, key order, flow/block style and quoting. The new config is validated
before anything is written.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from ftlab.config import parse_config, set_dotted
from ftlab.core import atomic_write_text
from ftlab.errors import ConfigError

__all__ = ["WrittenConfig", "write_config_values"]


@dataclass(frozen=True)
class WrittenConfig:
    """Where the values went and whether the file's comments and layout survived (always, with
    the round trip; kept for callers that report it)."""

    path: Path
    values: dict[str, Any]
    comments_kept: bool


def _plain(node: Any) -> Any:
    """ruamel's commented containers as plain dicts/lists (for validation)."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


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
    target = Path(out) if out is not None else src
    yaml = YAML()  # round-trip mode: comments, order and styles survive
    yaml.preserve_quotes = True
    try:
        doc = yaml.load(src.read_text(encoding="utf-8"))
    except YAMLError as exc:
        raise ConfigError(f"{src}: YAML syntax error: {exc}") from None
    doc = CommentedMap() if doc is None else doc
    if not isinstance(doc, dict):
        raise ConfigError(f"{src}: the top level must be a mapping of sections")
    for dotted, value in values.items():
        set_dotted(doc, dotted, value)  # the dotted keys of --set; a missing section is added
    raw = _plain(doc)
    parse_config(raw, origin=f"{target} (written by ftlab)")  # the new file must be valid
    buf = io.StringIO()
    yaml.dump(doc, buf)
    atomic_write_text(target, buf.getvalue())
    return WrittenConfig(target, dict(values), comments_kept=True)
