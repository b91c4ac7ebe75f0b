"""Training throughput and a fixed-budget dev accuracy of ftlab's models on SST-2.

Run from the repository root:  .venv/bin/python bench/train_throughput.py
Every figure comes from real runs of the public pipeline (``load_config`` on
``configs/sst2-file.yaml`` with ``--set``-style overrides, then ``train_run``); run directories go
to a temporary directory that is deleted at the end.

1. Throughput per model family (bag of GloVe embeddings, BiLSTM, GRU) with length bucketing on
   and off: batch size 32, a fixed number of optimizer steps on the ASSETS.md SST-2 subset
   (rows ``numpy.random.default_rng(0).permutation(67349)[:8000]``, in that order). Rates come
   from the loop's own ``step`` records in ``metrics.jsonl``: examples, real tokens and padded
   token slots divided by the summed per-step ``seconds`` (forward + backward + clip + optimizer
   step; data loading, observers, start-up and evaluation excluded). The first warm-up steps are
   dropped. A second rate, from the wall-clock gaps between consecutive step records (adds batch
   loading and observers; gaps that contain an evaluation are dropped), is shown alongside.
2. Dev accuracy (official SST-2 validation, 872 sentences) of bag-of-GloVe and BiLSTM after a
   fixed budget of 2 epochs on the full SST-2 train set (67,349), evaluated with the final weights
   (no checkpoint selection on the dev set).
3. A TF-IDF (word 1-2 grams + char_wb 2-5 grams) + logistic regression baseline (scikit-learn)
   fitted on the same full train set and scored on the same dev set, with its fit time.

The table is printed and written into BENCHMARKS.md under "## Training throughput" (replacing
that section only).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ftlab.config import load_config
from ftlab.runs import train_run

from _common import ROOT, machine, read_rows, write_rows, write_section

DATA = ROOT.parent / "shared" / "data" / "sst2"
BASE_CONFIG = ROOT / "configs" / "sst2-file.yaml"
COMMAND = ".venv/bin/python bench/train_throughput.py"
SECTION = "Training throughput"
SUBSET_SIZE = 8000  # ASSETS.md: default_rng(0).permutation(67349)[:8000]

# Model families: overrides on top of configs/sst2-file.yaml (bow, GloVe 50d, head [128],
# dropout 0.2, AdamW lr 2e-3, linear schedule, max_length 64, word vocabulary).
FAMILIES: dict[str, list[str]] = {
    "bow + GloVe": [],
    "BiLSTM": ["model.family=rnn", "model.cell=lstm", "model.bidirectional=true"],
    "GRU": ["model.family=rnn", "model.cell=gru", "model.bidirectional=false"],
}
# Optimizer steps per throughput run, chosen so each run trains for roughly 10 s or more (batch
# 32; the subset is 250 steps per epoch, so runs cross epoch ends: the epoch-end evaluation is
# outside the step timer and its wall-clock gap is dropped).
THROUGHPUT_STEPS = {"bow + GloVe": 2000, "BiLSTM": 500, "GRU": 500}
# Steps for the extra thread counts (--threads after the first): on a shared 2-core machine two
# intra-op threads can stall for tens of ms per op, so these runs are kept short.
EXTRA_THREADS_STEPS = 300
WARMUP_STEPS = 10  # dropped from the rates (allocator and thread-pool warm-up)
STALL_RATIO = 1.8  # mean/median step time above this: the run measured stalls, not the model
ACCURACY_FAMILIES = ("bow + GloVe", "BiLSTM")
ACCURACY_EPOCHS = 2


def common_overrides(train_file: Path, val_file: Path, out_dir: Path) -> list[str]:
    """Overrides shared by every run: our files, the official dev set, no carved test split."""
    return [
        f"output_dir={out_dir}",
        f"data.files.train={train_file}",
        f"data.files.validation={val_file}",
        "data.split.test=0",  # keep all of train for training; dev = official validation
        "train.device=cpu",
        "train.eval_every=null",  # the yaml evaluates every 500 steps
        "train.log_every=100",
    ]


def step_stats(run_dir: Path, skip: int = WARMUP_STEPS) -> dict[str, float]:
    """Throughput from the loop's own step records (metrics.jsonl), first ``skip`` steps dropped."""
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in records if r["kind"] == "step" and r["step"] > skip]
    ex = sum(r["values"]["examples"] for r in steps)
    tok = sum(r["values"]["tokens"] for r in steps)
    pad = sum(r["values"]["padded_tokens"] for r in steps)
    loop_s = sum(r["values"]["seconds"] for r in steps)
    # wall clock between consecutive step records; an interval with any other record in it
    # (evaluation, epoch end) is dropped
    wall_s, wall_ex, prev = 0.0, 0, None
    for r in records:
        if r["kind"] != "step":
            prev = None
            continue
        if prev is not None and r["step"] > skip:
            wall_s += r["time"] - prev["time"]
            wall_ex += r["values"]["examples"]
        prev = r
    return {
        "steps": len(steps), "examples": ex, "tokens": tok, "padded": pad, "loop_s": loop_s,
        "ex_s": ex / loop_s, "tok_s": tok / loop_s, "pad_s": pad / loop_s,
        "padding_share": (pad - tok) / pad, "ms_step": 1000 * loop_s / len(steps),
        "median_ms": 1000 * float(np.median([r["values"]["seconds"] for r in steps])),
        "wall_ex_s": wall_ex / wall_s if wall_s > 0 else float("nan"),
    }


def throughput(subset: Path, val_file: Path, out_dir: Path,
               threads: list[int]) -> list[dict[str, Any]]:
    """One run per (threads, family, bucketing) on the subset; rates from the step records."""
    rows = []
    for n_threads, (family, extra), bucket in (
        (t, f, b) for t in threads for f in FAMILIES.items() for b in (True, False)
    ):
        torch.set_num_threads(n_threads)
        steps = THROUGHPUT_STEPS[family] if n_threads == threads[0] else EXTRA_THREADS_STEPS
        overrides = common_overrides(subset, val_file, out_dir) + extra + [
            "batching.batch_size=32",
            f"batching.bucket={str(bucket).lower()}",
            f"train.max_steps={steps}",
            f"train.epochs={steps // 250 + 1}",  # max_steps must bind
            "train.checkpoint.every_epoch=false",
            "eval.splits=[]",
        ]
        config = load_config(BASE_CONFIG, overrides)
        t0 = time.perf_counter()
        summary = train_run(config)
        total = time.perf_counter() - t0
        stats = step_stats(Path(summary["path"]))
        rows.append({"family": family, "bucket": bucket, "total_s": total,
                     "threads": n_threads, "max_steps": steps,
                     "params": summary["parameters"]["trainable"], **stats})
        print(f"throughput threads={n_threads} {family:12s} bucket={bucket!s:5s} "
              f"{stats['ex_s']:8,.0f} ex/s "
              f"{stats['tok_s']:9,.0f} tok/s {stats['pad_s']:9,.0f} padded tok/s "
              f"padding {stats['padding_share']:.1%}  {stats['ms_step']:.1f} ms/step "
              f"(median {stats['median_ms']:.1f}) "
              f"(wall {stats['wall_ex_s']:,.0f} ex/s; whole run {total:.1f} s)", flush=True)
    return rows


def accuracy(train_file: Path, val_file: Path, out_dir: Path) -> list[dict[str, Any]]:
    """Dev accuracy after a fixed budget of epochs on the full train set (final weights)."""
    rows = []
    for family in ACCURACY_FAMILIES:
        overrides = common_overrides(train_file, val_file, out_dir) + FAMILIES[family] + [
            f"train.epochs={ACCURACY_EPOCHS}",
            "train.restore_best=false",  # final weights: no model selection on the dev set
            "eval.splits=[validation]",
        ]
        config = load_config(BASE_CONFIG, overrides)
        t0 = time.perf_counter()
        summary = train_run(config)
        total = time.perf_counter() - t0
        run_dir = Path(summary["path"])
        dev = json.loads((run_dir / "eval.json").read_text())["validation"]
        stats = step_stats(run_dir)
        rows.append({"family": family, "accuracy": dev["accuracy"], "n": dev["n"],
                     "steps": summary["step"], "batch_size": config.batching.batch_size,
                     "train_s": stats["loop_s"], "total_s": total})
        print(f"accuracy {family}: dev {dev['accuracy']:.4f} (n={dev['n']}) after "
              f"{summary['step']} steps; loop {stats['loop_s']:.0f} s, whole run {total:.0f} s",
              flush=True)
    return rows


def tfidf_baseline(train: list[dict[str, Any]], dev: list[dict[str, Any]]) -> dict[str, Any]:
    """TF-IDF word 1-2 + char_wb 2-5 grams, logistic regression; fit time includes vectorizing."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.feature_extraction.text import TfidfVectorizer

    model = make_pipeline(
        make_union(
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=1),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2),
        ),
        LogisticRegression(C=4.0, max_iter=2000, solver="liblinear"),
    )
    x = [r["text"] for r in train]
    y = np.array([int(r["label"]) for r in train])
    t0 = time.perf_counter()
    model.fit(x, y)
    fit_s = time.perf_counter() - t0
    pred = model.predict([r["text"] for r in dev])
    acc = float(np.mean(pred == np.array([int(r["label"]) for r in dev])))
    n_features = sum(len(v.vocabulary_) for _, v in model[0].transformer_list)
    print(f"tf-idf + logreg: dev {acc:.4f} (n={len(dev)}), fit {fit_s:.1f} s, "
          f"{n_features:,} features", flush=True)
    return {"accuracy": acc, "fit_s": fit_s, "n": len(dev), "features": n_features}


DEFAULT_THREADS = torch.get_num_threads()


def render(tp: list[dict[str, Any]], acc: list[dict[str, Any]], tfidf: dict[str, Any],
           load: tuple[float, float], threads: list[int]) -> str:
    t1 = [
        "| model | trainable params | threads | bucketing | steps timed | padding share "
        "| ms/step (mean) | ms/step (median) | examples/s | real tokens/s | padded tokens/s "
        "| examples/s (wall) |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in tp:
        t1.append(
            f"| {r['family']} | {r['params']:,} | {r['threads']} | "
            f"{'on' if r['bucket'] else 'off'} | {r['steps']:,} | {r['padding_share']:.1%} "
            f"| {r['ms_step']:.1f} "
            f"| {r['median_ms']:.1f} | {r['ex_s']:,.0f} | {r['tok_s']:,.0f} | {r['pad_s']:,.0f} "
            f"| {r['wall_ex_s']:,.0f} |"
        )
    speedups = []
    for n in threads:
        for family in FAMILIES:
            on = next(r for r in tp if r["family"] == family and r["bucket"] and r["threads"] == n)
            off = next(r for r in tp if r["family"] == family and not r["bucket"]
                       and r["threads"] == n)
            stalled = any(r["ms_step"] > STALL_RATIO * r["median_ms"] for r in (on, off))
            ratio = "n/a (stall-dominated)" if stalled else f"{on['ex_s'] / off['ex_s']:.2f}x"
            speedups.append(f"{family} {ratio} ({n} thread{'s' if n > 1 else ''})")
    t2 = ["| model | budget | dev accuracy | training time (loop) | whole run |",
          "|---|---|---:|---:|---:|"]
    for r in acc:
        t2.append(
            f"| {r['family']} | {ACCURACY_EPOCHS} epochs, batch {r['batch_size']} "
            f"({r['steps']:,} steps) | {r['accuracy']:.1%} | {r['train_s']:.0f} s "
            f"| {r['total_s']:.0f} s |"
        )
    t2.append(f"| TF-IDF word 1-2 + char_wb 2-5 grams, logistic regression "
              f"({tfidf['features']:,} features) | one fit | {tfidf['accuracy']:.1%} "
              f"| {tfidf['fit_s']:.0f} s (fit) | - |")
    return (
        f"## {SECTION}\n\n"
        f"Command: `{COMMAND}` (from the repository root). Date: {datetime.date.today()}.\n"
        f"Machine: {machine(DEFAULT_THREADS)}. Load average (1 min) {load[0]:.2f} at the start and "
        f"{load[1]:.2f} at the end ("
        + ("other processes shared the 2 cores, so rates are noisy"
           if max(load) > 1.5 else "about 1 is this benchmark itself; the machine was otherwise "
           "mostly idle")
        + "; on this shared machine rates vary between runs: compare the mean and median step "
        "times, and repeat runs before trusting a difference below about 20%).\n\n"
        "Every run goes through the public pipeline: `load_config(\"configs/sst2-file.yaml\", "
        "overrides)` + `ftlab.runs.train_run` (bag of GloVe 50d embeddings, head [128], dropout "
        "0.2, AdamW lr 2e-3, linear schedule, word vocabulary fitted on train, max_length 64). "
        "BiLSTM = `model.family=rnn model.cell=lstm model.bidirectional=true` (hidden 128 per "
        "direction, pooling last, same GloVe embeddings and head); GRU = `model.cell=gru "
        "model.bidirectional=false`. Device cpu, fp32.\n\n"
        f"**Throughput.** Data: the ASSETS.md SST-2 subset (train rows "
        f"`numpy.random.default_rng(0).permutation(67349)[:{SUBSET_SIZE}]`, in that order); "
        f"batch size 32, `train.max_steps` "
        f"{', '.join(f'{k} {v:,}' for k, v in THROUGHPUT_STEPS.items())} with "
        f"{threads[0]} thread{'s' if threads[0] > 1 else ''} (about 10 s of training or more "
        f"per run){f' and {EXTRA_THREADS_STEPS} with more threads' if len(threads) > 1 else ''}"
        f", of which the first "
        f"{WARMUP_STEPS} (warm-up) are not counted; `batching.bucket` true (sorted inside "
        "maxi-batches of 100 batches) or false (random batches). Rates = examples, real tokens "
        "and padded token slots (B x T) of the counted steps divided by the sum of the "
        "per-step `seconds` in `metrics.jsonl` (the loop's own timer: forward, backward, clip, "
        "optimizer step, scheduler; batch loading, observers, start-up and evaluation "
        "excluded). \"examples/s (wall)\" divides by the wall-clock gaps between consecutive "
        "step records instead, so it also includes sampler + collate and the observers "
        "(metrics.jsonl, TensorBoard, progress). `threads` = `torch.set_num_threads` for the "
        "run (set by this script; ftlab leaves torch's default). Mean ms/step is what the rates "
        "use. With random batches every step costs about the same, so a mean well above the "
        "median means stalls (other processes taking the cores); with bucketing the step cost "
        "also follows the batch's length, so the mean sits above the median anyway.\n\n"
        + "\n".join(t1)
        + f"\n\nBucketing speed-up in examples/s: {', '.join(speedups)}. A comparison is "
        f"marked stall-dominated when either run's mean step time exceeds {STALL_RATIO}x its "
        "median: with two intra-op threads on two cores, every parallel op waits for both "
        "threads, so when another process holds one core single ops stall for tens of ms and "
        "the rate measures the machine's load, not the model. The one-thread rows are the "
        "figures to compare.\n\n"
        f"**Dev accuracy after a fixed budget.** Train: all of SST-2 train (67,349 phrases); "
        f"dev: the official validation set ({acc[0]['n']} sentences). Budget {ACCURACY_EPOCHS} "
        f"epochs with the config's batch size and otherwise the config's settings, "
        f"{threads[0]} thread{'s' if threads[0] > 1 else ''}; "
        "`train.restore_best=false` and `train.eval_every=null` (the end-of-epoch dev "
        "evaluation is only logged), so the figure is for the final "
        "weights (nothing is selected on the dev set). The TF-IDF baseline (scikit-learn "
        "TfidfVectorizer word 1-2 grams + char_wb 2-5 grams (min_df 2), sublinear tf, "
        "LogisticRegression C=4, liblinear) is fitted on the same train set in the same "
        "script; its time is fit only (vectorizing included). \"training time (loop)\" sums "
        "the per-step `seconds`; \"whole run\" is the wall time of `train_run`, from reading "
        "the data to the last file it writes (checks, encoding, evaluation and reports "
        "included).\n\n"
        + "\n".join(t2)
        + "\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="folder with SST-2 "
                        "train.jsonl.gz and validation.jsonl.gz")
    parser.add_argument("--no-write", action="store_true", help="only print the tables")
    parser.add_argument("--skip-accuracy", action="store_true", help="throughput only")
    parser.add_argument("--threads", default="1,2", help="comma-separated torch intra-op "
                        "thread counts for the throughput runs; the accuracy runs use the first")
    args = parser.parse_args()
    train_path, val_path = args.data / "train.jsonl.gz", args.data / "validation.jsonl.gz"
    if not (train_path.exists() and val_path.exists()):
        print(f"SST-2 not found at {args.data} (train.jsonl.gz, validation.jsonl.gz); this "
              "benchmark needs ../shared/data/sst2/ (see ASSETS.md). Nothing measured.")
        return 0
    threads = [int(t) for t in args.threads.split(",")]
    load_start = os.getloadavg()[0]
    started = time.perf_counter()
    train = read_rows(train_path)
    dev = read_rows(val_path)
    order = np.random.default_rng(0).permutation(len(train))[:SUBSET_SIZE]
    with tempfile.TemporaryDirectory(prefix="ftlab-bench-") as tmp:
        tmp_dir = Path(tmp)
        subset = write_rows([train[i] for i in order], tmp_dir / "sst2-train-8000.jsonl.gz")
        tp = throughput(subset, val_path, tmp_dir / "runs", threads)
        torch.set_num_threads(threads[0])
        acc = [] if args.skip_accuracy else accuracy(train_path, val_path, tmp_dir / "runs")
    tfidf = tfidf_baseline(train, dev)
    load_end = os.getloadavg()[0]
    if not acc:
        print("\n(--skip-accuracy: tables not rendered)")
        return 0
    section = render(tp, acc, tfidf, (load_start, load_end), threads)
    print()
    print(section)
    print(f"total time {time.perf_counter() - started:.0f} s")
    if not args.no_write:
        write_section(section)
        print(f"wrote the {SECTION} section of {ROOT / 'BENCHMARKS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
