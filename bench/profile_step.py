"""Profile MiniLM training steps (torch.profiler): where a step's CPU time goes.

Run from the repository root:  .venv/bin/python bench/profile_step.py [--threads 1]
[--steps 5] [--batch 32] [--length 16] [--attention-dropout P] [--no-write]
(long documents: ``--batch 8 --length 512 --no-write``, as in BENCHMARKS.md's long-document section;
``--attention-dropout 0`` profiles the step with ``model.attention_dropout: 0``)

Builds ftlab's MiniLM classifier (``configs/sst2-minilm.yaml``'s model: the packaged
all-MiniLM-L6-v2, SDPA, 2 classes) and the optimizer ``ftlab train`` builds (AdamW, fused where
available), then profiles ``--steps`` steps (after 2 warm-up steps) of forward + loss + backward +
clip + optimizer step on random token batches of ``--batch`` x ``--length`` (SST-2's median
bucketed batch is about 32 x 14). Reports the top operators by self CPU time, the step's FLOPs
(6 x non-embedding parameters x token slots) against the fp32 matmul peak measured at the same
thread count, and the optimizer step's share.
"""

from __future__ import annotations

import argparse
import time

from _common import load_average, machine, matmul_peak, non_embedding_parameters, write_section

SECTION = "Profile of a MiniLM training step (CPU)"
ATTENTION_OPS = ("attention", "softmax", "bmm")  # SDPA kernels and their backward, eager attention
LAYERS, HIDDEN = 6, 384  # all-MiniLM-L6-v2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=16)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--attention-dropout", type=float, default=None,
                        help="model.attention_dropout (default: the checkpoint's own, 0.1)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    import torch
    from torch.profiler import ProfilerActivity, profile, record_function

    from ftlab.core import Batch
    from ftlab.models import build_model
    from ftlab.training import build_optimizer

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    load_before = load_average()
    peak = matmul_peak(args.threads)
    model = build_model("transformer", vocab_size=30522, pad_id=0, num_classes=2, name="minilm",
                        attention_dropout=args.attention_dropout)
    model.train()
    opt = build_optimizer(model, name="adamw", lr=5e-5, weight_decay=0.01)
    b, t = args.batch, args.length
    ids = torch.randint(1000, 30000, (b, t))
    ids[:, 0] = 101
    batch = Batch(ids=ids, mask=torch.ones(b, t, dtype=torch.long),
                  lengths=torch.full((b,), t), labels=torch.randint(0, 2, (b,)),
                  index=torch.arange(b))

    def step() -> None:
        with record_function("forward+loss"):
            loss = torch.nn.functional.cross_entropy(model(batch), batch.labels)
        with record_function("backward"):
            loss.backward()
        with record_function("clip"):
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        with record_function("optimizer.step"):
            opt.step()
            opt.zero_grad(set_to_none=True)

    for _ in range(2):
        step()
    t0 = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(args.steps):
            step()
    wall = (time.perf_counter() - t0) / args.steps
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events) or 1.0
    regions = {e.key: e.cpu_time_total / args.steps / 1e3 for e in events
               if e.key in ("forward+loss", "backward", "clip", "optimizer.step")}
    n = non_embedding_parameters(model)
    flops = 6 * n * b * t
    lines = [
        f"Command: `.venv/bin/python bench/profile_step.py --threads {args.threads} --steps "
        f"{args.steps} --batch {b} --length {t}"
        + ("" if args.attention_dropout is None else
           f" --attention-dropout {args.attention_dropout:g}")
        + "` (repository root).", "",
        (__doc__ or "").split("\n\n", 2)[2].strip(), "",
        f"Measured {time.strftime('%Y-%m-%d')} on {machine(args.threads)}; load average (1 min) "
        f"{load_before:.2f} before and {load_average():.2f} after (profiler overhead included "
        f"in the step time). fp32 matmul peak at {args.threads} thread(s): "
        f"{peak['peak_gflops']:.1f} GFLOP/s (median {peak['median_gflops']:.1f}).", "",
        f"One step ({b} x {t} token slots): {wall * 1e3:.0f} ms; "
        + ", ".join(f"{k} {v:.0f} ms" for k, v in regions.items())
        + f". FLOPs 6 x {n:,} x {b * t} = {flops / 1e9:.1f} GFLOP -> "
        f"{flops / wall / 1e9:.1f} GFLOP/s, {flops / wall / 1e9 / peak['peak_gflops']:.0%} of "
        f"the matmul peak.", "",
        "| operator | self CPU ms per step | share of self CPU | calls per step |",
        "|---|---:|---:|---:|"]
    attention = [e for e in events if any(k in e.key.lower() for k in ATTENTION_OPS)]
    att_ms = sum(e.self_cpu_time_total for e in attention) / args.steps / 1e3
    att_flops = 12 * LAYERS * HIDDEN * b * t * t
    lines[-2:-2] = [
        f"Attention: operators whose name contains {', '.join(ATTENTION_OPS)} take "
        f"{att_ms:.0f} ms per step, {sum(e.self_cpu_time_total for e in attention) / total:.1%} "
        f"of self CPU time; their FLOPs (QK^T and AV, forward + backward: 12 x {LAYERS} layers "
        f"x {HIDDEN} x B x T^2) are {att_flops / 1e9:.1f} GFLOP, {att_flops / flops:.0%} on top "
        f"of the 6 N x slots count.", ""]
    for e in sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)[:args.top]:
        lines.append(f"| `{e.key}` | {e.self_cpu_time_total / args.steps / 1e3:.1f} | "
                     f"{e.self_cpu_time_total / total:.1%} | {e.count / args.steps:.0f} |")
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(f"## {SECTION}\n\n{text}")


if __name__ == "__main__":
    main()
