"""Training throughput (bucketing on vs off) and a fixed-budget dev accuracy of ftlab's models.

Run from the repository root:  .venv/bin/python bench/train_throughput.py [--pairs 3]
[--threads 1] [--skip-accuracy] [--no-write] [--render-only]

Every figure comes from real runs of the public pipeline (``load_config`` on
``configs/sst2-file.yaml`` with ``--set``-style overrides, then ``train_run``), each run a fresh
process with ``--threads`` intra-op threads (``train.threads`` and ``OMP_NUM_THREADS``); run
directories go to a temporary directory that is deleted at the end.

1. Throughput per model family (bag of GloVe embeddings, BiLSTM, GRU) with length bucketing on
   and off, interleaved (bow-on bow-off BiLSTM-on BiLSTM-off GRU-on GRU-off, repeated
   ``--pairs`` times; BENCHMARKS.md "Methodology"): batch size 32, a fixed number of optimizer
   steps on the ASSETS.md SST-2 subset (rows ``numpy.random.default_rng(0).permutation(67349)
   [:8000]``, in that order). Rates come from the loop's own ``step`` records in
   ``metrics.jsonl``: examples and padded token slots divided by the summed per-step
   ``seconds`` (forward + backward + clip + optimizer step; data loading, observers, start-up and
   evaluation excluded); the first warm-up steps are dropped. A second rate, from the wall-clock
   gaps between consecutive step records (adds batch loading and observers; gaps that contain an
   evaluation are dropped), is shown alongside. FLOPs per step = 6 x non-embedding parameters
   (counted from the model) x token slots; the share is against the fp32 matmul peak measured
   at the same thread count.
2. Dev accuracy (official SST-2 validation, 872 sentences) of bag-of-GloVe and BiLSTM after a
   fixed budget of 2 epochs on the full SST-2 train set (67,349), evaluated with the final weights
   (no checkpoint selection on the dev set); one run each (fresh process).
3. A TF-IDF (word 1-2 grams + char_wb 2-5 grams) + logistic regression baseline (scikit-learn)
   fitted on the same full train set and scored on the same dev set, with its fit time; one run.

The tables are printed and written into BENCHMARKS.md under "## Training throughput" (replacing
that section only); the raw figures go to ``bench/results/train_throughput.json``.
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
    ROOT, fmt_range, fmt_ratio, interleaved, load_average, machine, matmul_peak,
    non_embedding_parameters, publish, ratio_of, read_rows, rerender, run_child, share_of_peak,
    summarize, write_rows,
)

DATA = ROOT.parent / "shared" / "data" / "sst2"
BASE_CONFIG = ROOT / "configs" / "sst2-file.yaml"
SECTION = "Training throughput"
RESULTS = ROOT / "bench" / "results" / "train_throughput.json"
SUBSET_SIZE = 8000  # ASSETS.md: default_rng(0).permutation(67349)[:8000]
THROUGHPUT_VAL_ROWS = 128  # the epoch-end evaluation of a throughput run is not timed: keep it small

# Model families: overrides on top of configs/sst2-file.yaml (bow, GloVe 50d, head [128],
# dropout 0.2, AdamW lr 2e-3, linear schedule, max_length 64, word vocabulary).
FAMILIES: dict[str, tuple[str, list[str]]] = {
    "bow": ("bow + GloVe", []),
    "bilstm": ("BiLSTM", ["model.family=rnn", "model.cell=lstm", "model.bidirectional=true"]),
    "gru": ("GRU", ["model.family=rnn", "model.cell=gru", "model.bidirectional=false"]),
}
# Optimizer steps per throughput run: each run trains for a few seconds (batch 32; the subset
# is 250 steps per epoch, so runs cross an epoch end, whose evaluation is outside the timer).
STEPS = {"bow": 1000, "bilstm": 300, "gru": 300}
WARMUP_STEPS = 10  # dropped from the rates (allocator and thread-pool warm-up)
VARIANTS = [f"{f}-{b}" for f in FAMILIES for b in ("on", "off")]
ACCURACY = ("bow", "bilstm")
ACCURACY_EPOCHS = 2


def common_overrides(train_file: Path, val_file: Path, out_dir: Path, threads: int) -> list[str]:
    """Overrides shared by every run: our files, the official dev set, no carved test split."""
    return [
        f"output_dir={out_dir}",
        f"data.files.train={train_file}",
        f"data.files.validation={val_file}",
        "data.split.test=0",  # keep all of train for training; dev = official validation
        "train.device=cpu",
        f"train.threads={threads}",
        "train.eval_every=null",  # the yaml evaluates every 500 steps
        "train.log_every=100",
        "train.trackers=[]",
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
        "ex_s": ex / loop_s, "padding_share": (pad - tok) / pad,
        "ms_step": 1000 * loop_s / len(steps),
        "median_ms": 1000 * float(np.median([r["values"]["seconds"] for r in steps])),
        "wall_ex_s": wall_ex / wall_s if wall_s > 0 else float("nan"),
    }


def train_child(variant: str, train_file: Path, val_file: Path, work: Path,
                threads: int) -> dict[str, Any]:
    """One run in this fresh process: a throughput run (``bow-on`` ...) or an accuracy run
    (``acc-bow`` ...)."""
    from ftlab.config import load_config
    from ftlab.runs import load_run_model, train_run

    family = variant.split("-")[1] if variant.startswith("acc-") else variant.split("-")[0]
    overrides = common_overrides(train_file, val_file, work, threads) + FAMILIES[family][1]
    if variant.startswith("acc-"):
        overrides += [f"train.epochs={ACCURACY_EPOCHS}",
                      "train.restore_best=false",  # final weights: nothing selected on dev
                      "eval.splits=[validation]"]
    else:
        steps = STEPS[family]
        overrides += ["batching.batch_size=32",
                      f"batching.bucket={'true' if variant.endswith('-on') else 'false'}",
                      f"train.max_steps={steps}", f"train.epochs={steps // 250 + 1}",
                      "train.checkpoint.every_epoch=false", "eval.splits=[]"]
    config = load_config(BASE_CONFIG, overrides)
    t0 = time.perf_counter()
    summary = train_run(config, name=variant)
    total = time.perf_counter() - t0
    run_dir = Path(summary["path"])
    result: dict[str, Any] = {"variant": variant, "total_s": total, "step": summary["step"],
                              "params": summary["parameters"]["trainable"],
                              "batch_size": config.batching.batch_size,
                              "run_threads": summary.get("threads"), **step_stats(run_dir)}
    if variant.startswith("acc-"):
        dev = json.loads((run_dir / "eval.json").read_text())["validation"]
        result.update(accuracy=dev["accuracy"], n=dev["n"])
    else:
        result["non_embedding"] = non_embedding_parameters(load_run_model(run_dir)[2])
    return result


def tfidf_child(train_file: Path, val_file: Path) -> dict[str, Any]:
    """TF-IDF word 1-2 + char_wb 2-5 grams, logistic regression; fit time includes vectorizing."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    train, dev = read_rows(train_file), read_rows(val_file)
    model = make_pipeline(
        make_union(
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=1),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2),
        ),
        LogisticRegression(C=4.0, max_iter=2000, solver="liblinear"),
    )
    y = np.array([int(r["label"]) for r in train])
    t0 = time.perf_counter()
    model.fit([r["text"] for r in train], y)
    fit_s = time.perf_counter() - t0
    pred = model.predict([r["text"] for r in dev])
    acc = float(np.mean(pred == np.array([int(r["label"]) for r in dev])))
    n_features = sum(len(v.vocabulary_) for _, v in model[0].transformer_list)
    return {"accuracy": acc, "fit_s": fit_s, "n": len(dev), "features": n_features}


def child(args: argparse.Namespace) -> None:
    """Run one variant in this (fresh) process and write its result JSON."""
    import torch

    torch.set_num_threads(args.threads)
    train_file, val_file = Path(args.train), Path(args.val)
    if args.child == "tfidf":
        result = tfidf_child(train_file, val_file)
    else:
        result = train_child(args.child, train_file, val_file, Path(args.work), args.threads)
    Path(args.result).write_text(json.dumps(result), encoding="utf-8")


def flop_units(family: str, r: dict[str, Any]) -> int:
    """What the non-embedding parameters run over: token slots for an RNN (every padded
    position goes through the cell), examples for bow (its head sees one pooled vector each)."""
    return int(r["examples"] if family == "bow" else r["padded"])


def throughput_table(store: dict[str, Any]) -> list[str]:
    """One row per (model, bucketing): medians [min, max] over the interleaved runs."""
    peak = max(store["peak"]["peak_gflops"], store["peak_end"]["peak_gflops"])
    lines = [
        "| model | bucketing | runs | non-embedding params | padding share | token slots/step "
        "| ms/step | examples/s | examples/s (wall) | GFLOP/s (6 N x slots) "
        "| share of matmul peak |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for v, rs in store["runs"].items():
        family, bucket = v.rsplit("-", 1)
        gflops = [6 * r["non_embedding"] * flop_units(family, r) / r["loop_s"] / 1e9 for r in rs]
        shares = [share_of_peak(r["non_embedding"], flop_units(family, r), r["loop_s"], peak)
                  for r in rs]
        pads = summarize([r["padding_share"] for r in rs])
        r0 = rs[0]
        lines.append(
            f"| {FAMILIES[family][0]} | {bucket} | {len(rs)} | {r0['non_embedding']:,} | "
            f"{pads['median']:.1%} | {r0['padded'] / r0['steps']:.0f} | "
            f"{fmt_range(summarize([r['ms_step'] for r in rs]))} | "
            f"{fmt_range(summarize([r['ex_s'] for r in rs]), ',.0f')} | "
            f"{fmt_range(summarize([r['wall_ex_s'] for r in rs]), ',.0f')} | "
            f"{fmt_range(summarize(gflops), '.2f')} | {fmt_range(summarize(shares), '.1%')} |")
    return lines


def speedups(store: dict[str, Any]) -> list[str]:
    """Bucketing on / off per model: ratio of median examples/s, per-pair range."""
    runs, out = store["runs"], []
    for family, (name, _) in FAMILIES.items():
        on, off = f"{family}-on", f"{family}-off"
        if on in runs and off in runs:
            r = ratio_of([x["ex_s"] for x in runs[on]], [x["ex_s"] for x in runs[off]])
            out.append(f"- {name}: **{fmt_ratio(r)}**")
    return out


def accuracy_table(store: dict[str, Any]) -> list[str]:
    """The fixed-budget accuracy rows (single runs)."""
    lines = ["| model | budget | dev accuracy | training time (loop) | whole run |",
             "|---|---|---:|---:|---:|"]
    for r in store["accuracy"]:
        family = r["variant"].split("-", 1)[1]
        lines.append(
            f"| {FAMILIES[family][0]} | {ACCURACY_EPOCHS} epochs, batch {r['batch_size']} "
            f"({r['step']:,} steps) | {r['accuracy']:.1%} | {r['loop_s']:.0f} s "
            f"| {r['total_s']:.0f} s |")
    t = store["tfidf"]
    lines.append(f"| TF-IDF word 1-2 + char_wb 2-5 grams, logistic regression "
                 f"({t['features']:,} features) | one fit | {t['accuracy']:.1%} "
                 f"| {t['fit_s']:.0f} s (fit) | - |")
    return lines


def render(store: dict[str, Any]) -> str:
    """The BENCHMARKS.md section (without its title) from the stored figures."""
    acc = store.get("accuracy")
    lines = [
        f"Command: `{store['command']}` (from the repository root; raw figures in "
        "`bench/results/train_throughput.json`).", "",
        f"Measured {store['date']} on {store['machine']}. Every run: `load_config("
        "\"configs/sst2-file.yaml\", overrides)` + `ftlab.runs.train_run` (bag of GloVe 50d "
        "embeddings, head [128], dropout 0.2, AdamW lr 2e-3, linear schedule, word vocabulary "
        "fitted on train, max_length 64). BiLSTM = `model.family=rnn model.cell=lstm "
        "model.bidirectional=true` (hidden 128 per direction, pooling last, same GloVe "
        "embeddings and head); GRU = `model.cell=gru model.bidirectional=false`. Device cpu, "
        f"fp32, {store['threads']} intra-op thread(s) (`train.threads`; 2-thread rows are not "
        "measured: on this 2-core machine shared by other jobs they measure the load).", "",
        f"**Throughput, bucketing on vs off (interleaved).** Data: the ASSETS.md SST-2 subset "
        f"(train rows `numpy.random.default_rng(0).permutation(67349)[:{SUBSET_SIZE}]`, in that "
        f"order); batch size 32; `train.max_steps` "
        f"{', '.join(f'{FAMILIES[k][0]} {v:,}' for k, v in store['steps'].items())}, of which "
        f"the first {store['warmup']} (warm-up) are not counted; `batching.bucket` true (sorted "
        "inside maxi-batches of 100 batches) or false (random batches). Order "
        f"{' '.join(store['order'])}, every run a fresh process. Load average (1 min) "
        f"{store['load'][0]:.2f} before the first run and {store['load'][1]:.2f} after the last. "
        f"fp32 matmul at {store['threads']} thread(s): peak {store['peak']['peak_gflops']:.1f} "
        f"GFLOP/s at the start, {store['peak_end']['peak_gflops']:.1f} at the end; the shares "
        "are against the higher of the two (a matmul timed while another job held the core "
        "understates the peak). Cells: "
        "median [min, max] over the runs. ms/step and examples/s use the loop's own timer "
        "(the per-step `seconds` in `metrics.jsonl`: forward, backward, clip, optimizer step, "
        "scheduler; batch loading, observers, start-up and evaluation excluded); \"examples/s "
        "(wall)\" divides by the wall-clock gaps between consecutive step records instead, so it "
        "also includes sampler + collate and the observers. Padding share and token slots depend "
        "only on the seed (identical in every repetition). GFLOP/s = 6 x non-embedding "
        "parameters (counted from the built model) x token slots / loop time; for bow the "
        "slots are the examples (its only matmuls are the head's, on one pooled vector per "
        "example: the rest of its step is the embedding gather, mean and optimizer update, "
        "memory-bound work that a matmul roofline does not describe, so its share is tiny by "
        "construction). For the RNNs the count includes the small head as if it ran per token "
        "(a slight overcount) and ignores the sequential dependency that keeps the cell's "
        "matmuls small (B x hidden per time step).", "",
        *throughput_table(store), "",
        "Bucketing speed-up (examples/s, on / off: ratio of the medians, range of the "
        "per-pair ratios):", "",
        *speedups(store)]
    if store.get("note"):
        lines += ["", store["note"]]
    if acc:
        lines += [
            "", "**Dev accuracy after a fixed budget** (accuracy, not a speed comparison: one "
            "run each; its times are single-run indications, not claims: measured "
            f"{store['accuracy_date']}, load average {store['accuracy_load'][0]:.2f} before and "
            f"{store['accuracy_load'][1]:.2f} after{store.get('accuracy_origin', '')}"
            + (f"; command `{store['accuracy_command']}`" if store.get("accuracy_command") else "")
            + "). "
            "Train: all of SST-2 train "
            f"(67,349 phrases); dev: the official validation set ({acc[0]['n']} sentences). Budget "
            f"{ACCURACY_EPOCHS} epochs with the config's batch size and otherwise the config's "
            f"settings, {store['threads']} thread(s); `train.restore_best=false` and "
            "`train.eval_every=null` (the end-of-epoch dev evaluation is only logged), so the "
            "figure is for the final weights (nothing is selected on the dev set). The TF-IDF "
            "baseline (scikit-learn TfidfVectorizer word 1-2 grams + char_wb 2-5 grams (min_df "
            "2), sublinear tf, LogisticRegression C=4, liblinear) is fitted on the same train set; "
            "its time is fit only (vectorizing included). \"training time (loop)\" sums the "
            "per-step `seconds`; \"whole run\" is the wall time of `train_run`, from reading the "
            "data to the last file it writes (checks, encoding, evaluation and reports "
            "included).", "",
            *accuracy_table(store)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--child", choices=[*VARIANTS, *(f"acc-{f}" for f in ACCURACY), "tfidf"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--train", help=argparse.SUPPRESS)
    parser.add_argument("--val", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, default=DATA, help="folder with SST-2 "
                        "train.jsonl.gz and validation.jsonl.gz")
    parser.add_argument("--pairs", type=int, default=3, help="interleaved repetitions (>= 3)")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads of every run")
    parser.add_argument("--steps-scale", type=float, default=1.0, help=argparse.SUPPRESS)
    parser.add_argument("--skip-accuracy", action="store_true",
                        help="throughput only; keep the accuracy figures already saved")
    parser.add_argument("--accuracy-only", action="store_true",
                        help="measure the accuracy part only; keep the saved throughput figures")
    parser.add_argument("--no-write", action="store_true", help="only print the tables")
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite the section from bench/results/train_throughput.json")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.render_only:
        rerender(SECTION, render, RESULTS)
        return
    train_path, val_path = args.data / "train.jsonl.gz", args.data / "validation.jsonl.gz"
    if not (train_path.exists() and val_path.exists()):
        sys.exit(f"SST-2 not found at {args.data} (train.jsonl.gz, validation.jsonl.gz); this "
                 "benchmark needs ../shared/data/sst2/ (see ASSETS.md). Nothing measured.")
    if args.steps_scale != 1.0:  # smoke tests only
        STEPS.update({k: max(WARMUP_STEPS + 5, int(v * args.steps_scale)) for k, v in STEPS.items()})
    train = read_rows(train_path)
    val = read_rows(val_path)
    order = np.random.default_rng(0).permutation(len(train))[:SUBSET_SIZE]
    peak = matmul_peak(args.threads)
    print(f"fp32 matmul at {args.threads} thread(s): peak {peak['peak_gflops']:.1f} GFLOP/s",
          flush=True)
    command = f".venv/bin/python bench/train_throughput.py --pairs {args.pairs} --threads {args.threads}"
    store: dict[str, Any] = {
        "date": datetime.date.today().isoformat(), "machine": machine(args.threads),
        "threads": args.threads, "pairs": args.pairs, "steps": dict(STEPS),
        "warmup": WARMUP_STEPS, "peak": peak, "command": command}
    with tempfile.TemporaryDirectory(prefix="ftlab-bench-") as tmp:
        work = Path(tmp)
        subset = write_rows([train[i] for i in order], work / "sst2-train-8000.jsonl.gz")
        small_val = write_rows(val[:THROUGHPUT_VAL_ROWS], work / "validation-small.jsonl.gz")

        def spawn(variant: str, rep: int, train_file: Path, val_file: Path) -> dict[str, Any]:
            result = work / f"{variant}-{rep}.json"
            print(f"[{time.strftime('%H:%M:%S')}] {variant} #{rep + 1} (load "
                  f"{load_average():.2f})", end="", flush=True)
            info = run_child([sys.executable, __file__, "--child", variant, "--work",
                              str(work / "runs"), "--train", str(train_file), "--val",
                              str(val_file), "--result", str(result), "--threads",
                              str(args.threads)], result, threads=args.threads)
            print("  " + (f"{info['ex_s']:,.0f} ex/s, {info['ms_step']:.1f} ms/step"
                          if "ex_s" in info and "accuracy" not in info else
                          f"dev accuracy {info['accuracy']:.4f}"), flush=True)
            return info

        if args.accuracy_only:  # keep the saved throughput runs, measure the accuracy part
            store = json.loads(RESULTS.read_text(encoding="utf-8"))
            store.pop("accuracy_origin", None)
        else:
            store.update(interleaved(VARIANTS, args.pairs,
                                     lambda v, rep: spawn(v, rep, subset, small_val)))
            store["peak_end"] = matmul_peak(args.threads)
        if args.skip_accuracy:
            if RESULTS.is_file():
                old = json.loads(RESULTS.read_text(encoding="utf-8"))
                for key in ("accuracy", "tfidf", "accuracy_date", "accuracy_load", "accuracy_origin"):
                    if key in old:
                        store[key] = old[key]
        else:
            before = load_average()
            store["accuracy"] = [spawn(f"acc-{f}", 0, train_path, val_path) for f in ACCURACY]
            store["tfidf"] = spawn("tfidf", 0, train_path, val_path)
            store["accuracy_date"] = datetime.date.today().isoformat()
            store["accuracy_load"] = [before, load_average()]
            store["accuracy_command"] = (f".venv/bin/python bench/train_throughput.py --threads "
                                         f"{args.threads}" + " --accuracy-only" * args.accuracy_only)
    publish(SECTION, render(store), results=RESULTS, store=store, write=not args.no_write)


if __name__ == "__main__":
    main()
