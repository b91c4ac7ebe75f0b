"""Studies: Optuna samplers, pruners and RDB storage around the run line; ``study.json``.

A study lives in ``<output_dir>/<study>/``::

    config.yaml          the base config (resolved)
    space.yaml           the search space searched
    study.db             the Optuna storage (SQLite default; any RDB URL with --storage)
    trial-0000/ ...      one ordinary run directory per trial (run.json tags: study, trial)
    study.json           the summary below
    report.html          the study report (ftlab.report): history, importances,
                         parallel coordinates, slices, pruned vs completed curves, trials
    space.refined.yaml   with --refine: a narrower space around the best values
    worker-<i>.log       with --workers K: each worker's output

``study.json`` (schema 1)::

    {"schema": 1, "study": str, "storage": str, "study_dir": str, "direction": "maximize"|
     "minimize", "monitor": str, "sampler": str, "pruner": str, "trials_per_group": int,
     "epochs_per_trial": int,
     "epochs_total": float,          # epochs trained by every trial (completed, pruned, failed)
     "best": BEST | null,            # best over all groups
     "groups": [{"optuna_study": str, "scientific": {key: value}, "best": BEST | null,
                 "complete": int, "pruned": int, "failed": int, "epochs": float}],
     "trials": [{"optuna_study": str, "scientific": {key: value}, "number": int,
                 "state": "COMPLETE"|"PRUNED"|"FAIL"|"RUNNING"|"WAITING", "params": {key: value},
                 "value": float | null, "epochs_trained": float, "evaluations": int,
                 "run_dir": str | null, "fail_reason": str | null}],
     "warnings": [str], "retrain_command": str | null, "refined_space": str | null}
    BEST = {"optuna_study": str, "number": int, "value": float, "params": {key: value},
            "run_dir": str | null}

``params`` are dotted config keys (fixed and scientific values included); a study without
scientific parameters has one group with ``scientific: {}``.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import shlex
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from filelock import FileLock

from ftlab.core import atomic_write_json, optional_import, pid_alive
from ftlab.config import RunConfig, dump_config
from ftlab.errors import ConfigError, TrainingError
from ftlab.tuning._advice import boundary_warnings, refine_space
from ftlab.tuning._objective import make_objective
from ftlab.tuning._space import SearchSpace, dump_space
from ftlab.tuning._summary import StudySummary

__all__ = [
    "StudyResult", "run_study", "optimize_study", "summarize_study", "format_study", "SAMPLERS",
    "PRUNERS",
]

SAMPLERS = ("tpe", "random", "grid", "gp")
PRUNERS = ("median", "asha", "hyperband", "none")


@dataclass
class StudyResult:
    """What a study found; :meth:`to_dict` is ``study.json`` (schema in the module docstring)."""

    name: str
    study_dir: Path
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def best(self) -> dict[str, Any] | None:
        """The best trial over all groups (``number``, ``value``, ``params``, ``run_dir``)."""
        return self.summary.get("best")

    @property
    def trials(self) -> list[dict[str, Any]]:
        """One row per trial of every group."""
        return self.summary.get("trials", [])

    @property
    def warnings(self) -> list[str]:
        """Boundary warnings and worker problems."""
        return self.summary.get("warnings", [])

    def to_dict(self) -> dict[str, Any]:
        """The ``study.json`` content."""
        return dict(self.summary)

    def format(self) -> str:
        """What ``ftlab tune`` prints (:func:`format_study`)."""
        return format_study(self)

    def __str__(self) -> str:
        return self.format()


@dataclass(frozen=True)
class _Group:
    values: dict[str, Any]  # scientific key -> value ({} without scientific parameters)
    optuna_name: str
    run_prefix: str


def _groups(space: SearchSpace, name: str) -> list[_Group]:
    sci = space.scientific
    if not sci:
        return [_Group({}, name, "")]
    out = []
    for combo in itertools.product(*[p.grid_values() or [] for p in sci]):
        values = {p.name: v for p, v in zip(sci, combo)}
        label = ",".join(f"{k}={_yaml_value(v)}" for k, v in values.items())
        slug = "-".join(str(v).replace("/", "_").replace(" ", "") for v in combo)
        out.append(_Group(values, f"{name}[{label}]", f"{slug}-"))
    return out


def _storage(url: str) -> Any:
    optuna = optional_import("optuna", "ftlab tune")
    if url.startswith("sqlite"):
        # several processes on one SQLite file: wait for locks instead of failing at once
        kwargs: dict[str, Any] = {"connect_args": {"timeout": 120}}
        return optuna.storages.RDBStorage(url, engine_kwargs=kwargs)
    # a server (PostgreSQL, MySQL): workers may run on several machines, so a dead worker is
    # found by its missing heartbeat (not by pid): its RUNNING trial becomes FAIL once no
    # heartbeat came for the grace period; Optuna checks before each trial (and _prepare)
    interval = int(os.environ.get("FTLAB_TUNE_HEARTBEAT", "30"))
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    for attempt in range(6):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs={"pool_pre_ping": True},
                                              heartbeat_interval=interval,
                                              grace_period=4 * interval,
                                              failed_trial_callback=_mark_stale)
        except (IntegrityError, ProgrammingError):
            # workers starting together on an empty database race to create Optuna's tables
            # (a duplicate-table error for all but one): the tables exist now, try again
            if attempt == 5:
                raise
            time.sleep(0.2 + 0.3 * attempt)
    raise AssertionError("unreachable")


def _mark_stale(study: Any, trial: Any) -> None:
    """Optuna's failed_trial_callback: a trial whose worker stopped beating is FAIL (set by
    Optuna). A finished trial takes no attributes, so the reason goes into the study's system
    attrs (``ftlab_stale:<number>``): the trial stays out of the budget like
    :func:`_fail_stale`'s and ``study.json`` shows the reason."""
    reason = (f"worker {trial.user_attrs.get('pid')} on {trial.user_attrs.get('host')} sent no "
              f"heartbeat (killed, interrupted or lost its connection); marked FAIL")
    study.set_user_attr(f"{_STALE}{trial.number}", reason)


_STALE = "ftlab_stale:"  # study attribute prefix: ftlab_stale:<trial number> -> reason


def _stale_numbers(study: Any, storage: Any) -> dict[int, str]:
    """Trials failed because their worker died -> reason (:func:`_mark_stale`,
    :func:`_fail_stale`). Studies of earlier versions kept them in the study's system
    attributes, read through the storage's public interface."""
    old = storage.get_study_system_attrs(storage.get_study_id_from_name(study.study_name))
    attrs = {**old, **study.user_attrs}
    return {int(k.split(":", 1)[1]): v for k, v in attrs.items() if k.startswith(_STALE)}


def _sampler(kind: Any, space: SearchSpace, seed: int) -> Any:
    optuna = optional_import("optuna", "ftlab tune")
    if not isinstance(kind, str):
        return kind  # an Optuna sampler object (library use)
    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if kind == "grid":
        return optuna.samplers.GridSampler(space.grid(), seed=seed)
    if kind == "gp":
        for dep in ("scipy", "torch"):
            optional_import(dep, "--sampler gp (Optuna's GPSampler)")
        if not hasattr(optuna.samplers, "GPSampler"):
            raise ConfigError(f"--sampler gp needs optuna >= 3.6 (installed {optuna.__version__}); "
                              f"pip install -U 'ftlab[tune]' or use --sampler tpe")
        return optuna.samplers.GPSampler(seed=seed)
    raise ConfigError(f"--sampler must be one of {', '.join(SAMPLERS)}, got {kind!r}")


def _pruner(kind: Any, epochs: int) -> Any:
    optuna = optional_import("optuna", "ftlab tune")
    if not isinstance(kind, str):
        return kind
    if kind == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    if kind == "asha":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    if kind == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(epochs, 1),
                                              reduction_factor=3)
    if kind == "none":
        return optuna.pruners.NopPruner()
    raise ConfigError(f"--pruner must be one of {', '.join(PRUNERS)}, got {kind!r}")


def _counted(trials: list[Any], stale: Any = ()) -> int:
    # enqueued (WAITING) trials are still to run; trials marked FAIL because their process
    # died (pid gone, or no heartbeat: ``stale`` numbers; the "stale" user attribute in studies
    # of earlier versions) do not use up the budget
    return sum(1 for t in trials if t.state.name != "WAITING" and not t.user_attrs.get("stale")
               and t.number not in stale)


def _fail_stale(study: Any, say: Any) -> None:
    """Mark trials left RUNNING by a process of this host that is gone as FAIL.

    A RUNNING trial without a pid is left alone: a live worker (here or on another machine)
    has just asked for it and not yet written its host and pid (the objective does that first
    thing); failing it would make that worker crash on telling its result. On a server storage
    the heartbeat still finds it if its worker died in that instant.
    """
    from optuna.trial import TrialState

    host = socket.gethostname()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        pid = t.user_attrs.get("pid")
        if pid is None or t.user_attrs.get("host", host) != host or pid_alive(pid):
            continue
        reason = (f"left RUNNING by process {pid} on {host}, which is gone (killed or "
                  f"interrupted); marked FAIL when the study resumed")
        study.set_user_attr(f"{_STALE}{t.number}", reason)  # before the tell: never counted
        study.tell(t.number, state=TrialState.FAIL)
        say(f"trial {t.number} of {study.study_name}: {reason}")


def worker_seed(seed: int, *, group: int = 0, worker_index: int = 0, existing: int = 0,
                independent: bool = False) -> int:
    """The sampler seed of one worker on one group of a study.

    Two workers with the same seed draw the same values (random sampling, TPE's start-up
    trials), so every way a worker can join a study gets its own seed: a fresh study in one
    process uses ``seed + 1000 * group`` (reproducible); ``--workers K`` adds the worker's
    index; a resumed study adds 7919 x its number of existing trials (else its first draws
    would repeat the first session's); and on a storage given with ``--storage``, where the
    same command may be started on several machines at once, the host, process id and clock
    are mixed in (such a study is not reproducible draw for draw).
    """
    salt = 0
    if independent:
        token = f"{socket.gethostname()}:{os.getpid()}:{time.time_ns()}".encode()
        salt = int.from_bytes(hashlib.blake2b(token, digest_size=4).digest(), "little")
    return (seed + 1000 * group + worker_index + 7919 * existing + salt) % 2**32


def optimize_study(
    config: RunConfig,
    space: SearchSpace,
    *,
    name: str,
    storage: str,
    sampler: Any = "tpe",
    pruner: Any = "median",
    trials: int,
    timeout: float | None = None,
    worker_index: int = 0,
    threads: int | None = None,
    console: Any = None,
) -> None:
    """Run trials of every group until each has ``trials`` trials in the storage (one worker).

    Several processes may call this on the same storage; the total stays ``trials`` per group.
    """
    optuna = optional_import("optuna", "ftlab tune")
    say = console.print if console is not None else (lambda *a, **k: None)
    if threads:
        import torch

        torch.set_num_threads(threads)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study_dir = Path(config.output_dir) / name
    study_dir.mkdir(parents=True, exist_ok=True)
    rdb = _storage(storage)
    direction = "minimize" if config.eval.monitor == "loss" else "maximize"
    deadline = time.monotonic() + timeout if timeout else None
    # held from "count the trials" to "the new trial exists", so K local workers never start
    # more than --trials trials in total (released again by the objective once it started)
    lock = FileLock(study_dir / ".ask.lock")
    # a storage of the user's (--storage): other machines may join with the same command
    independent = storage != f"sqlite:///{study_dir.resolve() / 'study.db'}"
    clock = _TrialClock()
    for gi, group in enumerate(_groups(space, name)):
        study = optuna.create_study(storage=rdb, study_name=group.optuna_name, direction=direction,
                                    sampler=optuna.samplers.RandomSampler(),  # replaced below
                                    pruner=_pruner(pruner, config.train.epochs),
                                    load_if_exists=True)
        seed = worker_seed(config.seed, group=gi, worker_index=worker_index,
                           existing=len(study.get_trials(deepcopy=False)), independent=independent)
        smp = study.sampler = _sampler(sampler, space, seed)
        study.set_user_attr("ftlab_study", name)
        study.set_user_attr("scientific", group.values)
        objective = make_objective(config, space, study_name=name, study_dir=study_dir,
                                   preset={**space.fixed, **group.values},
                                   run_prefix=group.run_prefix, on_trial_start=lock.release,
                                   tags={"scientific": group.values} if group.values else None)
        while deadline is None or time.monotonic() < deadline:
            lock.acquire()
            try:
                if _counted(study.get_trials(deepcopy=False), _stale_numbers(study, rdb)) >= trials:
                    break
                if sampler == "grid" and smp.is_exhausted(study):
                    break
                study.optimize(objective, n_trials=1, catch=(TrainingError, ConfigError),
                               callbacks=[lambda s, t: say(
                                   f"{_trial_line(s, t, config)}  {clock.tick(s, trials)}",
                                   markup=False, highlight=False)])
            finally:
                lock.release()
        else:
            say(f"--timeout {timeout:g} s reached; the study resumes with the same command")
            return


class _TrialClock:
    """``[3/20 trials, eta 4m10s]``: the study's finished trials and this worker's pace."""

    def __init__(self) -> None:
        self.t0, self.mine = time.monotonic(), 0

    def tick(self, study: Any, trials: int) -> str:
        from ftlab.core import format_seconds

        self.mine += 1
        done = sum(t.state.is_finished() for t in study.get_trials(deepcopy=False))
        per_trial = (time.monotonic() - self.t0) / self.mine
        return f"[{done}/{trials} trials, eta {format_seconds(per_trial * max(0, trials - done))}]"


def _trial_line(study: Any, t: Any, config: RunConfig) -> str:
    value = "-" if t.value is None else f"{t.value:.4f}"
    params = ", ".join(f"{k}={_show(v)}" for k, v in t.params.items())
    reason = t.system_attrs.get("fail_reason") or ""
    return (f"{study.study_name} trial {t.number}: {t.state.name} {config.eval.monitor} {value} "
            f"({t.user_attrs.get('epochs_trained', 0):g} epochs) {params} {reason[:200]}").rstrip()


def _show(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def run_study(
    config: RunConfig,
    space: SearchSpace,
    *,
    name: str | None = None,
    sampler: Any = "tpe",
    pruner: Any = "median",
    trials: int | None = None,
    timeout: float | None = None,
    storage: str | None = None,
    workers: int = 1,
    refine: bool = False,
    config_path: str | Path | None = None,
    overrides: Sequence[str] = (),
    console: Any = None,
) -> StudyResult:
    """Tune ``config`` over ``space``: every trial an ordinary run; resumable; ``study.json``.

    Args:
        config: the base run config; its seed seeds the sampler, ``eval.monitor`` is the
            objective (maximised unless it is ``loss``), ``train.epochs`` is fixed per trial.
        space: the search space (scientific parameters give one sub-study per value).
        name: study name (default: the config's name, else ``"study"``); the study directory
            is ``<output_dir>/<name>``.
        sampler: ``tpe``, ``random``, ``grid``, ``gp`` or an Optuna sampler (one worker only).
        pruner: ``median``, ``asha``, ``hyperband``, ``none`` or an Optuna pruner.
        trials: total trials per group in the storage, earlier (resumed) ones included
            (default: the grid size for ``grid``, else 20).
        timeout: seconds after which no new trial starts.
        storage: an RDB URL (default: SQLite ``<study_dir>/study.db``).
        workers: local worker processes sharing the storage (torch threads = cores // workers).
        refine: write ``space.refined.yaml`` narrowed around the best values.
        config_path: the config file shown in the retrain command.
        overrides: the ``--set`` overrides the study was started with (repeated in the retrain
            command, so that it reproduces the trial).
        console: a rich console for progress lines (None: quiet).

    Returns:
        The :class:`StudyResult` (also written as ``study.json``).

    Raises:
        ConfigError: bad sampler/pruner/workers/trials, or a grid sampler without grid values.
        MissingDependencyError: optuna (or the GP sampler's dependencies) is not installed.
    """
    optional_import("optuna", "ftlab tune")
    say = console.print if console is not None else (lambda *a, **k: None)
    name = name or config.name or "study"
    if not name or any(c in name for c in "/\\") or name.startswith("."):
        raise ConfigError(f"study name must be a plain directory name, got {name!r}")
    if workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {workers}")
    if workers > 1 and not (isinstance(sampler, str) and isinstance(pruner, str)):
        raise ConfigError("with several workers pass the sampler and pruner by name (tpe, median, "
                          "...): worker processes build their own")
    if trials is None:
        trials = _grid_size(space) if sampler == "grid" else 20
    if trials < 1:
        raise ConfigError(f"--trials must be >= 1, got {trials}")
    study_dir = Path(config.output_dir) / name
    study_dir.mkdir(parents=True, exist_ok=True)
    url = storage or f"sqlite:///{study_dir.resolve() / 'study.db'}"
    (study_dir / "config.yaml").write_text(dump_config(config), encoding="utf-8")
    dump_space(space, study_dir / "space.yaml")
    _sampler(sampler, space, config.seed)  # fail fast on a bad sampler or missing grid values
    _pruner(pruner, config.train.epochs)
    _prepare(config, space, name, url, say)
    problems: list[str] = []
    if workers == 1:
        optimize_study(config, space, name=name, storage=url, sampler=sampler, pruner=pruner,
                       trials=trials, timeout=timeout, console=console)
    else:
        problems = _run_workers(study_dir, name=name, url=url, sampler=sampler, pruner=pruner,
                                trials=trials, timeout=timeout, workers=workers, say=say)
    return summarize_study(config, space, name=name, storage=url, sampler=str(sampler),
                           pruner=str(pruner), trials=trials, refine=refine,
                           config_path=config_path, overrides=overrides,
                           extra_warnings=problems)


def _grid_size(space: SearchSpace) -> int:
    n = 1
    for values in space.grid().values():
        n *= len(values)
    return n


def _prepare(config: RunConfig, space: SearchSpace, name: str, url: str, say: Any) -> None:
    """Create every group's study and mark trials of dead local processes FAIL."""
    optuna = optional_import("optuna", "ftlab tune")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rdb = _storage(url)
    direction = "minimize" if config.eval.monitor == "loss" else "maximize"
    for group in _groups(space, name):
        study = optuna.create_study(storage=rdb, study_name=group.optuna_name,
                                    direction=direction, load_if_exists=True)
        if study.direction.name.lower() != direction:
            raise ConfigError(f"study {group.optuna_name!r} in {url} was created to {study.direction.name.lower()} "
                              f"but eval.monitor {config.eval.monitor!r} needs {direction}; use another --name")
        _fail_stale(study, say)
        if getattr(rdb, "heartbeat_interval", None):  # a server URL (see _storage)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.fail_stale_trials(study)


def _run_workers(study_dir: Path, *, name: str, url: str, sampler: str, pruner: str, trials: int,
                 timeout: float | None, workers: int, say: Any) -> list[str]:
    threads = max(1, (os.cpu_count() or 1) // workers)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    procs: list[tuple[subprocess.Popen[bytes], Path]] = []
    try:
        for i in range(workers):
            cmd = [sys.executable, "-m", "ftlab", "tune", str(study_dir / "config.yaml"),
                   "--space", str(study_dir / "space.yaml"), "--name", name, "--storage", url,
                   "--sampler", sampler, "--pruner", pruner, "--trials", str(trials),
                   "--worker-index", str(i), "--threads", str(threads)]
            if timeout:
                cmd += ["--timeout", str(timeout)]
            log = study_dir / f"worker-{i}.log"
            with log.open("ab") as fh:
                procs.append((subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env),
                              log))
        say(f"{workers} workers ({threads} torch threads each) on {url}; logs: "
            f"{study_dir}/worker-*.log")
        codes = [p.wait() for p, _ in procs]
    except BaseException:
        for p, _ in procs:
            if p.poll() is None:
                p.terminate()
        raise
    return [f"worker {i} exited with status {rc}; see {log}"
            for i, (rc, (_, log)) in enumerate(zip(codes, procs)) if rc != 0]


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    optuna = optional_import("optuna", "ftlab tune")
    old = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(old)


def summarize_study(config: RunConfig, space: SearchSpace, *, name: str, storage: str,
                    sampler: str = "tpe", pruner: str = "median", trials: int | None = None,
                    refine: bool = False, config_path: str | Path | None = None,
                    overrides: Sequence[str] = (),
                    extra_warnings: list[str] | None = None) -> StudyResult:
    """Read the storage back into a :class:`StudyResult` and write ``study.json``."""
    optuna = optional_import("optuna", "ftlab tune")
    from optuna.trial import TrialState

    study_dir = Path(config.output_dir) / name
    rdb = _storage(storage)
    rows, groups, warnings = [], [], list(extra_warnings or [])
    best_overall: dict[str, Any] | None = None
    sign = -1.0 if config.eval.monitor == "loss" else 1.0
    with _quiet_optuna():
        for group in _groups(space, name):
            study = optuna.load_study(study_name=group.optuna_name, storage=rdb)
            stale = _stale_numbers(study, rdb)
            g_rows = [_trial_row(group, t, stale.get(t.number))
                      for t in study.get_trials(deepcopy=False)]
            rows += g_rows
            done = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
            g_best = None
            if done:
                bt = study.best_trial
                g_best = {"optuna_study": group.optuna_name, "number": bt.number,
                          "value": bt.value, "params": bt.user_attrs.get("params", bt.params),
                          "run_dir": bt.user_attrs.get("run_dir")}
                label = f"[{group.optuna_name}] " if group.values else ""
                warnings += [label + w for w in boundary_warnings(space, g_best["params"])]
                if best_overall is None or sign * (bt.value - best_overall["value"]) > 0:
                    best_overall = g_best
            groups.append({
                "optuna_study": group.optuna_name, "scientific": group.values, "best": g_best,
                **{k: sum(r["state"] == k.upper() for r in g_rows)
                   for k in ("complete", "pruned", "fail")},
                "epochs": round(sum(r["epochs_trained"] for r in g_rows), 4)})
    for g in groups:
        g["failed"] = g.pop("fail")
    shown_cfg = str(config_path or study_dir / "config.yaml")
    command = None
    if best_overall is not None:
        # the study's own overrides first, the trial's values after them (later --set wins)
        sets = " ".join([*(f"--set {shlex.quote(o)}" for o in overrides),
                         *(f"--set {shlex.quote(f'{k}={_yaml_value(v)}')}"
                           for k, v in best_overall["params"].items())])
        command = f"ftlab train {shlex.quote(shown_cfg)} {sets}".strip()
    refined = None
    if refine and best_overall is not None:
        refined = dump_space(refine_space(space, best_overall["params"]),
                             study_dir / "space.refined.yaml")
    summary = {
        "schema": 1, "study": name, "storage": storage, "study_dir": str(study_dir),
        "direction": "minimize" if sign < 0 else "maximize", "monitor": config.eval.monitor,
        "sampler": sampler, "pruner": pruner, "trials_per_group": trials,
        "epochs_per_trial": config.train.epochs,
        "epochs_total": round(sum(r["epochs_trained"] for r in rows), 4),
        "best": best_overall, "groups": groups, "trials": rows, "warnings": warnings,
        "retrain_command": command, "refined_space": str(refined) if refined else None,
    }
    summary = StudySummary.model_validate(summary).to_dict()  # the schema, checked on write
    atomic_write_json(study_dir / "study.json", summary)
    from ftlab.report import write_study_report

    with _quiet_optuna():
        studies = [optuna.load_study(study_name=g.optuna_name, storage=rdb)
                   for g in _groups(space, name)]
        write_study_report(studies, study_dir / "report.html", summary=summary,
                           sources=[storage])
    return StudyResult(name=name, study_dir=study_dir, summary=summary)


def _yaml_value(v: Any) -> str:
    if isinstance(v, float):
        return repr(v)
    if v is None:
        return "null"
    return yaml.safe_dump(v, default_flow_style=True).strip().removesuffix("\n...").strip()


def _trial_row(group: _Group, t: Any, stale_reason: str | None = None) -> dict[str, Any]:
    return {
        "optuna_study": group.optuna_name, "scientific": group.values, "number": t.number,
        "state": t.state.name, "params": t.user_attrs.get("params", t.params), "value": t.value,
        "epochs_trained": float(t.user_attrs.get("epochs_trained", 0.0)),
        "evaluations": int(t.user_attrs.get("evaluations", 0)),
        "run_dir": t.user_attrs.get("run_dir"),
        "fail_reason": t.system_attrs.get("fail_reason") or stale_reason,
    }


def format_study(result: StudyResult) -> str:
    """A plain-text summary: the scientific comparison, the best trial, retrain command,
    boundary warnings and the refined space."""
    s = result.summary
    lines = [f"study {s['study']}: {len(s['trials'])} trials, {s['epochs_total']:g} epochs trained "
             f"in total; {s['study_dir']}/study.json"]
    report = Path(s["study_dir"]) / "report.html"
    if report.is_file():
        lines.append(f"report: {report}")
    if any(g["scientific"] for g in s["groups"]):
        lines.append(f"  {'scientific value':<36} {'best ' + s['monitor']:>14} {'trial/run':<40} "
                     f"{'complete':>8} {'pruned':>6}")
        for g in s["groups"]:
            b = g["best"]
            value = f"{b['value']:.4f}" if b else "-"
            where = f"#{b['number']} {b['run_dir']}" if b else "-"
            label = ",".join(f"{k}={_show(v)}" for k, v in g["scientific"].items())
            lines.append(f"  {label:<36} {value:>14} {where:<40} {g['complete']:>8} "
                         f"{g['pruned']:>6}")
    best = s["best"]
    if best is None:
        lines.append("no trial completed; see the trials' run directories and study.json")
    else:
        lines.append(f"best trial: #{best['number']} of {best['optuna_study']}: {s['monitor']} "
                     f"{best['value']:.4f} ({best['run_dir']})")
        for k, v in best["params"].items():
            lines.append(f"  {k} = {_show(v)}")
        lines.append(f"retrain with: {s['retrain_command']}")
    for w in s["warnings"]:
        lines.append(f"warning: {w}")
    if s.get("refined_space"):
        lines.append(f"refined space written to {s['refined_space']}:")
        lines.append(Path(s["refined_space"]).read_text(encoding="utf-8").rstrip())
    return "\n".join(lines)
