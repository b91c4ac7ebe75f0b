"""Run orchestration: config -> data -> model -> fit -> evaluate, and the runs table."""

from ftlab.report import write_seed_report
from ftlab.runs._assemble import RunParts, build_run
from ftlab.runs._baseline import TfidfBaseline, train_baseline
from ftlab.runs._check import check_run, compare_checks, read_checks
from ftlab.runs._config import RUN_CHECKS, load_config, parse_config, registered_names
from ftlab.runs._cv import cross_validate, format_cv
from ftlab.runs._ensemble import EnsembleMember, EnsembleResult, ensemble_checkpoints, ensemble_runs
from ftlab.runs._export import export_merged
from ftlab.runs._evaluate import (
    evaluate_run,
    evaluate_splits,
    load_run_config,
    load_run_model,
    positive_class,
    predict_examples,
)
from ftlab.runs._predict import calibrate_run, predict_file, quantize_dynamic_int8
from ftlab.runs._builders import (
    build_encoder,
    build_eval_loader,
    build_model_for,
    build_optimization,
    build_run_splits,
    build_splits,
    build_train_loader,
    resolve_device,
)
from ftlab.runs._prepare import (
    PreparedData,
    augment_train,
    check_and_clean,
    data_origin,
    data_warning_lines,
    inspect_data,
    prepare_data,
    token_counter,
)
from ftlab.runs._retune import RETUNABLE
from ftlab.runs._rundir import create_run_dir, read_summary, update_summary
from ftlab.runs._table import RUN_COLUMNS, collect_runs
from ftlab.runs._robustness import evaluate_transforms
from ftlab.runs._seeds import read_seed_study, seed_study, study_configs
from ftlab.runs._transform import output_spans, preview_transform
from ftlab.runs._train import (
    QUICKSTART_CONFIG,
    StopAfter,
    diagnose_and_report,
    dry_run,
    format_robustness,
    resume_run,
    train_run,
)

__all__ = [
    "RunParts",
    "build_run",
    # builders: config -> keyword arguments -> components (_builders, _prepare)
    "augment_train",
    "build_encoder",
    "build_eval_loader",
    "build_model_for",
    "build_optimization",
    "build_run_splits",
    "build_splits",
    "build_train_loader",
    "check_and_clean",
    "resolve_device",
    "token_counter",
    "RETUNABLE",
    "EnsembleMember",
    "EnsembleResult",
    "ensemble_checkpoints",
    "ensemble_runs",
    "RUN_CHECKS",
    "load_config",
    "parse_config",
    "registered_names",
    "QUICKSTART_CONFIG",
    "RUN_COLUMNS",
    "PreparedData",
    "StopAfter",
    "TfidfBaseline",
    "calibrate_run",
    "check_run",
    "compare_checks",
    "cross_validate",
    "format_cv",
    "read_seed_study",
    "seed_study",
    "study_configs",
    "write_seed_report",
    "diagnose_and_report",
    "predict_file",
    "quantize_dynamic_int8",
    "train_baseline",
    "collect_runs",
    "create_run_dir",
    "data_origin",
    "data_warning_lines",
    "dry_run",
    "evaluate_run",
    "evaluate_splits",
    "evaluate_transforms",
    "export_merged",
    "format_robustness",
    "inspect_data",
    "load_run_config",
    "load_run_model",
    "output_spans",
    "positive_class",
    "predict_examples",
    "prepare_data",
    "preview_transform",
    "read_checks",
    "read_summary",
    "resume_run",
    "train_run",
    "update_summary",
]
