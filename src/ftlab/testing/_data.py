"""Conformance check for data readers (the Reader extension point)."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ftlab.core import Example

__all__ = ["check_reader"]


def _as_splits(result: Any, who: str) -> dict[str, list[Example]]:
    if isinstance(result, list):
        return {"data": result}
    if isinstance(result, dict):
        for name, exs in result.items():
            if not isinstance(name, str) or not isinstance(exs, list):
                raise AssertionError(f"{who}: expected dict[str, list[Example]], got key "
                                     f"{name!r} -> {type(exs).__name__}")
        return result
    raise AssertionError(f"{who}: must return list[Example] or dict[str, list[Example]], got "
                         f"{type(result).__name__}")


def _digest(paths: Sequence[Path]) -> dict[str, str]:
    out = {}
    for p in paths:
        files = sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p]
        for f in files:
            out[str(f)] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


def check_reader(
    read: Callable[[], Any],
    *,
    inputs: Sequence[str | Path] = (),
    labelled: bool | None = None,
    min_rows: int = 1,
    name: str | None = None,
) -> None:
    """Assert that a reader behaves as every ftlab reader must.

    Checks: it returns ``list[Example]`` or ``dict[str, list[Example]]``; texts are ``str``,
    pairs ``str`` or None, labels ``str`` or None (never empty); meta is a mapping; ids are
    non-empty strings unique per split; two calls give equal results (deterministic); results
    do not share mutable state across calls; input files are not modified.

    Args:
        read: zero-argument callable running the reader (e.g. ``lambda: read_file(path)``).
        inputs: files or directories the reader reads; their bytes must not change.
        labelled: True -> every label must be set; False -> every label must be None.
        min_rows: every returned split must have at least this many examples.
        name: shown in failure messages (default: the callable's repr).

    Raises:
        AssertionError: describing the first violated rule.
    """
    who = name or repr(read)
    paths = [Path(p) for p in inputs]
    before = _digest(paths)
    first = _as_splits(read(), who)
    snapshot = copy.deepcopy(first)
    for split, exs in first.items():
        if len(exs) < min_rows:
            raise AssertionError(f"{who}: split {split!r} has {len(exs)} rows, expected >= "
                                 f"{min_rows}")
        seen: set[str] = set()
        for i, ex in enumerate(exs):
            at = f"{who}: split {split!r} item {i}"
            if not isinstance(ex, Example):
                raise AssertionError(f"{at} is {type(ex).__name__}, not Example")
            if not isinstance(ex.id, str) or not ex.id:
                raise AssertionError(f"{at}: id must be a non-empty str, got {ex.id!r}")
            if ex.id in seen:
                raise AssertionError(f"{at}: duplicate id {ex.id!r} within the split")
            seen.add(ex.id)
            if not isinstance(ex.text, str):
                raise AssertionError(f"{at} ({ex.id}): text is {type(ex.text).__name__}, not str")
            if ex.text_pair is not None and not isinstance(ex.text_pair, str):
                raise AssertionError(f"{at} ({ex.id}): text_pair must be str or None")
            if ex.label is not None and (not isinstance(ex.label, str) or not ex.label):
                raise AssertionError(f"{at} ({ex.id}): label must be a non-empty str or None, "
                                     f"got {ex.label!r}")
            if labelled is True and ex.label is None:
                raise AssertionError(f"{at} ({ex.id}): label is None but the data is labelled")
            if labelled is False and ex.label is not None:
                raise AssertionError(f"{at} ({ex.id}): label {ex.label!r} but the data is "
                                     f"unlabelled")
            if not hasattr(ex.meta, "keys"):
                raise AssertionError(f"{at} ({ex.id}): meta must be a mapping")
    # mutate the first result; a reader that caches and hands out shared objects shows it here
    for exs in first.values():
        for ex in exs:
            if isinstance(ex.meta, dict):
                ex.meta["__check_reader__"] = True
        exs.append(Example(id="__check_reader__", text="", label=None))
    second = _as_splits(read(), who)
    if second != snapshot:
        diff = [s for s in set(second) | set(snapshot) if second.get(s) != snapshot.get(s)]
        raise AssertionError(f"{who}: a second call returned different data (splits {diff}): "
                             f"the reader is not deterministic or shares mutable state between "
                             f"calls")
    after = _digest(paths)
    if after != before:
        changed = [k for k in before if before[k] != after.get(k)]
        raise AssertionError(f"{who}: the reader modified its input files: {changed}")
