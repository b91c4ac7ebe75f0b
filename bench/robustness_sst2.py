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


def _checks(run_dir: Path) -> dict:
    """The built-in behavioral suite on a run (run after training when the config lists it)."""
    path = run_dir / "checks" / "sentiment.json"
    if not path.is_file():
        from ftlab.runs import check_run

        check_run(run_dir, ["builtin:sentiment"])
    return json.loads(path.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-train", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "bench-robustness")
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite the section from bench/results/robustness_sst2.json")
    args = parser.parse_args()
    import os

    os.chdir(ROOT)  # the configs name ../shared/data relative to the repository root
    out_json = ROOT / "bench" / "results" / "robustness_sst2.json"
    if args.render_only:
        render(json.loads(out_json.read_text(encoding="utf-8")))
        return
    overrides = [f"data.max_examples={args.max_train}", f"train.epochs={args.epochs}",
                 "train.trackers=[]"]
    results: dict = {"max_train": args.max_train, "epochs": args.epochs, "machine": machine(),
                     "runs": {}}
    for path in CONFIGS:
        run_dir, seconds = _train(path, overrides, args.out)
        results["runs"][path] = {
            "dir": str(run_dir.relative_to(ROOT)), "minutes": round(seconds / 60, 2),
            "robustness": json.loads((run_dir / "robustness" / "test.json").read_text()),
            "augment": json.loads((run_dir / "run.json").read_text()).get("augment"),
            "checks": _checks(run_dir)}
        print(f"{path}: {run_dir} in {seconds / 60:.1f} min", flush=True)
    results["significance"] = _significance(results)
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    render(results)


def _significance(results: dict) -> dict[str, str]:
    """Augmented vs original on the clean set and on every set that cost more than 4 points:
    ``ftlab compare ORIGINAL AUGMENTED --split test@<slug>`` (paired bootstrap)."""
    from ftlab.analysis import compare_runs

    clean, aug = (ROOT / results["runs"][p]["dir"] for p in CONFIGS)
    splits = {"clean": "test"}
    for spec, e in results["runs"][CONFIGS[0]]["robustness"]["transforms"].items():
        if e["drop"] > 0.04:
            splits[spec] = "test@" + e["slug"]
    return {name: compare_runs(clean, aug, split=split).verdict()
            for name, split in splits.items()}


def render(results: dict) -> None:
    """Write the BENCHMARKS.md section from the saved results."""
    clean, aug = (results["runs"][p] for p in CONFIGS)
    rc, ra = clean["robustness"], aug["robustness"]
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
    aug_info = aug.get("augment") or []
    added = ", ".join(f"`{a['transform']}` +{a['added']:,} ({a['unchanged']:,} of {a['tried']:,} "
                      f"drawn were left unchanged and skipped)" for a in aug_info)
    worst = max(rc["transforms"].items(), key=lambda kv: kv[1]["drop"])
    over4 = [s for s, e in rc["transforms"].items() if e["drop"] > 0.04]
    ca, cb = clean["checks"], aug["checks"]
    tests_b = {t["name"]: t for t in cb["tests"]}
    check_rows = "\n".join(
        f"| {t['name']} | {t['kind']} | {t['capability']} | {t['n']} | {t['failure_rate']:.1%} | "
        f"{tests_b.get(t['name'], {}).get('failure_rate', float('nan')):.1%} |"
        for t in ca["tests"])
    verdicts = "\n".join(f"- `{name}`: {v.replace('A and B', 'the two models')}"
                          for name, v in results.get("significance", {}).items())
    section = f"""{SECTION}

Command: `.venv/bin/python bench/robustness_sst2.py` (repository root; {results['max_train']:,}
training sentences, {results['epochs']} epoch; the figures are kept in
`bench/results/robustness_sst2.json`, and `--render-only` rewrites this section from them).
Machine: {results['machine']}. Model: all-MiniLM-L6-v2 fine-tuned with
`configs/sst2-robustness.yaml` (seed 13, AdamW 5e-5, batch 32, linear schedule with 6% warmup,
max_length 128) on a seeded stratified sample of SST-2 train (`data.max_examples`), validation =
2% carved from train (best checkpoint by validation accuracy), test = the official SST-2 dev set
(872 sentences, never trained or selected on). The augmented model
(`configs/sst2-robustness-augmented.yaml`) is the same run plus `train.augment`: {added};
{sum(a['added'] for a in aug_info):,} examples in all, listed with every edit in the run's
`augment.jsonl`. Transformation seed = run seed 13: each test example is transformed by a
generator seeded with (13, example id), so both models see identical transformed sets
(`predictions/test@<transformation>.jsonl` in each run directory). Drop = clean minus
transformed accuracy in points, with the 95% paired-bootstrap interval (1,000 resamples of the
872 examples, clean and transformed together); flip rate = share of test predictions that
changed; confidence shift = mean change of the probability of the clean prediction. Wall time
per run (training, evaluation and the {len(rc['transforms'])} transformed evaluations):
{clean['minutes']:.1f} and {aug['minutes']:.1f} min, on a machine shared with other jobs (not a
speed figure).

Clean test accuracy: original model **{rc['clean']['accuracy']:.4f}**, augmented model
**{ra['clean']['accuracy']:.4f}**. Transformations costing the original model more than 4
points: {', '.join(f'`{s}`' for s in over4) or 'none'}; the largest drop is `{worst[0]}`
({_pts(worst[1]['drop'])} points).

| transformation | texts changed | original: accuracy | original: drop (points) [95%] | original: flip rate | original: conf. shift | augmented: accuracy | augmented: drop [95%] | augmented: flip rate |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
{table}

Reading the table. Character noise (typos, drops, swaps, repeats) is what breaks MiniLM: a
typo splits a known word into unfamiliar WordPiece fragments. Synonyms barely move it (WordNet
synonyms keep the sentiment words' meaning, and at rate 0.1 only 28% of the short SST-2
sentences have an eligible word changed). `casing` and `whitespace` change nothing by design
for an uncased model whose tokenizer normalizes whitespace; `names`, `locations` and
`shuffle_sentences` find almost nothing to change because GLUE's SST-2 text is lower-cased
(capitalization is how names are recognised) and one sentence long. With 5,000 augmented
examples (2,500 of them with typos) the typo drop falls from {_pts(rc['transforms']['typos']['drop'])} to
{_pts(ra['transforms']['typos']['drop'])} points and accuracy on the typo set rises from
{rc['transforms']['typos']['accuracy']:.4f} to {ra['transforms']['typos']['accuracy']:.4f}, while clean
accuracy does not suffer. One seed per model: the clean difference between the two models
({_pts(ra['clean']['accuracy'] - rc['clean']['accuracy'])} points) is well inside what seeds
alone move on 872 sentences (the bootstrap interval of one model's accuracy is about
±2.3 points), so only the large robustness gains should be read as effects. Augmented (B) vs
original (A) on the same examples, `ftlab compare ORIGINAL AUGMENTED --split
test@<transformation>` (paired bootstrap, 10,000 resamples; one seed each, so this is the test
set's noise, not the seeds'):

{verdicts}

**Behavioral suite** (`ftlab check RUN --suite builtin:sentiment`, seed 0, {ca['summary']['cases']:,}
cases; `ftlab check AUGMENTED --suite builtin:sentiment --compare ORIGINAL` lists the
regressions): failure rate per test.

| test | kind | capability | cases | original | augmented |
|---|---|---|---:|---:|---:|
{check_rows}

Both models fail the classic CheckList negation case ("The movie was not bad." read as
negative) almost always; the augmented model fails "I can't say I like this film." more often
(one seed each, so a hint to look at, not a finding).
"""
    write_section(section)
    print(section)


if __name__ == "__main__":
    main()
