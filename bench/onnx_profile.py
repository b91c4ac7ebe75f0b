"""Where MiniLM inference time goes: torch fp32, ONNX Runtime fp32 and int8, by operator.

Run from the repository root:
  .venv/bin/python bench/onnx_profile.py --run RUN [--threads 1] [--batch 128] [--length 24]
  [--repeats 5]

RUN is a transformer run directory (e.g. the one ``bench/onnx_infer.py --run DIR`` trains); its
ONNX files come from the run's cache (``onnx_model_for_run``: fp32 and the default int8
settings, exported once). Every backend runs the same random token batch of ``--batch`` x
``--length`` (SST-2 dev's length-sorted batches of 128 are 5 to 60 tokens, median about 24),
``--repeats`` times after one warm-up; torch is profiled with ``torch.profiler``, ONNX Runtime
with its own session profiler (``SessionOptions.enable_profiling``; per-node times summed by
operator type). The point is Amdahl's law: int8 speeds up the matrix products only, so the
share of time outside them bounds what int8 can gain. Prints a table; writes nothing.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _common import machine

MATMUL_OPS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::linear", "aten::matmul",
              "MatMul", "Gemm", "MatMulInteger", "DynamicQuantizeMatMul", "MatMulIntegerToFloat",
              "FusedMatMul", "Attention", "QAttention")


def ort_profile(path: Path, feeds: dict[str, Any], threads: int, repeats: int) -> dict[str, Any]:
    """Per-operator-type milliseconds per batch from ONNX Runtime's session profiler."""
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(tmp) / "ort")
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        session.run(["logits"], feeds)  # warm-up (profiled too: dropped below)
        t0 = time.perf_counter()
        for _ in range(repeats):
            session.run(["logits"], feeds)
        seconds = (time.perf_counter() - t0) / repeats
        events = json.loads(Path(session.end_profiling()).read_text(encoding="utf-8"))
    runs = [e for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"]
    start = runs[1]["ts"] if len(runs) > 1 else 0  # skip the warm-up run
    by_op: Counter[str] = Counter()
    for e in events:
        if e.get("cat") == "Node" and e.get("ts", 0) >= start and e["name"].endswith("_kernel_time"):
            by_op[e["args"]["op_name"]] += e["dur"] / 1000 / repeats
    return {"seconds": seconds, "by_op": dict(by_op)}


def torch_profile(model: Any, batch: Any, repeats: int) -> dict[str, Any]:
    """Per-operator self CPU milliseconds per batch from torch.profiler."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    with torch.inference_mode():
        model(batch)
        t0 = time.perf_counter()
        for _ in range(repeats):
            model(batch)
        seconds = (time.perf_counter() - t0) / repeats
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(repeats):
                model(batch)
    by_op = {e.key: e.self_cpu_time_total / 1000 / repeats for e in prof.key_averages()}
    return {"seconds": seconds, "by_op": by_op}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, help="a transformer run directory")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--length", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args()
    import torch

    from ftlab.core import Batch
    from ftlab.models import Int8Settings
    from ftlab.runs import load_run_model, onnx_model_for_run

    torch.set_num_threads(args.threads)
    run = Path(args.run)
    if not (run / "run.json").is_file():
        sys.exit(f"{run}: not a run directory")
    _, _, model = load_run_model(run, threads=args.threads)
    model.eval()
    b, t = args.batch, args.length
    torch.manual_seed(0)
    ids = torch.randint(1000, 30000, (b, t))
    batch = Batch(ids=ids, mask=torch.ones(b, t, dtype=torch.long),
                  lengths=torch.full((b,), t, dtype=torch.long),
                  labels=torch.zeros(b, dtype=torch.long), index=torch.arange(b),
                  token_type_ids=torch.zeros(b, t, dtype=torch.long))
    paths = {"ort-fp32": onnx_model_for_run(run, model, quantize="none").path,
             "ort-int8": onnx_model_for_run(run, model, quantize="int8",
                                            int8=Int8Settings()).path}
    from ftlab.models import OnnxRuntimeModel

    # the inputs the exported graph names, fed as OnnxRuntimeModel feeds them
    feeds = {name: getattr(batch, name).numpy()
             for name in OnnxRuntimeModel(paths["ort-fp32"], threads=args.threads).input_names}
    results = {"torch-fp32": torch_profile(model, batch, args.repeats)}
    for name, path in paths.items():
        results[name] = ort_profile(path, feeds, args.threads, args.repeats)
    print(f"{machine(args.threads)}; batch {b} x {t} random tokens, {args.repeats} repeats, "
          f"{args.threads} thread(s).\n")
    print("| backend | ms per batch | matrix products (ms, share of operator time) | "
          "top operators (ms) |")
    print("|---|---:|---|---|")
    base = results["torch-fp32"]["seconds"]
    for name, r in results.items():
        ops = r["by_op"]
        total = sum(v for k, v in ops.items() if not k.startswith("ProfilerStep"))
        mm = sum(v for k, v in ops.items() if k in MATMUL_OPS)
        top = ", ".join(f"`{k}` {v:.0f}" for k, v in
                        sorted(ops.items(), key=lambda kv: -kv[1])[:args.top])
        print(f"| {name} | {r['seconds'] * 1000:.0f} ({base / r['seconds']:.2f}x torch fp32) | "
              f"{mm:.0f} ({mm / total:.0%}) | {top} |")


if __name__ == "__main__":
    main()
