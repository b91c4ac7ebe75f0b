"""Analysis: honest comparisons of runs, seed statistics and ensembles.

A layer on top of the run line: it reads what ``ftlab evaluate`` wrote into run directories
(``predictions/<split>.jsonl``, ``evaluation/<split>.json``) and never changes a run.

Comparing two runs on the same examples (``ftlab compare RUN_A RUN_B``)::

    from ftlab.analysis import compare_runs
    result = compare_runs("runs/a", "runs/b", test="paired-bootstrap")
    print(result.verdict())   # "B is better than A on accuracy: +1.2 points [0.4, 2.0], ..."

- :func:`compare_predictions`: paired bootstrap, McNemar or permutation test on class
  indices, with a paired-bootstrap interval of the difference (accuracy and macro-F1).
- :func:`mcnemar_test`: McNemar's test from paired correctness (exact binomial below 25
  discordant examples, continuity-corrected chi-square above).
- :func:`compare_runs` / :func:`compare_run_groups`: the same from run directories; groups
  of seeds are compared by Welch's t-test and a bootstrap of the difference of means
  (:func:`compare_groups`), which also say when a difference is within seed noise.

Seed studies and random search (Dodge et al. 2019, "Show your work"):

- :func:`expected_max` / :func:`expected_max_std` / :func:`evp_curve`: the expected best
  validation score of ``n`` runs drawn from N observed ones, and its spread.
- :func:`seed_summary`: mean, standard deviation (ddof=1), min, max and EVP curve of a score
  over N runs.

Ensembles: :func:`average_probabilities` averages members' class probabilities; building an
ensemble from run directories or checkpoints and writing it as a run (``ftlab ensemble``) is
:func:`ftlab.runs.ensemble_runs` / :func:`ftlab.runs.ensemble_checkpoints`.
"""

from ftlab.analysis._average import average_probabilities
from ftlab.analysis._evp import (
    EVPCurve,
    SeedSummary,
    evp_curve,
    expected_max,
    expected_max_std,
    seed_summary,
)
from ftlab.analysis._groups import GroupComparison, compare_groups
from ftlab.analysis._runs import (
    RunPredictions,
    align_predictions,
    compare_run_groups,
    compare_runs,
    config_differences,
    read_metric,
    read_predictions,
)
from ftlab.analysis._significance import (
    TESTS,
    McNemarResult,
    MetricDifference,
    PairedComparison,
    TestName,
    compare_predictions,
    format_p,
    mcnemar_test,
    point_metrics,
)

__all__ = [
    # significance (_significance, _groups, _runs)
    "TESTS",
    "GroupComparison",
    "McNemarResult",
    "MetricDifference",
    "PairedComparison",
    "TestName",
    "compare_groups",
    "compare_predictions",
    "compare_run_groups",
    "compare_runs",
    "config_differences",
    "format_p",
    "mcnemar_test",
    # run files (_runs)
    "RunPredictions",
    "align_predictions",
    "read_metric",
    "read_predictions",
    # expected validation performance, seed studies (_evp)
    "EVPCurve",
    "SeedSummary",
    "evp_curve",
    "expected_max",
    "expected_max_std",
    "seed_summary",
    "point_metrics",
    # ensembles (_average)
    "average_probabilities",
]
