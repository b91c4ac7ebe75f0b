"""The Ray Tune backend of ``ftlab tune`` (PBT and ASHA) on a local Ray instance: tiny
bag-of-embeddings trials on ~80 examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftlab.config import load_config, parse_config
from ftlab.errors import ConfigError
from ftlab.runs import read_summary
from ftlab.tuning import parse_space
from .conftest import tiny_raw

pytest.importorskip("ray.tune", reason="Ray Tune is optional (pip install 'ftlab[ray]'); "
                                       "the --backend ray tests need it")

from ftlab.tuning._ray import ray_session, run_ray_study  # noqa: E402

# ~95 s on 2 cores (each Ray worker imports torch; PBT pauses and restarts trials): opt-in with
# `pytest -m slow tests/tuning/test_ray.py` after `pip install -c constraints.txt -e '.[ray]'`.
pytestmark = pytest.mark.slow

GOOD, BAD = 0.1, 1e-5
SPACE = {"params": {"train.lr": {"type": "float", "low": 1e-5, "high": 0.5},
                    "train.schedule": {"role": "fixed", "value": "constant"}}}


@pytest.fixture(scope="module")
def ray_local():
    with ray_session(cpus=2):
        yield


def _config(tmp: Path, epochs: int = 3):
    raw = tiny_raw(tmp, epochs=epochs)
    raw["eval"]["monitor"] = "loss"  # falls steadily with a good lr, flat with a bad one
    return parse_config(raw)


def test_pbt_exploits_a_better_trial_checkpoint(ray_local, tmp_path):
    cfg = _config(tmp_path)
    result = run_ray_study(cfg, parse_space(SPACE), scheduler="pbt", trials=2, name="pbt",
                           perturbation_interval=2, quantile_fraction=0.5, resample_probability=0.0, synch=True,
                           keep_checkpoints=2,
                           initial_points=[{"train.lr": BAD}, {"train.lr": GOOD}])
    s = json.loads((result.study_dir / "study.json").read_text())
    assert s["backend"] == "ray" and s["scheduler"] == "pbt" and len(s["trials"]) == 2
    bad = next(t for t in s["trials"] if t["initial_params"]["train.lr"] == BAD)
    good = next(t for t in s["trials"] if t["initial_params"]["train.lr"] == GOOD)
    # the bad trial copied the good trial's checkpoint and took its perturbed lr
    events = [e for e in s["pbt_events"] if e["trial"] == bad["number"]]
    assert events and events[0]["from_trial"] == good["number"]
    assert events[0]["old_params"]["train.lr"] == pytest.approx(BAD)
    assert events[0]["new_params"]["train.lr"] in (pytest.approx(GOOD * 0.8),
                                                    pytest.approx(GOOD * 1.2))
    bad_dir = Path(bad["run_dir"])
    assert bad["exploits"] >= 1 and (bad_dir / "pbt.jsonl").is_file()
    assert load_config(bad_dir / "config.yaml").train.lr != pytest.approx(BAD)
    run = read_summary(bad_dir)
    assert run["status"] == "completed" and run["tags"]["backend"] == "ray"
    assert run["hparams"]["lr"] != pytest.approx(BAD)
    # after the exploit it learns: its final loss is far below the bad lr's plateau
    assert bad["last_value"] < 0.6
    for t in s["trials"]:  # bounded checkpoints: ftlab's in the run dir and Ray's copies
        assert 1 <= t["max_checkpoints_on_disk"] <= 2
        assert t["ray_checkpoints_on_disk"] <= 2
        assert len(list(Path(t["run_dir"], "checkpoints").glob("step-*"))) <= 2
    assert s["best"] is not None and s["epochs_total"] >= 6
    assert s["retrain_command"].startswith("ftlab train ")


def test_asha_stops_a_bad_trial_early(ray_local, tmp_path):
    cfg = _config(tmp_path)
    result = run_ray_study(cfg, parse_space(SPACE), scheduler="asha", trials=3, name="asha",
                           keep_checkpoints=1,
                           initial_points=[{"train.lr": GOOD}, {"train.lr": BAD},
                                           {"train.lr": BAD}])
    s = result.to_dict()
    assert (result.study_dir / "study.json").is_file()
    by_lr = sorted(s["trials"], key=lambda t: t["number"])
    assert by_lr[0]["state"] == "COMPLETE" and by_lr[0]["epochs_trained"] == 3
    pruned = [t for t in s["trials"] if t["state"] == "PRUNED"]
    assert pruned and all(t["epochs_trained"] < 3 for t in pruned)
    assert read_summary(Path(pruned[0]["run_dir"]))["status"] == "pruned"
    assert s["best"]["number"] == by_lr[0]["number"]
    assert all(t["max_checkpoints_on_disk"] <= 1 for t in s["trials"])


def test_pbt_refuses_parameters_that_cannot_change_mid_run(tmp_path):
    space = parse_space({"params": {"train.lr": {"low": 1e-4, "high": 0.1},
                                    "batching.batch_size": {"type": "int", "low": 8,
                                                            "high": 32}}})
    with pytest.raises(ConfigError, match="batching.batch_size"):
        run_ray_study(_config(tmp_path), space, scheduler="pbt", trials=2)
