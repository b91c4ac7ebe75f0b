"""Progress of long phases (validation, test evaluation, transformed sets, checks, baselines).

On a terminal a phase is a transient rich bar: a second bar under the training bar while one is
shown (:func:`share_live_progress`), else its own. Without a terminal (CI logs, ``nohup``) a
phase prints a plain line whenever ``FTLAB_PROGRESS_EVERY`` seconds (default 30) passed since
the last progress line of any phase, so a long job is never silent for longer than that, and
short phases print nothing.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import IO, Any

__all__ = ["Phase", "phase", "share_live_progress", "note_progress_line", "progress_every",
           "format_seconds", "seconds_since_progress_line"]

_state: dict[str, Any] = {"live": None, "last_line": time.monotonic()}


def progress_every() -> float:
    """Seconds between plain progress lines off a terminal (``FTLAB_PROGRESS_EVERY``, 30)."""
    try:
        return max(0.0, float(os.environ.get("FTLAB_PROGRESS_EVERY", "30")))
    except ValueError:
        return 30.0


def share_live_progress(progress: Any) -> None:
    """Register the rich ``Progress`` on screen (or ``None``): phases add their bar to it."""
    _state["live"] = progress


def seconds_since_progress_line() -> float:
    """Seconds since the last progress line (of a phase or of training) was printed."""
    return time.monotonic() - float(_state["last_line"])


def note_progress_line() -> None:
    """Record that a progress line was just printed (resets the off-terminal clock)."""
    _state["last_line"] = time.monotonic()


def format_seconds(seconds: float) -> str:
    """``75`` -> ``'1m15s'``; ``3700`` -> ``'1h01m'``; ``'?'`` when unknown."""
    if not seconds == seconds or seconds < 0 or seconds == float("inf"):  # NaN, negative, inf
        return "?"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


class Phase:
    """One running phase: call :meth:`advance` as work is done."""

    def __init__(self, label: str, total: int | None, unit: str, stream: IO[str],
                 heartbeat: bool = False) -> None:
        self.label, self.total, self.unit, self.stream = label, total, unit, stream
        self.heartbeat = heartbeat
        self._stop_beat: threading.Event | None = None
        self.done = 0
        self.t0 = time.monotonic()
        self.printed = False
        self._bar: Any = None
        self._task: Any = None
        self._own = False

    def _beat(self, stop: threading.Event) -> None:
        # work without ticks (one long call): still a line whenever one is due
        while not stop.wait(1.0):
            if seconds_since_progress_line() >= progress_every():
                self.stream.write(f"{self.label}: still running after "
                                  f"{format_seconds(time.monotonic() - self.t0)}\n")
                self.stream.flush()
                self.printed = True
                note_progress_line()

    def _start(self) -> None:
        if not getattr(self.stream, "isatty", lambda: False)():
            if self.heartbeat:
                self._stop_beat = threading.Event()
                threading.Thread(target=self._beat, args=(self._stop_beat,), daemon=True,
                                 name=f"ftlab progress: {self.label}").start()
            return
        live = _state["live"]
        if live is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            live = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), TimeRemainingColumn(), transient=True,
                            console=Console(file=self.stream))
            live.start()
            self._own = True
        self._bar = live
        self._task = live.add_task(self.label, total=self.total)

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more units done; off a terminal print a line when one is due."""
        self.done += n
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done)
            return
        now = time.monotonic()
        if seconds_since_progress_line() >= progress_every():
            self.stream.write(self.line(now) + "\n")
            self.stream.flush()
            self.printed = True
            note_progress_line()

    def line(self, now: float | None = None) -> str:
        """``'test evaluation: 120/400 batches (30%), 4.1 batches/s, eta 1m08s'``."""
        elapsed = (now if now is not None else time.monotonic()) - self.t0
        rate = self.done / elapsed if elapsed > 0 else float("nan")
        if self.total:
            eta = (self.total - self.done) / rate if rate > 0 else float("nan")
            return (f"{self.label}: {self.done}/{self.total} {self.unit} "
                    f"({self.done / self.total:.0%}), {rate:,.1f} {self.unit}/s, "
                    f"eta {format_seconds(eta)}")
        return f"{self.label}: {self.done} {self.unit} in {format_seconds(elapsed)}"

    def _stop(self) -> None:
        if self._stop_beat is not None:
            self._stop_beat.set()
        if self._bar is not None:
            self._bar.remove_task(self._task)
            if self._own:
                self._bar.stop()
        elif self.printed:  # a phase that reported progress also says when it is done
            elapsed = time.monotonic() - self.t0
            self.stream.write(f"{self.label}: done, {self.done} {self.unit} in "
                              f"{format_seconds(elapsed)}\n")
            self.stream.flush()
            note_progress_line()


@contextlib.contextmanager
def phase(label: str, total: int | None = None, *, unit: str = "batches",
          stream: IO[str] | None = None, heartbeat: bool = False) -> Iterator[Phase]:
    """Show the progress of one phase while the block runs.

    Args:
        label: what is being done, e.g. ``"test evaluation"``.
        total: units of work, when known.
        unit: what is counted (``"batches"``, ``"trials"``, ``"runs"``).
        stream: where to write (default ``sys.stderr``).
        heartbeat: off a terminal, also print "still running" lines when one is due while
            nothing advances (for one long call: data preparation, a baseline fit).

    Yields:
        The :class:`Phase`; call ``advance()`` per unit done.
    """
    p = Phase(label, total, unit, stream if stream is not None else sys.stderr, heartbeat)
    p._start()
    try:
        yield p
    finally:
        p._stop()
