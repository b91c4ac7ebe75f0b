"""Hyperparameter search on top of the run line: every trial is an ordinary ftlab run.

``ftlab tune CONFIG --space SPACE.yaml`` drives :func:`run_study`: a search space
(:func:`load_space`, format in :mod:`ftlab.tuning._space`) sampled by Optuna (TPE, random, grid,
GP), trials pruned on the per-evaluation validation metric (median, ASHA, Hyperband), an RDB
storage (SQLite by default) so that studies resume and several workers share one study, and a
``study.json`` summary (schema in :mod:`ftlab.tuning._study`). Optuna is optional
(``pip install 'ftlab[tune]'``) and imported only when a study runs.
"""

from ftlab.tuning._advice import boundary_warnings, refine_space
from ftlab.tuning._objective import PruningObserver, make_objective, trial_config
from ftlab.tuning._ray import run_ray_study  # imports ray only when a study runs
from ftlab.tuning._space import Param, SearchSpace, dump_space, is_lr_like, load_space, parse_space
from ftlab.tuning._study import (
    PRUNERS,
    SAMPLERS,
    StudyResult,
    format_study,
    optimize_study,
    run_study,
    summarize_study,
)
from ftlab.tuning._summary import StudySummary

tune = run_study  # alias: ``ftlab.tuning.tune(config, space, ...)``

__all__ = [
    "PRUNERS",
    "SAMPLERS",
    "Param",
    "PruningObserver",
    "SearchSpace",
    "StudyResult",
    "StudySummary",
    "boundary_warnings",
    "dump_space",
    "format_study",
    "is_lr_like",
    "load_space",
    "make_objective",
    "optimize_study",
    "parse_space",
    "refine_space",
    "run_ray_study",
    "run_study",
    "summarize_study",
    "trial_config",
    "tune",
]
