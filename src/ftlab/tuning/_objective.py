"""One trial = one ordinary ftlab run: trial -> config -> ``train_run`` with a pruning observer."""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ftlab.config import RunConfig, parse_config, set_dotted
from ftlab.errors import TrainingError
from ftlab.training import EvalEnd, StopRequest, TrainEnd, TrainStart
from ftlab.tuning._space import SearchSpace

__all__ = ["PruningObserver", "make_objective", "trial_config"]


class PruningObserver:
    """Reports the validation metric of every evaluation to an Optuna trial; asks to stop when
    the pruner says so.

    The report's step is the evaluation index (1 after the first evaluation; with one
    evaluation per epoch, the number of epochs trained).

    Args:
        trial: the Optuna trial.
        monitor: the metric of ``EvalEnd.metrics`` to report (the config's ``eval.monitor``).
    """

    def __init__(self, trial: Any, monitor: str) -> None:
        self.trial, self.monitor = trial, monitor
        self.evals = 0
        self.pruned_reason: str | None = None
        self.steps_per_epoch: int | None = None
        self.steps = 0

    @property
    def epochs_trained(self) -> float:
        """Epochs this process trained (optimizer steps / steps per epoch)."""
        if not self.steps_per_epoch:
            return 0.0
        return round(self.steps / self.steps_per_epoch, 4)

    def on_train_start(self, event: TrainStart) -> None:
        """Remember the steps per epoch (to count epochs trained)."""
        self.steps_per_epoch = event.steps_per_epoch

    def on_eval_end(self, event: EvalEnd) -> StopRequest | None:
        """Report the monitored metric; a StopRequest when the trial should be pruned."""
        self.evals += 1
        value = event.metrics.get(self.monitor)
        if value is None or not math.isfinite(float(value)):
            return None
        self.trial.report(float(value), step=self.evals)
        if self.trial.should_prune():
            pruner = type(self.trial.study.pruner).__name__
            self.pruned_reason = (f"pruned by optuna {pruner} at evaluation {self.evals} "
                                  f"(step {event.step}, validation {self.monitor} {value:.4g})")
            return StopRequest(self.pruned_reason)
        return None

    def on_train_end(self, event: TrainEnd) -> None:
        """Record the optimizer steps taken."""
        self.steps = event.step


def trial_config(base: RunConfig, values: Mapping[str, Any], *, output_dir: Path,
                 origin: str) -> RunConfig:
    """``base`` with dotted ``values`` set and runs written under ``output_dir``.

    Raises:
        ConfigError: a combination of values the config refuses (all problems listed).
    """
    raw = base.model_dump(mode="json")
    for key, value in values.items():
        set_dotted(raw, key, value)
    raw["output_dir"] = str(output_dir)
    raw["name"] = None
    return parse_config(raw, origin=origin)


def _cross_validated(trial: Any, config: RunConfig, name: str) -> float:
    """A trial scored by K-fold cross-validation (``eval.cv_folds``): the mean of the folds'
    best validation metric; the spread and the fold runs are kept in the trial's attributes.

    The folds run one after another inside the trial; pruning is not applied to them (the
    pruner sees no intermediate values), so a CV study spends its full budget per trial.
    """
    from ftlab.runs import cross_validate

    result = cross_validate(config, name=name)
    trial.set_user_attr("run_dir", str(result["study_dir"]))
    trial.set_user_attr("cv", {k: result[k] for k in ("mean", "std", "min", "max")})
    trial.set_user_attr("epochs_trained", float(config.train.epochs * len(result["folds"])))
    trial.set_user_attr("evaluations", len(result["folds"]))
    return float(result["mean"])


def make_objective(
    base: RunConfig,
    space: SearchSpace,
    *,
    study_name: str,
    study_dir: Path,
    preset: Mapping[str, Any],
    run_prefix: str = "",
    on_trial_start: Callable[[], None] | None = None,
    tags: Mapping[str, Any] | None = None,
) -> Callable[[Any], float]:
    """The Optuna objective: sample, train one run, return its best validation metric.

    Args:
        base: the base run config.
        space: the search space (its nuisance parameters are sampled).
        study_name: the ftlab study name (run.json ``tags.study``).
        study_dir: where trial run directories are created.
        preset: fixed and scientific values set before sampling (dotted key -> value).
        run_prefix: prefix of the run directory names (e.g. the scientific value).
        on_trial_start: called once the trial exists (releases the workers' ask lock).
        tags: extra run.json tags (e.g. the scientific values).

    Returns:
        A function ``trial -> float``; it raises ``optuna.TrialPruned`` for a pruned run (after
        the run wrote its files and run.json says ``status: pruned``).
    """
    from ftlab.runs import train_run, update_summary

    monitor = base.eval.monitor
    base_raw = base.model_dump(mode="json")

    def objective(trial: Any) -> float:
        if on_trial_start is not None:
            on_trial_start()
        import optuna

        trial.set_user_attr("host", socket.gethostname())
        trial.set_user_attr("pid", os.getpid())
        params = space.sample(trial, context=preset, base=base_raw)
        values = {**preset, **params}
        trial.set_user_attr("params", values)
        name = f"{run_prefix}trial-{trial.number:04d}"
        config = trial_config(base, values, output_dir=study_dir,
                              origin=f"trial {trial.number} of study {study_name}")
        if config.eval.cv_folds and config.eval.cv_folds >= 2 and config.eval.cv_fold is None:
            return _cross_validated(trial, config, name)
        observer = PruningObserver(trial, monitor)
        run_tags = {"study": study_name, "trial": trial.number, **(tags or {})}
        try:
            summary = train_run(config, name=name, observers=[observer], tags=run_tags)
        finally:
            trial.set_user_attr("epochs_trained", observer.epochs_trained)
            trial.set_user_attr("evaluations", observer.evals)
        run_dir = str(summary.get("path") or study_dir / name)
        trial.set_user_attr("run_dir", run_dir)
        if observer.pruned_reason is not None:
            update_summary(Path(run_dir), status="pruned", stop_reason=observer.pruned_reason)
            raise optuna.TrialPruned(observer.pruned_reason)
        best = summary.get("best_metric")
        if best is None or not math.isfinite(float(best)):
            raise TrainingError(f"trial {trial.number} ({run_dir}) ended without a finite "
                                f"validation {monitor} (got {best!r}); see its run.json")
        return float(best)

    return objective
