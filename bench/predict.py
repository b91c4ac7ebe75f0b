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
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
SST2 = ROOT.parent / "shared" / "data" / "sst2"
SECTION = "## Predict: fp32 vs int8"


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return (f"{nproc} cores ({cpu}), Python {platform.python_version()}, torch {torch.__version__}, "
            f"{time.strftime('%Y-%m-%d')}")


def _write_section(body: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if SECTION in text:
        start = text.index(SECTION)
        nxt = text.find("\n## ", start + len(SECTION))
        text = text[:start] + body + (text[nxt + 1:] if nxt != -1 else "")
    else:
        text = text.rstrip() + "\n\n" + body
    path.write_text(text.rstrip() + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-train", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from ftlab.config import load_config
    from ftlab.runs import predict_file, train_run

    tmp = Path(tempfile.mkdtemp(prefix="ftlab-bench-predict-"))
    overrides = [f"output_dir={tmp}", f"train.epochs={args.epochs}", "train.trackers=[]",
                 "train.early_stopping.enabled=false", "train.log_every=1000"]
    if (SST2 / "train.jsonl.gz").is_file():
        data = "SST-2 (train subset, official validation as the evaluation file)"
        overrides += ["data.source=", f"data.files.train={SST2 / 'train.jsonl.gz'}",
                      f"data.files.validation={SST2 / 'validation.jsonl.gz'}",
                      f"data.max_examples={args.max_train}"]
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

    results = {}
    for mode in ("none", "int8"):
        speeds, out = [], tmp / f"pred-{mode}.jsonl"
        for _ in range(args.repeats):
            info = predict_file(run_dir, input=eval_file, output=out, quantize=mode)
            speeds.append(info["examples_per_s"])
        preds = [json.loads(line) for line in out.read_text().splitlines()]
        acc = sum(p["pred"] == p["label"] for p in preds) / len(preds)
        results[mode] = {"speed": statistics.median(speeds), "acc": acc,
                         "preds": [p["pred"] for p in preds]}
    changed = sum(a != b for a, b in zip(results["none"]["preds"], results["int8"]["preds"]))
    ratio = results["int8"]["speed"] / results["none"]["speed"]
    table = ("| model | precision | examples/s (median of "
             f"{args.repeats}) | accuracy | predictions changed |\n|---|---|---:|---:|---:|\n"
             f"| BiLSTM | fp32 | {results['none']['speed']:,.0f} | {results['none']['acc']:.4f} | - |\n"
             f"| BiLSTM | int8 dynamic | {results['int8']['speed']:,.0f} | "
             f"{results['int8']['acc']:.4f} | {changed} of {len(eval_rows)} |\n")
    body = (f"{SECTION}\n\nCommand: `.venv/bin/python bench/predict.py --epochs {args.epochs} "
            f"--max-train {args.max_train}`  \nMachine: {_machine()}  \nData: {data}; "
            f"{len(eval_rows)} texts predicted with `ftlab predict` (length-sorted batches of "
            f"128, encoding included in the timing, model load excluded).\n\n{table}\n"
            f"int8/fp32 speed ratio: {ratio:.2f}x; accuracy change "
            f"{100 * (results['int8']['acc'] - results['none']['acc']):+.2f} points. "
            "The transformer row comes with the transformer family (not yet available).\n")
    print(body)
    _write_section(body)


if __name__ == "__main__":
    sys.exit(main())
