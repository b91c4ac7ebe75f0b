"""Multi-process training with torchrun (gloo on CPU): sharding, equivalence, rank-0 writes, resume.

The end-to-end tests launch ``python -m torch.distributed.run --nproc_per_node 2 --standalone
-m ftlab train tiny.yaml`` (1 torch thread per rank) on the tiny bag-of-embeddings config of
tests/test_cli_e2e.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftlab.batching import BucketBatchSampler
from ftlab.training import _distributed as dist
from test_cli_e2e import _config, _ftlab, _same_weights

def _launch(*target: str, cwd: Path, **env_extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", **env_extra}
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone",
         *target],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )
    if proc.returncode != 0:
        raise AssertionError(f"torchrun {' '.join(target)} failed ({proc.returncode}):"
                             f"\n{proc.stdout}\n{proc.stderr}")
    return proc


def _torchrun(*args: str, cwd: Path, command: str = "train") -> subprocess.CompletedProcess[str]:
    return _launch("-m", "ftlab", command, *args, cwd=cwd)


def _records(run_dir: Path, kind: str) -> list[dict]:
    lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


# Same global batches: with bucketing off, the epoch's shuffled pool is cut into consecutive
# batches, so rank 0's batch 2k and rank 1's batch 2k+1 of size 8 are exactly the single
# process's batch k of size 16; with dropout off the two runs differ only by float summation
# order (measured: ~1e-8 on the validation loss).
EXACT = ["--set", "batching.bucket=false", "--set", "model.dropout=0"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("ddp")
    _config(tmp, epochs=4, every=4)
    _torchrun("tiny.yaml", "--name", "ddp", cwd=tmp)  # bucketed, dropout 0.1
    _torchrun("tiny.yaml", "--name", "ddp_exact", *EXACT, cwd=tmp)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _ftlab("train", "tiny.yaml", "--name", "single", "--set", "batching.batch_size=16", *EXACT,
           cwd=tmp)
    return tmp / "runs"


def test_two_processes_match_one_process_with_the_same_global_batch(runs: Path) -> None:
    import torch

    from test_cli_e2e import _weights

    ddp, single = _records(runs / "ddp_exact", "eval"), _records(runs / "single", "eval")
    assert [r["step"] for r in ddp] == [r["step"] for r in single] == [6, 12, 18, 24]
    for a, b in zip(ddp, single):  # every validation along the way
        assert a["values"]["loss"] == pytest.approx(b["values"]["loss"], abs=1e-6)
        assert a["values"]["accuracy"] == b["values"]["accuracy"]
        assert a["values"]["n"] == b["values"]["n"] == 32  # validation covers the full split
    w2, w1 = _weights(runs / "ddp_exact"), _weights(runs / "single")
    assert w2.keys() == w1.keys()
    assert all(torch.allclose(w2[k], w1[k], atol=1e-5) for k in w1)
    steps_two, steps_one = _records(runs / "ddp_exact", "step"), _records(runs / "single", "step")
    for a, b in zip(steps_two, steps_one):  # training loss and counts are global (both ranks)
        assert a["values"]["examples"] == b["values"]["examples"] == 16
        assert a["values"]["loss"] == pytest.approx(b["values"]["loss"], abs=1e-5)
    summary = json.loads((runs / "ddp" / "run.json").read_text(encoding="utf-8"))
    assert summary["status"] == "completed" and summary["world_size"] == 2
    assert summary["test"]["test"]["accuracy"] > 0.5  # rank 0 evaluated and reported
    assert len(_records(runs / "ddp", "step")) == 24


def test_only_rank_zero_writes(runs: Path) -> None:
    # one agreed directory per run
    assert sorted(p.name for p in runs.iterdir()) == ["ddp", "ddp_exact", "single"]
    for kind in ("step", "eval"):  # each logged once, not once per rank
        logged = [r["step"] for r in _records(runs / "ddp", kind)]
        assert len(logged) == len(set(logged)) > 0
    assert (runs / "ddp" / "report.html").is_file()


def test_resume_under_torchrun_is_exact(runs: Path) -> None:
    tmp = runs.parent
    _torchrun("tiny.yaml", "--name", "part", "--stop-after", "5", cwd=tmp)
    assert json.loads((runs / "part" / "run.json").read_text())["status"] == "stopped"
    # each rank draws its own dropout masks, so the checkpoint keeps every rank's RNG streams
    import torch

    last = json.loads((runs / "part" / "checkpoints" / "last.json").read_text())["path"]
    rng = torch.load(runs / "part" / "checkpoints" / last / "rng.pt", weights_only=True)
    assert len(rng["ranks"]) == 2
    assert not torch.equal(rng["ranks"][0]["torch"], rng["ranks"][1]["torch"])
    _torchrun("--resume", str(runs / "part"), cwd=tmp)
    assert json.loads((runs / "part" / "run.json").read_text())["status"] == "completed"
    assert _same_weights(runs / "ddp", runs / "part")


def test_evaluate_and_predict_shard_across_ranks_in_input_order(runs: Path) -> None:
    tmp = runs.parent
    shutil.copytree(runs / "single", tmp / "solo")  # the same trained run, evaluated two ways
    one_out = _ftlab("evaluate", str(runs / "single"), "--no-report", cwd=tmp).stdout
    two_out = _torchrun(str(tmp / "solo"), "--no-report", cwd=tmp, command="evaluate").stdout
    assert two_out == one_out  # printed once (by rank 0), with the same metrics
    one = (runs / "single" / "predictions" / "test.jsonl").read_text(encoding="utf-8")
    two = (tmp / "solo" / "predictions" / "test.jsonl").read_text(encoding="utf-8")
    assert one == two and one.count("\n") == 32  # same rows, same input order, same probs
    report = json.loads((tmp / "solo" / "evaluation" / "test.json").read_text(encoding="utf-8"))
    assert report["n"] == 32

    _ftlab("predict", str(runs / "single"), "-i", "reviews.csv", "-o", "one.jsonl", cwd=tmp)
    _torchrun(str(tmp / "solo"), "-i", "reviews.csv", "-o", "two.jsonl", cwd=tmp,
              command="predict")
    one_rows = (tmp / "one.jsonl").read_text(encoding="utf-8").splitlines()
    assert (tmp / "two.jsonl").read_text(encoding="utf-8").splitlines() == one_rows
    texts = [r.split(",")[0] for r in (tmp / "reviews.csv").read_text().splitlines()[1:]]
    assert [json.loads(r)["text"] for r in one_rows] == texts  # input order


GRAD_SCRIPT = """
import json
import os
import torch
from safetensors.torch import save_file
from torch.nn.parallel import DistributedDataParallel
from ftlab.training import _distributed as dist, fit
from _toys import ListSource, ToyModel, make_batch, sum_ce

dist.init_from_env(torch.device("cpu"))
torch.manual_seed(0)
model = ToyModel()
plan = json.load(open("plan.json"))[dist.rank()]
fit(DistributedDataParallel(model), ListSource([make_batch(ix) for ix in plan]),
    loss_fn=sum_ce, optimizer=torch.optim.AdamW(model.parameters(), lr=0.05),
    grad_accum=2, clip_norm=0.5)
if dist.rank() == 0:
    save_file(model.state_dict(), "ddp.safetensors")
dist.teardown()
os._exit(0)  # as ftlab's CLI does under torchrun: gloo can abort in interpreter finalisation
"""

# 3 steps x grad_accum 2 per rank, uneven sizes: a window holds 7 examples on rank 0 and
# 9 on rank 1, so averaging per-rank means would weight examples unequally
PLAN = [
    [list(range(0, 2)), list(range(2, 7)), list(range(20, 24)), list(range(24, 27)),
     list(range(40, 41)), list(range(41, 47))],
    [list(range(7, 13)), list(range(13, 16)), list(range(27, 29)), list(range(29, 36)),
     list(range(47, 55)), list(range(55, 56))],
]


def test_a_ddp_step_is_the_exact_gradient_of_the_global_window(tmp_path: Path) -> None:
    """2 ranks (uneven shards, grad_accum 2 with no_sync, clipping) = 1 process on the union."""
    import torch
    from safetensors.torch import load_file

    from ftlab.training import fit

    from ._toys import ListSource, ToyModel, make_batch, sum_ce

    (tmp_path / "grad.py").write_text(GRAD_SCRIPT, encoding="utf-8")
    (tmp_path / "plan.json").write_text(json.dumps(PLAN), encoding="utf-8")
    _launch("grad.py", cwd=tmp_path, PYTHONPATH=str(Path(__file__).parent))
    torch.manual_seed(0)
    model = ToyModel()
    union = [make_batch(a + b) for a, b in zip(*PLAN)]
    fit(model, ListSource(union), loss_fn=sum_ce,
        optimizer=torch.optim.AdamW(model.parameters(), lr=0.05), grad_accum=2, clip_norm=0.5)
    ddp = load_file(str(tmp_path / "ddp.safetensors"))
    torch.manual_seed(0)
    init = ToyModel().state_dict()
    assert all(not torch.equal(v, init[k]) for k, v in model.state_dict().items())  # it trained
    for k, v in model.state_dict().items():
        assert torch.allclose(ddp[k], v, atol=1e-6), (k, float((ddp[k] - v).abs().max()))


SHARD_SCRIPT = """
import json
import os
import numpy as np
import torch
from ftlab.training import _distributed as dist, predict, run_validation
from _toys import ToyModel, make_batch, softmax, sum_ce

dist.init_from_env(torch.device("cpu"))
torch.manual_seed(0)
model = ToyModel(dropout=0.5)
seen = []

class Counting(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner
    def forward(self, batch):
        seen.append(batch.index.tolist())
        return self.inner(batch)

batches = [make_batch(range(i, min(i + 5, 47))) for i in range(0, 47, 5)]  # 10 batches
index, probs, labels = predict(Counting(model), batches, softmax, shard=True)
f_index, f_probs, f_labels = predict(model, batches, softmax)
order, f_order = np.argsort(index), np.argsort(f_index)
sharded = run_validation(model, batches, loss_fn=sum_ce, probs_fn=softmax, shard=True)
full = run_validation(model, batches, loss_fn=sum_ce, probs_fn=softmax)
with open(f"rank{dist.rank()}.json", "w") as f:
    json.dump({"seen": seen, "index": index[order].tolist(),
               "same_probs": bool(np.array_equal(probs[order], f_probs[f_order])),
               "same_labels": bool(np.array_equal(labels[order], f_labels[f_order])),
               "sharded": sharded, "full": full}, f)
dist.teardown()
os._exit(0)  # as ftlab's CLI does under torchrun: gloo can abort in interpreter finalisation
"""


def test_sharded_predict_and_validation_gather_everything_once(tmp_path: Path) -> None:
    (tmp_path / "shard.py").write_text(SHARD_SCRIPT, encoding="utf-8")
    _launch("shard.py", cwd=tmp_path, PYTHONPATH=str(Path(__file__).parent))
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    # each rank ran every other batch (round-robin) and no example twice
    assert [len(r["seen"]) for r in ranks] == [5, 5]
    mine = [sorted(i for b in r["seen"] for i in b) for r in ranks]
    assert not set(mine[0]) & set(mine[1]) and sorted(mine[0] + mine[1]) == list(range(47))
    for r in ranks:  # both ranks get everything back, equal to a single-process pass
        assert r["index"] == list(range(47)) and r["same_probs"] and r["same_labels"]
        assert r["sharded"]["n"] == r["full"]["n"] == 47
        assert r["sharded"]["accuracy"] == r["full"]["accuracy"]
        assert r["sharded"]["loss"] == pytest.approx(r["full"]["loss"], rel=1e-9)
    assert ranks[0]["sharded"] == ranks[1]["sharded"]


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


def test_cli_under_torchrun_exits_with_its_code_and_keeps_its_output(tmp_path: Path) -> None:
    """Under torchrun the CLI leaves through os._exit (no interpreter finalisation, which could
    abort a rank after a clean run): exit codes and buffered output must survive it."""
    env = {**os.environ, "WORLD_SIZE": "2"}  # torchrun's variable, without a process group
    env.pop("PYTHONUNBUFFERED", None)  # block-buffered pipes: output only survives a flush
    marker = tmp_path / "atexit-ran"
    ok = subprocess.run(
        [sys.executable, "-c", "import atexit, sys; from ftlab.cli import main; "
         f"atexit.register(lambda: open({str(marker)!r}, 'w').close()); "
         "sys.argv = ['ftlab', '--help']; main()"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "Usage" in ok.stdout and "train" in ok.stdout
    assert not marker.exists()  # finalisation (atexit included) was skipped
    bad = subprocess.run([sys.executable, "-m", "ftlab", "train", "missing.yaml"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "missing.yaml" in bad.stderr
    env.pop("WORLD_SIZE")
    one = subprocess.run(
        [sys.executable, "-c", "import atexit, sys; from ftlab.cli import main; "
         f"atexit.register(lambda: open({str(marker)!r}, 'w').close()); "
         "sys.argv = ['ftlab', '--help']; main()"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert one.returncode == 0 and marker.exists()  # a single process exits normally
