"""Run orchestration: config -> data -> model -> fit -> evaluate, and the runs table."""

from ftlab.runs._evaluate import evaluate_run, evaluate_splits, load_run_model, split_metrics
from ftlab.runs._prepare import PreparedData, inspect_data, prepare_data
from ftlab.runs._rundir import create_run_dir, read_summary, update_summary
from ftlab.runs._table import RUN_COLUMNS, collect_runs
from ftlab.runs._train import QUICKSTART_CONFIG, StopAfter, dry_run, resume_run, train_run

__all__ = [
    "QUICKSTART_CONFIG",
    "RUN_COLUMNS",
    "PreparedData",
    "StopAfter",
    "collect_runs",
    "create_run_dir",
    "dry_run",
    "evaluate_run",
    "evaluate_splits",
    "inspect_data",
    "load_run_model",
    "prepare_data",
    "read_summary",
    "resume_run",
    "split_metrics",
    "train_run",
    "update_summary",
]
