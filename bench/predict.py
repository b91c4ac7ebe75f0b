"""Predict throughput and accuracy: fp32 vs int8 dynamic quantization (CPU).

Trains a BiLSTM (configs/bilstm.yaml, a few epochs) on SST-2 train when ../shared/data is
present (else on the built-in Rotten Tomatoes set), then runs ``ftlab predict`` over the
evaluation file in fp32 and with ``--quantize int8``, three times each, and reports examples/s
(median), the accuracy of both and how many predictions changed. Writes the
``## Predict: fp32 vs int8`` section of BENCHMARKS.md.

    .venv/bin/python bench/predict.py [--epochs 2] [--max-train 20000]
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path


from _common import ROOT, machine, write_section

SST2 = ROOT.parent / "shared" / "data" / "sst2"
SECTION = "## Predict: fp32 vs int8"


def _measure(run_dir: Path, eval_file: Path, tmp: Path, repeats: int) -> dict[str, dict]:
    from ftlab.runs import predict_file

    results = {}
    for mode in ("none", "int8"):
        speeds, out = [], tmp / f"pred-{run_dir.name}-{mode}.jsonl"
        for _ in range(repeats):
            info = predict_file(run_dir, input=eval_file, output=out, quantize=mode)
            speeds.append(info["examples_per_s"])
        preds = [json.loads(line) for line in out.read_text().splitlines()]
        acc = sum(p["pred"] == p["label"] for p in preds) / len(preds)
        results[mode] = {"speed": statistics.median(speeds), "acc": acc,
                         "preds": [p["pred"] for p in preds]}
    return results


def _rows(name: str, results: dict[str, dict], n: int) -> str:
    changed = sum(a != b for a, b in zip(results["none"]["preds"], results["int8"]["preds"]))
    ratio = results["int8"]["speed"] / results["none"]["speed"]
    delta = 100 * (results["int8"]["acc"] - results["none"]["acc"])
    return (f"| {name} | fp32 | {results['none']['speed']:,.0f} | {results['none']['acc']:.4f} "
            f"| - | - |\n"
            f"| {name} | int8 dynamic | {results['int8']['speed']:,.0f} | "
            f"{results['int8']['acc']:.4f} ({delta:+.2f} points) | {changed} of {n} | "
            f"{ratio:.2f}x |\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-train", type=int, default=20000)
    parser.add_argument("--transformer-train", type=int, default=4000,
                        help="SST-2 training examples for the MiniLM run (0: no transformer row)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from ftlab.config import load_config
    from ftlab.runs import train_run

    tmp = Path(tempfile.mkdtemp(prefix="ftlab-bench-predict-"))
    overrides = [f"output_dir={tmp}", f"train.epochs={args.epochs}", "train.trackers=[]",
                 "train.early_stopping.enabled=false", "train.log_every=1000"]
    sst2 = (SST2 / "train.jsonl.gz").is_file()
    if sst2:
        data = "SST-2 (train subset, official validation as the evaluation file)"
        files = ['data.source=""', f"data.files.train={SST2 / 'train.jsonl.gz'}",
                 f"data.files.validation={SST2 / 'validation.jsonl.gz'}"]
        overrides += files + [f"data.max_examples={args.max_train}"]
        eval_rows = [json.loads(line) for line in gzip.open(SST2 / "validation.jsonl.gz", "rt")]
        eval_rows = [{"text": r["text"], "label": str(r["label"])} for r in eval_rows]
    else:
        print("../shared/data/sst2 not found: using the built-in rotten_tomatoes test split")
        data = "built-in rotten_tomatoes (test split)"
        eval_rows = None
    summary = train_run(load_config(ROOT / "configs" / "bilstm.yaml", overrides), name="bilstm")
    run_dir = Path(summary["path"])
    if eval_rows is None:
        eval_rows = [{"text": json.loads(line)["text"], "label": json.loads(line)["label"]}
                     for line in (run_dir / "predictions" / "test.jsonl").read_text().splitlines()]
    eval_file = tmp / "eval.jsonl"
    eval_file.write_text("".join(json.dumps(r) + "\n" for r in eval_rows), encoding="utf-8")
    table = _rows("BiLSTM (GloVe 50d)", _measure(run_dir, eval_file, tmp, args.repeats),
                  len(eval_rows))
    note = ""
    if sst2 and args.transformer_train:
        # MiniLM fine-tuned briefly (1 epoch on a training subset): enough for a real accuracy
        # to compare fp32 and int8 on, not a tuned model.
        tf_over = [f"output_dir={tmp}", "train.epochs=1", "train.trackers=[]",
                   "train.log_every=1000", "data.split={test: 0}", "eval.splits=[]",
                   f"data.max_examples={args.transformer_train}", *files[1:]]
        tf = train_run(load_config(ROOT / "configs" / "sst2-minilm.yaml", tf_over), name="minilm")
        table += _rows("MiniLM-L6 (fine-tuned 1 epoch on "
                       f"{args.transformer_train:,} examples)",
                       _measure(Path(tf["path"]), eval_file, tmp, args.repeats), len(eval_rows))
        note = (" MiniLM: `configs/sst2-minilm.yaml`, 1 epoch on a seeded stratified sample of "
                f"{args.transformer_train:,} SST-2 training sentences (`data.max_examples`).")
    header = ("| model | precision | examples/s (median of "
              f"{args.repeats}) | accuracy | predictions changed | int8 / fp32 speed |\n"
              "|---|---|---:|---:|---:|---:|\n")
    body = (f"{SECTION}\n\nCommand: `.venv/bin/python bench/predict.py --epochs {args.epochs} "
            f"--max-train {args.max_train} --transformer-train {args.transformer_train}`  \n"
            f"Machine: {machine()}, {time.strftime('%Y-%m-%d')}  \nData: {data}; "
            f"{len(eval_rows)} texts predicted with `ftlab predict` (length-sorted batches of "
            f"128, encoding included in the timing, model load excluded). BiLSTM: "
            f"`configs/bilstm.yaml`, {args.epochs} epochs on a sample of {args.max_train:,} "
            f"training sentences.{note}\n\n{header}{table}\n"
            "int8 = `torch.ao.quantization.quantize_dynamic` on Linear/LSTM/GRU weights "
            "(activations quantized per batch on the fly; embeddings stay fp32).\n")
    print(body)
    write_section(body)


if __name__ == "__main__":
    sys.exit(main())
