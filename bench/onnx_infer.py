"""Inference on MiniLM: torch fp32, torch dynamic int8, ONNX Runtime fp32, ONNX Runtime int8.

Run from the repository root:  .venv/bin/python bench/onnx_infer.py [--train-rows 2000]
[--dev-rows 400] [--pairs 3] [--threads 1] [--run RUN_DIR] [--no-write]

Trains (unless ``--run`` names one) all-MiniLM-L6-v2 with ftlab on the first ``--train-rows``
rows of the ASSETS.md SST-2 permutation (``configs/sst2-minilm.yaml``, 1 epoch, lr 5e-5,
batch 32, max length 128), exports it to ONNX once (``RUN/onnx/``, the cache ``ftlab predict
--backend onnxruntime`` uses; export time reported, not counted in the rates), then runs
``ftlab.runs.predict_file`` over the first ``--dev-rows`` rows of the official SST-2 validation
set in four variants, interleaved (A B C D A B C D ..., ``--pairs`` repetitions, each run a fresh
process, ``--threads`` intra-op threads for torch and ONNX Runtime alike; BENCHMARKS.md
"Methodology"). The rate is ``predict_file``'s examples/s: encoding + length-sorted batches of
128 + the model, model loading excluded. Agreement is against torch fp32: share of predictions
changed and the largest difference of a class probability.
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
    ROOT, fmt_range, fmt_ratio, interleaved, load_average, machine, matmul_peak, ratio_of,
    read_rows, run_child, summarize, publish, write_rows,
)

DATA = ROOT.parent / "shared" / "data" / "sst2"
SECTION = "Inference: torch vs ONNX Runtime, fp32 vs int8 (MiniLM)"
RESULTS = ROOT / "bench" / "results" / "onnx_infer.json"
VARIANTS = {  # name -> (backend, quantize)
    "torch-fp32": ("torch", "none"),
    "torch-int8": ("torch", "int8"),
    "ort-fp32": ("onnxruntime", "none"),
    "ort-int8": ("onnxruntime", "int8"),
}


def train(train_file: Path, val_file: Path, work: Path, threads: int) -> Path:
    """Fine-tune MiniLM with ftlab (1 epoch) and return the run directory."""
    from ftlab.config import load_config
    from ftlab.runs import train_run

    config = load_config(ROOT / "configs" / "sst2-minilm.yaml", [
        f"output_dir={work}", "seed=42", "data.split={validation: 0, test: 0}",
        f"data.files={{train: {train_file}, validation: {val_file}}}", "train.epochs=1",
        "train.eval_every=null", "eval.splits=[]", "train.device=cpu", "train.trackers=[]",
        f"train.threads={threads}"])
    return Path(train_run(config, name="minilm")["path"])


def child(args: argparse.Namespace) -> None:
    """One prediction pass in this fresh process; writes its info JSON."""
    from ftlab.runs import predict_file

    backend, quantize = VARIANTS[args.child]
    info = predict_file(Path(args.run), input=Path(args.input), output=Path(args.output),
                        backend=backend, quantize=quantize, threads=args.threads)  # type: ignore[arg-type]
    Path(args.result).write_text(json.dumps(info), encoding="utf-8")


def export_once(run_dir: Path, threads: int) -> dict[str, float]:
    """Export fp32 and int8 ONNX into the run's cache; seconds each."""
    import torch

    from ftlab.runs import load_run_model, onnx_model_for_run

    torch.set_num_threads(threads)
    _, _, model = load_run_model(run_dir, threads=threads)
    t0 = time.perf_counter()
    onnx_model_for_run(run_dir, model, quantize="none", threads=threads)
    t1 = time.perf_counter()
    onnx_model_for_run(run_dir, model, quantize="int8", threads=threads)
    t2 = time.perf_counter()
    sizes = {p.name: p.stat().st_size / 2**20 for p in (run_dir / "onnx").glob("*.onnx")}
    return {"export_s": t1 - t0, "quantize_s": t2 - t1, **{f"mib:{k}": v for k, v in sizes.items()}}


def agreement(out: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, float]]:
    """Accuracy of each variant; changed predictions and max |dp| against torch fp32."""
    ref = out["torch-fp32"]
    res = {}
    for name, rows in out.items():
        labelled = [r for r in rows if "label" in r]
        acc = sum(str(r["pred"]) == str(r["label"]) for r in labelled) / max(1, len(labelled))
        changed = sum(a["pred"] != b["pred"] for a, b in zip(ref, rows))
        diff = max(abs(a["probs"][k] - b["probs"][k]) for a, b in zip(ref, rows) for k in a["probs"])
        res[name] = {"accuracy": acc, "changed": changed, "n": len(rows), "max_dp": diff}
    return res


def render(store: dict[str, Any]) -> str:
    """The BENCHMARKS.md section from the stored results."""
    m = store
    runs = m["runs"]
    rates = {v: [r["examples_per_s"] for r in rs] for v, rs in runs.items()}
    agree = m["agreement"]
    lines = [
        "Command: `.venv/bin/python bench/onnx_infer.py --train-rows "
        f"{m['train_rows']} --dev-rows {m['dev_rows']} --pairs {m['pairs']} --threads "
        f"{m['threads']}` (from the repository root; results kept in "
        "`bench/results/onnx_infer.json`).", "",
        (__doc__ or "").split("\n\n", 2)[2].strip(), "",
        f"Measured {m['date']} on {m['machine']}. Load average (1 min) {m['load'][0]:.2f} before "
        f"the first run and {m['load'][1]:.2f} after the last; order "
        f"{' '.join(m['order'])}. fp32 matmul at {m['threads']} thread(s): peak "
        f"{m['peak']['peak_gflops']:.1f} GFLOP/s. Model: MiniLM fine-tuned 1 epoch on "
        f"{m['train_rows']:,} rows (ftlab validation accuracy on the full dev set "
        f"{m['val_accuracy']:.2%}). ONNX export {m['export']['export_s']:.0f} s, int8 "
        f"quantization {m['export']['quantize_s']:.0f} s (once, cached); model.onnx "
        f"{m['export'].get('mib:model.onnx', 0):.0f} MiB, model.int8.onnx "
        f"{m['export'].get('mib:model.int8.onnx', 0):.0f} MiB. Cells: median [min, max].", "",
        "| variant | examples/s | vs torch fp32 | accuracy (dev subset) | predictions changed vs "
        "torch fp32 | max probability difference |",
        "|---|---:|---:|---:|---:|---:|"]
    for v in runs:
        a = agree[v]
        vs = "1.00x" if v == "torch-fp32" else fmt_ratio(ratio_of(rates[v], rates["torch-fp32"]))
        lines.append(f"| {v} | {fmt_range(summarize(rates[v]))} | {vs} | {a['accuracy']:.2%} | "
                     f"{a['changed']} of {a['n']} ({a['changed'] / a['n']:.1%}) | "
                     f"{a['max_dp']:.1e} |")
    r = ratio_of(rates["ort-int8"], rates["torch-fp32"])
    acc = (agree["ort-int8"]["accuracy"] - agree["torch-fp32"]["accuracy"]) * 100
    met = r["ratio"] >= 2.5 and abs(acc) <= 0.5
    lines += ["", f"Goal (issue 21): ONNX Runtime int8 >= 2.5x torch fp32 examples/s, accuracy "
              f"within 0.5 points: **{'met' if met else 'not met'}** ({r['ratio']:.2f}x, "
              f"{acc:+.2f} points on {agree['ort-int8']['n']} sentences)."]
    if m.get("note"):
        lines += ["", m["note"]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", choices=list(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--run", help="an existing MiniLM run directory (skips training)")
    parser.add_argument("--train-rows", type=int, default=2000)
    parser.add_argument("--dev-rows", type=int, default=400)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--render-only", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.render_only:
        text = render(json.loads(RESULTS.read_text(encoding="utf-8")))
        publish(SECTION, text, results=RESULTS)
        return
    if not (DATA / "train.jsonl.gz").is_file():
        sys.exit(f"SST-2 not found under {DATA} (see ../shared/ASSETS.md)")
    peak = matmul_peak(args.threads)
    with tempfile.TemporaryDirectory(prefix="ftlab-onnx-") as tmp:
        work = Path(tmp)
        val = read_rows(DATA / "validation.jsonl.gz")
        val_file = write_rows(val, work / "validation.jsonl")
        dev_file = write_rows(val[:args.dev_rows], work / "dev.jsonl")
        if args.run:
            run_dir = Path(args.run)
        else:
            rows = read_rows(DATA / "train.jsonl.gz")
            subset = [rows[i] for i in np.random.default_rng(0).permutation(len(rows))[:args.train_rows]]
            print(f"[{time.strftime('%H:%M:%S')}] training MiniLM on {args.train_rows} rows ...",
                  flush=True)
            run_dir = train(write_rows(subset, work / "train.jsonl"), val_file, work, args.threads)
        summary = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        val_acc = float(summary.get("best_metric") or 0.0)
        print(f"[{time.strftime('%H:%M:%S')}] exporting to ONNX ...", flush=True)
        export = export_once(run_dir, args.threads)
        outputs: dict[str, Path] = {}

        def one(variant: str, rep: int) -> dict[str, Any]:
            out = work / f"{variant}-{rep}.jsonl"
            outputs[variant] = out
            result = work / f"{variant}-{rep}.json"
            print(f"[{time.strftime('%H:%M:%S')}] {variant} #{rep + 1} (load {load_average():.2f})",
                  flush=True)
            info = run_child([sys.executable, __file__, "--child", variant, "--run", str(run_dir),
                              "--input", str(dev_file), "--output", str(out), "--result",
                              str(result), "--threads", str(args.threads)], result,
                             threads=args.threads)
            print(f"    {info['examples_per_s']:.1f} examples/s", flush=True)
            return info

        measured = interleaved(list(VARIANTS), args.pairs, one)
        preds = {v: read_rows(p) for v, p in outputs.items()}
    store = {"date": datetime.date.today().isoformat(), "machine": machine(args.threads),
             "threads": args.threads, "train_rows": args.train_rows, "dev_rows": args.dev_rows,
             "pairs": args.pairs, "peak": peak, "val_accuracy": val_acc, "export": export,
             "agreement": agreement(preds), **measured}
    text = render(store)
    publish(SECTION, text, results=RESULTS, store=store, write=not args.no_write)


if __name__ == "__main__":
    main()
