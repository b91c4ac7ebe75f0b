"""Whether a process still exists (the one check used for stale runs and stale trials), and
how many processes torchrun launched."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["pid_alive", "torchrun_world_size"]


def torchrun_world_size() -> int:
    """``WORLD_SIZE`` from the environment (1 when not launched by torchrun).

    Here, not in ``ftlab.training``, so that the CLI's entry point reads it without importing
    torch (``ftlab --help`` stays fast).
    """
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        return 1


def pid_alive(pid: Any) -> bool:
    """Whether process ``pid`` of this machine exists.

    Args:
        pid: a process id as an int or a string of digits (as stored in run.json or an
            Optuna attribute); anything else (None, bool, <= 0) counts as not alive.

    Returns:
        True when the process exists, also when it belongs to another user.
    """
    if isinstance(pid, bool):
        return False
    try:
        pid = int(pid)
    except (TypeError, ValueError):
        return False
    if pid <= 0:  # 0 and negative ids address process groups, not one process
        return False
    try:
        os.kill(pid, 0)
    except PermissionError:  # it exists, under another user
        return True
    except (OSError, OverflowError):  # no such process (or an id no process can have)
        return False
    return True
