"""Trackers: observers that record events (metrics.jsonl, TensorBoard, MLflow, W&B, progress)."""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, Literal

from ftlab.core import atomic_write_text, dumps_json, optional_import
from ftlab.training._events import EpochEnd, EvalEnd, StepEnd, TrainEnd, TrainStart

__all__ = [
    "JsonlTracker",
    "TensorBoardTracker",
    "MLflowTracker",
    "WandbTracker",
    "ProgressObserver",
]


def _step_values(e: StepEnd) -> dict[str, float]:
    per_s = e.examples / e.seconds if e.seconds > 0 else float("nan")
    return {"loss": e.loss, "lr": e.lr, "grad_norm": e.grad_norm, "examples": e.examples,
            "tokens": e.tokens, "padded_tokens": e.padded_tokens, "seconds": e.seconds,
            "examples_per_s": per_s}


def _scalar_hparams(hparams: Mapping[str, Any]) -> dict[str, int | float | str | bool]:
    # tracking backends accept scalars only; anything else is recorded as its string
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
        self._write("step", event.step, event.epoch, _step_values(event))

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


class TensorBoardTracker:
    """Write scalars (loss, lr, grad_norm, examples/s, eval metrics) and an HParams summary.

    Args:
        log_dir: the TensorBoard directory (``runs/<name>/tb``).
        hparams: hyperparameters for the HParams view (non-scalars are written as strings);
            written at train end with the best metric and the final eval metrics.

    Raises:
        MissingDependencyError: tensorboard is not installed.
    """

    def __init__(self, log_dir: str | Path, hparams: Mapping[str, Any] | None = None) -> None:
        optional_import("tensorboard", purpose="TensorBoardTracker")
        from torch.utils.tensorboard import SummaryWriter

        self.log_dir = Path(log_dir)
        self.hparams = dict(hparams or {})
        self._writer = SummaryWriter(log_dir=str(self.log_dir))
        self._last_eval: dict[str, float] = {}
        self._evals: dict[int, dict[str, float]] = {}  # step -> eval metrics

    def on_step_end(self, event: StepEnd) -> None:
        """Log training scalars under ``train/``."""
        for name, value in _step_values(event).items():
            if name in ("loss", "lr", "grad_norm", "examples_per_s") and math.isfinite(value):
                self._writer.add_scalar(f"train/{name}", value, event.step)

    def on_eval_end(self, event: EvalEnd) -> None:
        """Log evaluation metrics under ``eval/``."""
        for name, value in event.metrics.items():
            self._writer.add_scalar(f"eval/{name}", value, event.step)
        self._last_eval = dict(event.metrics)
        self._evals[event.step] = dict(event.metrics)

    def on_train_end(self, event: TrainEnd) -> None:
        """Write the HParams summary, then close.

        ``hparam/<metric>`` are the metrics of the evaluation at the best monitored step (the
        checkpoint the run keeps), not of the last evaluation; ``hparam/best_metric`` is the
        best monitored value.
        """
        chosen = self._evals.get(event.best_step, self._last_eval) \
            if event.best_step is not None else self._last_eval
        metrics = {f"hparam/{k}": v for k, v in chosen.items() if math.isfinite(v)}
        if event.best_metric is not None:
            metrics["hparam/best_metric"] = event.best_metric
        if self.hparams or metrics:
            self._writer.add_hparams(_scalar_hparams(self.hparams), metrics, run_name="hparams")
        self._writer.flush()
        self._writer.close()


class MLflowTracker:
    """Log params and metrics to MLflow (optional dependency ``ftlab[mlflow]``).

    Args:
        experiment: experiment name (created if missing), or ``None`` for the default.
        run_name: the MLflow run name.
        tracking_uri: e.g. ``file:./mlruns``; ``None`` keeps MLflow's default.
        hparams: logged as params at train start.

    Raises:
        MissingDependencyError: mlflow is not installed.
    """

    def __init__(self, experiment: str | None = None, run_name: str | None = None,
                 tracking_uri: str | None = None, hparams: Mapping[str, Any] | None = None) -> None:
        self._mlflow = optional_import("mlflow", purpose="MLflowTracker")
        if tracking_uri is not None:
            self._mlflow.set_tracking_uri(tracking_uri)
        if experiment is not None:
            self._mlflow.set_experiment(experiment)
        self.run_name, self.hparams = run_name, dict(hparams or {})

    def on_train_start(self, event: TrainStart) -> None:
        """Start the MLflow run and log params."""
        self._mlflow.start_run(run_name=self.run_name)
        self._mlflow.log_params(_scalar_hparams({**self.hparams, **event.hparams}))

    def on_step_end(self, event: StepEnd) -> None:
        """Log training scalars."""
        values = {f"train/{k}": v for k, v in _step_values(event).items() if math.isfinite(v)}
        self._mlflow.log_metrics(values, step=event.step)

    def on_eval_end(self, event: EvalEnd) -> None:
        """Log evaluation metrics."""
        values = {f"eval/{k}": v for k, v in event.metrics.items()}
        self._mlflow.log_metrics(values, step=event.step)

    def on_train_end(self, event: TrainEnd) -> None:
        """Record the stop reason and best metric, then end the run."""
        self._mlflow.set_tag("stop_reason", event.reason)
        if event.best_metric is not None:
            self._mlflow.log_metric("best_metric", event.best_metric, step=event.step)
        self._mlflow.end_run()


class WandbTracker:
    """Log to Weights & Biases (optional dependency ``ftlab[wandb]``), offline by default.

    Args:
        project: the W&B project.
        run_name: the run name.
        hparams: the run config.
        mode: ``"offline"`` (default: nothing leaves the machine), ``"online"`` or ``"disabled"``.
        dir: where W&B writes its files.

    Raises:
        MissingDependencyError: wandb is not installed.
    """

    def __init__(self, project: str, run_name: str | None = None,
                 hparams: Mapping[str, Any] | None = None,
                 mode: Literal["offline", "online", "disabled"] = "offline",
                 dir: str | Path | None = None) -> None:
        self._wandb = optional_import("wandb", purpose="WandbTracker")
        self.project, self.run_name, self.hparams = project, run_name, dict(hparams or {})
        self.mode, self.dir = mode, dir
        self._run: Any = None

    def on_train_start(self, event: TrainStart) -> None:
        """Start the W&B run."""
        self._run = self._wandb.init(project=self.project, name=self.run_name, mode=self.mode,
                                     dir=None if self.dir is None else str(self.dir),
                                     config={**self.hparams, **event.hparams})

    def on_step_end(self, event: StepEnd) -> None:
        """Log training scalars."""
        if self._run is not None:
            values = {f"train/{k}": v for k, v in _step_values(event).items()}
            self._run.log(values, step=event.step)

    def on_eval_end(self, event: EvalEnd) -> None:
        """Log evaluation metrics."""
        if self._run is not None:
            self._run.log({f"eval/{k}": v for k, v in event.metrics.items()}, step=event.step)

    def on_train_end(self, event: TrainEnd) -> None:
        """Record the summary and finish the run."""
        if self._run is not None:
            self._run.summary["stop_reason"] = event.reason
            self._run.summary["best_metric"] = event.best_metric
            self._run.finish()
            self._run = None


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
