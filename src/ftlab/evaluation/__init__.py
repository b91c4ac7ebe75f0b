"""Evaluation: metrics, calibration, decision thresholds, bootstrap intervals, error analysis
and training diagnosis (the HTML report is :mod:`ftlab.report`).

Pure functions over ``labels`` (N,) class indices and ``probs`` (N, C) class probabilities;
:func:`evaluate_predictions` assembles them into the report written to
``evaluation/<split>.json``.
"""

from ftlab.evaluation._bootstrap import (
    BootstrapMetric,
    bootstrap_ci,
    bootstrap_draws,
    percentile_interval,
)
from ftlab.evaluation._calibration import (
    BinStrategy,
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
    maximum_calibration_error,
    negative_log_likelihood,
    reliability_diagram,
)
from ftlab.evaluation._doctor import (
    Finding,
    History,
    Severity,
    diagnose,
    format_findings,
    load_history,
    write_doctor,
)
from ftlab.evaluation._errors import error_analysis, slice_metrics
from ftlab.evaluation._evaluate import REPORT_KEYS, check_labels_known, evaluate_predictions
from ftlab.evaluation._metrics import (
    MAX_CURVE_POINTS,
    absent_note,
    classification_metrics,
    label_metrics,
    majority_baseline,
)
from ftlab.evaluation._threshold import (
    ThresholdMetric,
    decide,
    decision_rule,
    threshold_summary,
    tune_threshold,
)

__all__ = [
    # metrics (_metrics, _calibration, _threshold, _bootstrap, _errors, _evaluate)
    "BinStrategy",
    "BootstrapMetric",
    "MAX_CURVE_POINTS",
    "REPORT_KEYS",
    "ThresholdMetric",
    "absent_note",
    "apply_temperature",
    "bootstrap_ci",
    "bootstrap_draws",
    "percentile_interval",
    "check_labels_known",
    "classification_metrics",
    "decide",
    "decision_rule",
    "error_analysis",
    "evaluate_predictions",
    "expected_calibration_error",
    "fit_temperature",
    "label_metrics",
    "majority_baseline",
    "maximum_calibration_error",
    "negative_log_likelihood",
    "reliability_diagram",
    "slice_metrics",
    "threshold_summary",
    "tune_threshold",
    # training diagnosis (_doctor)
    "Finding",
    "History",
    "Severity",
    "diagnose",
    "format_findings",
    "load_history",
    "write_doctor",
]

# names that moved to ftlab.report (a later layer, so not re-exported here): say where they went
_MOVED_TO_REPORT = frozenset({
    "render_page", "render_report", "report_figures", "write_report", "Block", "Section", "h3",
    "kv", "missing", "note", "png_block", "table", "PNG_SIGNATURE", "figure_png", "new_figure",
})


def __getattr__(name: str) -> object:
    if name in _MOVED_TO_REPORT:
        raise AttributeError(f"ftlab.evaluation.{name} moved to ftlab.report; "
                             f"use `from ftlab.report import {name}`")
    raise AttributeError(f"module 'ftlab.evaluation' has no attribute {name!r}")
