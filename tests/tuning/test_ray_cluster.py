"""``ftlab tune --backend ray --address`` against a Ray cluster started on its own with
``ray start --head`` (one node, this machine), then stopped.

Opt-in like tests/tuning/test_ray.py (~60 s; needs ``pip install -c constraints.txt -e
'.[ray]'``): ``pytest -m slow tests/tuning/test_ray_cluster.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from .conftest import tiny_raw

pytest.importorskip("ray.tune", reason="Ray Tune is optional (pip install 'ftlab[ray]')")
pytestmark = pytest.mark.slow

SPACE = {"params": {"train.lr": {"type": "float", "low": 1e-3, "high": 0.3, "log": True},
                    "train.schedule": {"role": "fixed", "value": "constant"}}}


def _ray_cli() -> str:
    found = Path(sys.executable).parent / "ray"
    return str(found) if found.exists() else (shutil.which("ray") or "ray")


def _env() -> dict[str, str]:
    # Ray 2.5x enables token authentication on `ray start`; a driver then needs the cluster's
    # token (RAY_AUTH_TOKEN or ~/.ray/auth_token). This throwaway localhost cluster opts out.
    return {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ray_head():
    """A one-node Ray cluster in its own processes (as an admin would start it)."""
    port, temp = _free_port(), Path(tempfile.mkdtemp(prefix="ftray-", dir="/tmp"))
    env = _env()
    cmd = [_ray_cli(), "start", "--head", f"--port={port}", "--num-cpus=2",
           "--include-dashboard=false", f"--temp-dir={temp}", "--disable-usage-stats"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env)
    if r.returncode != 0:
        pytest.fail(f"ray start failed:\n{r.stdout}\n{r.stderr}")
    try:
        yield f"127.0.0.1:{port}", temp
    finally:
        subprocess.run([_ray_cli(), "stop", "--force"], capture_output=True, timeout=120, env=env)
        shutil.rmtree(temp, ignore_errors=True)


def test_tune_runs_asha_on_an_existing_cluster(ray_head, tmp_path):
    cfg, spc = tmp_path / "config.yaml", tmp_path / "space.yaml"
    raw = tiny_raw(tmp_path, epochs=3)
    raw["eval"]["monitor"] = "loss"
    cfg.write_text(yaml.safe_dump(raw))
    spc.write_text(yaml.safe_dump(SPACE))
    storage = tmp_path / "ray-storage"  # on a real cluster: shared storage (NFS, s3://)
    address, head_dir = ray_head
    proc = subprocess.run(
        [sys.executable, "-m", "ftlab", "tune", str(cfg), "--space", str(spc), "--backend", "ray",
         "--scheduler", "asha", "--trials", "2", "--name", "onhead", "--address", address,
         "--storage-path", str(storage)],
        capture_output=True, text=True, timeout=600,
        env={**_env(), "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    study = json.loads((tmp_path / "runs" / "onhead" / "study.json").read_text())
    assert study["backend"] == "ray" and study["scheduler"] == "asha"
    assert len(study["trials"]) == 2 and study["best"] is not None
    assert all(Path(t["run_dir"], "run.json").is_file() for t in study["trials"])
    assert any(storage.rglob("*")), "Ray kept no experiment state under --storage-path"
    # the trials ran in the cluster's worker processes (its session logs live under the
    # head's --temp-dir; a Ray started by the driver would have used another directory)
    assert list(head_dir.glob("session_*/logs/worker-*")), "no worker ran on the cluster"
