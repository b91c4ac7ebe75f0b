"""``ftlab runs``: one row per run directory, sortable and filterable."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ftlab.core import pid_alive
from ftlab.errors import ConfigError
from ftlab.runs._rundir import read_summary

__all__ = ["collect_runs", "RUN_COLUMNS"]

# column name -> how to read it from run.json
RUN_COLUMNS: dict[str, str] = {
    "name": "name",
    "status": "status",
    "model": "model",
    "dataset": "dataset",
    "lr": "hparams.lr",
    "batch": "hparams.batch_size",
    "epochs": "hparams.epochs",
    "optimizer": "hparams.optimizer",
    "seed": "seed",
    "val": "best_metric",
    "test": "test_metric",
    "steps": "step",
    "duration_s": "duration_s",
    "started": "started",
    "study": "tags.study",
}


def _get(summary: dict[str, Any], dotted: str) -> Any:
    from ftlab.config import get_dotted

    return get_dotted(summary, dotted)


def collect_runs(
    root: Path,
    *,
    sort: str | None = "started",
    descending: bool = False,
    filters: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Read every ``<root>/*/run.json`` into flat rows (keys: :data:`RUN_COLUMNS`).

    A run whose status is still ``running`` but whose process is gone is shown as ``killed``
    (its last checkpoint is resumable with ``ftlab train --resume``).

    Args:
        root: the runs directory.
        sort: column to sort by (missing values last).
        descending: reverse the sort.
        filters: ``column=value`` (exact, case-insensitive) or ``column>number`` /
            ``column<number``.

    Raises:
        ConfigError: unknown sort/filter column or malformed filter.
    """
    rows: list[dict[str, Any]] = []
    for run_dir in sorted(Path(root).glob("*/")):
        summary = read_summary(run_dir)
        if not summary:
            continue
        row = {col: _get(summary, key) for col, key in RUN_COLUMNS.items()}
        row["name"] = row["name"] or run_dir.name
        if row["status"] == "running" and not pid_alive(summary.get("pid")):
            row["status"] = "killed"
        row["path"] = str(run_dir)
        rows.append(row)
    for flt in filters:
        rows = [r for r in rows if _matches(r, flt)]
    if sort:
        if sort not in RUN_COLUMNS:
            raise ConfigError(f"cannot sort by {sort!r}; columns: {', '.join(RUN_COLUMNS)}")
        present = [r for r in rows if r[sort] is not None]
        missing = [r for r in rows if r[sort] is None]
        present.sort(key=lambda r: (isinstance(r[sort], str), r[sort]), reverse=descending)
        rows = present + missing
    return rows


def _matches(row: dict[str, Any], flt: str) -> bool:
    for op in ("=", ">", "<"):
        if op in flt:
            col, _, value = flt.partition(op)
            col = col.strip()
            break
    else:
        raise ConfigError(f"filter {flt!r} must look like column=value, column>x or column<x")
    if col not in RUN_COLUMNS:
        raise ConfigError(f"cannot filter on {col!r}; columns: {', '.join(RUN_COLUMNS)}")
    have = row.get(col)
    if op == "=":
        return str(have).lower() == value.strip().lower()
    try:
        threshold = float(value)
    except ValueError:
        raise ConfigError(f"filter {flt!r}: {value!r} is not a number") from None
    if not isinstance(have, (int, float)):
        return False
    return have > threshold if op == ">" else have < threshold
