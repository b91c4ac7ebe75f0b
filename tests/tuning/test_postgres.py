"""Tuning workers sharing one study on a throwaway local PostgreSQL server.

The server comes from Debian's ``postgresql`` package, which the README set-up installs
(``make test`` as root, scripts/system-deps.sh); without it the tests skip with that reason. No
test installs anything. Needs a PostgreSQL driver
(``pip install 'ftlab[postgres]'``).

The tests synchronise on the database, never on sleeps, so that they hold on a loaded 2-core
machine: they read Optuna's tables (``trials``, ``trial_user_attributes``, ``trial_heartbeats``)
with psycopg2 (a table that does not exist yet reads as empty: the workers create them), and
each wait has a deadline (``WAIT``) that only a broken run reaches.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from _system import POSTGRES_MISSING, postgres_bin

from .conftest import tiny_raw

optuna = pytest.importorskip("optuna")
psycopg2 = pytest.importorskip("psycopg2",
                               reason="no PostgreSQL driver: pip install 'ftlab[postgres]'")

SPACE = {"params": {"train.lr": {"low": 0.01, "high": 0.3, "log": True}}}
WAIT = 300.0  # seconds: the deadline of every wait (seconds are enough on an idle machine)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pg_server() -> Iterator[Callable[[], str]]:
    """A PostgreSQL server for this module; calling it creates a fresh database (its URL)."""
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip(POSTGRES_MISSING)
    root = Path(tempfile.mkdtemp(prefix="ftpg-", dir="/tmp"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        import pwd

        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, log = root / "data", root / "log"

    def run(*cmd: str, check: bool = True) -> bool:
        r = subprocess.run([*prefix, *cmd], capture_output=True, text=True, timeout=WAIT, cwd=root)
        if check and r.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed: {r.stdout}{r.stderr}")
        return r.returncode == 0

    def stop() -> None:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop", check=False)

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "ftlab", "--auth=trust", "-E", "UTF8",
            "--no-sync")
        # the port is free when picked but may be taken before the server binds it: retry
        for _ in range(5):
            port = _free_port()
            if run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "120",
                   "-o", f"-h 127.0.0.1 -p {port} -k {root} -F", "start", check=False):
                break
            stop()  # a server that did come up after all (too slow for -t)
        else:
            raise RuntimeError(f"PostgreSQL did not start: {log.read_text()[-2000:]}")
        names = (f"tune{i}" for i in itertools.count())

        def new_database() -> str:
            name = next(names)
            run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "ftlab", name)
            return f"postgresql+psycopg2://ftlab@127.0.0.1:{port}/{name}"

        yield new_database
    finally:
        stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server) -> str:
    """An empty database of its own: the workers create Optuna's tables, racing each other."""
    return pg_server()


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen]]:
    """Starts ``ftlab tune`` workers; at the end of the test kills those still running."""
    procs: list[subprocess.Popen] = []

    def start(cfg: Path, spc: Path, url: str, name: str, trials: int, log: Path,
              **env: str) -> subprocess.Popen:
        cmd = [sys.executable, "-m", "ftlab", "tune", str(cfg), "--space", str(spc), "--storage",
               url, "--name", name, "--trials", str(trials), "--sampler", "random", "--pruner",
               "none"]
        with log.open("wb") as out:
            procs.append(subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                          env={**os.environ, "OMP_NUM_THREADS": "1", **env}))
        return procs[-1]

    yield start
    for p in procs:
        if p.poll() is None:  # a failed test: SIGKILL also ends a stopped (SIGSTOP) worker
            p.kill()
            p.wait(timeout=60)


def _write(tmp: Path, epochs: int) -> tuple[Path, Path]:
    cfg, spc = tmp / "config.yaml", tmp / "space.yaml"
    cfg.write_text(yaml.safe_dump(tiny_raw(tmp, epochs=epochs)))
    spc.write_text(yaml.safe_dump(SPACE))
    return cfg, spc


class Trial(NamedTuple):
    trial_id: int
    number: int
    state: str
    pid: int | None  # the worker's pid (user attr), once its objective has written it
    beat_age: float | None  # seconds since its last heartbeat, on the server's clock


def _trials(url: str, study: str) -> list[Trial]:
    """The study's trials read from Optuna's tables; [] while they do not exist."""
    sql = """SELECT t.trial_id, t.number, t.state, a.value_json,
                    EXTRACT(EPOCH FROM LOCALTIMESTAMP - h.heartbeat)
             FROM trials t JOIN studies s ON s.study_id = t.study_id
             LEFT JOIN trial_user_attributes a ON a.trial_id = t.trial_id AND a.key = 'pid'
             LEFT JOIN trial_heartbeats h ON h.trial_id = t.trial_id
             WHERE s.study_name = %s ORDER BY t.number"""
    dsn = url.replace("postgresql+psycopg2://", "postgresql://")
    with contextlib.closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cur:
        try:
            cur.execute(sql, (study,))
        except psycopg2.errors.UndefinedTable:
            return []
        return [Trial(tid, n, state, None if pid is None else json.loads(pid),
                      None if age is None else float(age))
                for tid, n, state, pid, age in cur.fetchall()]


def _wait_for(what: str, check: Callable[[], Any],
              workers: list[tuple[subprocess.Popen, Path]]) -> Any:
    """Poll ``check`` until it returns something true; fail when one of ``workers`` exits
    first (with its log) or after ``WAIT`` seconds."""
    deadline = time.monotonic() + WAIT
    while not (found := check()):
        for p, log in workers:
            if p.poll() is not None:
                pytest.fail(f"worker {p.pid} exited with {p.returncode} while waiting for {what}:"
                            f"\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"waited {WAIT:g} s for {what}")
        time.sleep(0.2)
    return found


def test_two_workers_share_a_postgres_study(tmp_path, pg_url, spawn):
    cfg, spc = _write(tmp_path, epochs=1)
    env = {"FTLAB_TUNE_HEARTBEAT": "600"}  # no heartbeat verdicts: a worker is paused below
    logs = [tmp_path / f"w{i}.log" for i in range(2)]
    # both start at once on an empty database (they race to create Optuna's tables)
    procs = [spawn(cfg, spc, pg_url, "pg", 6, log, **env) for log in logs]
    workers = list(zip(procs, logs))
    pids = {p.pid for p in procs}

    def with_trials() -> set[int]:
        return {t.pid for t in _trials(pg_url, "pg")} & pids

    # The worker first in a trial could run all six 1-epoch trials before the other one is up
    # (its imports can take seconds longer under load): pause it (SIGSTOP) inside its trial
    # until the other has a trial too. Inside a trial (RUNNING, pid written) a worker holds
    # neither the ask lock nor a database lock that the other needs.
    deadline = time.monotonic() + WAIT
    while len(ran := _wait_for("a worker's first trial", with_trials, workers)) < 2:
        (first,) = [p for p in procs if p.pid in ran]
        (second, log) = next((p, log) for p, log in workers if p is not first)
        if first.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"worker {first.pid} ran the study alone (exit {first.returncode})")
        first.send_signal(signal.SIGSTOP)
        try:
            if any(t.state == "RUNNING" and t.pid == first.pid for t in _trials(pg_url, "pg")):
                _wait_for("the second worker's first trial", lambda: with_trials() == pids,
                          [(second, log)])
        finally:  # between two trials (maybe holding the ask lock): let it on, look again
            first.send_signal(signal.SIGCONT)
        time.sleep(0.05)
    for p, log in workers:
        assert p.wait(timeout=WAIT) == 0, log.read_text()
    study = optuna.load_study(study_name="pg", storage=pg_url)
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 6
    assert sorted(t.number for t in trials) == list(range(6))
    assert all(t.state.name == "COMPLETE" for t in trials)
    run_dirs = [t.user_attrs["run_dir"] for t in trials]
    assert len(set(run_dirs)) == 6 and all(Path(d).is_dir() for d in run_dirs)
    assert {t.user_attrs["pid"] for t in trials} == pids  # both workers ran trials
    # workers started with the same command on a shared storage draw different values
    assert len({t.params["train.lr"] for t in trials}) == 6
    assert (tmp_path / "runs" / "pg" / "study.json").exists()


def test_a_killed_worker_fails_its_trial_and_the_study_completes(tmp_path, pg_url, spawn):
    cfg, spc = _write(tmp_path, epochs=2000)  # a trial far longer than the test: killed in it
    hb = {"FTLAB_TUNE_HEARTBEAT": "1"}  # grace period 4 s
    log = tmp_path / "victim.log"
    victim = spawn(cfg, spc, pg_url, "pgkill", 2, log, **hb)

    def beating() -> list[Trial]:
        return [t for t in _trials(pg_url, "pgkill")
                if t.state == "RUNNING" and t.pid == victim.pid and t.beat_age is not None]

    (dead,) = _wait_for("the victim's trial and its first heartbeat", beating, [(victim, log)])
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=60)
    (dead,) = [t for t in _trials(pg_url, "pgkill") if t.number == dead.number]
    assert dead.state == "RUNNING", log.read_text()
    study = optuna.load_study(study_name="pgkill", storage=pg_url)
    # as if it ran on another machine: the pid check cannot see it, the heartbeat must
    study._storage.set_trial_user_attr(dead.trial_id, "host", "another-machine")
    # a trial a live worker has just asked for and not yet written its host and pid to: the
    # next worker must leave it alone (failing it made that worker crash on telling its result)
    fresh = study.ask()
    # until the server's clock says the victim's heartbeat is past the grace period (ages
    # only grow: the next worker, started after, sees it stale too)
    _wait_for("the victim's heartbeat to go stale", lambda: next(
        t for t in _trials(pg_url, "pgkill") if t.number == dead.number).beat_age > 4, [])
    raw = yaml.safe_load(cfg.read_text())
    raw["train"]["epochs"] = 1
    cfg.write_text(yaml.safe_dump(raw))
    other = spawn(cfg, spc, pg_url, "pgkill", 2, tmp_path / "other.log", **hb)
    assert other.wait(timeout=WAIT) == 0, (tmp_path / "other.log").read_text()
    study.tell(fresh, 0.5)  # still RUNNING: it counted as one of the 2 trials
    study = optuna.load_study(study_name="pgkill", storage=pg_url)
    states = {t.number: t.state.name for t in study.get_trials(deepcopy=False)}
    assert states == {dead.number: "FAIL", fresh.number: "COMPLETE", 2: "COMPLETE"}, states
    summary = json.loads((tmp_path / "runs" / "pgkill" / "study.json").read_text())
    row = next(t for t in summary["trials"] if t["number"] == dead.number)
    assert "heartbeat" in row["fail_reason"]


def test_mlflow_tracks_study_runs_in_postgres(tmp_path, pg_url):
    """The MLflow tracker on a PostgreSQL store (tuning workers on several machines log to one
    server): two trials nested under their study, read back with MlflowClient."""
    mlflow = pytest.importorskip("mlflow", reason="the tracking extra is installed by `make test`")
    from ftlab.training import (
        EvalEnd,
        MLflowTracker,
        RunOutcome,
        StepEnd,
        TrainEnd,
        TrainStart,
    )

    for trial in range(2):
        tracker = MLflowTracker(experiment="pg", run_name=f"trial-{trial}", tracking_uri=pg_url,
                                hparams={"train.lr": 0.1 * (trial + 1)},
                                artifact_location=(tmp_path / "art").as_uri(),
                                tags={"trial": str(trial)}, group="sweep")
        tracker.on_train_start(TrainStart(total_steps=2, steps_per_epoch=2, epochs=1,
                                          resumed_from_step=None))
        for step in (1, 2):
            tracker.on_step_end(StepEnd(step=step, epoch=0, loss=1.0 / step, lr=0.1,
                                        grad_norm=1.0, examples=4, tokens=8, padded_tokens=8,
                                        seconds=0.01))
        tracker.on_eval_end(EvalEnd(step=2, epoch=0, metrics={"accuracy": 0.5 + trial, "n": 4}))
        tracker.on_train_end(TrainEnd(step=2, epoch=1, reason="done", best_metric=0.5,
                                      best_step=2))
        (tmp_path / "report.html").write_text("<html></html>")
        tracker.finish(RunOutcome(metrics={"test/accuracy": 0.25}, tags={"study": "sweep"},
                                  artifacts=[Path("report.html")], root=tmp_path))
    client = mlflow.MlflowClient(tracking_uri=pg_url)
    exp = client.get_experiment_by_name("pg")
    runs = client.search_runs([exp.experiment_id], "tags.`ftlab.role` = 'run'")
    (parent,) = client.search_runs([exp.experiment_id], "tags.`ftlab.role` = 'study'")
    assert sorted(r.info.run_name for r in runs) == ["trial-0", "trial-1"]
    for r in runs:
        assert r.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert r.data.metrics["test/accuracy"] == 0.25 and "eval/n" not in r.data.metrics
        assert [m.step for m in client.get_metric_history(r.info.run_id, "train/loss")] == [1, 2]
        assert {a.path for a in client.list_artifacts(r.info.run_id)} == {"report.html"}
