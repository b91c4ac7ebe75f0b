"""One writer per run directory: an exclusive lock (``filelock``) held by every command that
writes into a run (train, resume, evaluate, calibrate, ensemble, tuning trials).

The lock is an OS lock (``flock``) on ``<run>/.lock``: the operating system releases it when
the holder dies, so a lock left by a killed process is taken over at once. Where the file
system has no ``flock`` (some network mounts), ``filelock`` falls back to a marker file that
names the holder's pid and host and is broken when that process no longer runs on this host.
Who holds the lock is written next to it in ``<run>/.lock.json`` (pid, host, command, since),
so a second writer can say whom it waited for.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from ftlab.core._errors import RunLockedError
from ftlab.core._process import pid_alive

__all__ = ["HOLDER_FILE", "LOCK_FILE", "lock_holder", "run_lock", "writes_run"]

LOCK_FILE = ".lock"
HOLDER_FILE = ".lock.json"

log = logging.getLogger("ftlab.runs")

# run directory (resolved) -> (lock, depth): one process re-entering its own lock (train ->
# final evaluation -> report) is not a second writer
_HELD: dict[Path, tuple[Any, int]] = {}
_GUARD = threading.Lock()


def lock_holder(run_dir: str | Path) -> dict[str, Any] | None:
    """The holder recorded in ``<run>/.lock.json`` (pid, host, command, since), if any.

    The record may be stale (its process gone); :func:`run_lock` decides by the lock itself.
    """
    try:
        data = json.loads((Path(run_dir) / HOLDER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _describe(holder: dict[str, Any] | None) -> str:
    if not holder:
        return "another process (no holder record)"
    return (f"pid {holder.get('pid')} on host {holder.get('host')} "
            f"({holder.get('command') or 'ftlab'}, since {holder.get('since', '?')})")


def _write_holder(run_dir: Path, command: str) -> None:
    import datetime as _dt

    from ftlab.core._atomic import atomic_write_json

    record = {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
              "since": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}
    try:
        atomic_write_json(run_dir / HOLDER_FILE, record)
    except OSError as exc:  # the lock holds anyway; only the courtesy record is missing
        log.warning("could not record the lock holder in %s: %s", run_dir / HOLDER_FILE, exc)


@contextlib.contextmanager
def run_lock(run_dir: str | Path, *, command: str | None = None) -> Iterator[Path]:
    """Hold the exclusive writer lock of ``run_dir`` for the ``with`` block.

    Re-entrant within one process. A lock whose holder died is taken over (the OS released it;
    a stale holder record on this host is reported in the log).

    Args:
        run_dir: the run directory (must exist).
        command: what holds it, for the message another writer sees (default: ``sys.argv``).

    Yields:
        The run directory.

    Raises:
        RunLockedError: another process holds the lock; the message names its pid and host.
    """
    from filelock import FileLock, Timeout

    run_dir = Path(run_dir)
    key = run_dir.resolve()
    with _GUARD:
        if key in _HELD:
            lock, depth = _HELD[key]
            _HELD[key] = (lock, depth + 1)
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield run_dir
        finally:
            with _GUARD:
                lock, depth = _HELD[key]
                _HELD[key] = (lock, depth - 1)
        return

    previous = lock_holder(run_dir)
    lock = FileLock(str(run_dir / LOCK_FILE), blocking=False)
    try:
        lock.acquire()
    except Timeout:
        holder = lock_holder(run_dir)
        raise RunLockedError(
            f"{run_dir} is in use by {_describe(holder)}: a run directory has one writer at a "
            f"time. Wait for that process to finish (or stop it), then run this command again; "
            f"to work in parallel, train into another run directory"
        ) from None
    except OSError as exc:
        raise RunLockedError(
            f"cannot lock {run_dir / LOCK_FILE} ({exc.strerror or exc}); check that the run "
            f"directory is writable"
        ) from None
    if previous and previous.get("pid") != os.getpid():
        same_host = previous.get("host") == socket.gethostname()
        gone = same_host and isinstance(previous.get("pid"), int) and not pid_alive(previous["pid"])
        if gone:
            log.warning("took over the lock of %s left by %s (that process is gone)",
                        run_dir, _describe(previous))
    _write_holder(run_dir, command or " ".join(["ftlab", *sys.argv[1:]])[:300])
    with _GUARD:
        _HELD[key] = (lock, 1)
    try:
        yield run_dir
    finally:
        with _GUARD:
            _, depth = _HELD.pop(key, (lock, 1))
        with contextlib.suppress(OSError):
            (run_dir / HOLDER_FILE).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            lock.release()


_F = TypeVar("_F", bound=Callable[..., Any])


def writes_run(command: str) -> Callable[[_F], _F]:
    """Decorator: the function (whose first argument is a run directory) runs under that run's
    writer lock. Under torchrun only rank 0 writes, so other ranks do not lock; a path that is
    not a directory is passed on unlocked (the function reports it)."""

    def wrap(fn: _F) -> _F:
        @functools.wraps(fn)
        def locked(run_dir: Any, *args: Any, **kwargs: Any) -> Any:
            if os.environ.get("RANK", "0") != "0" or not Path(run_dir).is_dir():
                return fn(run_dir, *args, **kwargs)
            with run_lock(run_dir, command=command):
                return fn(run_dir, *args, **kwargs)

        return locked  # type: ignore[return-value]

    return wrap
