"""Multi-process training with torchrun (gloo on CPU): sharding, equivalence, rank-0 writes, resume.

The end-to-end tests launch ``python -m torch.distributed.run --nproc_per_node 2 --standalone
-m ftlab train tiny.yaml`` (1 torch thread per rank) on the tiny bag-of-embeddings config of
tests/test_cli_e2e.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftlab.batching import BucketBatchSampler
from ftlab.training import _distributed as dist
from test_cli_e2e import _config, _ftlab, _same_weights

# 2 ranks x batch_size 8 vs 1 rank x batch_size 16: the same global batch and step count, but
# different bucketing and dropout draws, so the curves agree closely, not bit for bit.
LOSS_TOL = 0.02  # validation loss (mean per example), absolute
ACC_TOL = 0.1  # validation accuracy (32 examples: 3 examples)


def _torchrun(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone",
         "-m", "ftlab", "train", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )
    if proc.returncode != 0:
        raise AssertionError(f"torchrun ftlab train {' '.join(args)} failed ({proc.returncode}):"
                             f"\n{proc.stdout}\n{proc.stderr}")
    return proc


def _records(run_dir: Path, kind: str) -> list[dict]:
    lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("ddp")
    _config(tmp, epochs=4, every=4)
    _torchrun("tiny.yaml", "--name", "ddp", cwd=tmp)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _ftlab("train", "tiny.yaml", "--name", "single", "--set", "batching.batch_size=16", cwd=tmp)
    return tmp / "runs"


def test_two_processes_match_one_process_with_the_same_global_batch(runs: Path) -> None:
    ddp, single = _records(runs / "ddp", "eval"), _records(runs / "single", "eval")
    assert [r["step"] for r in ddp] == [r["step"] for r in single] == [6, 12, 18, 24]
    last_ddp, last_single = ddp[-1]["values"], single[-1]["values"]
    assert abs(last_ddp["loss"] - last_single["loss"]) <= LOSS_TOL
    assert abs(last_ddp["accuracy"] - last_single["accuracy"]) <= ACC_TOL
    assert last_ddp["n"] == last_single["n"] == 32  # validation covers the full split
    summary = json.loads((runs / "ddp" / "run.json").read_text(encoding="utf-8"))
    assert summary["status"] == "completed" and summary["world_size"] == 2
    assert summary["test"]["test"]["accuracy"] > 0.5  # rank 0 evaluated and reported
    # training loss and example counts are global: every step saw both ranks' 8 examples
    steps = _records(runs / "ddp", "step")
    assert len(steps) == 24 and all(r["values"]["examples"] == 16 for r in steps)


def test_only_rank_zero_writes(runs: Path) -> None:
    assert sorted(p.name for p in runs.iterdir()) == ["ddp", "single"]  # one agreed directory
    for kind in ("step", "eval"):  # each logged once, not once per rank
        logged = [r["step"] for r in _records(runs / "ddp", kind)]
        assert len(logged) == len(set(logged)) > 0
    assert (runs / "ddp" / "report.html").is_file()


def test_resume_under_torchrun_is_exact(runs: Path) -> None:
    tmp = runs.parent
    _torchrun("tiny.yaml", "--name", "part", "--stop-after", "5", cwd=tmp)
    assert json.loads((runs / "part" / "run.json").read_text())["status"] == "stopped"
    _torchrun("--resume", str(runs / "part"), cwd=tmp)
    assert json.loads((runs / "part" / "run.json").read_text())["status"] == "completed"
    assert _same_weights(runs / "ddp", runs / "part")


@pytest.mark.filterwarnings("ignore:BucketBatchSampler. to give all:RuntimeWarning")
@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 300),
    world=st.integers(1, 8),
    batch_size=st.integers(1, 40),
    epoch=st.integers(0, 3),
    seed=st.integers(0, 2**16),
)
def test_rank_aware_sampler_covers_every_example_once(n: int, world: int, batch_size: int,
                                                      epoch: int, seed: int) -> None:
    if n < world:
        return
    lengths = [1 + (i * 7919) % 37 for i in range(n)]
    per_rank = [
        BucketBatchSampler(lengths, batch_size=batch_size, seed=seed, rank=r, world_size=world,
                           maxi_batch=4).epoch_batches(epoch)
        for r in range(world)
    ]
    seen = sorted(i for batches in per_rank for b in batches for i in b)
    assert seen == list(range(n))  # every example on exactly one rank
    assert len({len(batches) for batches in per_rank}) == 1  # same number of steps per rank
    assert all(b for batches in per_rank for b in batches)  # no empty batches


def test_helpers_answer_for_one_process_without_torchrun(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(key, raising=False)
    assert dist.init_from_env(torch.device("cpu")) == torch.device("cpu")
    assert not dist.is_distributed()
    assert (dist.rank(), dist.world_size(), dist.local_rank(), dist.is_main()) == (0, 1, 0, True)
    assert dist.broadcast_object({"a": 1}) == {"a": 1}
    assert dist.all_reduce_sum([1, 2.5]) == [1.0, 2.5]
    dist.barrier()
    dist.teardown()
