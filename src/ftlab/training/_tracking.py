"""Trackers that stay in the run: metrics.jsonl and the progress display (the viewers are in
``_trackers``)."""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from ftlab.core import (
    atomic_write_text,
    dumps_json,
    format_seconds,
    note_progress_line,
    progress_every,
    seconds_since_progress_line,
    share_live_progress,
)
from ftlab.training._events import EpochEnd, EvalEnd, StepEnd, TrainEnd, TrainStart
from ftlab.training._trackers import COUNT_KEYS, step_values

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


def format_metrics(values: Mapping[str, Any]) -> str:
    """``loss 0.4415  accuracy 0.7188  n 1281``: counts as integers, measures to 4 decimals."""
    parts = []
    for key, value in values.items():
        if isinstance(value, float) and (key in COUNT_KEYS or key.endswith("_n")) \
                and value.is_integer():
            value = int(value)
        parts.append(f"{key} {value}" if isinstance(value, (int, str)) else f"{key} {value:.4f}")
    return "  ".join(parts)


class ProgressObserver:
    """Training progress: a rich bar on a TTY, plain lines otherwise.

    The bar shows ``epoch k/N``, the step count, a smoothed loss and examples/s (exponential
    moving averages: one slow or fast step does not swing them) and the ETA. Off a TTY a line is
    printed every ``log_every`` steps and, for slow steps, whenever ``FTLAB_PROGRESS_EVERY``
    seconds (default 30) passed since the last progress line. Phases inside training
    (validation) add their own bar under it (:func:`ftlab.core.phase`). Epochs are shown from 1.

    Args:
        total_steps: steps of the run (for the bar and the ETA).
        log_every: steps between plain log lines (non-TTY).
        stream: where to write (default ``sys.stderr``).
        smoothing: weight of the newest step in the moving averages.
    """

    def __init__(self, total_steps: int, log_every: int = 50, stream: IO[str] | None = None,
                 smoothing: float = 0.1) -> None:
        self.total_steps, self.log_every = total_steps, max(1, log_every)
        self.stream = stream if stream is not None else sys.stderr
        self.smoothing = smoothing
        self._progress: Any = None
        self._task: Any = None
        self._t0 = time.perf_counter()
        self._start_step = 0
        self._epochs = 0
        self._ema: dict[str, float] = {}

    def _smooth(self, key: str, value: float) -> float:
        if not math.isfinite(value):
            return self._ema.get(key, value)
        old = self._ema.get(key)
        self._ema[key] = value if old is None else old + self.smoothing * (value - old)
        return self._ema[key]

    def _epoch(self, epoch: int) -> str:
        return f"{epoch + 1}/{self._epochs}" if self._epochs else str(epoch + 1)

    def on_train_start(self, event: TrainStart) -> None:
        """Start the bar (TTY) or the clock."""
        self.total_steps = event.total_steps or self.total_steps
        self._epochs = event.epochs
        self._t0, self._start_step = time.perf_counter(), event.resumed_from_step or 0
        note_progress_line()
        if getattr(self.stream, "isatty", lambda: False)():
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(),
                TextColumn("{task.completed}/{task.total}"), TimeRemainingColumn(),
                TextColumn("{task.fields[info]}"), console=Console(file=self.stream),
            )
            self._progress.start()
            self._task = self._progress.add_task(f"train epoch {self._epoch(0)}",
                                                 total=self.total_steps,
                                                 completed=self._start_step, info="")
            share_live_progress(self._progress)  # validation adds its bar under this one

    def on_step_end(self, event: StepEnd) -> None:
        """Advance the bar, or print a line every ``log_every`` steps (or when one is due)."""
        loss = self._smooth("loss", event.loss)
        examples = self._smooth("examples", float(event.examples))
        seconds = self._smooth("seconds", event.seconds)
        rate = examples / seconds if seconds > 0 else float("nan")
        info = f"loss {loss:.4f}  lr {event.lr:.2e}  {rate:,.0f} ex/s"
        if self._progress is not None:
            self._progress.update(self._task, completed=event.step, info=info,
                                  description=f"train epoch {self._epoch(event.epoch)}")
            return
        due = seconds_since_progress_line() >= progress_every()
        if event.step % self.log_every == 0 or event.step == self.total_steps or due:
            done = event.step - self._start_step
            elapsed = time.perf_counter() - self._t0
            eta = elapsed / done * (self.total_steps - event.step) if done > 0 else float("nan")
            self.stream.write(
                f"step {event.step}/{self.total_steps} epoch {self._epoch(event.epoch)}  {info}  "
                f"eta {format_seconds(eta)}\n"
            )
            self.stream.flush()
            note_progress_line()

    def on_eval_end(self, event: EvalEnd) -> None:
        """Print the evaluation metrics on one line (counts as integers)."""
        line = f"eval step {event.step} (epoch {self._epoch(event.epoch)}): " \
               f"{format_metrics(event.metrics)}"
        if self._progress is not None:
            self._progress.console.print(line, markup=False, highlight=False)
        else:
            self.stream.write(line + "\n")
            self.stream.flush()
            note_progress_line()

    def on_train_end(self, event: TrainEnd) -> None:
        """Stop the bar and print why training stopped."""
        if self._progress is not None:
            share_live_progress(None)
            self._progress.stop()
            self._progress = None
        self.stream.write(f"training stopped at step {event.step}: {event.reason}\n")
        self.stream.flush()
        note_progress_line()

