"""Trackers that publish a run to a viewer: TensorBoard, MLflow, Weights & Biases.

Each is an observer of the training events (step and eval metrics as they come) and has one
more method, :meth:`finish`, that the run calls when everything is known (best, test and
transformed-set metrics, tags, the report and predictions) and that ends the tracked run.
``fit`` alone never calls it: a caller that uses a tracker without ``ftlab.runs`` calls
``tracker.finish()`` itself when done.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ftlab.core import optional_import
from ftlab.training._events import EvalEnd, StepEnd, TrainEnd, TrainStart

__all__ = [
    "RunOutcome",
    "TensorBoardTracker",
    "MLflowTracker",
    "WandbTracker",
    "COUNT_KEYS",
    "flatten",
]

# Counts, not measurements: never plotted as metrics (they stay in metrics.jsonl).
COUNT_KEYS = frozenset({"n", "examples", "tokens", "padded_tokens", "seconds"})


def step_values(e: StepEnd) -> dict[str, float]:
    """The scalars of one optimizer step (loss, lr, grad norm, counts, throughput)."""
    per_s = e.examples / e.seconds if e.seconds > 0 else float("nan")
    return {"loss": e.loss, "lr": e.lr, "grad_norm": e.grad_norm, "examples": e.examples,
            "tokens": e.tokens, "padded_tokens": e.padded_tokens, "seconds": e.seconds,
            "examples_per_s": per_s}


def scalar_hparams(hparams: Mapping[str, Any]) -> dict[str, int | float | str | bool]:
    """Tracking backends accept scalars only; anything else is recorded as its JSON string."""
    return {k: v if isinstance(v, (int, float, str, bool)) else json.dumps(v, default=str)
            for k, v in hparams.items()}


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"train": {"lr": 1}}`` -> ``{"train.lr": 1}``; lists and ``None`` stay leaves."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def _metrics(values: Mapping[str, Any], prefix: str) -> dict[str, float]:
    return {f"{prefix}{k}": float(v) for k, v in values.items()
            if k not in COUNT_KEYS and isinstance(v, (int, float)) and not isinstance(v, bool)
            and math.isfinite(v)}


@dataclass(frozen=True)
class RunOutcome:
    """What a finished run publishes to its trackers (built by ``ftlab.runs``).

    Attributes:
        status: ``"completed"``, ``"stopped"``, ``"failed"`` or ``"killed"``.
        metrics: final metrics by name: ``best/<monitor>``, ``test/<metric>``,
            ``transformed/<transformation>/accuracy``, ``robustness/<transformation>/drop``.
        tags: short strings to filter and group runs by (model, dataset, augment, study, seed).
        group: the study the run belongs to (tuning, seeds, cross-validation), or ``None``.
        config_text: the resolved config (YAML), shown as text.
        artifacts: files to attach (report, predictions, config), relative to ``root``.
        root: the run directory the artifact paths are relative to.
    """

    status: str = "completed"
    metrics: Mapping[str, float] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    group: str | None = None
    config_text: str = ""
    artifacts: Sequence[Path] = ()
    root: Path | None = None


class TensorBoardTracker:
    """Scalars as training goes (``train/``, ``eval/``), then one HParams entry per run.

    The HParams entry is written by :meth:`finish` into the run's own event file (one row per
    run in TensorBoard's HParams table, not a second ``hparams`` run): the hyperparameters, the
    study tags and ``augment``; as metrics the evaluation at the best monitored step
    (``hparam/<metric>``), the best monitored value and the outcome's test and transformed-set
    metrics. The resolved config is added as text.

    Args:
        log_dir: the TensorBoard directory (``runs/<name>/tb``).
        hparams: hyperparameters for the HParams view (non-scalars are written as JSON strings).

    Raises:
        MissingDependencyError: tensorboard is not installed.
    """

    def __init__(self, log_dir: str | Path, hparams: Mapping[str, Any] | None = None) -> None:
        optional_import("tensorboard", purpose="TensorBoardTracker")
        from torch.utils.tensorboard import SummaryWriter

        self.log_dir = Path(log_dir)
        self.hparams = dict(hparams or {})
        self._writer: Any = SummaryWriter(log_dir=str(self.log_dir))
        self._last_eval: dict[str, float] = {}
        self._evals: dict[int, dict[str, float]] = {}  # step -> eval metrics
        self._end: TrainEnd | None = None

    def on_step_end(self, event: StepEnd) -> None:
        """Log training scalars under ``train/``."""
        for name, value in step_values(event).items():
            if name in ("loss", "lr", "grad_norm", "examples_per_s") and math.isfinite(value):
                self._writer.add_scalar(f"train/{name}", value, event.step)

    def on_eval_end(self, event: EvalEnd) -> None:
        """Log evaluation metrics under ``eval/`` (counts such as ``n`` are not metrics)."""
        metrics = _metrics(event.metrics, "")
        for name, value in metrics.items():
            self._writer.add_scalar(f"eval/{name}", value, event.step)
        self._last_eval = metrics
        self._evals[event.step] = metrics

    def on_train_end(self, event: TrainEnd) -> None:
        """Remember the best step and flush (the HParams entry waits for :meth:`finish`)."""
        self._end = event
        self._writer.flush()

    def finish(self, outcome: RunOutcome | None = None) -> None:
        """Write the HParams entry and the config text, then close the writer."""
        if self._writer is None:
            return
        from torch.utils.tensorboard.summary import hparams as hparams_summary

        end, outcome = self._end, outcome or RunOutcome()
        chosen = self._last_eval
        if end is not None and end.best_step is not None:
            chosen = self._evals.get(end.best_step, self._last_eval)
        metrics = {f"hparam/{k}": v for k, v in chosen.items()}
        if end is not None and end.best_metric is not None and math.isfinite(end.best_metric):
            metrics["hparam/best_metric"] = end.best_metric
        metrics.update({f"hparam/{k}": v for k, v in _metrics(outcome.metrics, "").items()})
        params = scalar_hparams({**self.hparams, **outcome.tags})
        step = end.step if end is not None else 0
        if params or metrics:
            for summary in hparams_summary(params, metrics):  # experiment, session start, end
                self._writer.file_writer.add_summary(summary)
            for name, value in metrics.items():
                self._writer.add_scalar(name, value, step)
        if outcome.config_text:
            # indented four spaces: TensorBoard renders text as Markdown, this keeps the YAML
            self._writer.add_text("config", "\n".join(f"    {line}" for line in
                                                      outcome.config_text.splitlines()), step)
        self._writer.flush()
        self._writer.close()
        self._writer = None


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


class MLflowTracker:
    """Log a run to MLflow (optional dependency ``ftlab[mlflow]``) through ``MlflowClient``.

    Params are the hyperparameters (the resolved config, flattened); step and eval metrics are
    buffered and written in batches; :meth:`finish` adds the outcome's metrics and tags,
    attaches the artifacts and ends the run. Runs of one study (``group``) are children of one
    parent run named after the study (tag ``mlflow.parentRunId``), so the MLflow UI nests them.
    A resumed run continues the MLflow run with the same ``ftlab.run_path`` tag.

    Args:
        experiment: experiment name (created if missing, with ``artifact_location``).
        run_name: the MLflow run name.
        tracking_uri: e.g. ``sqlite:///runs/mlflow.db``; ``None`` keeps MLflow's default
            (``MLFLOW_TRACKING_URI``).
        hparams: logged as params at train start (with the event's hparams).
        artifact_location: where the experiment stores artifacts when it is created.
        tags: tags set when the run is created.
        group: the study the run belongs to, or ``None``.
        run_path: the run directory (tag ``ftlab.run_path``: finds the run again on resume).

    Raises:
        MissingDependencyError: mlflow is not installed.
    """

    def __init__(self, experiment: str | None = None, run_name: str | None = None,
                 tracking_uri: str | None = None, hparams: Mapping[str, Any] | None = None,
                 *, artifact_location: str | None = None, tags: Mapping[str, str] | None = None,
                 group: str | None = None, run_path: str | Path | None = None) -> None:
        self._mlflow = optional_import("mlflow", purpose="MLflowTracker")
        self.experiment, self.run_name = experiment or "ftlab", run_name
        self.tracking_uri, self.artifact_location = tracking_uri, artifact_location
        self.hparams, self.tags, self.group = dict(hparams or {}), dict(tags or {}), group
        self.run_path = None if run_path is None else str(run_path)
        self.client: Any = None
        self.run_id: str | None = None
        self._pending: list[Any] = []

    def _experiment_id(self) -> str:
        exp = self.client.get_experiment_by_name(self.experiment)
        if exp is not None:
            return str(exp.experiment_id)
        try:
            return str(self.client.create_experiment(self.experiment,
                                                     artifact_location=self.artifact_location))
        except self._mlflow.exceptions.MlflowException:  # created meanwhile by another worker
            return str(self.client.get_experiment_by_name(self.experiment).experiment_id)

    def _find(self, eid: str, **tags: str) -> Any:
        where = " and ".join(f"tags.`{k}` = '{v}'" for k, v in tags.items())
        found = self.client.search_runs([eid], filter_string=where, max_results=1)
        return found[0] if found else None

    def _parent_id(self, eid: str) -> str | None:
        if self.group is None:
            return None
        parent = self._find(eid, **{"ftlab.study": self.group, "ftlab.role": "study"})
        if parent is None:
            parent = self.client.create_run(eid, run_name=self.group, tags={
                "ftlab.study": self.group, "ftlab.role": "study"})
        return str(parent.info.run_id)

    def on_train_start(self, event: TrainStart) -> None:
        """Create (or, on resume, find) the run and log its params."""
        from mlflow.entities import Param

        self.client = self._mlflow.MlflowClient(tracking_uri=self.tracking_uri)
        eid = self._experiment_id()
        found = (self._find(eid, **{"ftlab.run_path": self.run_path})
                 if event.resumed_from_step is not None and self.run_path else None)
        if found is not None:
            self.run_id = str(found.info.run_id)
            self.client.update_run(self.run_id, status="RUNNING")
            return  # params are immutable in MLflow: the resumed run keeps the first ones
        tags = {**self.tags, "ftlab.role": "run"}
        if self.run_path:
            tags["ftlab.run_path"] = self.run_path
        parent = self._parent_id(eid)
        if parent is not None:
            tags["mlflow.parentRunId"] = parent
        run = self.client.create_run(eid, run_name=self.run_name, tags=tags)
        self.run_id = str(run.info.run_id)
        params = [Param(k, str(v)[:6000]) for k, v in
                  scalar_hparams({**event.hparams, **self.hparams}).items()]
        for chunk in _chunks(params, 100):
            self.client.log_batch(self.run_id, params=chunk)

    def _log(self, values: Mapping[str, float], step: int) -> None:
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self._pending += [Metric(k, v, now, step) for k, v in values.items()]
        if len(self._pending) >= 500:
            self._flush()

    def _flush(self) -> None:
        if self.run_id is not None:
            for chunk in _chunks(self._pending, 1000):
                self.client.log_batch(self.run_id, metrics=chunk)
        self._pending = []

    def on_step_end(self, event: StepEnd) -> None:
        """Buffer the training scalars (``train/``)."""
        self._log(_metrics(step_values(event), "train/"), event.step)

    def on_eval_end(self, event: EvalEnd) -> None:
        """Log the evaluation metrics (``eval/``; counts are not metrics)."""
        self._log(_metrics(event.metrics, "eval/"), event.step)
        self._flush()

    def on_train_end(self, event: TrainEnd) -> None:
        """Record the stop reason and the best monitored value."""
        if self.run_id is None:
            return
        self.client.set_tag(self.run_id, "stop_reason", event.reason)
        if event.best_metric is not None and math.isfinite(event.best_metric):
            self._log({"best_metric": event.best_metric}, event.step)
        self._flush()

    def finish(self, outcome: RunOutcome | None = None) -> None:
        """Log the outcome (metrics, tags, artifacts) and end the run."""
        if self.run_id is None:
            return
        outcome = outcome or RunOutcome()
        self._log(_metrics(outcome.metrics, ""), 0)
        self._flush()
        for key, value in outcome.tags.items():
            self.client.set_tag(self.run_id, key, value)
        for rel in outcome.artifacts:
            path = (outcome.root / rel) if outcome.root is not None else Path(rel)
            if path.is_file():
                parent = Path(rel).parent.as_posix()
                self.client.log_artifact(self.run_id, str(path),
                                         None if parent in ("", ".") else parent)
        status = {"completed": "FINISHED", "stopped": "FINISHED", "killed": "KILLED"}
        self.client.set_terminated(self.run_id, status.get(outcome.status, "FAILED"))
        self.run_id = None


class WandbTracker:
    """Log to Weights & Biases (optional dependency ``ftlab[wandb]``), offline by default.

    Offline, the run is a directory under ``<dir>/wandb/offline-run-*`` that ``wandb sync``
    uploads later. Runs of one study share the W&B ``group``; :meth:`finish` writes the
    outcome's metrics to the run summary, its tags as W&B tags (``key:value``) and saves the
    artifacts as run files.

    Args:
        project: the W&B project.
        run_name: the run name.
        hparams: the run config (nested mappings stay nested).
        mode: ``"offline"`` (default: nothing leaves the machine), ``"online"`` or ``"disabled"``.
        dir: where W&B writes its files.
        group: the study the run belongs to, or ``None``.
        tags: tags set when the run starts.

    Raises:
        MissingDependencyError: wandb is not installed.
    """

    def __init__(self, project: str, run_name: str | None = None,
                 hparams: Mapping[str, Any] | None = None,
                 mode: Literal["offline", "online", "disabled"] = "offline",
                 dir: str | Path | None = None, *, group: str | None = None,
                 tags: Mapping[str, str] | None = None) -> None:
        self._wandb = optional_import("wandb", purpose="WandbTracker")
        self.project, self.run_name, self.hparams = project, run_name, dict(hparams or {})
        self.mode, self.dir, self.group, self.tags = mode, dir, group, dict(tags or {})
        self._run: Any = None

    def on_train_start(self, event: TrainStart) -> None:
        """Start the W&B run."""
        if self.dir is not None:
            Path(self.dir).mkdir(parents=True, exist_ok=True)
        self._run = self._wandb.init(
            project=self.project, name=self.run_name, mode=self.mode,
            dir=None if self.dir is None else str(self.dir), group=self.group,
            tags=[f"{k}:{v}"[:64] for k, v in self.tags.items()],
            config={**event.hparams, **self.hparams},  # the tracker's own (full config) win
            # no console capture, system metrics, git or code scans: only what ftlab logs
            settings=self._wandb.Settings(silent=True, console="off", x_disable_stats=True,
                                          x_disable_meta=True, disable_git=True,
                                          save_code=False),
        )

    def on_step_end(self, event: StepEnd) -> None:
        """Log training scalars."""
        if self._run is not None:
            self._run.log(_metrics(step_values(event), "train/"), step=event.step)

    def on_eval_end(self, event: EvalEnd) -> None:
        """Log evaluation metrics (counts are not metrics)."""
        if self._run is not None:
            self._run.log(_metrics(event.metrics, "eval/"), step=event.step)

    def on_train_end(self, event: TrainEnd) -> None:
        """Record the stop reason and the best monitored value in the summary."""
        if self._run is not None:
            self._run.summary["stop_reason"] = event.reason
            if event.best_metric is not None:
                self._run.summary["best_metric"] = event.best_metric

    def finish(self, outcome: RunOutcome | None = None) -> None:
        """Write the outcome to the summary, save the artifacts and finish the run."""
        if self._run is None:
            return
        outcome = outcome or RunOutcome()
        self._run.summary.update(_metrics(outcome.metrics, ""))
        self._run.summary["status"] = outcome.status
        if outcome.tags:
            self._run.tags = tuple(sorted({*self._run.tags,
                                           *(f"{k}:{v}"[:64] for k, v in outcome.tags.items())}))
        for rel in outcome.artifacts:
            path = (outcome.root / rel) if outcome.root is not None else Path(rel)
            if path.is_file():
                self._run.save(str(path), base_path=str(outcome.root or path.parent),
                               policy="now")
        self._run.finish(exit_code=0 if outcome.status in ("completed", "stopped") else 1)
        self._run = None
