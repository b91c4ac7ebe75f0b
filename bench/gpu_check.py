"""GPU check for a lent device: MiniLM on an SST-2 subset, ftlab (fp32, bf16; SDPA) and the HF
Trainer (fp32, bf16), interleaved, then the CUDA tests. Driven by ``bench/gpu.sh``.

    python3 bench/gpu_check.py --assets .gpu [--rows 2000] [--pairs 3] [--out DIR] [--dry-run]

Inputs (``--assets``, prepared here by ``bench/gpu_prepare.sh`` because the device reaches no
registry and ``../shared`` does not travel): ``minilm/`` (the packaged all-MiniLM-L6-v2 with its
weights stored in fp16 to fit the 64 MiB that travels; loaded back as fp32), ``train.jsonl``
and ``validation.jsonl`` (SST-2 rows). Without CUDA, or with ``--dry-run``, it checks the inputs
(files, imports, the configs of every variant) and exits 0 saying that nothing was measured.

Per run (each a fresh process): training tokens/s (real tokens / training time) and examples/s,
peak GPU memory (``torch.cuda.max_memory_allocated``), training TFLOP/s (6 x non-embedding
parameters x token slots / time) as a share of the bf16 matmul peak measured on this GPU
(8192^3 ``torch.mm``, best of 10), host syncs per optimizer step (CUDA sync debug mode "warn":
synchronising calls counted during training, divided by the steps) and validation accuracy.
Results: a Markdown table printed and written to ``OUT/gpu.md`` with the raw ``OUT/gpu.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = {  # name -> (tool, precision)
    "ftlab-fp32": ("ftlab", "fp32"),
    "ftlab-bf16": ("ftlab", "bf16"),
    "hf-grouped-fp32": ("hf", "fp32"),
    "hf-grouped-bf16": ("hf", "bf16"),
}
BATCH, LR, MAX_LEN, SEED = 32, 5e-5, 128, 42


def check_inputs(assets: Path) -> list[str]:
    """Problems with the inputs (empty when all is there)."""
    problems = []
    for rel in ("minilm/config.json", "train.jsonl", "validation.jsonl"):
        if not (assets / rel).is_file():
            problems.append(f"missing {assets / rel} (run bench/gpu_prepare.sh here first)")
    for module in ("torch", "transformers", "pydantic", "ftlab"):
        try:
            __import__(module)
        except ImportError as exc:
            problems.append(f"cannot import {module}: {exc}")
    return problems


def ftlab_overrides(assets: Path, work: Path, precision: str, device: str) -> list[str]:
    """The shared settings as ``--set`` overrides on configs/sst2-minilm.yaml."""
    return [
        f"output_dir={work}", f"seed={SEED}", "data.split={validation: 0, test: 0}",
        f"data.files={{train: {assets / 'train.jsonl'}, validation: {assets / 'validation.jsonl'}}}",
        f"model.name={assets / 'minilm'}", "model.attn_implementation=sdpa",
        f"batching.batch_size={BATCH}", "batching.eval_batch_size=128", f"train.lr={LR}",
        "train.weight_decay=0.01", "train.warmup=0.06", "train.schedule=linear", "train.epochs=1",
        "train.clip_norm=1.0", "train.eval_every=null", f"preprocess.max_length={MAX_LEN}",
        "eval.splits=[]", f"train.precision={precision}", f"train.device={device}",
        "train.trackers=[]",
    ]


class SyncCounter:
    """Counts CUDA synchronising calls (sync debug mode "warn") while active."""

    def __enter__(self) -> SyncCounter:
        import torch

        self.count = 0
        self._catch = warnings.catch_warnings(record=True)
        self._seen = self._catch.__enter__()
        warnings.simplefilter("always")
        if torch.cuda.is_available():
            torch.cuda.set_sync_debug_mode("warn")
        return self

    def __exit__(self, *exc: Any) -> None:
        import torch

        if torch.cuda.is_available():
            torch.cuda.set_sync_debug_mode("default")
        self.count = sum("synchronizing" in str(w.message).lower() for w in self._seen)
        self._catch.__exit__(*exc)


def non_embedding(model: Any) -> int:
    import torch

    emb = {id(p) for m in model.modules() if isinstance(m, torch.nn.Embedding)
           for p in m.parameters(recurse=False)}
    return int(sum(p.numel() for p in model.parameters() if id(p) not in emb))


def peak_mib() -> float:
    """Peak GPU memory since the last reset (0 without CUDA)."""
    import torch

    return torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else 0.0


def reset_peak() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def run_ftlab(assets: Path, work: Path, precision: str, rep: int) -> dict[str, Any]:
    import torch

    from ftlab.config import load_config
    from ftlab.runs import load_run_model, train_run

    device = "cuda" if torch.cuda.is_available() else "cpu"
    config = load_config(ROOT / "configs" / "sst2-minilm.yaml",
                         ftlab_overrides(assets, work, precision, device))
    reset_peak()
    with SyncCounter() as syncs:
        summary = train_run(config, name=f"ftlab-{precision}-{rep}")
    run_dir = Path(summary["path"])
    records = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in records if r["kind"] == "step"]
    start = next(r["time"] for r in records if r["kind"] == "start")
    evals = [r for r in records if r["kind"] == "eval"]
    return {"train_s": steps[-1]["time"] - start, "steps": len(steps),
            "examples": sum(int(r["values"]["examples"]) for r in steps),
            "tokens": sum(int(r["values"]["tokens"]) for r in steps),
            "slots": sum(int(r["values"]["padded_tokens"]) for r in steps),
            "val_accuracy": evals[-1]["values"]["accuracy"],
            "peak_mib": peak_mib(), "syncs": syncs.count,
            "syncs_cover": "whole train_run (training, final evaluation, checkpoint)",
            "non_embedding": non_embedding(load_run_model(run_dir)[2])}


def run_hf(assets: Path, work: Path, precision: str, rep: int) -> dict[str, Any]:
    import datasets
    import numpy as np
    import torch
    from transformers import (
        AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, Trainer,
        TrainingArguments, set_seed,
    )

    datasets.disable_progress_bars()
    tok = AutoTokenizer.from_pretrained(assets / "minilm")

    def load(name: str) -> Any:
        rows = [json.loads(x) for x in (assets / name).read_text().splitlines()]
        ds = datasets.Dataset.from_list([{"text": r["text"], "label": int(r["label"])} for r in rows])
        return ds.map(lambda b: tok(b["text"], truncation=True, max_length=MAX_LEN), batched=True,
                      remove_columns=["text"])

    train, val = load("train.jsonl"), load("validation.jsonl")
    set_seed(SEED)
    model = AutoModelForSequenceClassification.from_pretrained(
        assets / "minilm", num_labels=2, attn_implementation="sdpa", torch_dtype=torch.float32)
    counts = {"tokens": 0, "slots": 0}
    inner = DataCollatorWithPadding(tok)

    def collate(features: list[dict[str, Any]]) -> Any:
        batch = inner(features)
        counts["tokens"] += int(batch["attention_mask"].sum())
        counts["slots"] += int(batch["attention_mask"].numel())
        return batch

    args = TrainingArguments(
        output_dir=str(work / f"hf-{precision}-{rep}"), per_device_train_batch_size=BATCH,
        per_device_eval_batch_size=128, learning_rate=LR, weight_decay=0.01, num_train_epochs=1,
        lr_scheduler_type="linear", warmup_steps=0.06, max_grad_norm=1.0, seed=SEED,
        eval_strategy="no", save_strategy="no", report_to="none", disable_tqdm=True,
        bf16=precision == "bf16", train_sampling_strategy="group_by_length",
        dataloader_num_workers=0, use_cpu=not torch.cuda.is_available())
    trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=val,
                      data_collator=collate,
                      compute_metrics=lambda p: {"accuracy": float(
                          (np.argmax(p.predictions, axis=1) == p.label_ids).mean())})
    reset_peak()
    with SyncCounter() as syncs:
        t0 = time.perf_counter()
        out = trainer.train()
        train_s = time.perf_counter() - t0
    peak = peak_mib()
    tokens, slots = counts["tokens"], counts["slots"]
    acc = trainer.evaluate()["eval_accuracy"]
    return {"train_s": train_s, "steps": int(out.global_step), "examples": len(train),
            "tokens": tokens, "slots": slots, "val_accuracy": acc, "peak_mib": peak,
            "syncs": syncs.count, "syncs_cover": "trainer.train()",
            "non_embedding": non_embedding(model)}


def bf16_peak() -> float:
    """Best of 10 timed 8192^3 bf16 products, TFLOP/s."""
    import torch

    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        torch.mm(a, b)
    best = float("inf")
    for _ in range(10):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        torch.mm(a, b)
        end.record()
        torch.cuda.synchronize()
        best = min(best, start.elapsed_time(end) / 1e3)
    return 2 * 8192 ** 3 / best / 1e12


def accuracies(rs: list[dict[str, Any]]) -> str:
    return ", ".join(sorted({format(r["val_accuracy"], ".2%") for r in rs}))


def table(runs: dict[str, list[dict[str, Any]]], peak: float) -> str:
    def med(xs: list[float]) -> str:
        return f"{statistics.median(xs):,.1f} [{min(xs):,.1f}, {max(xs):,.1f}]"

    lines = ["| variant | runs | tokens/s | examples/s | share of bf16 peak | peak GPU MiB | "
             "host syncs / step | val accuracy |", "|---|---:|---:|---:|---:|---:|---:|---|"]
    for v, rs in runs.items():
        share = [6 * r["non_embedding"] * r["slots"] / r["train_s"] / 1e12 / peak * 100 for r in rs]
        lines.append(
            f"| {v} | {len(rs)} | {med([r['tokens'] / r['train_s'] for r in rs])} | "
            f"{med([r['examples'] / r['train_s'] for r in rs])} | {med(share)} % | "
            f"{statistics.median([r['peak_mib'] for r in rs]):,.0f} | "
            f"{med([r['syncs'] / max(1, r['steps']) for r in rs])} | "
            f"{accuracies(rs)} |")
    return "\n".join(lines)


def smoke(assets: Path, out: Path, n: int) -> None:
    """Run one ftlab and one HF child on the first ``n`` rows, on this machine's device."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="ftlab-gpu-smoke-") as tmp:
        small = Path(tmp) / "assets"
        small.mkdir()
        (small / "minilm").symlink_to((assets / "minilm").resolve())
        for name in ("train.jsonl", "validation.jsonl"):
            lines = (assets / name).read_text().splitlines()[:n]
            (small / name).write_text("\n".join(lines) + "\n")
        for v in ("ftlab-fp32", "hf-grouped-fp32"):
            subprocess.run([sys.executable, __file__, "--child", v, "--work", tmp, "--assets",
                            str(small)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
            r = json.loads((Path(tmp) / f"{v}-0.json").read_text())
            print(f"smoke {v}: {r['steps']} steps, {r['tokens']} tokens, {r['slots']} slots, "
                  f"{r['syncs']} sync warnings, val acc {r['val_accuracy']:.3f}, "
                  f"{r['non_embedding']:,} non-embedding parameters")
        shutil.rmtree(small, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assets", default=str(ROOT / ".gpu"))
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "gpu"))
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--smoke", type=int, default=0, metavar="N",
                        help="CPU: run ftlab-fp32 and hf-grouped-fp32 once on N rows (checks the "
                             "measuring code before device time is spent on it)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--rep", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    assets, out = Path(args.assets), Path(args.out)
    if args.child:
        tool, precision = VARIANTS[args.child]
        fn = run_ftlab if tool == "ftlab" else run_hf
        result = fn(assets, Path(args.work), precision, args.rep)
        (Path(args.work) / f"{args.child}-{args.rep}.json").write_text(json.dumps(result))
        return
    variants = args.variants.split(",")
    problems = check_inputs(assets) + [f"unknown variant {v}" for v in variants if v not in VARIANTS]
    if problems:
        print("gpu check: inputs not ready:\n  - " + "\n  - ".join(problems))
        sys.exit(2)
    import torch

    from ftlab.config import load_config

    for v in variants:  # every ftlab variant's config validates (device check aside)
        if VARIANTS[v][0] == "ftlab":
            load_config(ROOT / "configs" / "sst2-minilm.yaml",
                        ftlab_overrides(assets, out, VARIANTS[v][1], "cpu"))
    rows = sum(1 for _ in (assets / "train.jsonl").open())
    plan = [f"{v}#{rep + 1}" for rep in range(args.pairs) for v in variants]
    print(f"gpu check: inputs ok ({rows} training rows, model {assets / 'minilm'}); plan: "
          f"{' '.join(plan)}, then pytest -m gpu")
    if args.smoke:
        smoke(assets, out, args.smoke)
    if args.dry_run or not torch.cuda.is_available():
        print("gpu check: " + ("--dry-run" if args.dry_run else "CUDA is not available here")
              + ": nothing measured (exit 0)")
        return
    out.mkdir(parents=True, exist_ok=True)
    work = out / "work"
    work.mkdir(exist_ok=True)
    peak = bf16_peak()
    print(f"bf16 matmul peak (8192^3, best of 10): {peak:.0f} TFLOP/s", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    for rep in range(args.pairs):
        for v in variants:
            t0 = time.time()
            subprocess.run([sys.executable, __file__, "--child", v, "--rep", str(rep), "--work",
                            str(work), "--assets", str(assets)], check=True, cwd=ROOT,
                           stdout=subprocess.DEVNULL)
            r = json.loads((work / f"{v}-{rep}.json").read_text())
            runs[v].append(r)
            print(f"{v}#{rep + 1}: {r['tokens'] / r['train_s']:,.0f} tokens/s, peak "
                  f"{r['peak_mib']:,.0f} MiB, {r['syncs'] / max(1, r['steps']):.1f} syncs/step, "
                  f"acc {r['val_accuracy']:.4f} ({time.time() - t0:.0f} s)", flush=True)
    text = (f"GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__}; bf16 matmul peak "
            f"{peak:.0f} TFLOP/s; {rows} SST-2 training rows, 1 epoch, batch {BATCH}, SDPA; "
            f"order {' '.join(plan)}; cells median [min, max].\n\n" + table(runs, peak) + "\n")
    print(text)
    (out / "gpu.md").write_text(text)
    (out / "gpu.json").write_text(json.dumps({"peak_tflops": peak, "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
