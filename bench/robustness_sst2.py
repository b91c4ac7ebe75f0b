"""The robustness experiment on SST-2: clean vs transformed accuracy, then 5,000 augmented
training examples and the same table for the augmented model.

Trains ``configs/sst2-robustness.yaml`` and ``configs/sst2-robustness-augmented.yaml`` (same
run plus ``train.augment``) through ``ftlab.runs.train_run``; each run evaluates every
transformation of its ``robustness.transforms`` on the official SST-2 dev set after training.
Writes the ``## Robustness: SST-2 transformed test sets and augmentation`` section of
BENCHMARKS.md and ``bench/results/robustness_sst2.json``.

    .venv/bin/python bench/robustness_sst2.py [--max-train 20000] [--epochs 1] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from _common import ROOT, machine, write_section

SECTION = "## Robustness: SST-2 transformed test sets and augmentation"
CONFIGS = ("configs/sst2-robustness.yaml", "configs/sst2-robustness-augmented.yaml")


def _train(config_path: str, overrides: list[str], out: Path) -> tuple[Path, float]:
    from ftlab.config import load_config
    from ftlab.runs import train_run

    cfg = load_config(ROOT / config_path, overrides + [f"output_dir={out}"])
    started = time.time()
    summary = train_run(cfg)
    return Path(summary["path"]), time.time() - started


def _pts(x: float) -> str:
    return f"{100 * x:+.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-train", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "bench-robustness")
    args = parser.parse_args()
    import os

    os.chdir(ROOT)  # the configs name ../shared/data relative to the repository root
    overrides = [f"data.max_examples={args.max_train}", f"train.epochs={args.epochs}",
                 "train.trackers=[]"]
    runs = {}
    for path in CONFIGS:
        run_dir, seconds = _train(path, overrides, args.out)
        runs[path] = {"dir": run_dir, "seconds": seconds,
                      "rob": json.loads((run_dir / "robustness" / "test.json").read_text()),
                      "run": json.loads((run_dir / "run.json").read_text())}
        print(f"{path}: {run_dir} in {seconds / 60:.1f} min", flush=True)
    clean, aug = (runs[p] for p in CONFIGS)
    rc, ra = clean["rob"], aug["rob"]
    lines = []
    for spec, e in rc["transforms"].items():
        a = ra["transforms"].get(spec, {})
        lo, hi = e["drop_ci"]
        alo, ahi = a.get("drop_ci", [float("nan")] * 2)
        mark = " **>4**" if e["drop"] > 0.04 else ""
        lines.append(
            f"| {spec} | {e['changed_share']:.1%} | {e['accuracy']:.4f} | {_pts(e['drop'])} "
            f"[{_pts(lo)}, {_pts(hi)}]{mark} | {e['flip_rate']:.1%} | {e['confidence_shift']:+.3f} "
            f"| {a.get('accuracy', float('nan')):.4f} | {_pts(a.get('drop', float('nan')))} "
            f"[{_pts(alo)}, {_pts(ahi)}] | {a.get('flip_rate', float('nan')):.1%} |")
    table = "\n".join(lines)
    aug_info = aug["run"].get("augment", [])
    added = ", ".join(f"{a['transform']} +{a['added']:,} ({a['unchanged']:,} of {a['tried']:,} "
                      f"drawn left unchanged, skipped)" for a in aug_info)
    worst = max(rc["transforms"].items(), key=lambda kv: kv[1]["drop"])
    results = {p: {"dir": str(r["dir"]), "minutes": round(r["seconds"] / 60, 2),
                   "robustness": r["rob"], "augment": r["run"].get("augment")}
               for p, r in runs.items()}
    out_json = ROOT / "bench" / "results" / "robustness_sst2.json"
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    section = f"""{SECTION}

Command: `.venv/bin/python bench/robustness_sst2.py` (repository root; {args.max_train:,}
training sentences, {args.epochs} epoch; results also in `bench/results/robustness_sst2.json`).
Machine: {machine()}. Model: all-MiniLM-L6-v2 fine-tuned with `configs/sst2-robustness.yaml`
(seed 13, AdamW 5e-5, batch 32, linear schedule with 6% warmup, max_length 128) on a seeded
stratified sample of SST-2 train (`data.max_examples`), validation = 2% carved from train (best
checkpoint by validation accuracy), test = the official SST-2 dev set (872 sentences, never
trained or selected on). The augmented model (`configs/sst2-robustness-augmented.yaml`) is the
same run plus `train.augment`: {added}; {len(aug_info)} entries, {sum(a['added'] for a in aug_info):,}
examples in all. Transformation seed = run seed 13 (each test example is transformed by a
generator seeded with (13, example id), so both models see identical transformed sets:
`predictions/test@<transformation>.jsonl` in each run directory). Drop = clean minus
transformed accuracy in points, with the 95% paired-bootstrap interval (1,000 resamples of the
872 examples, clean and transformed together); flip rate = share of test predictions that
changed; confidence shift = mean change of the probability of the clean prediction.
Training time: clean {clean['seconds'] / 60:.1f} min, augmented {aug['seconds'] / 60:.1f} min
(training, evaluation and all {len(rc['transforms'])} transformed evaluations).

Clean test accuracy: original model **{rc['clean']['accuracy']:.4f}**, augmented model
**{ra['clean']['accuracy']:.4f}**. Largest drop of the original model: `{worst[0]}`
({_pts(worst[1]['drop'])} points).

| transformation | texts changed | original: accuracy | original: drop (points) [95%] | original: flip rate | original: conf. shift | augmented: accuracy | augmented: drop [95%] | augmented: flip rate |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
{table}

Side by side in one page: `ftlab report {clean['dir'].relative_to(ROOT)} {aug['dir'].relative_to(ROOT)}`
(the comparison's robustness table); per-run flips and the transformed sets in each run's
report.
"""
    write_section(section)
    print(section)


if __name__ == "__main__":
    main()
