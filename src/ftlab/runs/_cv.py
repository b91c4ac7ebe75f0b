"""K-fold cross-validation (``eval.cv_folds``): K ordinary runs, one per validation fold.

The training and validation splits are pooled (a source's own validation split is merged
into train; a carved one is too, so both cases fold the same pool) and cut into K stratified
folds seeded by the split seed (``data.split_seed``, default ``seed``). Run ``i`` validates on
fold ``i`` and trains on the rest; the test split is held out, untouched, and every fold run is
evaluated on it. Each fold run's resolved config carries ``eval.cv_fold: i``, so it resumes
and re-evaluates on the same fold.

Layout::

    <output_dir>/<name>/
      fold-0/ ... fold-<K-1>/   ordinary runs, tagged {study: NAME, cv: true, fold: i}
      cv.json                   per-fold best validation metric, mean and spread
"""

from __future__ import annotations

import statistics
from typing import Any

from ftlab.config import RunConfig
from ftlab.errors import ConfigError
from ftlab.runs._rundir import utc_now, write_json_atomic

__all__ = ["cross_validate", "fold_configs", "format_cv"]


def fold_configs(config: RunConfig) -> list[RunConfig]:
    """One config per fold: ``eval.cv_fold = i`` and the split seed written out.

    Raises:
        ConfigError: ``eval.cv_folds`` is unset (or < 2), or the config is already one fold.
    """
    k = config.eval.cv_folds
    if k is None or k < 2:
        raise ConfigError(f"cross-validation needs eval.cv_folds >= 2, got {k!r}; set e.g. "
                          f"--set eval.cv_folds=5")
    if config.eval.cv_fold is not None:
        raise ConfigError(f"this config is already fold {config.eval.cv_fold} of a "
                          f"cross-validation (eval.cv_fold is set); unset eval.cv_fold to run "
                          f"all {k} folds, or train it as one run")
    out = []
    for i in range(k):
        data = config.data.model_copy(update={"split_seed": config.seed_for("split")})
        ev = config.eval.model_copy(update={"cv_fold": i})
        out.append(config.model_copy(update={"data": data, "eval": ev}))
    return out


def cross_validate(config: RunConfig, *, name: str | None = None,
                   console: Any = None) -> dict[str, Any]:
    """Train one run per fold of ``eval.cv_folds`` and write ``cv.json`` in the study directory.

    The folds are checked on the data before any training (e.g. more folds than examples of
    the smallest class fails at once).

    Args:
        config: a config with ``eval.cv_folds: k`` (k >= 2) and no ``eval.cv_fold``.
        name: the study directory under ``config.output_dir`` (default the config's ``name``,
            else ``cv-<model>-<time>``; ``-2`` ... appended when taken).
        console: a rich console for progress lines (optional).

    Returns:
        The ``cv.json`` content; the keys a caller (e.g. a tuning objective) needs are
        ``{"folds": [{"fold", "run_dir", "best_metric", "monitor", ...}], "mean", "std",
        "min", "max", "monitor"}`` (``std`` with ddof=1), plus ``"mode"`` (``"max"``, or
        ``"min"`` for a loss), ``"k"``, ``"name"``, ``"study_dir"``, ``"split_seed"``,
        ``"test"`` (mean/std/min/max of the folds' test metric, or None) and ``"created"``.

    Raises:
        ConfigError: ``eval.cv_folds`` missing or invalid for the data.
        FtlabError: a fold run finished without a validation score.
    """
    from ftlab.errors import FtlabError
    from ftlab.runs._builders import build_run_splits
    from ftlab.runs._seeds import study_dir_for
    from ftlab.runs._train import train_run

    configs = fold_configs(config)
    build_run_splits(configs[0])  # fail on bad folds before creating anything
    say = console.print if console is not None else (lambda *a, **k: None)
    name, study_dir = study_dir_for(config, name, "cv")
    k, monitor = len(configs), config.eval.monitor
    folds: list[dict[str, Any]] = []
    for i, cfg in enumerate(configs):
        say(f"cross-validation {name}: fold {i + 1}/{k}")
        cfg = cfg.model_copy(update={"output_dir": str(study_dir), "name": None})
        summary = train_run(cfg, name=f"fold-{i}", console=console,
                            tags={"study": name, "cv": True, "fold": i})
        best = summary.get("best_metric")
        if not isinstance(best, (int, float)):
            raise FtlabError(f"fold {i} ({summary.get('path')}) finished without a validation "
                             f"score (status {summary.get('status')!r}); check its run.json and "
                             f"metrics.jsonl")
        folds.append({"fold": i, "run_dir": summary.get("path"), "best_metric": float(best),
                      "monitor": monitor, "best_step": summary.get("best_step"),
                      "test_metric": summary.get("test_metric")})
    result = {
        "name": name, "study_dir": str(study_dir), "k": k, "monitor": monitor,
        "mode": "min" if monitor == "loss" else "max", "split_seed": config.seed_for("split"),
        "folds": folds, **_spread([f["best_metric"] for f in folds]),
        "test": _spread([float(f["test_metric"]) for f in folds
                         if isinstance(f["test_metric"], (int, float))]) or None,
        "created": utc_now(),
    }
    write_json_atomic(study_dir / "cv.json", result)
    return result


def _spread(values: list[float]) -> dict[str, Any]:
    """mean, std (ddof=1; None for one value), min and max; empty for no values."""
    if not values:
        return {}
    return {"mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else None,
            "min": min(values), "max": max(values)}


def format_cv(result: dict[str, Any]) -> str:
    """The per-fold table and the mean ± std as plain text."""
    monitor = result["monitor"]
    lines = [f"cross-validation {result['name']}: {result['k']} folds (split seed "
             f"{result['split_seed']})",
             f"  {'fold':<6} {'best val ' + monitor:>18} {'test':>8}  run directory"]
    for f in result["folds"]:
        test = f["test_metric"]
        lines.append(f"  {f['fold']:<6} {f['best_metric']:>18.4f} "
                     f"{(f'{test:.4f}' if isinstance(test, (int, float)) else '-'):>8}  "
                     f"{f['run_dir']}")
    lines.append(f"  validation {monitor}: mean {result['mean']:.4f} ± {result['std']:.4f} "
                 f"(std over folds; min {result['min']:.4f}, max {result['max']:.4f})")
    if result.get("test"):
        t = result["test"]
        lines.append(f"  test: mean {t['mean']:.4f} ± {t['std'] or 0:.4f}")
    lines.append(f"  summary: {result['study_dir']}/cv.json")
    return "\n".join(lines)
