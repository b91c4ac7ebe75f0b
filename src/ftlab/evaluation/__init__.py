"""Evaluation: metrics, calibration, decision thresholds, bootstrap intervals, error analysis,
training diagnosis and the HTML report.

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
from ftlab.evaluation._choices import choice_position_bias
from ftlab.evaluation._evaluate import REPORT_KEYS, check_labels_known, evaluate_predictions
from ftlab.evaluation._metrics import (
    MAX_CURVE_POINTS,
    absent_note,
    classification_metrics,
    label_metrics,
    majority_baseline,
)
from ftlab.evaluation._plots import PNG_SIGNATURE, figure_png, new_figure
from ftlab.evaluation._report import render_page, render_report, report_figures, write_report
from ftlab.evaluation._report_blocks import Block, Section, h3, kv, missing, note, png_block, table
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
    "choice_position_bias",
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
    # HTML report (_report)
    "render_page",
    "render_report",
    "report_figures",
    "write_report",
    # report building blocks and plot helpers, shared with the seed-study, tuning and toolbelt
    # pages (_report_blocks, _plots)
    "Block",
    "Section",
    "h3",
    "kv",
    "missing",
    "note",
    "png_block",
    "table",
    "PNG_SIGNATURE",
    "figure_png",
    "new_figure",
]
