"""``ftlab transform``: a config's examples next to their transformed versions."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ftlab.errors import ConfigError

__all__ = ["preview_transform", "output_spans"]


def output_spans(changes: Sequence[Any]) -> list[tuple[int, int]]:
    """Where each change's ``after`` text sits in the transformed text.

    ``changes`` are non-overlapping edits with offsets into the ORIGINAL text; every edit shifts
    the later ones by ``len(after) - (end - start)``.
    """
    spans, shift = [], 0
    for c in sorted(changes, key=lambda c: (c.start, c.end)):
        start = c.start + shift
        spans.append((start, start + len(c.after)))
        shift += len(c.after) - (c.end - c.start)
    return spans


def preview_transform(
    target: str | Path, transform: str, *, overrides: Sequence[str] = (), split: str = "test",
    n: int = 10, seed: int | None = None, sides: str = "text",
) -> list[dict[str, Any]]:
    """Transform the first ``n`` examples of a split that the transformation changes.

    Args:
        target: a config YAML (its ``data`` section and seed are used).
        transform: a pipeline spec such as ``"typos:0.1,synonyms"``.
        overrides: ``--set`` overrides of the config.
        split: which split to draw from.
        n: how many changed examples to return.
        seed: the transformation seed (default: the config's).
        sides: ``"text"``, ``"pair"``, ``"choices"`` or ``"both"``.

    Returns:
        One dict per example: ``id``, ``label``, ``original``, ``transformed`` (the
        :class:`ftlab.data.Example` objects) and ``changes`` (``ExampleChanges``); plus, in the
        first row only, ``scanned`` and ``changed`` counts under ``"stats"``.

    Raises:
        ConfigError: unknown transformation or split.
    """
    from ftlab.config import load_config
    from ftlab.robustness import build_pipeline, transform_examples
    from ftlab.runs._builders import build_run_splits

    config = load_config(Path(target), list(overrides))
    pipeline = build_pipeline(transform)
    splits = build_run_splits(config)
    if not splits.get(split):
        raise ConfigError(f"split {split!r} is empty or missing; available: "
                          f"{sorted(k for k, v in splits.items() if v)}")
    examples = splits[split]
    rows: list[dict[str, Any]] = []
    scanned = changed = 0
    step = max(4 * n, 64)  # transform in chunks: stop as soon as n examples changed
    for begin in range(0, len(examples), step):
        chunk = examples[begin:begin + step]
        new, records = transform_examples(chunk, pipeline, config.seed if seed is None else seed,
                                          sides=sides)  # type: ignore[arg-type]
        for old, tr, rec in zip(chunk, new, records):
            scanned += 1
            if rec.changed:
                changed += 1
                if len(rows) < n:
                    rows.append({"id": old.id, "label": old.label, "original": old,
                                 "transformed": tr, "changes": rec})
        if len(rows) >= n:
            break
    if rows:
        rows[0]["stats"] = {"scanned": scanned, "changed": changed}
    return rows
