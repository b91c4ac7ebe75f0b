"""Printing shared by several commands: every result prints its own ``format()`` text
(:class:`ftlab.core.Record`); the CLI only chooses where it goes."""

from __future__ import annotations

from typing import Any

from ftlab.cli._app import console
from ftlab.core import fmt_value as _fmt

__all__ = ["_fmt", "echo", "echo_run", "echo_evaluation"]


def echo(result: Any) -> None:
    """Print a result record's text (``format()``) as it is: no rich markup, no highlighting."""
    console.print(result.format(), markup=False, highlight=False, soft_wrap=True)


def echo_run(summary: dict[str, Any]) -> None:
    """Print a run's outcome (``run.json`` as :class:`ftlab.runs.RunSummary`)."""
    from ftlab.runs import RunSummary

    echo(RunSummary.from_dict(summary, source="the run summary"))


def echo_evaluation(result: dict[str, Any]) -> None:
    """Print an evaluation (:class:`ftlab.evaluation.EvaluationResult`)."""
    from ftlab.evaluation import EvaluationResult

    echo(EvaluationResult.from_dict(result, source="the evaluation"))
