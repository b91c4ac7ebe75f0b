"""Inference on MiniLM: torch fp32, torch dynamic int8, ONNX Runtime fp32, ONNX Runtime int8.

Run from the repository root:  .venv/bin/python bench/onnx_infer.py [--train-rows 8000]
[--dev-rows 0] [--pairs 3] [--threads 1] [--run RUN_DIR] [--no-write]

Trains (unless ``--run`` holds a run already; a new ``--run`` keeps the one it trains)
all-MiniLM-L6-v2 with ftlab on the first ``--train-rows`` rows of the ASSETS.md SST-2
permutation (``configs/sst2-minilm.yaml``, 1 epoch, lr 5e-5, batch 32, max length 128),
exports it to ONNX once (``RUN/onnx/``, the cache ``ftlab predict --backend onnxruntime`` uses;
export time reported, not counted in the rates), then runs
``ftlab.runs.predict_file`` over the official SST-2 validation set (all 872 rows, or the first
``--dev-rows``) in five variants, interleaved (A B C D E A B C D E ..., ``--pairs`` repetitions,
each run a fresh process, ``--threads`` intra-op threads for torch and ONNX Runtime alike;
BENCHMARKS.md "Methodology"): torch fp32, torch dynamic int8, ONNX Runtime fp32, ONNX Runtime
int8 as ``--quantize int8`` does it (``Int8Settings()``: per-channel weights, the classifier and
the pooler in fp32) and as it did before (per-tensor weights, every MatMul/Gemm int8). The rate
is ``predict_file``'s examples/s: encoding + length-sorted batches of 128 + the model, model
loading excluded. Agreement is against torch fp32: predictions changed, the largest difference of
a class probability, and the accuracy difference with its 95% paired-bootstrap interval over the
same sentences (``ftlab.analysis.compare_predictions``, 10,000 resamples). A second table
(accuracy only, one pass each, after the timed runs) sweeps the int8 settings.
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
    ratio_of, read_rows, rerender, run_child, summarize, write_rows,
)

DATA = ROOT.parent / "shared" / "data" / "sst2"
SECTION = "Inference: torch vs ONNX Runtime, fp32 vs int8 (MiniLM)"
RESULTS = ROOT / "bench" / "results" / "onnx_infer.json"
PER_TENSOR = {"per_channel": False, "reduce_range": False, "fp32_head_layers": 0}
VARIANTS: dict[str, tuple[str, str, dict[str, Any] | None]] = {  # backend, quantize, Int8Settings
    "torch-fp32": ("torch", "none", None),
    "torch-int8": ("torch", "int8", None),
    "ort-fp32": ("onnxruntime", "none", None),
    "ort-int8": ("onnxruntime", "int8", None),  # the default settings (--quantize int8)
    "ort-int8-per-tensor": ("onnxruntime", "int8", PER_TENSOR),  # before this change
}
SWEEP = {  # accuracy of int8 settings (one untimed pass each): name -> Int8Settings fields
    "per-tensor, all int8": PER_TENSOR,
    "per-tensor, classifier + pooler fp32": {**PER_TENSOR, "fp32_head_layers": 2},
    "per-channel, all int8": {**PER_TENSOR, "per_channel": True},
    "per-channel, classifier fp32": {**PER_TENSOR, "per_channel": True, "fp32_head_layers": 1},
    "per-channel, classifier + pooler fp32 (default)": {"per_channel": True,
                                                        "reduce_range": False,
                                                        "fp32_head_layers": 2},
    "per-channel, classifier + pooler fp32, reduce_range": {"per_channel": True,
                                                            "reduce_range": True,
                                                            "fp32_head_layers": 2},
}


def train(train_file: Path, val_file: Path, run_dir: Path, threads: int) -> Path:
    """Fine-tune MiniLM with ftlab (1 epoch) into ``run_dir`` and return it."""
    from ftlab.config import load_config
    from ftlab.runs import train_run

    config = load_config(ROOT / "configs" / "sst2-minilm.yaml", [
        f"output_dir={run_dir.parent}", "seed=42", "data.split={validation: 0, test: 0}",
        f"data.files={{train: {train_file}, validation: {val_file}}}", "train.epochs=1",
        "train.eval_every=null", "eval.splits=[]", "train.device=cpu", "train.trackers=[]",
        f"train.threads={threads}"])
    return Path(train_run(config, name=run_dir.name)["path"])


def child(args: argparse.Namespace) -> None:
    """One prediction pass in this fresh process; writes its info JSON."""
    from ftlab.models import Int8Settings
    from ftlab.runs import predict_file

    backend, quantize, int8 = VARIANTS[args.child]
    info = predict_file(Path(args.run), input=Path(args.input), output=Path(args.output),
                        backend=backend, quantize=quantize, threads=args.threads,  # type: ignore[arg-type]
                        int8=Int8Settings(**int8) if int8 else None)
    Path(args.result).write_text(json.dumps(info), encoding="utf-8")


def export_once(run_dir: Path, threads: int) -> dict[str, float]:
    """Export fp32 and the int8 variants into the run's cache; seconds and MiB each."""
    import torch

    from ftlab.models import Int8Settings
    from ftlab.runs import load_run_model, onnx_model_for_run

    torch.set_num_threads(threads)
    _, _, model = load_run_model(run_dir, threads=threads)
    t0 = time.perf_counter()
    fp32 = onnx_model_for_run(run_dir, model, quantize="none", threads=threads)
    res = {"export_s": time.perf_counter() - t0, "mib:ort-fp32": _mib(fp32)}
    for name, (_, _, int8) in VARIANTS.items():
        if name.startswith("ort-int8"):
            t0 = time.perf_counter()
            m = onnx_model_for_run(run_dir, model, quantize="int8", threads=threads,
                                   int8=Int8Settings(**(int8 or {})))
            res[f"quantize_s:{name}"] = time.perf_counter() - t0
            res[f"mib:{name}"] = _mib(m)
    return res


def _mib(model: Any) -> float:
    return Path(model.path).stat().st_size / 2**20


def sweep(run_dir: Path, dev_file: Path, work: Path, threads: int,
          ref: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Accuracy and agreement of each int8 setting in :data:`SWEEP` (one pass each)."""
    from ftlab.models import Int8Settings
    from ftlab.runs import predict_file

    out: dict[str, list[dict[str, Any]]] = {"torch-fp32": ref}
    rates = {}
    for i, (name, fields) in enumerate(SWEEP.items()):
        print(f"[{time.strftime('%H:%M:%S')}] sweep: {name}", flush=True)
        path = work / f"sweep-{i}.jsonl"
        info = predict_file(run_dir, input=dev_file, output=path, backend="onnxruntime",
                            quantize="int8", threads=threads, int8=Int8Settings(**fields))
        out[name], rates[name] = read_rows(path), info["examples_per_s"]
    res = agreement(out)
    del res["torch-fp32"]
    for name in res:
        res[name]["settings"] = SWEEP[name]  # type: ignore[assignment]
        res[name]["examples_per_s"] = rates[name]
    return res


def agreement(out: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, float]]:
    """Accuracy of each variant; against torch fp32: changed predictions, max |dp| and the
    accuracy difference with its 95% paired-bootstrap interval."""
    from ftlab.analysis import compare_predictions

    ref = out["torch-fp32"]
    names = sorted({str(r["label"]) for r in ref} | {str(r["pred"]) for r in ref})

    def idx(rows: list[dict[str, Any]], key: str) -> np.ndarray:
        return np.array([names.index(str(r[key])) for r in rows])

    labels = idx(ref, "label")
    res = {}
    for name, rows in out.items():
        changed = sum(a["pred"] != b["pred"] for a, b in zip(ref, rows))
        diff = max(abs(a["probs"][k] - b["probs"][k]) for a, b in zip(ref, rows) for k in a["probs"])
        cmp = compare_predictions(labels, idx(ref, "pred"), idx(rows, "pred"),
                                  n_classes=len(names)).metrics["accuracy"]
        res[name] = {"accuracy": cmp.b, "changed": changed, "n": len(rows), "max_dp": diff,
                     "diff": cmp.difference, "diff_low": cmp.low, "diff_high": cmp.high,
                     "p_value": cmp.p_value}
    return res


def _diff(a: dict[str, float]) -> str:
    """Accuracy difference vs torch fp32 in points, with its paired interval."""
    if "diff" not in a:
        return "n/a"
    return (f"{a['diff'] * 100:+.2f} [{a['diff_low'] * 100:+.2f}, {a['diff_high'] * 100:+.2f}]")


def render(store: dict[str, Any]) -> str:
    """The BENCHMARKS.md section from the stored results."""
    m = store
    runs = m["runs"]
    rates = {v: [r["examples_per_s"] for r in rs] for v, rs in runs.items()}
    agree, ex = m["agreement"], m["export"]
    n = agree["torch-fp32"]["n"]
    quant = ", ".join(f"{v} {ex[f'quantize_s:{v}']:.0f} s" for v in runs if f"quantize_s:{v}" in ex)
    sizes = ", ".join(f"{v} {ex[f'mib:{v}']:.0f} MiB" for v in runs if f"mib:{v}" in ex)
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
        f"{m['val_accuracy']:.2%}); evaluated on {n} dev sentences. ONNX export "
        f"{ex['export_s']:.0f} s; int8 quantization: {quant} (once, cached). Files: {sizes}. "
        "Cells: median [min, max]; ratios: ratio of medians [per-pair range]; accuracy "
        "difference: points vs torch fp32 [95% paired-bootstrap interval].", "",
        "| variant | examples/s | vs torch fp32 | accuracy | accuracy difference | predictions "
        "changed vs torch fp32 | max probability difference |",
        "|---|---:|---:|---:|---:|---:|---:|"]
    for v in runs:
        a = agree[v]
        vs = "1.00x" if v == "torch-fp32" else fmt_ratio(ratio_of(rates[v], rates["torch-fp32"]))
        lines.append(f"| {v} | {fmt_range(summarize(rates[v]))} | {vs} | {a['accuracy']:.2%} | "
                     f"{_diff(a) if v != 'torch-fp32' else '-'} | "
                     f"{a['changed']} of {a['n']} ({a['changed'] / a['n']:.1%}) | "
                     f"{a['max_dp']:.1e} |")
    if m.get("sweep"):
        lines += ["", "int8 settings (ONNX Runtime, `ftlab.models.Int8Settings`), one "
                  "pass each on the same sentences; examples/s is that single pass (not "
                  "interleaved), for orientation only:", "",
                  "| settings | accuracy | accuracy difference | predictions changed vs torch "
                  "fp32 | max probability difference | examples/s (one pass) |",
                  "|---|---:|---:|---:|---:|---:|"]
        for name, a in m["sweep"].items():
            lines.append(f"| {name} | {a['accuracy']:.2%} | {_diff(a)} | {a['changed']} of "
                         f"{a['n']} ({a['changed'] / a['n']:.1%}) | {a['max_dp']:.1e} | "
                         f"{a['examples_per_s']:.1f} |")
    r = ratio_of(rates["ort-int8"], rates["torch-fp32"])
    acc = agree["ort-int8"]["diff"] * 100
    fast, close = r["ratio"] >= 2.5, abs(acc) <= 0.5

    def verdict(ok: bool) -> str:
        return "met" if ok else "not met"

    lines += ["", f"Goal (issue 21): ONNX Runtime int8 >= 2.5x torch fp32 examples/s, accuracy "
              f"within 0.5 points: **{verdict(fast and close)}**; speed {verdict(fast)} "
              f"({r['ratio']:.2f}x [{r['min']:.2f}, {r['max']:.2f}] per pair), accuracy "
              f"{verdict(close)} ({_diff(agree['ort-int8'])} points on {n} sentences)."]
    if m.get("note"):
        lines += ["", m["note"]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", choices=list(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--run", help="a MiniLM run directory: used when it holds a run, else "
                        "trained there and kept (default: trained in a temporary directory)")
    parser.add_argument("--train-only", action="store_true", help="train (or find) --run, stop")
    parser.add_argument("--train-rows", type=int, default=8000)
    parser.add_argument("--dev-rows", type=int, default=0, help="0: all 872")
    parser.add_argument("--no-sweep", action="store_true", help="skip the int8 settings table")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--render-only", action="store_true")
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
    with tempfile.TemporaryDirectory(prefix="ftlab-onnx-") as tmp:
        work = Path(tmp)
        val = read_rows(DATA / "validation.jsonl.gz")
        val_file = write_rows(val, work / "validation.jsonl")
        dev_file = write_rows(val[:args.dev_rows or None], work / "dev.jsonl")
        run_dir = Path(args.run) if args.run else work / "minilm"
        if not (run_dir / "run.json").is_file():
            rows = read_rows(DATA / "train.jsonl.gz")
            subset = [rows[i] for i in np.random.default_rng(0).permutation(len(rows))[:args.train_rows]]
            print(f"[{time.strftime('%H:%M:%S')}] training MiniLM on {args.train_rows} rows ...",
                  flush=True)
            run_dir = train(write_rows(subset, work / "train.jsonl"), val_file, run_dir, args.threads)
        if args.train_only:
            print(f"run: {run_dir}")
            return
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
        swept = {} if args.no_sweep else sweep(run_dir, dev_file, work, args.threads,
                                               preds["torch-fp32"])
    store = {"date": datetime.date.today().isoformat(), "machine": machine(args.threads),
             "threads": args.threads, "train_rows": args.train_rows, "dev_rows": args.dev_rows,
             "pairs": args.pairs, "peak": peak, "val_accuracy": val_acc, "export": export,
             "agreement": agreement(preds), "sweep": swept, **measured}
    text = render(store)
    publish(SECTION, text, results=RESULTS, store=store, write=not args.no_write)


if __name__ == "__main__":
    main()
