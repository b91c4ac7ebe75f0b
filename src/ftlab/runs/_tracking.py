"""The run's trackers (TensorBoard, MLflow, W&B): built from the config, finished with the outcome.

Training events reach the trackers through ``fit``; what is known only after training (best,
test and transformed-set metrics, the report, the predictions) is published by
:func:`finish_trackers` once the run is evaluated and reported, or when it fails.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ftlab.config import RunConfig, dump_config
from ftlab.runs._prepare import data_origin
from ftlab.runs._rundir import read_summary

__all__ = ["build_trackers", "finish_trackers", "run_outcome", "run_tags", "tb_hparams"]

_NUMBER = (int, float)


def _augment(config: RunConfig) -> str:
    return ",".join(f"{a.transform}x{a.n}" for a in config.train.augment) or "none"


def tb_hparams(config: RunConfig) -> dict[str, Any]:
    """The hyperparameters a run records (run.json `hparams`, fit's start event) and TensorBoard
    shows as the columns of its HParams table; `augment` tells augmented runs apart."""
    t, b, m = config.train, config.batching, config.model
    return {
        "model": m.family, "lr": t.lr, "batch_size": b.batch_size, "epochs": t.epochs,
        "optimizer": t.optimizer, "schedule": t.schedule, "weight_decay": t.weight_decay,
        "dropout": m.dropout, "embeddings": m.embeddings, "grad_accum": t.grad_accum,
        "max_length": config.preprocess.max_length, "seed": config.seed,
        "augment": _augment(config),
    }


def run_tags(config: RunConfig, run_dir: Path) -> dict[str, str]:
    """Tags to filter and group runs by: model family, dataset, augment, seed, study, trial."""
    tags = {"model": config.model.family, "dataset": data_origin(config),
            "augment": _augment(config), "seed": str(config.seed)}
    for key, value in (read_summary(run_dir).get("tags") or {}).items():
        if value is not None and not isinstance(value, (dict, list)):
            tags[str(key)] = str(value)
    return tags


def _mlflow_location(config: RunConfig) -> tuple[str | None, str | None]:
    tr = config.train.tracking
    artifacts = tr.mlflow_artifacts
    if artifacts is not None and "://" not in artifacts:  # a plain path: relative to here
        artifacts = Path(artifacts).resolve().as_uri()
    if tr.mlflow_uri is not None:
        return tr.mlflow_uri, artifacts
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return None, artifacts  # MLflow reads the variable itself
    out = Path(config.output_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{out / 'mlflow.db'}", artifacts or (out / "mlartifacts").as_uri()


def build_trackers(config: RunConfig, run_dir: Path) -> list[Any]:
    """The trackers named by ``train.trackers``, configured by ``train.tracking``."""
    from ftlab import training

    tags = run_tags(config, run_dir)
    group = tags.get("study")
    tr = config.train.tracking
    out: list[Any] = []
    for name in config.train.trackers:
        if name == "tensorboard":
            out.append(training.TensorBoardTracker(run_dir / "tb", hparams=tb_hparams(config)))
        elif name == "mlflow":
            uri, artifacts = _mlflow_location(config)
            out.append(training.MLflowTracker(
                experiment=tr.experiment, run_name=run_dir.name, tracking_uri=uri,
                hparams=training.flatten(config.model_dump(mode="json")),
                artifact_location=artifacts, tags=tags, group=group, run_path=run_dir.resolve()))
        elif name == "wandb":
            out.append(training.WandbTracker(
                project=tr.wandb_project, run_name=run_dir.name,
                hparams=config.model_dump(mode="json"), dir=run_dir, mode=tr.wandb_mode,
                group=group, tags=tags))
    return out


def run_outcome(config: RunConfig, run_dir: Path, status: str) -> Any:
    """The run's outcome from its ``run.json``: best, test and transformed-set metrics, tags,
    the config text and the files to attach (report, config, predictions)."""
    from ftlab.training import RunOutcome

    summary = read_summary(run_dir)
    metrics: dict[str, float] = {}
    if isinstance(summary.get("best_metric"), _NUMBER):
        metrics[f"best/{summary.get('monitor') or config.eval.monitor}"] = summary["best_metric"]
    for split, values in (summary.get("test") or {}).items():
        for key, value in (values or {}).items():
            if isinstance(value, _NUMBER) and not isinstance(value, bool) and key != "n":
                metrics[f"{split}/{key}"] = value
    for spec, values in (summary.get("robustness_test") or {}).items():
        for key, value in (values or {}).items():
            if isinstance(value, _NUMBER):
                group = "transformed" if key == "accuracy" else "robustness"
                metrics[f"{group}/{spec}/{key}"] = value
    files = [Path(p) for p in ("report.html", "config.yaml", "run.json")]
    pred_dir = run_dir / "predictions"
    if pred_dir.is_dir():
        files += sorted(p.relative_to(run_dir) for p in pred_dir.glob("*.jsonl"))
    tags = run_tags(config, run_dir)
    return RunOutcome(status=status, metrics=metrics, tags=tags, group=tags.get("study"),
                      config_text=dump_config(config), artifacts=files, root=run_dir)


def finish_trackers(trackers: list[Any], config: RunConfig, run_dir: Path, status: str) -> None:
    """Publish the outcome to every tracker and end their runs.

    A tracker that fails here (a database gone, a full disk) does not hide the run's own
    result: the first error is raised after every tracker had its turn.
    """
    if not trackers:
        return
    outcome = run_outcome(config, run_dir, status)
    first: BaseException | None = None
    for tracker in trackers:
        try:
            tracker.finish(outcome)
        except Exception as exc:  # noqa: BLE001 - re-raised below, after the others finished
            first = first or exc
    if first is not None:
        raise first
