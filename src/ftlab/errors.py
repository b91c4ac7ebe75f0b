"""Exceptions ftlab raises for problems a user can fix (defined in :mod:`ftlab.core`).

Every message says what is wrong, where (file, line, field) and how to fix it.
"""

from __future__ import annotations

from ftlab.core import (
    CheckpointError,
    ConfigError,
    DataError,
    FtlabError,
    RunLockedError,
    StorageError,
    TrainingError,
)

__all__ = [
    "FtlabError", "ConfigError", "DataError", "CheckpointError", "TrainingError",
    "RunLockedError", "StorageError",
]
