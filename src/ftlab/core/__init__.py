"""What every stage shares: record types, errors, file I/O, optional imports, registries.

``ftlab.core`` imports no other ftlab package: every stage may import it, it imports none of
them (checked by the import-linter contracts in pyproject.toml).

- Records: :class:`Example` (what readers produce), :class:`Encoded` (after preprocessing),
  :class:`Batch` (what a model receives), :class:`BatchSource` (what ``fit`` consumes).
- Errors: :class:`FtlabError` and its subclasses (also importable from :mod:`ftlab.errors`).
- I/O: atomic writes (an OSError becomes one :class:`StorageError` through
  :func:`guard_write`), and JSON/YAML readers whose errors name the file, line and fix.
- :func:`run_lock` / :func:`writes_run`: one writer per run directory.
- :func:`optional_import` for heavy optional dependencies (the error names the extra).
- :class:`Registry` and :func:`closest` for every extension point and "did you mean" hint.
- :class:`Record`: the base of the typed result files (``run.json``, evaluations, checks,
  studies, seed studies): ``to_dict()``, tolerant ``from_dict()``, ``format()`` for the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ftlab.core._errors import (
    CheckpointError,
    ConfigError,
    DataError,
    FtlabError,
    RunLockedError,
    StorageError,
    TrainingError,
)
from ftlab.core._example import Example
from ftlab.core._imports import MissingDependencyError, optional_import
from ftlab.core._process import pid_alive, torchrun_world_size
from ftlab.core._progress import (
    Phase,
    format_seconds,
    note_progress_line,
    phase,
    progress_every,
    seconds_since_progress_line,
    share_live_progress,
)
from ftlab.core._atomic import (
    atomic_write_json,
    atomic_write_text,
    describe_write_error,
    dumps_json,
    fsync_dir,
    fsync_tree,
    guard_write,
    json_safe,
    staged_dir,
)
from ftlab.core._read import parse_yaml, read_json, read_yaml
from ftlab.core._records import Record, fmt_value
from ftlab.core._registry import Registry, closest, closest_match
from ftlab.core._runlock import HOLDER_FILE, LOCK_FILE, lock_holder, run_lock, writes_run

if TYPE_CHECKING:
    from ftlab.core._batch import Batch, BatchSource, Encoded

__all__ = [
    "Record",
    "fmt_value",
    "Phase",
    "format_seconds",
    "note_progress_line",
    "phase",
    "progress_every",
    "seconds_since_progress_line",
    "share_live_progress",
    "torchrun_world_size",
    "Example",
    "Encoded",
    "Batch",
    "BatchSource",
    "FtlabError",
    "ConfigError",
    "DataError",
    "CheckpointError",
    "TrainingError",
    "RunLockedError",
    "StorageError",
    "MissingDependencyError",
    "optional_import",
    "pid_alive",
    "atomic_write_json",
    "staged_dir",
    "atomic_write_text",
    "fsync_dir",
    "fsync_tree",
    "guard_write",
    "describe_write_error",
    "dumps_json",
    "json_safe",
    "run_lock",
    "writes_run",
    "lock_holder",
    "LOCK_FILE",
    "HOLDER_FILE",
    "read_json",
    "read_yaml",
    "parse_yaml",
    "Registry",
    "closest",
    "closest_match",
]


def __getattr__(name: str) -> Any:
    # the batch records need torch; loaded on first use so that `import ftlab.robustness`
    # (which only needs Example) stays free of torch
    if name in ("Batch", "BatchSource", "Encoded"):
        from ftlab.core import _batch

        return getattr(_batch, name)
    raise AttributeError(f"module 'ftlab.core' has no attribute {name!r}")
