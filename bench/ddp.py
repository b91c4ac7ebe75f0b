"""DDP on this machine: examples/s of the BiLSTM on 1 vs 2 processes, interleaved, and what a
step's communication costs.

Run from the repository root:  .venv/bin/python bench/ddp.py [--steps 200] [--pairs 3]
[--variants 1x1,2x1,...] [--no-write] [--render-only]
The measurement needs both cores: run it alone on the machine.

1. Training runs, launched the way a user launches them (``python -m ftlab train`` and
   ``python -m torch.distributed.run --standalone --nproc_per_node 2 -m ftlab train``, gloo,
   CPU), on ``configs/sst2-file.yaml`` with the BiLSTM overrides of bench/train_throughput.py and
   the same SST-2 subset (rows ``numpy.random.default_rng(0).permutation(67349)[:8000]``), in
   the variants of ``VARIANTS``: 1 process with 1 and with 2 threads, 2 processes with 1 thread
   each with the global batch kept at 32 (16 per rank); not in the default ``--variants``: 2
   processes with the global batch doubled to 64, and 1 process with batch 16 (the per-rank work
   of the 2-process run without any communication). Every run is a fresh process (tree), the variants interleaved
   A B C D A B C D ... (``--pairs``
   repetitions; BENCHMARKS.md "Methodology"), each with the same number of optimizer steps and
   its thread count fixed per process (``OMP_NUM_THREADS`` and ``train.threads``). Rates come
   from rank 0's ``step`` records in ``metrics.jsonl``: the loop timer (which under DDP
   includes the gradient all-reduce, the count and loss reductions and waiting for the other
   rank) and the wall-clock gaps between consecutive records (adds batch loading, observers and
   the per-step broadcast of rank 0's stop decision).
2. Same model: 1 process x batch 32 against 2 processes x 16 with bucketing and dropout off
   (both then see the same global batches): final validation loss and largest weight
   difference.
3. Communication per step, measured inside a 2-process gloo group on real batches of the
   same data and model (``--comm-worker``, launched by this script): forward + backward of
   the DDP-wrapped BiLSTM with gradient synchronisation versus the same under ``no_sync()``
   (the difference is what the gradient all-reduce adds to a step), a bare all-reduce of a
   flat fp32 tensor of the model's size, and the small collectives ftlab adds per step
   (window counts, loss, rank 0's stop decision twice).

The section is printed and written into BENCHMARKS.md under "## Scaling out: DDP on 2
processes" (replacing that section only); raw numbers go to bench/results/ddp.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from _common import (
    ROOT, fmt_range, fmt_ratio, interleaved, load_average, machine, matmul_peak, publish,
    ratio_of, read_rows, rerender, share_of_peak, summarize, thread_env, write_rows,
)

DATA = ROOT.parent / "shared" / "data" / "sst2"
BASE_CONFIG = ROOT / "configs" / "sst2-file.yaml"
COMMAND = ".venv/bin/python bench/ddp.py"
SECTION = "Scaling out: DDP on 2 processes"
RESULTS = ROOT / "bench" / "results" / "ddp.json"
SUBSET_SIZE = 8000
BILSTM = ["model.family=rnn", "model.cell=lstm", "model.bidirectional=true"]
STEPS = 200  # optimizer steps per run
WARMUP_STEPS = 10  # not counted
COMM_STEPS = 100

# name -> (label, processes, threads per process, batch size per process)
VARIANTS = {
    "1x1": ("1 process, 1 thread", 1, 1, 32),
    "2x1": ("2 processes x 1 thread", 2, 1, 16),
    "1x2": ("1 process, 2 threads", 1, 2, 32),
    "1x1-b16": ("1 process, 1 thread, batch 16", 1, 1, 16),
    "2x1-b32": ("2 processes x 1 thread, batch 32 each", 2, 1, 32),
}

# The single-run figures this section showed before (2026-11-23, AMD EPYC, 500 steps, the
# variants one after another): examples/s (wall) relative to 1 process, 1 thread.
OLD_SINGLE_RUN = {"2x1": 0.63, "1x2": 1.15, "1x1-b16": 0.65, "2x1-b32": 0.93}


def overrides(train: Path, val: Path, out: Path, batch: int, name: str, steps: int,
              threads: int = 1, splits: str = "[]") -> list[str]:
    """``ftlab train`` overrides of one run (``splits``: evaluated after training)."""
    return [
        f"output_dir={out}", f"data.files.train={train}", f"data.files.validation={val}",
        "data.split.test=0", "train.device=cpu", "train.eval_every=null", "train.log_every=100",
        f"batching.batch_size={batch}", f"train.max_steps={steps}",
        "train.epochs=100",  # max_steps binds
        "train.restore_best=false", "train.checkpoint.every_epoch=false",
        "train.early_stopping.enabled=false", f"eval.splits={splits}",
        f"train.threads={threads}", *BILSTM, f"name={name}",
    ]


def launch(procs: int, threads: int, args: list[str], log: Path) -> float:
    """Run ``ftlab train`` (under torchrun when ``procs`` > 1) as a fresh process (tree) with
    ``threads`` fixed per process; returns the wall time."""
    env = {**thread_env(threads), "PYTHONUNBUFFERED": "1"}
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    head = ([sys.executable, "-m", "torch.distributed.run", "--standalone",
             "--nproc_per_node", str(procs)] if procs > 1 else [sys.executable])
    cmd = [*head, "-m", "ftlab", "train", str(BASE_CONFIG)]
    for o in args:
        cmd += ["--set", o]
    t0 = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed; see {log}:\n{log.read_text()[-3000:]}")
    return time.perf_counter() - t0


def step_stats(run_dir: Path) -> dict[str, float]:
    """Rates of one run from rank 0's step records (the first WARMUP_STEPS left out)."""
    records = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in records if r["kind"] == "step" and r["step"] > WARMUP_STEPS]
    ex = sum(r["values"]["examples"] for r in steps)
    loop_s = sum(r["values"]["seconds"] for r in steps)
    wall_s, wall_ex, prev = 0.0, 0, None
    for r in records:  # wall-clock gaps between consecutive step records (no eval inside)
        if r["kind"] != "step":
            prev = None
            continue
        if prev is not None and r["step"] > WARMUP_STEPS:
            wall_s += r["time"] - prev["time"]
            wall_ex += r["values"]["examples"]
        prev = r
    return {
        "steps": len(steps), "examples": ex, "slots": sum(r["values"]["padded_tokens"]
                                                          for r in steps),
        "loop_s": loop_s, "ex_s": ex / loop_s, "ms_step": 1000 * loop_s / len(steps),
        "median_ms": 1000 * statistics.median(r["values"]["seconds"] for r in steps),
        "wall_ex_s": wall_ex / wall_s, "wall_ms_step": 1000 * wall_s / max(1, len(steps) - 1),
    }


def run_variant(variant: str, rep: int, train: Path, val: Path, out: Path,
                steps: int) -> dict[str, Any]:
    """One training run of ``variant`` in a fresh process; its rates and dev accuracy."""
    label, procs, threads, batch = VARIANTS[variant]
    name = f"{variant}-{rep}"
    print(f"[{time.strftime('%H:%M:%S')}] {variant} #{rep + 1} (load {load_average():.2f}) ...",
          flush=True)
    wall = launch(procs, threads, overrides(train, val, out, batch, name, steps, threads),
                  out.parent / f"{name}.log")
    stats = step_stats(out / name)
    summary = json.loads((out / name / "run.json").read_text())
    r = {"variant": variant, "procs": procs, "threads": threads, "batch": batch,
         "global_batch": batch * procs, "whole_run_s": wall,
         "world_size": summary.get("world_size", 1), "run_threads": summary.get("threads"),
         **stats}
    print(f"    {r['ex_s']:7,.0f} ex/s (loop; {r['ms_step']:.1f} ms/step)  {r['wall_ex_s']:7,.0f} "
          f"ex/s (wall)  whole run {wall:.0f} s", flush=True)
    return r


def non_embedding(run_dir: Path) -> int:
    """Non-embedding parameters of a run's model (the 6 N x slots FLOP count's N)."""
    from _common import non_embedding_parameters
    from ftlab.runs import load_run_model

    return non_embedding_parameters(load_run_model(run_dir, threads=1)[2])


def equivalence(train: Path, val: Path, out: Path, steps: int) -> dict[str, Any]:
    """1 process x batch 32 vs 2 processes x 16 on the same global batches (bucketing and
    dropout off): the final validation loss and the largest weight difference."""
    from safetensors.torch import load_file

    exact = ["batching.bucket=false", "model.dropout=0"]
    res: dict[str, Any] = {"steps": steps}
    weights = []
    for procs, batch in ((1, 32), (2, 16)):
        name = f"exact{procs}"
        launch(procs, 1, overrides(train, val, out, batch, name, steps, splits="[validation]")
               + exact, out.parent / f"{name}.log")
        dev = json.loads((out / name / "eval.json").read_text(encoding="utf-8"))["validation"]
        res[f"{procs}"] = {"val_loss": dev["log_loss"], "val_accuracy": dev["accuracy"]}
        last = json.loads((out / name / "checkpoints" / "last.json").read_text())["path"]
        weights.append(load_file(str(out / name / "checkpoints" / last / "model.safetensors")))
    diffs = {k: float((weights[0][k] - weights[1][k]).abs().max()) for k in weights[0]}
    scale = {k: float(weights[0][k].abs().max()) for k in weights[0]}
    worst = max(diffs, key=lambda k: diffs[k])
    res.update(max_weight_diff=diffs[worst], worst_tensor=worst, worst_scale=scale[worst],
               non_embedding_max_diff=max(v for k, v in diffs.items() if "embedding" not in k))
    print(f"equivalence: val loss {res['1']['val_loss']:.8f} (1 process) vs "
          f"{res['2']['val_loss']:.8f} (2 processes); largest weight difference "
          f"{diffs[worst]:.2e} ({worst})", flush=True)
    return res


# ---- communication micro-benchmark (runs inside torchrun, one thread per rank) ----

def comm_worker(train: Path, val: Path, out: Path, steps: int, comm_steps: int) -> None:
    import torch
    from torch.nn.parallel import DistributedDataParallel

    from ftlab.config import load_config
    from ftlab.models import classification_loss
    from ftlab.runs._builders import build_model_for, build_train_loader
    from ftlab.runs._prepare import prepare_data
    from ftlab.training import _distributed as dist

    dist.init_from_env(torch.device("cpu"))
    rank, world = dist.rank(), dist.world_size()
    cfg = load_config(BASE_CONFIG, overrides(train, val, out, 16, "comm", steps))
    prepared = prepare_data(cfg)
    enc = prepared.encoder
    loader = build_train_loader(prepared.encoded["train"], cfg.batching, seed=1,
                                pad_id=enc.tokenizer.pad_id, rank=rank, world_size=world)
    torch.manual_seed(0)
    model, _ = build_model_for(cfg, enc, enc.labels.num_classes)
    ddp = DistributedDataParallel(model)
    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    batches = [b for _, b in zip(range(comm_steps + WARMUP_STEPS), loader)]
    flat = torch.zeros(n_params)

    def fwd_bwd(batch: Any) -> None:
        loss = classification_loss(ddp(batch), batch.labels, reduction="sum")
        (loss / 32).backward()

    times: dict[str, list[float]] = {k: [] for k in
                                     ("sync", "no_sync", "flat_all_reduce", "small")}
    for i, batch in enumerate(batches):
        # the same batch with and without gradient synchronisation, alternating the order
        for kind in (("sync", "no_sync") if i % 2 == 0 else ("no_sync", "sync")):
            dist.barrier()
            ddp.zero_grad(set_to_none=True)
            t0 = time.perf_counter()
            if kind == "sync":
                fwd_bwd(batch)
            else:
                with ddp.no_sync():
                    fwd_bwd(batch)
            dt = time.perf_counter() - t0
            if i >= WARMUP_STEPS:
                times[kind].append(dt)
        dist.barrier()
        t0 = time.perf_counter()
        torch.distributed.all_reduce(flat)
        if i >= WARMUP_STEPS:
            times["flat_all_reduce"].append(time.perf_counter() - t0)
        dist.barrier()
        t0 = time.perf_counter()  # what fit() adds per step besides DDP's own all-reduce
        dist.all_reduce_sum([len(batch), batch.n_tokens, batch.n_padded])
        dist.all_reduce_sum([1.0])
        dist.broadcast_flags([False, False])  # rank 0's stop request
        dist.broadcast_flags([False, False])  # rank 0's stop reason and checkpoint decision
        if i >= WARMUP_STEPS:
            times["small"].append(time.perf_counter() - t0)
    medians = {k: 1000 * statistics.median(v) for k, v in times.items()}
    gathered = dist.gather_objects(medians)
    if rank == 0:
        (out / "comm.json").write_text(json.dumps({
            "n_params": n_params, "bytes": 4 * n_params, "steps": comm_steps,
            "ranks": gathered}), encoding="utf-8")
    dist.teardown()


def communication(train: Path, val: Path, out: Path, steps: int,
                  comm_steps: int) -> dict[str, Any]:
    env = {**thread_env(1), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
           "2", str(Path(__file__)), "--comm-worker", "--train", str(train), "--val", str(val),
           "--out", str(out), "--steps", str(steps), "--comm-steps", str(comm_steps)]
    proc = subprocess.run(cmd, cwd=ROOT / "bench", env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"communication benchmark failed:\n{proc.stdout}\n{proc.stderr}")
    comm = json.loads((out / "comm.json").read_text())
    r0 = comm["ranks"][0]
    print(f"communication: fwd+bwd {r0['sync']:.2f} ms with gradient sync vs "
          f"{r0['no_sync']:.2f} ms without; flat all-reduce of {comm['bytes'] / 1e6:.1f} MB "
          f"{r0['flat_all_reduce']:.2f} ms; small collectives {r0['small']:.2f} ms", flush=True)
    return dict(comm)


# ---------------------------------------------------------------- report


def _wall(runs: dict[str, list[dict[str, Any]]], variant: str) -> list[float]:
    return [r["wall_ex_s"] for r in runs[variant]]


def _vs(runs: dict[str, list[dict[str, Any]]], a: str, b: str) -> dict[str, float]:
    """examples/s (wall) of ``a`` over ``b``: ratio of medians, per-pair range."""
    return ratio_of(_wall(runs, a), _wall(runs, b))


def training_table(m: dict[str, Any]) -> str:
    """One row per variant: medians [min, max] over the interleaved repetitions."""
    runs, peaks = m["runs"], m["peak"]
    lines = ["| run | processes x threads | batch per process (global) | runs | ms/step (loop) "
             "| examples/s (loop) | examples/s (wall) | vs 1 process, 1 thread (wall) "
             "| share of matmul peak (6N x slots, loop) |",
             "|---|---|---|---:|---:|---:|---:|---|---:|"]
    for variant, rs in runs.items():
        label, procs, threads, batch = VARIANTS[variant]
        peak = peaks[str(procs * threads)]["peak_gflops"]
        shares = [share_of_peak(m["non_embedding"], r["slots"], r["loop_s"], peak) for r in rs]
        vs = "1.00x" if variant == "1x1" else fmt_ratio(_vs(runs, variant, "1x1"))
        lines.append(
            f"| {label} | {procs} x {threads} | {batch} ({batch * procs}) | {len(rs)} "
            f"| {fmt_range(summarize([r['ms_step'] for r in rs]))} "
            f"| {fmt_range(summarize([r['ex_s'] for r in rs]), ',.0f')} "
            f"| {fmt_range(summarize(_wall(runs, variant)), ',.0f')} | {vs} "
            f"| {fmt_range(summarize(shares), '.1%')} |")
    return "\n".join(lines)


def comm_table(comm: dict[str, Any]) -> str:
    ranks = comm["ranks"]
    t = ["| per step, median over "
         f"{comm['steps']} real batches (16 per rank) | rank 0 | rank 1 |", "|---|---:|---:|"]
    for key, what in (("sync", "forward + backward, DDP with gradient all-reduce"),
                      ("no_sync", "forward + backward, DDP under `no_sync()`"),
                      ("flat_all_reduce", f"bare all-reduce of {comm['n_params']:,} fp32 "
                                          f"({comm['bytes'] / 1e6:.1f} MB)"),
                      ("small", "ftlab's small collectives (counts, loss, 2 decisions)")):
        t.append(f"| {what} | {ranks[0][key]:.2f} ms | {ranks[1][key]:.2f} ms |")
    return "\n".join(t)


def _median(runs: dict[str, list[dict[str, Any]]], variant: str, key: str) -> float:
    return float(statistics.median(r[key] for r in runs[variant]))


def comm_reading(m: dict[str, Any]) -> str:
    runs, ranks = m["runs"], m["communication"]["ranks"]
    grad = ranks[0]["sync"] - ranks[0]["no_sync"]
    overhead = grad + ranks[0]["small"]
    text = (f"So the gradient all-reduce adds {grad:.2f} ms to a step on rank 0 (DDP overlaps "
            f"it with the backward pass only partly on 2 cores) and ftlab's own collectives "
            f"{ranks[0]['small']:.2f} ms: about {overhead:.1f} ms of communication per step")
    if "2x1" not in runs:
        return text + "."
    two = _median(runs, "2x1", "ms_step")
    text += f", {overhead / two:.0%} of the 2-process step ({two:.1f} ms, median)."
    if "1x1-b16" in runs:
        one16 = _median(runs, "1x1-b16", "ms_step")
        text += (f" The 2-process step with 16 examples per rank costs {two:.1f} ms against "
                 f"{one16:.1f} ms for the same per-process work alone (1 process, batch 16; "
                 f"medians): the difference ({two - one16:.1f} ms) is communication plus waiting "
                 "for the slower rank (bucketed batches of different lengths take different "
                 "times, and the two ranks share the 2 cores with gloo's threads).")
    return text


def equivalence_reading(m: dict[str, Any]) -> str:
    eq = m["equivalence"]
    return (
        "**Same model, not just a similar one.** With bucketing on (the timed runs above, not "
        "evaluated: they measure speed), 1 and 2 processes do not train on the same batches: "
        "bucketing cuts each length-sorted maxi-batch into batches of 16, two of which, from "
        "anywhere in the epoch, make a 2-process step, and dropout draws differ, so their "
        "accuracies differ by chance (sizing that needs several seeds per setting). "
        "With bucketing and dropout off, the 2-process run (16 "
        "per rank) sees exactly the 1-process run's batches of 32 (the shuffled pool cut into "
        f"consecutive batches, rank r taking every other one): after {eq['steps']} steps the "
        f"validation loss is {eq['1']['val_loss']:.8f} (1 process) vs {eq['2']['val_loss']:.8f} "
        f"(2 processes), accuracy {eq['1']['val_accuracy']:.1%} vs {eq['2']['val_accuracy']:.1%}"
        f", and the largest weight difference is {eq['max_weight_diff']:.1e} (in "
        f"`{eq['worst_tensor']}`, whose largest value is {eq['worst_scale']:.2f}; "
        f"{eq['non_embedding_max_diff']:.1e} outside the embeddings), larger than the 1.0e-04 "
        "the single run of 2026-11-23 found after 500 steps." + _recheck(m.get("equivalence_500"))
        + " `tests/training/test_ddp.py` checks the exact equivalence on small runs.")


def _recheck(eq: dict[str, Any] | None) -> str:
    """The same check after 500 steps (2 full epochs), when it was run."""
    if not eq:
        return ""
    return (f" Re-checked after {eq['steps']} steps (2 full epochs; `equivalence()` of this "
            "script, a correctness run outside the benchmark slot): validation loss "
            f"{eq['1']['val_loss']:.8f} vs {eq['2']['val_loss']:.8f}, largest weight difference "
            f"{eq['max_weight_diff']:.1e} ({eq['non_embedding_max_diff']:.1e} outside the "
            "embeddings), as in the old run; why stopping after fewer steps, mid-epoch, leaves a "
            "larger difference was not investigated.")


def speed_reading(m: dict[str, Any]) -> str:
    runs = m["runs"]
    parts = []
    if "2x1" in runs:
        parts.append(f"with the global batch kept at 32, two processes reach "
                     f"{fmt_ratio(_vs(runs, '2x1', '1x1'))} the examples/s (wall) of one "
                     "process on one thread")
        if "1x2" in runs:
            parts.append(f"{fmt_ratio(_vs(runs, '2x1', '1x2'))} those of one process on two "
                         "threads")
    if "2x1-b32" in runs:
        parts.append(f"doubling the per-process batch (global 64) gives "
                     f"{fmt_ratio(_vs(runs, '2x1-b32', '1x1'))} one process on one thread")
    if "1x2" in runs:
        parts.append(f"a second thread in one process gives {fmt_ratio(_vs(runs, '1x2', '1x1'))}")
    return ("Reading: " + "; ".join(parts) + ". On 2 cores no gain is expected from a second "
            "process (one process with two threads can already use both cores); the point of "
            "running DDP here is correctness, shown above and in `tests/training/test_ddp.py`.")


def changes(m: dict[str, Any]) -> str:
    """What the interleaved figures say against the single-run table they replace."""
    runs = m["runs"]
    rows, dropped = [], []
    for variant, old in OLD_SINGLE_RUN.items():
        if variant in runs:
            rows.append(f"{VARIANTS[variant][0]} {old:.2f}x -> "
                        f"{fmt_ratio(_vs(runs, variant, '1x1'))}")
        else:
            dropped.append(f"{VARIANTS[variant][0]} ({old:.2f}x)")
    text = ("**What changed against the single-run table** (2026-11-23: one run per variant, one "
            "after another, 500 steps, another host CPU (AMD EPYC)): relative to 1 process, "
            "1 thread, " + "; ".join(rows) + ".")
    if dropped:
        text += (" Not re-measured, so no longer claimed: " + ", ".join(dropped)
                 + " (`--variants` runs them).")
    return text


def render(m: dict[str, Any]) -> str:
    """The BENCHMARKS.md section (without its title) from the stored results."""
    runs = m["runs"]
    p1, p2 = m["peak"]["1"], m["peak"]["2"]
    e1, e2 = m["peak_end"]["1"], m["peak_end"]["2"]
    variants = ",".join(runs)
    return "\n".join([
        f"Command: `{COMMAND} --steps {m['steps']} --pairs {m['pairs']} --variants {variants}` "
        "(from the repository root, alone on the machine: the 2-process and 2-thread runs need "
        "both cores; results kept in `bench/results/ddp.json`, `--render-only` rewrites this "
        "section from them, `--no-write` prints only).", "",
        "BiLSTM of bench/train_throughput.py (`configs/sst2-file.yaml` + `model.family=rnn "
        "model.cell=lstm model.bidirectional=true`: GloVe 50d, hidden 128 per direction, head "
        f"[128], AdamW lr 2e-3, bucketing on, seed 13) on the same SST-2 subset ({m['subset']:,}"
        f" train rows), {m['steps']} optimizer steps per run, the first {m['warmup']} not "
        "counted. Every run is a fresh `ftlab train` process (the 2-process runs under "
        "`torchrun --standalone --nproc_per_node 2`, gloo), the variants interleaved; threads "
        "are fixed per process (`OMP_NUM_THREADS` and `train.threads`): **1 thread per "
        "process**, except the 1-process, 2-thread row. \"loop\" rates use rank 0's per-step "
        "timer (forward, backward, the gradient all-reduce, the count and loss reductions, "
        "clipping, the optimizer step, and any wait for the other rank); \"wall\" rates use the "
        "time between consecutive step records (adds batch loading, the observers and the "
        "broadcast of rank 0's stop decision). Examples are global (both ranks); the timed "
        "runs skip the final evaluation (`eval.splits=[]`).", "",
        f"Measured {m['date']} on {m['machine']}. Load average (1 min) {m['load'][0]:.2f} "
        f"before the first run and {m['load'][1]:.2f} after the last; order "
        f"{' '.join(m['order'])}. fp32 matmul peak (n = {p1['n']}, best of 10): "
        f"{p1['peak_gflops']:.1f} GFLOP/s at 1 thread and {p2['peak_gflops']:.1f} at 2 threads "
        f"before the runs, {e1['peak_gflops']:.1f} and {e2['peak_gflops']:.1f} after; a row's "
        "share is of the peak at its processes x threads (the first measurement), with FLOPs = "
        f"6 x {m['non_embedding']:,} non-embedding parameters x token slots (padding included). "
        "Cells: median [min, max] over the repetitions; a ratio is the ratio of the medians "
        "with the range of the per-pair ratios.", "",
        training_table(m), "",
        speed_reading(m), "",
        changes(m) + (" " + m["note"] if m.get("note") else ""), "",
        "**Communication per step** (`--comm-worker`, inside a 2-process gloo group, one "
        "thread per rank, the same BiLSTM and data, run once after the interleaved runs; the "
        "two forward + backward variants run on the same batch, alternating their order):", "",
        comm_table(m["communication"]), "",
        comm_reading(m), "",
        equivalence_reading(m),
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--steps", type=int, default=STEPS, help="optimizer steps per run")
    parser.add_argument("--pairs", type=int, default=3,
                        help="interleaved repetitions of every variant (at least 3)")
    parser.add_argument("--variants", default="1x1,2x1,1x2",
                        help="comma-separated, 1x1 and at least one other of: "
                             + ", ".join(VARIANTS))
    parser.add_argument("--comm-steps", type=int, default=COMM_STEPS,
                        help="batches of the communication micro-benchmark")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--render-only", action="store_true", help="rewrite the BENCHMARKS.md "
                        "section from bench/results/ddp.json without measuring")
    parser.add_argument("--comm-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--train", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--val", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.render_only:
        rerender(SECTION, render, RESULTS)
        return 0
    if args.comm_worker:
        comm_worker(args.train, args.val, args.out, args.steps, args.comm_steps)
        return 0
    variants = args.variants.split(",")
    if "1x1" not in variants or any(v not in VARIANTS for v in variants):
        sys.exit(f"--variants: 1x1 and others of {', '.join(VARIANTS)}; got {args.variants}")
    train_path, val_path = args.data / "train.jsonl.gz", args.data / "validation.jsonl.gz"
    if not (train_path.exists() and val_path.exists()):
        sys.exit(f"SST-2 not found at {args.data}; this benchmark needs ../shared/data/sst2/ "
                 "(see ASSETS.md). Nothing measured.")
    peak = {str(n): matmul_peak(n) for n in (1, 2)}
    train = read_rows(train_path)
    order = np.random.default_rng(0).permutation(len(train))[:SUBSET_SIZE]
    with tempfile.TemporaryDirectory(prefix="ftlab-ddp-") as tmp:
        tmp_dir = Path(tmp)
        subset = write_rows([train[i] for i in order], tmp_dir / "sst2-train-8000.jsonl.gz")
        runs_dir = tmp_dir / "runs"
        runs_dir.mkdir()
        measured = interleaved(variants, args.pairs, lambda v, rep: run_variant(
            v, rep, subset, val_path, runs_dir, args.steps))
        peak_end = {str(n): matmul_peak(n) for n in (1, 2)}
        n_params = non_embedding(runs_dir / "1x1-0")
        equiv = equivalence(subset, val_path, runs_dir, args.steps)
        comm = communication(subset, val_path, tmp_dir, args.steps, args.comm_steps)
    store = {"date": datetime.date.today().isoformat(), "machine": machine(1),
             "subset": SUBSET_SIZE, "steps": args.steps, "warmup": WARMUP_STEPS,
             "pairs": args.pairs, "peak": peak, "peak_end": peak_end, "non_embedding": n_params,
             **measured, "equivalence": equiv, "communication": comm}
    publish(SECTION, render(store), results=RESULTS, store=store, write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
