"""Tuning benchmark: a 3x3 grid vs TPE with median pruning, and a 10-seed study.

On SST-2 (``configs/sst2-file.yaml``: bag of GloVe embeddings, train capped at a seeded
20,000-sentence sample, validation = the official dev set) every trial trains 4 epochs and is
scored by its best per-epoch validation accuracy:

1. grid: learning rate {1e-3, 3e-3, 1e-2} x dropout {0, 0.25, 0.5}, no pruning (36 epochs);
2. TPE (4 random start-up trials) + median pruning over the same box (lr log-uniform in
   [1e-3, 1e-2], dropout uniform in [0, 0.5]), resumed one trial at a time while the epochs
   trained stay within half of the grid's;
3. ``ftlab seeds configs/quickstart.yaml --n 10``: the default config under 10 seeds.

Writes the ``## Tuning: grid vs TPE + pruning, seed variance`` section of BENCHMARKS.md and
``bench/results/tuning.json``.

    .venv/bin/python bench/tuning.py [--max-train 20000] [--epochs 4] [--seeds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from _common import ROOT, machine, write_section

SECTION = "## Tuning: grid vs TPE + pruning, seed variance"
GRID = {"train.lr": [1e-3, 3e-3, 1e-2], "model.dropout": [0.0, 0.25, 0.5]}


def _base(args: argparse.Namespace, out: Path):
    from ftlab.config import load_config

    return load_config(ROOT / "configs" / "sst2-file.yaml", [
        f"data.max_examples={args.max_train}", f"train.epochs={args.epochs}",
        "train.eval_every=null", "train.trackers=[]", "eval.splits=[]", f"output_dir={out}"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-train", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "bench-tuning")
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite the section from bench/results/tuning.json")
    args = parser.parse_args()
    os.chdir(ROOT)  # the configs name ../shared/data relative to the repository root
    out_json = ROOT / "bench" / "results" / "tuning.json"
    if args.render_only:
        render(json.loads(out_json.read_text(encoding="utf-8")))
        return
    import optuna

    from ftlab.config import load_config
    from ftlab.runs import seed_study
    from ftlab.tuning import parse_space, run_study

    base = _base(args, args.out)
    grid_space = parse_space({"params": {
        "train.lr": {"low": 1e-3, "high": 1e-2, "grid": GRID["train.lr"]},
        "model.dropout": {"low": 0.0, "high": 0.5, "grid": GRID["model.dropout"]}}})
    started = time.time()
    grid = run_study(base, grid_space, name="grid", sampler="grid", pruner="none")
    grid_min = (time.time() - started) / 60
    budget = grid.summary["epochs_total"] / 2
    tpe_space = parse_space({"params": {"train.lr": {"low": 1e-3, "high": 1e-2},
                                        "model.dropout": {"low": 0.0, "high": 0.5}}})
    sampler = optuna.samplers.TPESampler(seed=base.seed, n_startup_trials=4)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
    started = time.time()
    trials = 4
    tpe = run_study(base, tpe_space, name="tpe", sampler=sampler, pruner=pruner, trials=trials)
    # one more trial at a time (the study resumes from its storage) while a full trial still fits
    while tpe.summary["epochs_total"] + args.epochs <= budget:
        trials += 1
        tpe = run_study(base, tpe_space, name="tpe", sampler=sampler, pruner=pruner,
                        trials=trials)
    tpe_min = (time.time() - started) / 60
    seeds_cfg = load_config(ROOT / "configs" / "quickstart.yaml",
                            ["train.trackers=[]", f"output_dir={args.out}"])
    started = time.time()
    seeds = seed_study(seeds_cfg, args.seeds, "all", name="seeds-quickstart")
    seeds_min = (time.time() - started) / 60

    def study(result, minutes):
        s = result.summary
        return {"best": s["best"], "epochs_total": s["epochs_total"], "minutes": round(minutes, 2),
                "trials": [{k: t[k] for k in ("number", "state", "params", "value",
                                              "epochs_trained")} for t in s["trials"]]}

    results = {"machine": machine(), "max_train": args.max_train, "epochs": args.epochs,
               "grid": study(grid, grid_min), "tpe": study(tpe, tpe_min),
               "seeds": {"n": args.seeds, "minutes": round(seeds_min, 2),
                         "validation": seeds["validation"], "test": seeds.get("test"),
                         "monitor": seeds["monitor"]}}
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    render(results)


def _trial_rows(study: dict) -> str:
    rows = []
    for t in study["trials"]:
        p = t["params"]
        value = "-" if t["value"] is None else f"{t['value']:.4f}"
        rows.append(f"| {t['number']} | {p['train.lr']:.4g} | {p['model.dropout']:.3g} | "
                    f"{t['state'].lower()} | {t['epochs_trained']:g} | {value} |")
    return "\n".join(rows)


def render(r: dict) -> None:
    """Write the BENCHMARKS.md section from the saved results."""
    g, t, s = r["grid"], r["tpe"], r["seeds"]
    gap = 100 * (g["best"]["value"] - t["best"]["value"])
    share = t["epochs_total"] / g["epochs_total"]
    ok = gap <= 0.5 and share <= 0.5
    v = s["validation"]
    evp = v.get("evp") or {}
    evp_rows = " | ".join(f"{m:.4f}" for m in (evp.get("mean") or [])[: s["n"]])
    test = s.get("test") or {}
    section = f"""{SECTION}

Command: `.venv/bin/python bench/tuning.py` (repository root; results kept in
`bench/results/tuning.json`, `--render-only` rewrites this section from them). Machine:
{r['machine']}. Base: `configs/sst2-file.yaml` (bag of GloVe 50d embeddings, head [128], AdamW,
linear schedule, batch 64) on a seeded {r['max_train']:,}-sentence sample of SST-2 train,
validation = the official dev set (872 sentences); every trial trains {r['epochs']} epochs with a
validation evaluation after each and is scored by its best one (`ftlab tune`'s objective).
Grid: `--sampler grid --pruner none` over lr {GRID['train.lr']} x dropout
{GRID['model.dropout']}. TPE: Optuna's TPESampler (seed 13, 4 random start-up trials) +
MedianPruner (3 start-up trials, prunable from the first evaluation) over lr log-uniform in
[1e-3, 1e-2] x dropout uniform in [0, 0.5], resumed one trial at a time while a full trial still
fits in half the grid's epochs. One seed per trial: for scale, the default (quickstart) config's
best validation accuracy has a standard deviation of {100 * r['seeds']['validation']['std']:.2f}
points across seeds (below, on its own data), so a gap of a few tenths of a point between the
two studies is not a ranking.

| study | trials | best validation accuracy | best lr | best dropout | epochs trained | wall time |
|---|---:|---:|---:|---:|---:|---:|
| grid 3x3 | {len(g['trials'])} | {g['best']['value']:.4f} | {g['best']['params']['train.lr']:.4g} | {g['best']['params']['model.dropout']:.3g} | {g['epochs_total']:g} | {g['minutes']:.1f} min |
| TPE + median pruning | {len(t['trials'])} ({sum(x['state'] == 'PRUNED' for x in t['trials'])} pruned) | {t['best']['value']:.4f} | {t['best']['params']['train.lr']:.4g} | {t['best']['params']['model.dropout']:.3g} | {t['epochs_total']:g} ({share:.0%} of the grid's) | {t['minutes']:.1f} min |

Target (TPE within 0.5 points of the grid's best with at most 50% of its epochs):
**{'met' if ok else 'missed'}** ({gap:+.2f} points behind the grid, {share:.0%} of its epochs).

TPE trials:

| trial | lr | dropout | state | epochs | best validation accuracy |
|---|---:|---:|---|---:|---:|
{_trial_rows(t)}

Grid trials:

| trial | lr | dropout | state | epochs | best validation accuracy |
|---|---:|---:|---|---:|---:|
{_trial_rows(g)}

**Seed variance** (`ftlab seeds configs/quickstart.yaml --n {s['n']}`: the quickstart's bag of
embeddings on Rotten Tomatoes, seeds 1..{s['n']} for initialization and batch order, the split
fixed): best validation {s['monitor']} mean **{v['mean']:.4f}**, standard deviation
**{v['std']:.4f}**, min {v['min']:.4f}, max {v['max']:.4f}{'' if not test else f"; test accuracy mean {test['mean']:.4f} (std {test['std']:.4f})"}.
Expected best validation score of n runs (n = 1..{s['n']}, unbiased estimator of Dodge et al.
2019): {evp_rows}. Wall time {s['minutes']:.1f} min.
"""
    write_section(section)
    print(section)


if __name__ == "__main__":
    main()
