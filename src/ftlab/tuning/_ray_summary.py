"""``study.json`` of a Ray Tune study (schema in :mod:`ftlab.tuning._ray`)."""

from __future__ import annotations

import json
import math
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

from ftlab.core import atomic_write_json
from ftlab.config import RunConfig
from ftlab.tuning._advice import boundary_warnings
from ftlab.tuning._space import SearchSpace
from ftlab.tuning._summary import StudySummary

__all__ = ["summarize_ray_study"]


def _trial_number(trial_id: str) -> int:
    try:
        return int(trial_id.rsplit("_", 1)[1])
    except (IndexError, ValueError):
        return abs(hash(trial_id)) % 10_000


def _finite(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _trial_id(result: Any) -> str:
    # the trial directory, trainable_<experiment>_<index>_<tag>_<date>, names the trial; the
    # last result's trial_id may be the PBT donor's
    found = re.search(r"_([0-9a-f]+_\d{5})_", Path(str(result.path)).name)
    return found.group(1) if found else str((result.metrics or {}).get("trial_id", ""))


def _epochs_trained(run_dir: Path) -> float:
    """Epochs this trial's processes trained (``epoch`` lines of its metrics.jsonl)."""
    return float(sum(1 for r in _read_jsonl(run_dir / "metrics.jsonl")
                     if r.get("kind") == "epoch"))


def _prune_ray_copies(trial_dir: Path, keep: int) -> int:
    """Keep Ray's newest ``keep`` checkpoint copies of a finished trial (under PBT, Ray's own
    ``num_to_keep`` may leave one more); returns how many are left."""
    copies = sorted(p for p in trial_dir.glob("checkpoint_*") if p.is_dir())
    for p in copies[:-keep]:
        shutil.rmtree(p, ignore_errors=True)
    return min(len(copies), keep)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def summarize_ray_study(config: RunConfig, space: SearchSpace, grid: Any, *, name: str,
                        study_dir: Path, scheduler: str, trials: int, keep_checkpoints: int,
                        config_path: str | Path | None = None) -> dict[str, Any]:
    """Read Ray's ResultGrid and the trials' run directories into ``study.json``.

    Runs that Ray stopped (ASHA, or a PBT trial that ended while paused) still say
    ``status: running`` in run.json; they are marked ``pruned`` with the reason.

    Returns:
        The summary written to ``<study_dir>/study.json``.
    """
    from ftlab.runs import load_summary, update_summary
    from ftlab.tuning._study import _yaml_value

    monitor = config.eval.monitor
    sign = -1.0 if monitor == "loss" else 1.0
    rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    keys = [p.name for p in space.nuisance]
    for result in grid:
        number = _trial_number(_trial_id(result))
        run_dir = study_dir / f"trial-{number:04d}"
        df = result.metrics_dataframe
        reported = [] if df is None or monitor not in df else [
            v for v in (_finite(x) for x in df[monitor].tolist()) if v is not None]
        ckpts_seen = ([] if df is None or "ftlab_checkpoints_on_disk" not in df
                      else [int(x) for x in df["ftlab_checkpoints_on_disk"].dropna().tolist()])
        run = load_summary(run_dir)
        state, reason = "COMPLETE", None
        if result.error is not None:
            state, reason = "FAIL", f"{type(result.error).__name__}: {result.error}"[:2000]
        elif run.status in ("running", "stopped", "pruned"):
            state = "PRUNED"
            reason = run.stop_reason if run.status == "pruned" else (
                f"stopped by ray {scheduler} after {len(reported)} epochs (validation {monitor} "
                f"{reported[-1]:.4g})" if reported else f"stopped by ray {scheduler}")
            if run.status != "pruned":
                update_summary(run_dir, status="pruned", stop_reason=reason)
        exploits = _read_jsonl(run_dir / "pbt.jsonl")
        events += exploits
        ray_ckpts = _prune_ray_copies(Path(str(result.path)), keep_checkpoints)
        on_disk = sum(1 for p in (run_dir / "checkpoints").glob("step-*") if p.is_dir())
        best_value = (max(reported, key=lambda v: sign * v) if reported else None)
        rows.append({
            "number": number, "state": state,
            "params": {**space.fixed, **{k: result.config[k] for k in keys
                                         if k in (result.config or {})}},
            "initial_params": run.tags.get("initial_params"),
            "value": best_value, "last_value": reported[-1] if reported else None,
            "epochs_trained": _epochs_trained(run_dir), "evaluations": len(reported),
            "run_dir": str(run_dir), "max_checkpoints_on_disk": max(ckpts_seen + [on_disk]),
            "ray_checkpoints_on_disk": ray_ckpts, "exploits": len(exploits),
            "fail_reason": reason if state == "FAIL" else None,
            "stop_reason": reason if state == "PRUNED" else None,
        })
    rows.sort(key=lambda r: r["number"])
    events.sort(key=lambda e: (e.get("at_epoch", 0), e["trial"]))
    candidates = [r for r in rows if r["state"] == "COMPLETE" and r["value"] is not None] or [
        r for r in rows if r["value"] is not None]
    best_row = max(candidates, key=lambda r: sign * r["value"]) if candidates else None
    best = None if best_row is None else {
        "optuna_study": name, "number": best_row["number"], "value": best_row["value"],
        "params": best_row["params"], "run_dir": best_row["run_dir"]}
    warnings = boundary_warnings(space, best["params"]) if best else []
    if best and scheduler == "pbt" and best_row and best_row["exploits"]:
        warnings.append(f"trial {best_row['number']} changed hyperparameters during training "
                        "(see pbt_events); the retrain command uses its final values")
    command = None
    if best is not None:
        shown = str(config_path or study_dir / "config.yaml")
        sets = " ".join(f"--set {shlex.quote(f'{k}={_yaml_value(v)}')}"
                        for k, v in best["params"].items())
        command = f"ftlab train {shlex.quote(shown)} {sets}".strip()
    summary = {
        "schema": 1, "backend": "ray", "scheduler": scheduler, "study": name,
        "study_dir": str(study_dir), "storage": str(study_dir / "ray"),
        "direction": "minimize" if sign < 0 else "maximize", "monitor": monitor,
        "trials_requested": trials, "epochs_per_trial": config.train.epochs,
        "epochs_total": round(sum(r["epochs_trained"] for r in rows), 4),
        "keep_checkpoints": keep_checkpoints, "best": best, "groups": [], "trials": rows,
        "pbt_events": events, "warnings": warnings, "retrain_command": command,
        "refined_space": None,
    }
    summary = StudySummary.model_validate(summary).to_dict()  # the schema, checked on write
    atomic_write_json(study_dir / "study.json", summary)
    return summary
