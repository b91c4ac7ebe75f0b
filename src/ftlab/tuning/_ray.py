"""Population-based training (PBT) and ASHA on Ray Tune: ``ftlab tune --backend ray``.

Every Ray trial is an ordinary ftlab run directory ``<output_dir>/<study>/trial-<i>`` (run.json
``tags: {study, trial, backend: ray}``), trained by :func:`ftlab.runs.train_run` with a
:class:`RayReporter` observer: after each validation evaluation (one per epoch: the Ray time
unit is the epoch) it reports the validation metrics to Ray Tune with the ftlab checkpoint of
that step. The report is sent at the next optimizer step (or when the run ends), once the loop
has written the checkpoint of the evaluated step.

PBT exploit and explore: when a trial is in the bottom ``quantile_fraction``, Ray restarts it with
a better trial's configuration, perturbed (x0.8 / x1.2, or resampled with
``resample_probability``; clipped to the space's bounds), and that trial's checkpoint. The trial
copies the checkpoint (safetensors + JSON + weights-only ``.pt``; a directory written by
:class:`ftlab.training.Checkpointer`) into its own ``checkpoints/`` (its older checkpoints are
removed: they belong to another lineage) and resumes from it with
``resume_run(run_dir, retune=...)``, which puts the new lr / weight decay / momentum into the
restored optimizer and scheduler. Each adoption is a line of ``pbt.jsonl`` in the run directory.
PBT only perturbs parameters that may change mid-run (``ftlab.runs._retune.RETUNABLE``); a space
with other sampled parameters is refused.

Checkpoints on disk: at most ``keep_checkpoints`` per trial in its run directory (ftlab keeps the
last and ``keep_checkpoints - 1`` best) and at most ``keep_checkpoints`` in Ray's copy
(``CheckpointConfig(num_to_keep=...)``, under ``<study>/ray/``; under PBT Ray may briefly hold
one more, and its copies are cut back to ``keep_checkpoints`` when the study ends).

Study directory: ``config.yaml``, ``space.yaml``, ``trial-<i>/`` (runs), ``ray/`` (Ray Tune's
experiment: results, its checkpoint copies, ``pbt_global.txt``) and ``study.json``::

    {"schema": 1, "backend": "ray", "scheduler": "pbt"|"asha", "study": str, "study_dir": str,
     "storage": str (the Ray experiment directory), "direction": "maximize"|"minimize",
     "monitor": str, "trials_requested": int, "epochs_per_trial": int,
     "epochs_total": float,          # epochs trained by all trials (one report = one epoch)
     "keep_checkpoints": int,
     "best": BEST | null, "groups": [],
     "trials": [{"number": int, "state": "COMPLETE"|"PRUNED"|"FAIL", "params": {key: value},
                 "initial_params": {key: value}, "value": float | null (best reported),
                 "last_value": float | null,
                 "epochs_trained": float,   # epochs this trial trained (its metrics.jsonl)
                 "evaluations": int,        # reports in Ray's history of the trial
                 "run_dir": str, "max_checkpoints_on_disk": int (the most seen at a report),
                 "ray_checkpoints_on_disk": int (after the study), "exploits": int,
                 "fail_reason": str | null, "stop_reason": str | null (PRUNED)}],
     "pbt_events": [{"trial": int, "from_trial": int, "from_run_dir": str,
                     "checkpoint_step": int, "at_iteration": int,
                     "old_params": {...}, "new_params": {...}}],
     "warnings": [str], "retrain_command": str | null}
    BEST = {"optuna_study": str (the study name), "number": int, "value": float,
            "params": {key: value} (final values), "run_dir": str}

``params`` are dotted config keys (fixed values included); with PBT they are the trial's final
values (its schedule is in ``pbt_events``). Ray is optional (``pip install 'ftlab[ray]'``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from ftlab.core import atomic_write_json
from ftlab.core import optional_import
from ftlab.config import RunConfig, dump_config, parse_config
from ftlab.errors import ConfigError
from ftlab.tuning._ray_summary import _trial_number
from ftlab.tuning._space import Param, SearchSpace, dump_space

__all__ = ["RayReporter", "ray_init_kwargs", "ray_session", "run_ray_study", "SCHEDULERS"]

SCHEDULERS = ("pbt", "asha")
_PURPOSE = "ftlab tune --backend ray"


def ray_init_kwargs(*, cpus: int | None = None, address: str | None = None,
                    temp_dir: str | None = None) -> dict[str, Any]:
    """The arguments of ``ray.init`` for :func:`ray_session`.

    With ``address`` the driver connects to that cluster and uses its resources (no CPU count,
    no temp dir of ours); without it a local instance gets ``cpus`` CPUs (default: all), no
    dashboard, and ``temp_dir`` for its sockets.
    """
    common = {"log_to_driver": False, "ignore_reinit_error": True, "configure_logging": False}
    if address:
        return {"address": address, **common}
    return {"num_cpus": cpus or os.cpu_count() or 1, "include_dashboard": False,
            "_temp_dir": temp_dir, **common}


@contextlib.contextmanager
def ray_session(cpus: int | None = None, address: str | None = None) -> Iterator[None]:
    """A local Ray instance sized for small machines, shut down (and its temp dir removed) on
    exit; reuses an instance that is already running (and leaves it running).

    Args:
        cpus: CPUs Ray may use (default: all); one trial uses one. Ignored with ``address``.
        address: an existing Ray cluster to connect to (``"auto"``, ``"ray://host:10001"``,
            ``"host:6379"``); it is left running on exit. None: start a local instance.

    Raises:
        MissingDependencyError: ray is not installed (``pip install 'ftlab[ray]'``).
    """
    ray = optional_import("ray", _PURPOSE)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if ray.is_initialized():
        yield
        return
    if address:
        ray.init(**ray_init_kwargs(address=address))
        try:
            yield
        finally:
            ray.shutdown()  # disconnects this driver; the cluster keeps running
        return
    # a short path: Ray's Unix sockets live under it (108-character limit)
    tmp = tempfile.mkdtemp(prefix="ftray-", dir="/tmp" if os.path.isdir("/tmp") else None)
    ray.init(**ray_init_kwargs(cpus=cpus, temp_dir=tmp))
    try:
        yield
    finally:
        ray.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


class RayReporter:
    """Observer that reports each validation evaluation to Ray Tune with its ftlab checkpoint.

    The checkpoint of an evaluated step is written after the ``EvalEnd`` event, so the report
    goes out at the next ``StepEnd`` or from :meth:`flush` once the run returned. Ray may end
    the trial (ASHA, PBT exploit) inside the report: the run then stops where it is.

    Args:
        run_dir: the trial's run directory.
        trial: the trial number (stored in the checkpoint metadata).
    """

    def __init__(self, run_dir: Path, trial: int) -> None:
        self.run_dir, self.trial = Path(run_dir), trial
        self._pending: dict[str, Any] | None = None
        self.max_checkpoints = 0

    def on_eval_end(self, event: Any) -> None:
        """Remember the metrics; they are reported once the step's checkpoint exists."""
        self._pending = {k: float(v) for k, v in event.metrics.items()
                         if isinstance(v, (int, float))}
        self._pending.update(ftlab_step=event.step, ftlab_epoch=event.epoch)

    def on_step_end(self, event: Any) -> None:
        """Send a pending report (the previous step's checkpoint is on disk now)."""
        self.flush()

    def flush(self) -> None:
        """Report the pending evaluation (with its checkpoint when it is on disk)."""
        if self._pending is None:
            return
        from ray import tune

        metrics, self._pending = self._pending, None
        ckpt_root = self.run_dir / "checkpoints"
        self.max_checkpoints = max(self.max_checkpoints, _count_checkpoints(ckpt_root))
        metrics["ftlab_checkpoints_on_disk"] = self.max_checkpoints
        step_dir = ckpt_root / f"step-{int(metrics['ftlab_step']):08d}"
        checkpoint = None
        if step_dir.is_dir():
            checkpoint = tune.Checkpoint.from_directory(str(step_dir))
            # .metadata.json (Ray's) in the ftlab checkpoint: ftlab ignores unknown files
            checkpoint.set_metadata({"ftlab_trial": self.trial, "run_dir": str(self.run_dir),
                                     "step": int(metrics["ftlab_step"])})
        tune.report(metrics, checkpoint=checkpoint)


def _count_checkpoints(ckpt_root: Path) -> int:
    return sum(1 for p in ckpt_root.glob("step-*") if p.is_dir()) if ckpt_root.is_dir() else 0


def _domain(p: Param) -> Any:
    from ray import tune

    if p.kind == "categorical":
        return tune.choice(list(p.choices or ()))
    low, high = p.low, p.high
    if p.kind == "int":
        return (tune.lograndint if p.log else tune.randint)(int(low), int(high) + 1)  # type: ignore[arg-type]
    if p.step is not None:
        return tune.quniform(float(low), float(high), float(p.step))  # type: ignore[arg-type]
    return (tune.loguniform if p.log else tune.uniform)(float(low), float(high))  # type: ignore[arg-type]


def _check_space(config: RunConfig, space: SearchSpace, scheduler: str) -> list[Param]:
    from ftlab.runs import RETUNABLE

    problems = []
    if space.scientific:
        problems.append(f"scientific parameters ({', '.join(p.name for p in space.scientific)}) "
                        "are not supported by --backend ray; use --backend optuna, or make them "
                        "fixed and run one study per value")
    conditional = [p.name for p in space.nuisance if p.when]
    if conditional:
        problems.append(f"conditional parameters ({', '.join(conditional)}: `when`) are not "
                        "supported by --backend ray; use --backend optuna")
    if scheduler == "pbt":
        frozen = [p.name for p in space.nuisance if p.name not in RETUNABLE]
        if frozen:
            problems.append(f"PBT changes hyperparameters mid-run, which {', '.join(frozen)} "
                            f"cannot do (allowed: {', '.join(RETUNABLE)}); make them fixed or "
                            "use --scheduler asha")
    if config.train.eval_every is not None:
        problems.append("train.eval_every must be unset with --backend ray (its time unit is the "
                        "epoch: one evaluation per epoch)")
    if not space.nuisance:
        problems.append("the space samples nothing (no nuisance parameter)")
    if problems:
        raise ConfigError("search space for --backend ray --scheduler " + scheduler + ": "
                          + "; ".join(problems))
    return list(space.nuisance)


def _clip_explore(params: list[Param]) -> Any:
    def explore(config: dict[str, Any]) -> dict[str, Any]:
        for p in params:
            if p.numeric and p.name in config:
                v = min(max(config[p.name], p.low), p.high)
                config[p.name] = int(round(v)) if p.kind == "int" else float(v)
        return config
    return explore


def _make_trainable(base_raw: dict[str, Any], *, study: str, study_dir: Path,
                    fixed: dict[str, Any], keys: list[str]) -> Any:
    """The Ray function trainable (a closure over plain data: it is shipped to the workers)."""

    def trainable(ray_config: dict[str, Any]) -> None:
        import torch
        from ray import tune

        from ftlab.runs import resume_run, train_run
        from ftlab.tuning._objective import trial_config

        torch.set_num_threads(1)
        number = _trial_number(tune.get_context().get_trial_id())
        name = f"trial-{number:04d}"
        run_dir = study_dir / name
        values = {k: ray_config[k] for k in keys if k in ray_config}
        reporter = RayReporter(run_dir, number)
        checkpoint = tune.get_checkpoint()
        if checkpoint is None and not (run_dir / "checkpoints" / "last.json").exists():
            base = parse_config(base_raw, origin=f"study {study}")
            config = trial_config(base, {**fixed, **values}, output_dir=study_dir,
                                  origin=f"trial {number} of study {study}")
            train_run(config, name=name, observers=[reporter],
                      tags={"study": study, "trial": number, "backend": "ray",
                            "initial_params": {**fixed, **values}})
        else:
            if checkpoint is not None:
                _adopt(checkpoint, run_dir, number, values)
            resume_run(run_dir, observers=[reporter], retune=values or None)
        reporter.flush()

    return trainable


def _adopt(checkpoint: Any, run_dir: Path, number: int, values: dict[str, Any]) -> None:
    """Make the Ray checkpoint the run's ``last`` checkpoint (copied in when it is another
    trial's, or no longer on disk) and log an exploit in ``pbt.jsonl``."""
    from ftlab.config import load_config
    from ftlab.core import read_json

    meta = checkpoint.get_metadata()
    step = int(meta["step"])
    donor = int(meta.get("ftlab_trial", number))
    ckpt_root = run_dir / "checkpoints"
    target = ckpt_root / f"step-{step:08d}"
    if donor != number or not target.is_dir():
        old = load_config(run_dir / "config.yaml").model_dump(mode="json")
        for p in ckpt_root.glob("step-*"):  # another lineage: drop them (and stay in bound)
            shutil.rmtree(p, ignore_errors=True)
        (ckpt_root / "best.json").unlink(missing_ok=True)
        with checkpoint.as_directory() as src:
            tmp = ckpt_root / f".adopt-{step:08d}"
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(src, tmp, ignore=shutil.ignore_patterns(".metadata.json"))
            os.replace(tmp, target)
        if donor != number:
            from ftlab.tuning._space import _lookup

            state = read_json(target / "trainer_state.json")
            event = {"trial": number, "from_trial": donor, "from_run_dir": meta.get("run_dir"),
                     "checkpoint_step": step,
                     "at_epoch": int(state.get("train_state", {}).get("epoch", 0)),
                     "old_params": {k: _lookup(old, k) for k in values},
                     "new_params": dict(values)}
            with (run_dir / "pbt.jsonl").open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(event) + "\n")
    atomic_write_json(ckpt_root / "last.json", {"step": step, "path": target.name})


def _scheduler(kind: str, *, params: list[Param], epochs: int, perturbation_interval: int,
               quantile_fraction: float, resample_probability: float, synch: bool) -> Any:
    from ray.tune.schedulers import ASHAScheduler, PopulationBasedTraining

    if kind == "pbt":
        if perturbation_interval < 1:
            raise ConfigError(f"perturbation_interval must be >= 1 epoch, got "
                              f"{perturbation_interval}")
        if not 0 < quantile_fraction <= 0.5:
            raise ConfigError(f"quantile_fraction must be in (0, 0.5], got {quantile_fraction}")
        if not 0 <= resample_probability <= 1:
            raise ConfigError(f"resample_probability must be in [0, 1], got "
                              f"{resample_probability}")
        return PopulationBasedTraining(
            time_attr="training_iteration", perturbation_interval=perturbation_interval,
            quantile_fraction=quantile_fraction, resample_probability=resample_probability,
            hyperparam_mutations={p.name: _domain(p) for p in params},
            custom_explore_fn=_clip_explore(params), synch=synch)
    if kind == "asha":
        return ASHAScheduler(time_attr="training_iteration", max_t=max(epochs, 1),
                             grace_period=1, reduction_factor=2)
    raise ConfigError(f"--scheduler must be one of {', '.join(SCHEDULERS)}, got {kind!r}")


def run_ray_study(
    config: RunConfig,
    space: SearchSpace,
    *,
    scheduler: Literal["pbt", "asha"] = "pbt",
    trials: int = 4,
    name: str | None = None,
    perturbation_interval: int = 1,
    quantile_fraction: float = 0.25,
    resample_probability: float = 0.25,
    keep_checkpoints: int = 2,
    cpus: int | None = None,
    synch: bool = False,
    initial_points: list[dict[str, Any]] | None = None,
    config_path: str | Path | None = None,
    console: Any = None,
    address: str | None = None,
    storage_path: str | None = None,
) -> Any:
    """Tune ``config`` over ``space`` with Ray Tune's PBT or ASHA; every trial an ftlab run.

    Args:
        config: the base run config; ``eval.monitor`` is the objective (minimised when it is
            ``loss``), ``train.epochs`` the epochs per trial, its seed seeds the sampling.
        space: the search space (nuisance and fixed parameters; see :func:`_check_space`).
        scheduler: ``"pbt"`` (population-based training) or ``"asha"``.
        trials: the population size (PBT) or number of trials (ASHA).
        name: study name (default: the config's name, else ``"study"``).
        perturbation_interval: PBT: epochs between exploit/explore decisions.
        quantile_fraction: PBT: the bottom fraction that copies the top fraction (<= 0.5).
        resample_probability: PBT: probability of resampling a value instead of perturbing it.
        keep_checkpoints: checkpoints kept per trial, in its run directory and in Ray's copy.
        cpus: CPUs for Ray (one per trial, one torch thread each; default: all).
        synch: PBT: perturb all trials at once, after all reached the interval (reproducible).
        initial_points: values for the first trials (dotted keys); the rest are sampled.
        config_path: the config file shown in the retrain command.
        console: a rich console for progress lines (None: quiet).
        address: an existing Ray cluster (``ray.init(address=...)``); None: a local instance.
        storage_path: Ray Tune's ``RunConfig(storage_path=...)``: where Ray keeps the
            experiment state and trial checkpoints (default: the study directory). On a
            cluster it must be storage every node reaches (NFS path, ``s3://...``).

    Returns:
        The :class:`ftlab.tuning.StudyResult` (also written as ``study.json``, schema above).

    Raises:
        ConfigError: bad scheduler, arguments or a space the backend cannot search.
        MissingDependencyError: ray is not installed (``pip install 'ftlab[ray]'``).
    """
    optional_import("ray", _PURPOSE)
    tune = optional_import("ray.tune", _PURPOSE)
    from ray.tune.search import BasicVariantGenerator

    from ftlab.tuning._study import StudyResult

    say = console.print if console is not None else (lambda *a, **k: None)
    name = name or config.name or "study"
    if not name or any(c in name for c in "/\\") or name.startswith("."):
        raise ConfigError(f"study name must be a plain directory name, got {name!r}")
    if trials < 1 or keep_checkpoints < 1:
        raise ConfigError(f"trials and keep_checkpoints must be >= 1, got {trials=}, "
                          f"{keep_checkpoints=}")
    params = _check_space(config, space, scheduler)
    sched = _scheduler(scheduler, params=params, epochs=config.train.epochs,
                       perturbation_interval=perturbation_interval,
                       quantile_fraction=quantile_fraction,
                       resample_probability=resample_probability, synch=synch)
    study_dir = (Path(config.output_dir) / name).resolve()
    study_dir.mkdir(parents=True, exist_ok=True)
    (study_dir / "config.yaml").write_text(dump_config(config), encoding="utf-8")
    dump_space(space, study_dir / "space.yaml")
    base_raw = config.model_dump(mode="json")
    base_raw["train"]["checkpoint"]["keep_best"] = keep_checkpoints - 1  # + the last one
    trainable = _make_trainable(base_raw, study=name, study_dir=study_dir, fixed=space.fixed,
                                keys=[p.name for p in params])
    mode = "min" if config.eval.monitor == "loss" else "max"
    tuner = tune.Tuner(
        tune.with_resources(trainable, {"cpu": 1}),
        param_space={p.name: _domain(p) for p in params},
        tune_config=tune.TuneConfig(
            metric=config.eval.monitor, mode=mode, scheduler=sched, num_samples=trials,
            reuse_actors=True,  # a PBT exploit restarts the function in the same worker
            search_alg=BasicVariantGenerator(points_to_evaluate=initial_points or None,
                                             random_state=config.seed)),
        run_config=tune.RunConfig(
            name="ray", storage_path=storage_path or str(study_dir), verbose=0,
            checkpoint_config=tune.CheckpointConfig(num_to_keep=keep_checkpoints)),
    )
    say(f"ray {scheduler} study {name}: {trials} trials, {config.train.epochs} epochs each; "
        f"{study_dir}")
    with ray_session(cpus, address=address):
        grid = tuner.fit()
    from ftlab.tuning._ray_summary import summarize_ray_study

    summary = summarize_ray_study(config, space, grid, name=name, study_dir=study_dir,
                                  scheduler=scheduler, trials=trials,
                                  keep_checkpoints=keep_checkpoints, config_path=config_path)
    return StudyResult(name=name, study_dir=study_dir, summary=summary)
