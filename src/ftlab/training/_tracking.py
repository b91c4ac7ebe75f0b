"""Trackers that stay in the run: metrics.jsonl and the progress display (the viewers are in
``_trackers``)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from ftlab.core import atomic_write_text, dumps_json
from ftlab.training._events import EpochEnd, EvalEnd, StepEnd, TrainEnd, TrainStart
from ftlab.training._trackers import step_values

__all__ = [
    "JsonlTracker",
    "ProgressObserver",
]


def _scalar_hparams(hparams: Mapping[str, Any]) -> dict[str, int | float | str | bool]:
    # metrics.jsonl keeps the hparams as their strings when they are not scalars
    return {k: v if isinstance(v, (int, float, str, bool)) else str(v) for k, v in hparams.items()}


class JsonlTracker:
    """Append one JSON object per step, evaluation and epoch to ``metrics.jsonl``.

    Each line: ``{"kind": "step"|"eval"|"epoch"|"start"|"end", "step", "epoch", "values", "time"}``.
    On resume, lines past the resumed step (from the abandoned part of the interrupted run) are
    dropped, then the file is appended to. Every line is flushed.

    Args:
        path: the metrics file (parent directories are created).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fh: IO[str] | None = None

    def _write(
        self, kind: str, step: int | None, epoch: int | None, values: Mapping[str, Any]
    ) -> None:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("a", encoding="utf-8")
        record = {"kind": kind, "step": step, "epoch": epoch, "values": dict(values),
                  "time": time.time()}
        self._fh.write(dumps_json(record) + "\n")  # valid JSON: a NaN loss is written as null
        self._fh.flush()

    def on_train_start(self, event: TrainStart) -> None:
        """Truncate records past a resumed step, then log the start."""
        if event.resumed_from_step is not None and self.path.exists():
            keep = []
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:  # a line cut by the crash: drop it
                    continue
                if rec.get("step") is None or rec["step"] <= event.resumed_from_step:
                    keep.append(line)
            atomic_write_text(self.path, "".join(f"{line}\n" for line in keep))
        self._write("start", event.resumed_from_step or 0, None, {
            "total_steps": event.total_steps, "steps_per_epoch": event.steps_per_epoch,
            "epochs": event.epochs, "resumed_from_step": event.resumed_from_step,
            "hparams": _scalar_hparams(event.hparams),
        })

    def on_step_end(self, event: StepEnd) -> None:
        """Log loss, lr, grad norm and throughput."""
        self._write("step", event.step, event.epoch, step_values(event))

    def on_eval_end(self, event: EvalEnd) -> None:
        """Log the evaluation metrics."""
        self._write("eval", event.step, event.epoch, event.metrics)

    def on_epoch_end(self, event: EpochEnd) -> None:
        """Log the epoch boundary."""
        self._write("epoch", event.step, event.epoch, {})

    def on_train_end(self, event: TrainEnd) -> None:
        """Log why training stopped and close the file."""
        self._write("end", event.step, event.epoch, {
            "reason": event.reason, "best_metric": event.best_metric, "best_step": event.best_step,
        })
        self.close()

    def close(self) -> None:
        """Close the file (reopened on the next event)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class ProgressObserver:
    """A rich progress bar (ETA, loss, examples/s) on a TTY; plain lines every N steps otherwise.

    Args:
        total_steps: steps of the run (for the bar and the ETA).
        log_every: steps between plain log lines (non-TTY).
        stream: where to write (default ``sys.stderr``).
    """

    def __init__(
        self, total_steps: int, log_every: int = 50, stream: IO[str] | None = None
    ) -> None:
        self.total_steps, self.log_every = total_steps, max(1, log_every)
        self.stream = stream if stream is not None else sys.stderr
        self._progress: Any = None
        self._task: Any = None
        self._t0 = time.perf_counter()
        self._start_step = 0

    def on_train_start(self, event: TrainStart) -> None:
        """Start the bar (TTY) or the clock."""
        self.total_steps = event.total_steps or self.total_steps
        self._t0, self._start_step = time.perf_counter(), event.resumed_from_step or 0
        if getattr(self.stream, "isatty", lambda: False)():
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("train"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
                console=Console(file=self.stream),
            )
            self._progress.start()
            self._task = self._progress.add_task("train", total=self.total_steps,
                                                 completed=self._start_step, info="")

    def on_step_end(self, event: StepEnd) -> None:
        """Advance the bar, or print a line every ``log_every`` steps."""
        rate = event.examples / event.seconds if event.seconds > 0 else float("nan")
        info = f"loss {event.loss:.4f}  lr {event.lr:.2e}  {rate:,.0f} ex/s"
        if self._progress is not None:
            self._progress.update(self._task, completed=event.step, info=info)
        elif event.step % self.log_every == 0 or event.step == self.total_steps:
            done = event.step - self._start_step
            elapsed = time.perf_counter() - self._t0
            eta = elapsed / done * (self.total_steps - event.step) if done > 0 else float("nan")
            self.stream.write(
                f"step {event.step}/{self.total_steps} epoch {event.epoch}  {info}  "
                f"eta {eta:.0f}s\n"
            )
            self.stream.flush()

    def on_eval_end(self, event: EvalEnd) -> None:
        """Print the evaluation metrics on one line."""
        values = "  ".join(f"{k} {v:.4f}" for k, v in event.metrics.items())
        target = self._progress.console if self._progress is not None else None
        if target is not None:
            target.print(f"eval step {event.step}: {values}")
        else:
            self.stream.write(f"eval step {event.step}: {values}\n")
            self.stream.flush()

    def on_train_end(self, event: TrainEnd) -> None:
        """Stop the bar and print why training stopped."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        self.stream.write(f"training stopped at step {event.step}: {event.reason}\n")
        self.stream.flush()
