"""Run directories: creation, the ``run.json`` summary, and atomic JSON writes."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

from ftlab.core import atomic_write_json
from ftlab.config import RunConfig, dump_config

__all__ = ["create_run_dir", "write_json_atomic", "read_summary", "update_summary", "utc_now"]

SUMMARY = "run.json"


def utc_now() -> str:
    """Current UTC time in ISO 8601, seconds precision."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write JSON to ``path`` atomically (temp file in the same dir, fsync, rename)."""
    atomic_write_json(path, obj)


def create_run_dir(config: RunConfig, *, name: str | None = None) -> Path:
    """Create ``<output_dir>/<name>`` (unique) and write the resolved ``config.yaml``."""
    base = Path(config.output_dir)
    stem = name or config.name or f"{config.model.family}-{_dt.datetime.now():%Y%m%d-%H%M%S}"
    run_dir = base / stem
    i = 1
    while run_dir.exists():
        i += 1
        run_dir = base / f"{stem}-{i}"
    run_dir.mkdir(parents=True)
    (run_dir / "config.yaml").write_text(dump_config(config), encoding="utf-8")
    return run_dir


def read_summary(run_dir: Path) -> dict[str, Any]:
    """The run's ``run.json`` (empty dict when absent or unreadable)."""
    try:
        return json.loads((Path(run_dir) / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def update_summary(run_dir: Path, **fields: Any) -> dict[str, Any]:
    """Merge ``fields`` into ``run.json`` atomically and return the new summary."""
    summary = read_summary(run_dir)
    summary.update(fields)
    write_json_atomic(Path(run_dir) / SUMMARY, summary)
    return summary
