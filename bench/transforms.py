"""Transformation throughput (texts/s) for every registered transformation, on SST-2 sentences.

Run from the repository root:  .venv/bin/python bench/transforms.py [--reps 3] [--passes 3]
[--threads 1] [--no-write] [--render-only]

Each transformation (default rate) runs over the 872 SST-2 validation sentences (or the
built-in Rotten Tomatoes test split without ../shared/data) through
``ftlab.robustness.transform_examples`` (per-example seeding included). Every (transformation,
repetition) is a fresh process with ``--threads`` intra-op threads, the transformations
interleaved (T1 T2 ... T15 T1 T2 ..., ``--reps`` repetitions; BENCHMARKS.md "Methodology"), so
no run inherits resources another transformation loaded. In a run: "first call" builds the
transformation and transforms one text (loading WordNet, GloVe neighbours or nlpaug's lists);
"warm" is the median of ``--passes`` passes over the same texts after a warm-up pass (caches
full); "unseen" is one pass over 2,000 other SST-2 training sentences of 8+ words (resources
loaded, WordNet/GloVe lookups not cached yet). The table is printed and written into
BENCHMARKS.md under "## Transformation throughput" (replacing that section only); the raw
figures go to ``bench/results/transforms.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import (
    ROOT, fmt_range, interleaved, load_average, machine, matmul_peak, publish, read_rows,
    rerender, run_child, summarize,
)

SST2 = ROOT.parent / "shared" / "data" / "sst2"
SECTION = "Transformation throughput"
RESULTS = ROOT / "bench" / "results" / "transforms.json"


def _texts(limit: int | None = None) -> tuple[str, list[Any], list[Any]]:
    from ftlab.data import Example

    if (SST2 / "validation.jsonl.gz").is_file():
        dev = read_rows(SST2 / "validation.jsonl.gz")
        train = read_rows(SST2 / "train.jsonl.gz")
        long_train = [r for r in train if len(r["text"].split()) >= 8][:2000]

        def mk(rows: list[dict[str, Any]], p: str) -> list[Any]:
            return [Example(id=f"{p}{i}", text=r["text"], label=str(r["label"]))
                    for i, r in enumerate(rows[:limit])]

        return "SST-2 validation (872 sentences)", mk(dev, "d"), mk(long_train, "t")
    from ftlab.data import load_builtin

    splits = load_builtin("rotten_tomatoes")
    return ("Rotten Tomatoes test (built-in)", list(splits["test"])[:limit],
            list(splits["train"])[:2000][:limit])


def child(args: argparse.Namespace) -> None:
    """One transformation in this fresh process: first call, warm passes, one unseen pass."""
    import torch

    torch.set_num_threads(args.threads)
    from ftlab.robustness import build_pipeline, transform_examples

    source, texts, unseen = _texts(args.limit)
    t0 = time.perf_counter()
    pipeline = build_pipeline(args.child)
    transform_examples(texts[:1], pipeline, 0)
    first = time.perf_counter() - t0
    _, changes = transform_examples(texts, pipeline, 0)  # warm-up (fills caches)
    warm = []
    for rep in range(args.passes):
        t0 = time.perf_counter()
        transform_examples(texts, pipeline, rep + 1)
        warm.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    transform_examples(unseen, pipeline, 0)
    cold = time.perf_counter() - t0
    Path(args.result).write_text(json.dumps({
        "source": source, "n": len(texts), "n_unseen": len(unseen), "first_s": first,
        "warm_s": warm, "warm_rate": len(texts) / statistics.median(warm),
        "unseen_rate": len(unseen) / cold,
        "changed": sum(c.changed for c in changes) / len(changes),
        "edits": sum(len(c.text) for c in changes) / len(changes),
        "threads": torch.get_num_threads()}), encoding="utf-8")


def render(store: dict[str, Any]) -> str:
    """The BENCHMARKS.md section (without its title) from the stored figures."""
    runs = store["runs"]
    first = next(iter(runs.values()))[0]
    lines = [
        f"Command: `{store['command']}` (from the repository root; raw figures in "
        "`bench/results/transforms.json`).", "",
        (__doc__ or "").split("\n\n", 2)[2].strip(), "",
        f"Measured {store['date']} on {store['machine']}; {store['threads']} thread(s). Texts: "
        f"{first['source']}. Load average (1 min) {store['load'][0]:.2f} before the first run "
        f"and {store['load'][1]:.2f} after the last. fp32 matmul at {store['threads']} "
        f"thread(s): peak {store['peak']['peak_gflops']:.1f} GFLOP/s (no model runs here; "
        "stated for comparison). Speed cells: median [min, max] over the "
        f"{store['reps']} processes (\"warm\" of each process is itself the median of its "
        f"{store['passes']} passes). \"texts changed\" and \"edits per text\" are deterministic "
        "(seeded; from the warm-up pass). WordNet lookups are cached per (word, part of speech) "
        "with `functools.lru_cache` (`WordNetLexicon`), so \"warm\" vs \"unseen\" for `synonyms` "
        "is what the cache saves.", "",
        "| transformation | texts/s (warm) | texts/s (unseen texts) | first call (s) "
        "| texts changed | edits per text |",
        "|---|---:|---:|---:|---:|---:|"]
    for name, rs in runs.items():
        r = rs[0]
        lines.append(
            f"| {name} | {fmt_range(summarize([x['warm_rate'] for x in rs]), ',.0f')} | "
            f"{fmt_range(summarize([x['unseen_rate'] for x in rs]), ',.0f')} | "
            f"{fmt_range(summarize([x['first_s'] for x in rs]), '.2f')} | {r['changed']:.1%} | "
            f"{r['edits']:.2f} |")
    if store.get("note"):
        lines += ["", store["note"]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--reps", type=int, default=3, help="processes per transformation (>= 3)")
    parser.add_argument("--passes", type=int, default=3, help="warm passes in each process")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads of every run")
    parser.add_argument("--only", help="comma-separated transformations (default: all)")
    parser.add_argument("--no-write", action="store_true", help="only print the table")
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite the section from bench/results/transforms.json")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.render_only:
        rerender(SECTION, render, RESULTS)
        return
    from ftlab.robustness import TRANSFORMS

    names = args.only.split(",") if args.only else sorted(TRANSFORMS)
    peak = matmul_peak(args.threads)
    with tempfile.TemporaryDirectory(prefix="ftlab-transforms-") as tmp:
        work = Path(tmp)

        def one(name: str, rep: int) -> dict[str, Any]:
            result = work / f"{name}-{rep}.json"
            print(f"[{time.strftime('%H:%M:%S')}] {name} #{rep + 1} (load {load_average():.2f})",
                  end="", flush=True)
            cmd = [sys.executable, __file__, "--child", name, "--result", str(result),
                   "--passes", str(args.passes), "--threads", str(args.threads)]
            if args.limit:
                cmd += ["--limit", str(args.limit)]
            info = run_child(cmd, result, threads=args.threads)
            print(f"  warm {info['warm_rate']:,.0f}, unseen {info['unseen_rate']:,.0f} texts/s, "
                  f"first call {info['first_s']:.2f} s", flush=True)
            return info

        measured = interleaved(names, args.reps, one)
    for name, rs in measured["runs"].items():
        if len({(r["changed"], r["edits"]) for r in rs}) != 1:
            sys.exit(f"{name}: the transformed texts differ between processes (seeding broken?)")
    store = {"date": datetime.date.today().isoformat(), "machine": machine(args.threads),
             "threads": args.threads, "reps": args.reps, "passes": args.passes, "peak": peak,
             "command": f".venv/bin/python bench/transforms.py --reps {args.reps} --passes "
                        f"{args.passes} --threads {args.threads}", **measured}
    publish(SECTION, render(store), results=RESULTS, store=store, write=not args.no_write)


if __name__ == "__main__":
    main()
