"""Exceptions ftlab raises for problems a user can fix.

Every message says what is wrong, where (file, line, field) and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "FtlabError", "ConfigError", "DataError", "CheckpointError", "TrainingError",
    "RunLockedError", "StorageError",
]


class FtlabError(Exception):
    """Base class: a problem with the user's input or environment, with a fix in the message."""


class ConfigError(FtlabError, ValueError):
    """The configuration is invalid (unknown key, bad value, inconsistent fields)."""


class DataError(FtlabError, ValueError):
    """Input data cannot be used: unreadable file, missing column, bad row, unknown label."""


class CheckpointError(FtlabError):
    """A checkpoint is missing, corrupted, incomplete or unsafe to load."""


class TrainingError(FtlabError):
    """Training cannot continue (e.g. a non-finite loss); the message holds the diagnosis."""


class RunLockedError(FtlabError):
    """Another process is writing into the run directory (the message names its pid and host)."""


class StorageError(FtlabError):
    """A file could not be written (disk full, permissions, I/O error); the message says what,
    where, and whether the previous checkpoint is intact."""
