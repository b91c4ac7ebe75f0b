"""Run directories: creation, the ``run.json`` summary, and atomic JSON writes."""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
from pathlib import Path
from typing import Any

from ftlab.core import atomic_write_json, atomic_write_text, guard_write
from ftlab.config import RunConfig, dump_config
from ftlab.errors import ConfigError, StorageError
from ftlab.runs._summary import RunSummary, check_summary_fields

__all__ = ["create_run_dir", "write_json_atomic", "read_summary", "load_summary", "update_summary",
           "utc_now", "mark_failed"]

SUMMARY = "run.json"


def utc_now() -> str:
    """Current UTC time in ISO 8601, seconds precision."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write JSON to ``path`` atomically (temp file in the same dir, fsync, rename).

    Raises:
        StorageError: the file could not be written (the previous version stays).
    """
    guard_write(lambda: atomic_write_json(path, obj), path, what=Path(path).name)


def create_run_dir(config: RunConfig, *, name: str | None = None) -> Path:
    """Create ``<output_dir>/<name>`` (unique) and write the resolved ``config.yaml``."""
    base = Path(config.output_dir)
    stem = name or config.name or f"{config.model.family}-{_dt.datetime.now():%Y%m%d-%H%M%S}"
    run_dir = base / stem
    _check_output_dir(base)
    i = 1
    while True:
        try:
            run_dir.mkdir(parents=True)
            break
        except FileExistsError:  # taken (also by a concurrent ftlab train): next free name
            i += 1
            run_dir = base / f"{stem}-{i}"
        except OSError as exc:
            raise StorageError(
                f"cannot create the run directory {run_dir} ({exc.strerror or exc}); set "
                f"output_dir to a writable directory (it is {config.output_dir!r})") from None
    write_text_checked(run_dir / "config.yaml", dump_config(config), what="the run's config")
    return run_dir


def _check_output_dir(base: Path) -> None:
    """A clear error before any work when ``output_dir`` cannot hold run directories."""
    node = base
    while not node.exists() and node != node.parent:
        node = node.parent
    if node.exists() and not node.is_dir():
        raise ConfigError(f"output_dir {str(base)!r}: {node} is a file, not a directory; set "
                          f"output_dir to a directory (e.g. output_dir: runs)")
    if node.exists() and not os.access(node, os.W_OK | os.X_OK):
        raise ConfigError(f"output_dir {str(base)!r}: {node} is not writable; set output_dir "
                          f"to a directory you can write (e.g. output_dir: runs)")


def read_summary(run_dir: Path) -> dict[str, Any]:
    """The run's ``run.json`` as a dict (empty when absent or unreadable); typed:
    :func:`load_summary`."""
    try:
        data = json.loads((Path(run_dir) / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def load_summary(run_dir: Path) -> RunSummary:
    """The run's ``run.json`` as a :class:`RunSummary` (every field unset when absent or
    unreadable; keys of other ftlab versions kept as extra fields)."""
    return RunSummary.from_dict(read_summary(run_dir), source=str(Path(run_dir) / SUMMARY))


def update_summary(run_dir: Path, **fields: Any) -> dict[str, Any]:
    """Merge ``fields`` into ``run.json`` atomically and return the new summary.

    Every field is checked against :class:`RunSummary` before anything is written.

    Raises:
        ValueError: a field run.json does not have (a misspelled key), or a wrong type.
        StorageError: run.json could not be written (disk full, permissions); the old one stays.
    """
    new = check_summary_fields(fields)
    summary = RunSummary.from_dict({**read_summary(run_dir), **new.to_dict()},
                                   source=str(Path(run_dir) / SUMMARY)).to_dict()
    write_json_atomic(Path(run_dir) / SUMMARY, summary)
    return summary


def mark_failed(run_dir: Path, exc: BaseException, *, status: str = "failed",
                reason: str | None = None) -> None:
    """Best effort: record in run.json why the run stopped (``reason``, default the error);
    never raises (the original error is what the user must see, also when the disk is full)."""
    try:
        if reason is None:
            reason = f"{type(exc).__name__}: {exc}"[:2000]
            if isinstance(exc, KeyboardInterrupt):
                reason = "KeyboardInterrupt"
        update_summary(run_dir, status=status, stop_reason=reason, ended=utc_now())
    except Exception as inner:  # noqa: BLE001 - best effort by design
        logging.getLogger("ftlab.runs").warning(
            "could not record status %r in %s: %s", status, Path(run_dir) / SUMMARY, inner)


def write_text_checked(path: Path, text: str, *, what: str) -> Path:
    """``atomic_write_text`` whose OSError becomes one StorageError naming ``what`` and where."""
    return guard_write(lambda: atomic_write_text(path, text), path, what=what)
