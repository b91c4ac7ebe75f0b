"""Long documents: ftlab vs the Hugging Face Trainer on BBC News articles with MiniLM, 256/512 tokens.

Run from the repository root:  .venv/bin/python bench/long_docs.py [--train 48] [--val 64]
[--pairs 3] [--threads 2] [--lengths 256,512] [--variants ...] [--block NAME] [--smoke]
[--no-write]

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
A variant name ending in ``-attn0`` is the same run with the dropout on the attention
probabilities off: ``model.attention_dropout=0`` for ftlab, ``attention_probs_dropout_prob=0`` in
the model config the Trainer loads; ``--block attn0`` keeps such a measurement next to the first
one (``--variants ftlab,ftlab-attn0,hf-grouped,hf-grouped-attn0 --lengths 512 --block attn0``).
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
    ROOT, fmt_range, fmt_ratio, interleaved, load_average, load_results, matmul_peak, publish,
    ratio_of, rerender, run_child, share_of_peak, summarize, write_rows,
)
from vs_hf_trainer import peak_rss_mib, rate, run_ftlab, run_hf, versions

COMMAND = ".venv/bin/python bench/long_docs.py --train 48 --val 64 --pairs 3 --threads 2"
SECTION = "Long documents (BBC News, MiniLM, 256/512 tokens)"
RESULTS = ROOT / "bench" / "results" / "long_docs.json"
VARIANTS = ("ftlab", "hf-dynamic", "hf-grouped")
ATTN0 = "-attn0"  # variant suffix: attention-probability dropout off, on either side
BATCH, EVAL_BATCH = 8, 16
NAMES = {"ftlab": "ftlab (bucketed batches)", "hf-dynamic": "HF Trainer, dynamic padding",
         "hf-grouped": "HF Trainer, dynamic padding + group_by_length"}
BLOCKS = {"attn0": "Attention dropout off (512 tokens): a setting, measured on both sides"}


def name_of(variant: str) -> str:
    """The table's name of a variant (``-attn0``: attention dropout 0 on that side)."""
    base = variant.removesuffix(ATTN0)
    if base == variant:
        return NAMES[base]
    setting = "model.attention_dropout=0" if base == "ftlab" else "attention_probs_dropout_prob=0"
    return f"{NAMES[base]}, {setting}"


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
    base, attn0 = args.variant.removesuffix(ATTN0), args.variant.endswith(ATTN0)
    if base.startswith("hf-"):
        result = run_hf(base, train, val, work / args.variant, rep=args.rep, max_len=args.length,
                        batch=BATCH, eval_batch=EVAL_BATCH, num_labels=5, head=head,
                        model_config={"attention_probs_dropout_prob": 0.0} if attn0 else None)
        result["variant"] = args.variant
    else:
        extra = [f"batching.batch_size={BATCH}", f"batching.eval_batch_size={EVAL_BATCH}",
                 f"preprocess.max_length={args.length}", "preprocess.truncation=head_tail",
                 f"preprocess.head_tokens={head}"] + (["model.attention_dropout=0"] if attn0 else [])
        result = run_ftlab(args.variant, train, val, work, extra, rep=args.rep)
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


def table(m: dict[str, Any], peak: float) -> str:
    """One row per (length, variant) of measurement ``m``: medians [min, max]; ratios.

    "ftlab / this" divides ftlab's examples/s by the row's, ftlab at the row's own attention
    dropout (``ftlab-attn0`` for ``-attn0`` rows); where ``-attn0`` variants ran, a second ratio
    column divides each of them by the same tool with its dropout on (the setting's effect).
    """
    settings = any(v.endswith(ATTN0) for runs in (x["runs"] for x in m["lengths"].values())
                   for v in runs)
    head = "| max_length | variant | runs | train examples/s | padding | val accuracy " \
           "| peak RSS MiB | share of matmul peak (6N x slots) | ftlab / this |"
    rule = "|---:|---|---:|---:|---:|---|---:|---:|---|"
    if settings:
        head, rule = head + " attention dropout 0 / on (same tool) |", rule + "---|"
    lines = [head, rule]
    for length, ml in m["lengths"].items():
        runs = ml["runs"]
        rates = {v: [rate(r) for r in rs] for v, rs in runs.items()}
        for variant, rs in runs.items():
            shares = [share_of_peak(r["non_embedding"], r["slots"], r["train_s"], peak)
                      for r in rs]
            pads = summarize([1 - r["tokens"] / r["slots"] for r in rs])
            accs = sorted({f"{r['val_accuracy']:.1%}" for r in rs})
            ours = "ftlab" + (ATTN0 if variant.endswith(ATTN0) else "")
            ratio = ("" if variant.startswith("ftlab") or ours not in rates
                     else fmt_ratio(ratio_of(rates[ours], rates[variant])))
            row = (f"| {length} | {name_of(variant)} | {len(rs)} | "
                   f"{fmt_range(summarize(rates[variant]), '.2f')} | {pads['median']:.1%} | "
                   f"{', '.join(accs)} | "
                   f"{summarize([r['peak_rss_mib'] for r in rs])['median']:,.0f} "
                   f"| {fmt_range(summarize(shares), '.0%')} | {ratio} |")
            if settings:
                on = variant.removesuffix(ATTN0)
                row += (f" {fmt_ratio(ratio_of(rates[variant], rates[on]))} |"
                        if variant != on and on in rates else " |")
            lines.append(row)
    return "\n".join(lines)


def describe(m: dict[str, Any]) -> str:
    """The paragraph that says how measurement ``m`` was taken (sample, threads, load, peak)."""
    loads = "; ".join(f"{length}: {ml['load'][0]:.2f} -> {ml['load'][1]:.2f} (order "
                      f"{' '.join(ml['order'])})" for length, ml in m["lengths"].items())
    return (f"**Measured {m['date']}**: {m['train']} training and {m['val']} "
            f"validation articles, {m['pairs']} interleaved repetitions per length, every "
            f"run {m['threads']} thread(s). Machine: {m['machine']}. Load average "
            f"(1 min) before -> after, per length: {loads}. fp32 matmul peak at "
            f"{m['threads']} thread(s): {m['peak']['peak_gflops']:.1f} GFLOP/s before, "
            f"{m['peak_end']['peak_gflops']:.1f} after (shares are of the first). Cells: "
            f"median [min, max]; a ratio is the median examples/s of one variant over the "
            f"other's, with the range of the per-pair ratios.")


def render(store: dict[str, Any]) -> str:
    """The BENCHMARKS.md section body: the first measurement, then each block (``--block``)."""
    profile = store.get("profile", "")
    body = [f"Command: `{store['command']}` (from the repository root; results kept in "
            f"`bench/results/long_docs.json`; `--no-write` prints only, `--smoke` is a tiny "
            f"check that writes nothing).", "",
            (__doc__ or "").split("\n\n", 2)[2].strip(), "",
            describe(store), "", table(store, store["peak"]["peak_gflops"])]
    if store.get("reading"):
        body += ["", store["reading"]]
    if profile:
        body += ["", profile]
    for name, m in store.get("blocks", {}).items():
        body += ["", f"### {BLOCKS.get(name, name)}", "", f"Command: `{m['command']}`.", "",
                 describe(m), "", table(m, m["peak"]["peak_gflops"])]
        body += [x for key in ("reading", "profile") if m.get(key) for x in ("", m[key])]
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
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="comma-separated: " + ", ".join(VARIANTS) + ", each also with "
                        f"the suffix {ATTN0} (attention dropout 0)")
    parser.add_argument("--block", choices=sorted(BLOCKS),
                        help="keep this measurement as a block next to the first one")
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
        rerender(SECTION, render, RESULTS)
        return
    if args.smoke:
        args.train, args.val, args.lengths, args.no_write = 16, 16, "128", True
    if args.block and not RESULTS.is_file():
        sys.exit(f"--block adds to the first measurement: run without --block first ({RESULTS})")
    variants = args.variants.split(",")
    unknown = [v for v in variants if v.removesuffix(ATTN0) not in VARIANTS]
    if unknown:
        sys.exit(f"unknown variants {unknown}; choose from {', '.join(VARIANTS)} (each also "
                 f"with the suffix {ATTN0})")
    peak = matmul_peak(args.threads)
    print(f"fp32 matmul at {args.threads} thread(s): peak {peak['peak_gflops']:.1f} GFLOP/s",
          flush=True)
    store: dict[str, Any] = {
        "date": datetime.date.today().isoformat(), "machine": versions(args.threads),
        "threads": args.threads, "train": args.train, "val": args.val, "pairs": args.pairs,
        "peak": peak, "lengths": {},
        "command": (f".venv/bin/python bench/long_docs.py --train {args.train} --val {args.val} "
                    f"--pairs {args.pairs} --threads {args.threads} --lengths {args.lengths}"
                    + (f" --variants {args.variants} --block {args.block}" if args.block else ""))}
    with tempfile.TemporaryDirectory(prefix="ftlab-long-") as tmp:
        work = Path(tmp)
        train, val, _ = write_data(work, args.train, args.val)
        for length in [int(x) for x in args.lengths.split(",")]:
            store["lengths"][str(length)] = interleaved(
                variants, args.pairs,
                lambda v, rep, n=length: spawn(v, n, rep, args, work, train, val))
    store["peak_end"] = matmul_peak(args.threads)
    old = load_results(RESULTS)
    if args.block:  # a block next to the first measurement, which is kept as it is
        kept = old.get("blocks", {}).get(args.block, {})
        store.update({k: kept[k] for k in ("reading", "profile") if k in kept})
        store = {**old, "blocks": {**old.get("blocks", {}), args.block: store}}
    else:
        store.update({k: old[k] for k in ("reading", "profile", "blocks") if k in old})
    text = render(store)
    publish(SECTION, text, results=RESULTS, store=store, write=not args.no_write)


if __name__ == "__main__":
    main()
