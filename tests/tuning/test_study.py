"""Studies on tiny bag-of-embeddings runs: pruning, resume, workers, scientific design."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ftlab.config import parse_config
from ftlab.runs import collect_runs, read_summary
from ftlab.tuning import parse_space, run_study

from .conftest import tiny_raw

optuna = pytest.importorskip("optuna")

LR_SPACE = {"params": {"train.lr": {"low": 1e-6, "high": 0.3}}}


def _config(tmp: Path, epochs: int = 3):
    return parse_config(tiny_raw(tmp, epochs=epochs))


def test_pruning_prunes_a_clearly_worse_trial(tmp_path):
    cfg = _config(tmp_path)
    storage = f"sqlite:///{tmp_path / 'p.db'}"
    study = optuna.create_study(storage=storage, study_name="tiny", direction="maximize")
    study.enqueue_trial({"train.lr": 0.3})   # validation accuracy 0.9 after one epoch
    study.enqueue_trial({"train.lr": 1e-6})  # stays at 0.4: below the median -> pruned
    pruner = optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=0)
    result = run_study(cfg, parse_space(LR_SPACE), trials=2, storage=storage, sampler="random",
                       pruner=pruner)
    states = [t["state"] for t in result.trials]
    assert states == ["COMPLETE", "PRUNED"]
    good, bad = result.trials
    assert good["epochs_trained"] == 3 and bad["epochs_trained"] == 1
    assert result.summary["epochs_total"] == 4
    assert result.best["number"] == 0 and result.best["value"] == good["value"]
    assert result.best["params"] == {"train.lr": 0.3}
    run = read_summary(Path(bad["run_dir"]))
    assert run["status"] == "pruned" and "pruned by optuna MedianPruner" in run["stop_reason"]
    assert run["tags"] == {"study": "tiny", "trial": 1}
    assert Path(bad["run_dir"]).name == "trial-0001" and (Path(bad["run_dir"]) / "report.html").is_file()
    # every trial is an ordinary run: a row in `ftlab runs` with its study
    rows = collect_runs(tmp_path / "runs" / "tiny")
    assert {r["name"]: r["study"] for r in rows} == {"trial-0000": "tiny", "trial-0001": "tiny"}
    saved = json.loads((tmp_path / "runs" / "tiny" / "study.json").read_text())
    assert saved["best"]["run_dir"] == good["run_dir"] and saved["epochs_total"] == 4
    assert "--set train.lr=0.3" in saved["retrain_command"]
    frozen = optuna.load_study(study_name="tiny", storage=storage).trials
    assert frozen[1].user_attrs["run_dir"] == bad["run_dir"]
    assert frozen[1].user_attrs["params"] == {"train.lr": 1e-6}


def test_interrupted_study_resumes(tmp_path):
    cfg = _config(tmp_path, epochs=1)
    space = parse_space(LR_SPACE)
    first = run_study(cfg, space, trials=2, sampler="random", pruner="none")
    assert [t["number"] for t in first.trials] == [0, 1]
    storage = first.summary["storage"]
    assert storage == f"sqlite:///{(tmp_path / 'runs' / 'tiny' / 'study.db').resolve()}"
    # a trial left RUNNING by a process that was killed
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    study = optuna.load_study(study_name="tiny", storage=storage)
    trial = study.ask()
    trial.set_user_attr("pid", dead.pid)
    again = run_study(cfg, space, trials=3, sampler="random", pruner="none")
    rows = {t["number"]: t for t in again.trials}
    assert sorted(rows) == [0, 1, 2, 3]
    assert rows[2]["state"] == "FAIL" and "which is gone" in rows[2]["fail_reason"]
    assert [rows[n]["state"] for n in (0, 1, 3)] == ["COMPLETE"] * 3  # 3 trials counted
    assert len(optuna.load_study(study_name="tiny", storage=storage).trials) == 4
    # the resumed session does not replay the first session's random draws
    lrs = [rows[n]["params"]["train.lr"] for n in (0, 1, 3)]
    assert len(set(lrs)) == 3


def test_worker_seeds_differ_for_every_way_of_joining_a_study():
    from ftlab.tuning._study import worker_seed

    fresh = worker_seed(7)
    assert worker_seed(7) == fresh  # one process on a fresh study: reproducible
    joins = [fresh, worker_seed(7, worker_index=1), worker_seed(7, group=1),
             worker_seed(7, existing=2), worker_seed(7, existing=2, worker_index=1)]
    assert len(set(joins)) == len(joins)
    # on a shared (--storage) study two processes started alike still differ
    assert worker_seed(7, independent=True) != worker_seed(7, independent=True)
    assert all(0 <= s < 2**32 for s in joins)


def test_two_workers_share_one_study(tmp_path):
    cfg = _config(tmp_path, epochs=1)
    result = run_study(cfg, parse_space(LR_SPACE), trials=3, sampler="random", pruner="none",
                       workers=2)
    assert not [w for w in result.warnings if "worker" in w], result.warnings
    assert sorted(t["number"] for t in result.trials) == [0, 1, 2]
    assert all(t["state"] == "COMPLETE" for t in result.trials)
    study = optuna.load_study(study_name="tiny", storage=result.summary["storage"])
    pids = {t.user_attrs["pid"] for t in study.trials}
    logs = sorted(p.name for p in (tmp_path / "runs" / "tiny").glob("worker-*.log"))
    assert logs == ["worker-0.log", "worker-1.log"]
    assert len(pids) <= 2 and len(study.trials) == 3


def test_scientific_design_tunes_nuisance_per_value(tmp_path):
    cfg = _config(tmp_path, epochs=1)
    space = parse_space({"params": {
        "train.optimizer": {"choices": ["adam", "sgd"], "role": "scientific"},
        "train.lr": {"low": 1e-3, "high": 0.3},
        "train.momentum": {"low": 0.0, "high": 0.9, "when": {"train.optimizer": "sgd"}},
        "train.schedule": {"role": "fixed", "value": "cosine"},
    }})
    result = run_study(cfg, space, trials=2, sampler="random", pruner="none")
    groups = result.summary["groups"]
    assert [g["scientific"] for g in groups] == [{"train.optimizer": "adam"},
                                                 {"train.optimizer": "sgd"}]
    assert [g["complete"] for g in groups] == [2, 2]
    for t in result.trials:
        opt = t["scientific"]["train.optimizer"]
        assert t["params"]["train.optimizer"] == opt and t["params"]["train.schedule"] == "cosine"
        assert ("train.momentum" in t["params"]) == (opt == "sgd")
        assert Path(t["run_dir"]).name.startswith(f"{opt}-trial-")
        run = read_summary(Path(t["run_dir"]))
        assert run["tags"]["scientific"] == {"train.optimizer": opt}
        assert run["hparams"]["optimizer"] == opt
    assert result.best in [g["best"] for g in groups]
    html = (result.study_dir / "report.html").read_text(encoding="utf-8")
    assert "best of each scientific value" in html
    assert "[train.optimizer=adam]" in html and "[train.optimizer=sgd]" in html


def test_cross_validation_as_the_objective(tmp_path):
    raw = tiny_raw(tmp_path, epochs=1)
    raw["eval"]["cv_folds"] = 2
    cfg = parse_config(raw)
    result = run_study(cfg, parse_space(LR_SPACE), trials=1, sampler="random", pruner="none")
    (trial,) = result.trials
    assert trial["state"] == "COMPLETE" and trial["epochs_trained"] == 2  # 2 folds x 1 epoch
    cv = json.loads((Path(trial["run_dir"]) / "cv.json").read_text())
    assert trial["value"] == pytest.approx(cv["mean"])
    assert len(cv["folds"]) == 2
