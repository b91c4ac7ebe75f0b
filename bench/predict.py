"""Predict throughput and accuracy of a BiLSTM: torch fp32 vs torch dynamic int8 (CPU).

Run from the repository root:  .venv/bin/python bench/predict.py [--epochs 2]
[--max-train 20000] [--repeat 10] [--pairs 3] [--threads 1] [--run RUN_DIR] [--no-write]
[--render-only]

Trains (unless ``--run`` names one) a BiLSTM (``configs/bilstm.yaml``: GloVe 50d, hidden 64 per
direction, max pooling) for ``--epochs`` epochs on a seeded stratified ``--max-train``-sentence
sample of SST-2 train (``data.max_examples``), then runs ``ftlab.runs.predict_file`` in fp32 and
with ``quantize="int8"`` (``torch.ao.quantization.quantize_dynamic`` on Linear/LSTM/GRU weights;
activations quantized per batch on the fly, embeddings stay fp32), interleaved (fp32, int8,
fp32, int8, ...: ``--pairs`` repetitions, each a fresh process with ``--threads`` intra-op
threads; BENCHMARKS.md "Methodology"). The input is the official SST-2 validation set (872
sentences) repeated ``--repeat`` times, so that one pass takes about a second rather than a
tenth; the rate is ``predict_file``'s examples/s: encoding + length-sorted batches of 128 + the
model, model loading and quantization excluded. Accuracy and agreement (predictions changed,
largest difference of a class probability) are over the 872 sentences, against fp32.
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

from _common import (
    ROOT, fmt_range, fmt_ratio, interleaved, load_average, machine, matmul_peak, publish,
    ratio_of, read_rows, rerender, run_child, summarize, write_rows,
)
from onnx_infer import agreement

DATA = ROOT.parent / "shared" / "data" / "sst2"
SECTION = "Predict: fp32 vs int8"
RESULTS = ROOT / "bench" / "results" / "predict.json"
VARIANTS = {"torch-fp32": "none", "torch-int8": "int8"}  # the names of bench/onnx_infer.py

# The single-run figures this section showed before (2026-11-23, AMD EPYC, 2 intra-op threads,
# 872 sentences per pass, the median of 3 passes in one process, fp32 first, then int8).
OLD_SINGLE_RUN = {"fp32": 6649, "int8": 6345, "ratio": 0.95}


def train(train_file: Path, val_file: Path, work: Path, epochs: int, max_train: int,
          threads: int) -> Path:
    """Train the BiLSTM with ftlab and return its run directory."""
    from ftlab.config import load_config
    from ftlab.runs import train_run

    config = load_config(ROOT / "configs" / "bilstm.yaml", [
        f"output_dir={work}", 'data.source=""', f"data.files.train={train_file}",
        f"data.files.validation={val_file}", f"data.max_examples={max_train}",
        f"train.epochs={epochs}", "train.trackers=[]", "train.early_stopping.enabled=false",
        "train.log_every=1000", f"train.threads={threads}"])
    return Path(train_run(config, name="bilstm")["path"])


def child(args: argparse.Namespace) -> None:
    """One prediction pass in this fresh process; writes its info JSON."""
    from ftlab.runs import predict_file

    info = predict_file(Path(args.run), input=Path(args.input), output=Path(args.output),
                        quantize=VARIANTS[args.child], threads=args.threads)  # type: ignore[arg-type]
    Path(args.result).write_text(json.dumps(info), encoding="utf-8")


def render(m: dict[str, Any]) -> str:
    """The BENCHMARKS.md section (without its title) from the stored results."""
    rates = {v: [r["examples_per_s"] for r in rs] for v, rs in m["runs"].items()}
    agree = m["agreement"]
    ratio = ratio_of(rates["torch-int8"], rates["torch-fp32"])
    fp32, int8 = agree["torch-fp32"], agree["torch-int8"]
    delta = 100 * (int8["accuracy"] - fp32["accuracy"])
    old = OLD_SINGLE_RUN
    lines = [
        f"Command: `.venv/bin/python bench/predict.py --epochs {m['epochs']} --max-train "
        f"{m['max_train']} --repeat {m['repeat']} --pairs {m['pairs']} --threads {m['threads']}"
        f"{' --run RUN_DIR' if m.get('given_run') else ''}` "
        "(from the repository root; results kept in `bench/results/predict.json`, "
        "`--render-only` rewrites this section from them, `--no-write` prints only)."
        + (" The BiLSTM was trained beforehand with these settings (`predict.train`, the "
           "script's own training step) and passed as `--run`, so that the shared CPU slot was "
           "held only for the measurement." if m.get("given_run") else ""), "",
        (__doc__ or "").split("\n\n", 2)[2].strip(), "",
        f"Measured {m['date']} on {m['machine']}. Load average (1 min) {m['load'][0]:.2f} before "
        f"the first run and {m['load'][1]:.2f} after the last; order {' '.join(m['order'])}; "
        f"every run {m['threads']} thread(s). fp32 matmul peak at {m['threads']} thread(s): "
        f"{m['peak']['peak_gflops']:.1f} GFLOP/s (n = {m['peak']['n']}, best of 10). Model: "
        f"BiLSTM, {m['epochs']} epochs on {m['max_train']:,} sentences (validation accuracy "
        f"during training {m['val_accuracy']:.2%}). Cells: median [min, max] over the "
        "repetitions.", "",
        "| model | precision | examples/s | int8 / fp32 speed | accuracy (872 dev sentences) "
        "| predictions changed vs fp32 | max probability difference |",
        "|---|---|---:|---:|---:|---:|---:|",
        f"| BiLSTM (GloVe 50d) | fp32 | {fmt_range(summarize(rates['torch-fp32']), ',.0f')} | "
        f"1.00x | {fp32['accuracy']:.4f} | - | - |",
        f"| BiLSTM (GloVe 50d) | int8 dynamic | "
        f"{fmt_range(summarize(rates['torch-int8']), ',.0f')} | {fmt_ratio(ratio)} | "
        f"{int8['accuracy']:.4f} ({delta:+.2f} points) | {int8['changed']} of {int8['n']} | "
        f"{int8['max_dp']:.1e} |", "",
        f"**What changed against the single run** (2026-11-23: one process, fp32 then int8, the "
        f"median of 3 passes over the 872 sentences each, 2 threads, another host CPU (AMD EPYC)"
        f"): int8 / fp32 was {old['ratio']:.2f}x ({old['int8']:,} vs {old['fp32']:,} "
        f"examples/s); interleaved, fresh processes, 1 thread, it is {fmt_ratio(ratio)}. "
        "MiniLM: the MiniLM rows that were here (fp32 171 vs int8 244 examples/s, 1.42x, one "
        "run at 2 threads) are withdrawn, superseded by \"Inference: torch vs ONNX Runtime, fp32 "
        "vs int8 (MiniLM)\" below, whose torch-fp32 and torch-int8 rows are the same comparison "
        "(torch dynamic int8 against fp32 through `predict_file`), measured interleaved in fresh "
        "processes at 1 thread; MiniLM was not re-measured here.",
    ]
    if m.get("note"):
        lines += ["", m["note"]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-train", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=10,
                        help="passes of the 872 dev sentences in one prediction input")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--run", help="an existing BiLSTM run directory (skips training)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite the section from bench/results/predict.json")
    parser.add_argument("--child", choices=list(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.render_only:
        rerender(SECTION, render, RESULTS)
        return
    if not (DATA / "train.jsonl.gz").is_file():
        sys.exit(f"SST-2 not found under {DATA} (see ../shared/ASSETS.md)")
    peak = matmul_peak(args.threads)
    with tempfile.TemporaryDirectory(prefix="ftlab-predict-") as tmp:
        work = Path(tmp)
        val = [{"text": r["text"], "label": str(r["label"])}
               for r in read_rows(DATA / "validation.jsonl.gz")]
        bench_file = write_rows(val * args.repeat, work / "predict-input.jsonl")
        if args.run:
            run_dir = Path(args.run)
        else:
            print(f"[{time.strftime('%H:%M:%S')}] training the BiLSTM ...", flush=True)
            run_dir = train(DATA / "train.jsonl.gz", DATA / "validation.jsonl.gz", work,
                            args.epochs, args.max_train, args.threads)
        summary = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        outputs: dict[str, Path] = {}

        def one(variant: str, rep: int) -> dict[str, Any]:
            out, result = work / f"{variant}-{rep}.jsonl", work / f"{variant}-{rep}.json"
            outputs[variant] = out
            print(f"[{time.strftime('%H:%M:%S')}] {variant} #{rep + 1} (load "
                  f"{load_average():.2f})", flush=True)
            info = run_child([sys.executable, __file__, "--child", variant, "--run", str(run_dir),
                              "--input", str(bench_file), "--output", str(out), "--result",
                              str(result), "--threads", str(args.threads)], result,
                             threads=args.threads)
            print(f"    {info['examples_per_s']:,.0f} examples/s", flush=True)
            return info

        measured = interleaved(list(VARIANTS), args.pairs, one)
        preds = {v: read_rows(p)[:len(val)] for v, p in outputs.items()}
    store = {"date": datetime.date.today().isoformat(), "machine": machine(args.threads),
             "threads": args.threads, "epochs": args.epochs, "max_train": args.max_train,
             "repeat": args.repeat, "pairs": args.pairs, "peak": peak, "given_run": bool(args.run),
             "val_accuracy": float(summary.get("best_metric") or 0.0),
             "agreement": agreement(preds), **measured}
    publish(SECTION, render(store), results=RESULTS, store=store, write=not args.no_write)


if __name__ == "__main__":
    main()
