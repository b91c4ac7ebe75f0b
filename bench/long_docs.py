"""Long documents: ftlab vs the Hugging Face Trainer on BBC News articles with MiniLM, 256/512 tokens.

Run from the repository root:  .venv/bin/python bench/long_docs.py [--train 48] [--val 64]
[--pairs 3] [--threads 2] [--lengths 256,512] [--smoke] [--no-write]

Data: the built-in ``bbc_news`` dataset (2,225 articles, 5 topics, median 332 words: nearly all
are cut at 256 word pieces, many fit in 512), shuffled with ``numpy.random.default_rng(0)``; the first
``--train`` articles train, the next ``--val`` validate. Model: all-MiniLM-L6-v2 (``model.name:
minilm``, SDPA attention) with a new 5-way head. Hyperparameters, identical on both sides: batch 8
(evaluation 16), 1 epoch, AdamW lr 5e-5 (weight decay 0.01), 6% warmup then linear decay, clip
norm 1.0, seed 42, fp32, head+tail truncation to ``max_length`` (a quarter of the budget from the
start, the rest from the end: ftlab's ``preprocess.truncation: head_tail``; the Trainer side cuts
with the same ``ftlab.preprocessing.truncate`` so both see the same tokens).

Variants, every run a fresh process, interleaved per length (``bench/_common.py``): ``ftlab``
(``ftlab.runs.train_run``, length-bucketed batches), ``hf-dynamic`` (Trainer,
``DataCollatorWithPadding``), ``hf-grouped`` (as hf-dynamic with ``group_by_length``). The run
functions are the ones of ``bench/vs_hf_trainer.py`` (imported, with the long-document settings).
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
    ROOT, fmt_range, fmt_ratio, interleaved, load_average, matmul_peak, ratio_of, run_child,
    share_of_peak, summarize, publish, write_rows,
)
from vs_hf_trainer import peak_rss_mib, rate, run_ftlab, run_hf, versions

COMMAND = ".venv/bin/python bench/long_docs.py --train 48 --val 64 --pairs 3 --threads 2"
SECTION = "Long documents (BBC News, MiniLM, 256/512 tokens)"
RESULTS = ROOT / "bench" / "results" / "long_docs.json"
VARIANTS = ("ftlab", "hf-dynamic", "hf-grouped")
BATCH, EVAL_BATCH = 8, 16
NAMES = {"ftlab": "ftlab (bucketed batches)", "hf-dynamic": "HF Trainer, dynamic padding",
         "hf-grouped": "HF Trainer, dynamic padding + group_by_length"}


def head_tokens(length: int) -> int:
    """Content tokens kept from the start (a quarter of the content budget)."""
    return (length - 2) // 4


def write_data(work: Path, n_train: int, n_val: int) -> tuple[Path, Path, list[str]]:
    """BBC News train/validation subsets as JSONL with integer labels; the label names."""
    from ftlab.data import load_builtin

    rows = load_builtin("bbc_news")["all"]
    names = sorted({ex.label for ex in rows})
    order = np.random.default_rng(0).permutation(len(rows))
    pick = [{"text": rows[i].text, "label": names.index(rows[i].label)} for i in order]
    return (write_rows(pick[:n_train], work / "train.jsonl"),
            write_rows(pick[n_train:n_train + n_val], work / "validation.jsonl"), names)


def child(args: argparse.Namespace) -> None:
    """One variant at one length in this (fresh) process; writes its result JSON."""
    import torch

    torch.set_num_threads(args.threads)
    work = Path(args.work) / f"L{args.length}"
    work.mkdir(parents=True, exist_ok=True)
    train, val = Path(args.train_file), Path(args.val_file)
    head = head_tokens(args.length)
    if args.variant.startswith("hf-"):
        result = run_hf(args.variant, train, val, work, rep=args.rep, max_len=args.length,
                        batch=BATCH, eval_batch=EVAL_BATCH, num_labels=5, head=head)
    else:
        extra = [f"batching.batch_size={BATCH}", f"batching.eval_batch_size={EVAL_BATCH}",
                 f"preprocess.max_length={args.length}", "preprocess.truncation=head_tail",
                 f"preprocess.head_tokens={head}"]
        result = run_ftlab("ftlab", train, val, work, extra, rep=args.rep)
    result["peak_rss_mib"] = peak_rss_mib()
    Path(args.result).write_text(json.dumps(result), encoding="utf-8")


def spawn(variant: str, length: int, rep: int, args: argparse.Namespace, work: Path,
          train: Path, val: Path) -> dict[str, Any]:
    """Run one variant at one length in a fresh subprocess."""
    result_file = work / f"{variant}-{length}-{rep}.result.json"
    cmd = [sys.executable, __file__, "--child", variant, "--work", str(work), "--length",
           str(length), "--train-file", str(train), "--val-file", str(val), "--result",
           str(result_file), "--threads", str(args.threads), "--rep", str(rep)]
    print(f"[{time.strftime('%H:%M:%S')}] L{length} {variant} #{rep + 1} "
          f"(load {load_average():.2f}) ...", flush=True)
    r = run_child(cmd, result_file, threads=args.threads)
    print(f"    train {r['train_s']:.1f} s, {rate(r):.2f} ex/s, padding "
          f"{1 - r['tokens'] / r['slots']:.1%}, val acc {r['val_accuracy']:.3f}, "
          f"peak {r['peak_rss_mib']:.0f} MiB", flush=True)
    return r


def table(store: dict[str, Any]) -> str:
    """One row per (length, variant): medians [min, max]; ratio ftlab / HF grouped."""
    peak = store["peak"]["peak_gflops"]
    lines = ["| max_length | variant | runs | train examples/s | padding | val accuracy "
             "| peak RSS MiB | share of matmul peak (6N x slots) | ftlab / this |",
             "|---:|---|---:|---:|---:|---|---:|---:|---|"]
    for length, m in store["lengths"].items():
        runs = m["runs"]
        ours = [rate(r) for r in runs["ftlab"]] if "ftlab" in runs else None
        for variant, rs in runs.items():
            shares = [share_of_peak(r["non_embedding"], r["slots"], r["train_s"], peak)
                      for r in rs]
            pads = summarize([1 - r["tokens"] / r["slots"] for r in rs])
            accs = sorted({f"{r['val_accuracy']:.1%}" for r in rs})
            ratio = ("" if variant == "ftlab" or ours is None
                     else fmt_ratio(ratio_of(ours, [rate(r) for r in rs])))
            lines.append(
                f"| {length} | {NAMES[variant]} | {len(rs)} | "
                f"{fmt_range(summarize([rate(r) for r in rs]), '.2f')} | {pads['median']:.1%} | "
                f"{', '.join(accs)} | {summarize([r['peak_rss_mib'] for r in rs])['median']:,.0f} "
                f"| {fmt_range(summarize(shares), '.0%')} | {ratio} |")
    return "\n".join(lines)


def render(store: dict[str, Any], profile: str = "") -> str:
    """The BENCHMARKS.md section body."""
    loads = "; ".join(f"{length}: {m['load'][0]:.2f} -> {m['load'][1]:.2f} (order "
                      f"{' '.join(m['order'])})" for length, m in store["lengths"].items())
    body = [f"Command: `{store['command']}` (from the repository root; results kept in "
            f"`bench/results/long_docs.json`; `--no-write` prints only, `--smoke` is a tiny "
            f"check that writes nothing).", "",
            (__doc__ or "").split("\n\n", 2)[2].strip(), "",
            f"**Measured {store['date']}**: {store['train']} training and {store['val']} "
            f"validation articles, {store['pairs']} interleaved repetitions per length, every "
            f"run {store['threads']} thread(s). Machine: {store['machine']}. Load average "
            f"(1 min) before -> after, per length: {loads}. fp32 matmul peak at "
            f"{store['threads']} thread(s): {store['peak']['peak_gflops']:.1f} GFLOP/s before, "
            f"{store['peak_end']['peak_gflops']:.1f} after (shares are of the first). Cells: "
            f"median [min, max]; the ratio is ftlab's median examples/s over the row's, with "
            f"the range of the per-pair ratios.", "", table(store)]
    if store.get("reading"):
        body += ["", store["reading"]]
    if profile:
        body += ["", profile]
    return "\n".join(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", dest="variant", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--length", type=int, default=512, help=argparse.SUPPRESS)
    parser.add_argument("--train-file", help=argparse.SUPPRESS)
    parser.add_argument("--val-file", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--rep", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--train", type=int, default=48, help="training articles")
    parser.add_argument("--val", type=int, default=64, help="validation articles")
    parser.add_argument("--pairs", type=int, default=3, help="interleaved repetitions (>= 3)")
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads of every run")
    parser.add_argument("--lengths", default="256,512", help="comma-separated max_length values")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--smoke", action="store_true",
                        help="tiny end-to-end check (16/16 articles, 128 tokens, 3 pairs), no write")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite the section from bench/results/long_docs.json")
    args = parser.parse_args()
    if args.variant:
        child(args)
        return
    if args.render_only:
        store = json.loads(RESULTS.read_text(encoding="utf-8"))
        text = render(store, store.get("profile", ""))
        publish(SECTION, text, results=RESULTS)
        return
    if args.smoke:
        args.train, args.val, args.lengths, args.no_write = 16, 16, "128", True
    variants = args.variants.split(",")
    peak = matmul_peak(args.threads)
    print(f"fp32 matmul at {args.threads} thread(s): peak {peak['peak_gflops']:.1f} GFLOP/s",
          flush=True)
    store: dict[str, Any] = {
        "date": datetime.date.today().isoformat(), "machine": versions(args.threads),
        "threads": args.threads, "train": args.train, "val": args.val, "pairs": args.pairs,
        "peak": peak, "lengths": {},
        "command": (f".venv/bin/python bench/long_docs.py --train {args.train} --val {args.val} "
                    f"--pairs {args.pairs} --threads {args.threads} --lengths {args.lengths}")}
    with tempfile.TemporaryDirectory(prefix="ftlab-long-") as tmp:
        work = Path(tmp)
        train, val, _ = write_data(work, args.train, args.val)
        for length in [int(x) for x in args.lengths.split(",")]:
            store["lengths"][str(length)] = interleaved(
                variants, args.pairs,
                lambda v, rep, n=length: spawn(v, n, rep, args, work, train, val))
    store["peak_end"] = matmul_peak(args.threads)
    if not args.no_write and RESULTS.is_file():
        old = json.loads(RESULTS.read_text(encoding="utf-8"))
        store["reading"], store["profile"] = old.get("reading", ""), old.get("profile", "")
    text = render(store, store.get("profile", ""))
    publish(SECTION, text, results=RESULTS, store=store, write=not args.no_write)


if __name__ == "__main__":
    main()
