"""``ftlab seeds``: the same config trained under N seeds, summarised honestly.

A seed study (Dodge et al. 2020, "Fine-tuning pretrained language models: weight
initializations, data orders, and early stopping") trains one config N times, changing only
randomness, and reports the mean, standard deviation, range and the expected validation
performance (EVP) curve: the expected best validation score of ``n`` runs, ``n = 1 .. N``.

The data split is not a training seed: every run of a study uses the config's split seed
(``data.split_seed``, default ``seed``). What varies is chosen by ``vary``:

- ``all``: run ``k`` uses seed ``k`` for both model initialization and data order (and dropout);
- ``init``: only the initialization changes, the order seed stays the config's;
- ``order``: only the data order (and dropout) changes, the init seed stays the config's.

Layout::

    <output_dir>/<name>/
      seed-1/ ... seed-N/   ordinary runs, tagged {study: NAME, seed_study: true} in run.json
      seeds.json            per-run scores and the summary (see :func:`seed_study`)
      seeds.html            self-contained report (table, summary, EVP curve, score strip)
"""

from __future__ import annotations

import datetime as _dt
import time
from pathlib import Path
from typing import Any, Literal, get_args

from ftlab.config import RunConfig, parse_config
from ftlab.core import Record, fmt_value, format_seconds
from ftlab.errors import ConfigError
from ftlab.report import write_seed_report
from ftlab.runs._rundir import utc_now, write_json_atomic

__all__ = ["seed_study", "study_configs", "read_seed_study", "SeedStudyResult", "Vary", "VARY"]

Vary = Literal["all", "init", "order"]
VARY: tuple[str, ...] = get_args(Vary)


class SeedStudyResult(Record):
    """``seeds.json``: a seed study's runs and their summary (schema in :func:`seed_study`)."""

    name: str
    study_dir: str
    n: int
    vary: Vary
    monitor: str
    mode: Literal["max", "min"] = "max"
    seeds: dict[str, int | None] = {}
    runs: list[dict[str, Any]] = []
    validation: dict[str, Any] | None = None
    test: dict[str, Any] | None = None
    excluded: list[Any] = []
    report: str | None = None
    created: str | None = None

    def format(self) -> str:
        """The runs (seeds, best validation and test score), mean ± std, the EVP figures and
        where the files are, as ``ftlab seeds`` prints them."""
        header = ["run", "init seed", "order seed", f"best val {self.monitor}", "test"]
        rows = [[str(r.get("name")), str(r.get("init_seed")), str(r.get("order_seed")),
                 fmt_value(r.get("best_metric")), fmt_value(r.get("test_metric"))]
                for r in self.runs]
        widths = [max(len(c) for c in col) for col in zip(header, *rows)]
        lines = [f"seed study {self.name} (vary {self.vary}, split seed {self.seeds.get('split')})"]
        lines += ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                            for i, (c, w) in enumerate(zip(row, widths)))
                  for row in [header, *rows]]
        for label, s in ((f"validation {self.monitor}", self.validation), ("test", self.test)):
            if s:
                std = "-" if s["std"] is None else f"{s['std']:.4f}"
                lines.append(f"{label}: mean {s['mean']:.4f} ± {std} (min {s['min']:.4f}, max "
                             f"{s['max']:.4f}, n={s['n']})")
        if self.validation:
            evp = self.validation["evp"]
            lines.append("expected best validation score of n runs: " + ", ".join(
                f"n={k}: {m:.4f}" for k, m in zip(evp["n"], evp["mean"])))
        lines.append(f"summary: {self.study_dir}/seeds.json\nreport: {self.report}\n"
                     f"runs: ftlab runs --dir {self.study_dir}")
        return "\n".join(lines)


def study_dir_for(config: RunConfig, name: str | None, kind: str) -> tuple[str, Path]:
    """A fresh ``<output_dir>/<name>`` (``-2``, ``-3`` ... appended when taken); ``name``
    defaults to the config's ``name``, else ``<kind>-<model>-<time>``."""
    stem = (name or config.name
            or f"{kind}-{config.model.family}-{_dt.datetime.now():%Y%m%d-%H%M%S}")
    if not stem or any(c in stem for c in "/\\") or stem.startswith("."):
        raise ConfigError(f"--name must be a plain directory name, got {stem!r}")
    base = Path(config.output_dir)
    path, i = base / stem, 1
    while path.exists():
        i += 1
        path = base / f"{stem}-{i}"
    path.mkdir(parents=True)
    return path.name, path


def study_configs(config: RunConfig, n: int, vary: Vary = "all") -> list[RunConfig]:
    """The N configs of a seed study (run ``k`` of ``1 .. n`` uses seed ``k`` where it varies).

    The split seed is written out explicitly (the config's ``data.split_seed`` or ``seed``), so
    every run's resolved ``config.yaml`` names the seeds it ran with and resumes exactly.

    Args:
        config: the study's config.
        n: number of runs, >= 1.
        vary: ``"all"`` (init and order), ``"init"`` or ``"order"``.

    Returns:
        One config per seed.

    Raises:
        ConfigError: ``n`` < 1 or an unknown ``vary``.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"--n must be a positive number of runs, got {n!r}; use e.g. --n 10")
    if vary not in VARY:
        raise ConfigError(f"--vary must be one of {', '.join(VARY)}, got {vary!r}")
    fixed = {p: config.seed_for(p) for p in ("split", "init", "order")}
    out = []
    for k in range(1, n + 1):
        raw = config.model_dump(mode="json")
        raw["data"]["split_seed"] = fixed["split"]
        raw["train"]["init_seed"] = k if vary in ("all", "init") else fixed["init"]
        raw["train"]["order_seed"] = k if vary in ("all", "order") else fixed["order"]
        out.append(parse_config(raw, origin=f"seed study run {k}"))
    return out


def _summary(values: list[float], monitor: str) -> dict[str, Any] | None:
    """seed_summary of the scores; for a loss the EVP is the expected *lowest* loss."""
    from ftlab.analysis import evp_curve, seed_summary

    if not values:
        return None
    out = seed_summary(values).to_dict()
    if monitor == "loss":
        curve = evp_curve([-v for v in values])
        out["evp"] = {"n": list(curve.n), "mean": [-m for m in curve.mean], "std": list(curve.std)}
    return out


def seed_study(
    config: RunConfig,
    n: int,
    vary: Vary = "all",
    name: str | None = None,
    *,
    console: Any = None,
) -> dict[str, Any]:
    """Train ``config`` under ``n`` seeds and write ``seeds.json`` and ``seeds.html``.

    Args:
        config: the config every run shares (its split seed is kept for all runs).
        n: number of runs (seeds ``1 .. n``).
        vary: what the seed changes: ``"all"`` (init and data order), ``"init"`` or ``"order"``.
        name: the study directory name under ``config.output_dir`` (default the config's
            ``name``, else ``seeds-<model>-<time>``; ``-2`` ... appended when taken).
        console: a rich console for progress lines (optional).

    Returns:
        The ``seeds.json`` content::

            {"name", "study_dir", "n", "vary", "monitor", "mode": "max"|"min",
             "seeds": {"split", "init" | None, "order" | None},   # fixed ones; None = varied
             "runs": [{"seed", "name", "run_dir", "status", "init_seed", "order_seed",
                       "split_seed", "best_metric", "best_step", "test_metric",
                       "test_accuracy", "test_macro_f1"}],
             "validation": {"n", "mean", "std", "min", "max", "values",
                            "evp": {"n", "mean", "std"}},        # over runs' best_metric
             "test": {...same keys...} | None,                    # over runs' test_metric
             "excluded": [names of runs without a best_metric],
             "report": "<study_dir>/seeds.html", "created"}

    Raises:
        ConfigError: invalid ``n``/``vary``/``name``, or a config error of a run.
    """
    configs = study_configs(config, n, vary)
    say = console.print if console is not None else (lambda *a, **k: None)
    from ftlab.runs._train import train_run

    name, study_dir = study_dir_for(config, name, "seeds")
    monitor = config.eval.monitor
    runs: list[dict[str, Any]] = []
    started = time.monotonic()
    for k, cfg in enumerate(configs, start=1):
        per_run = (time.monotonic() - started) / max(1, k - 1)
        eta = "" if k == 1 else f", eta {format_seconds(per_run * (n - k + 1))}"
        say(f"seed study {name}: run {k}/{n} (init seed {cfg.seed_for('init')}, order seed "
            f"{cfg.seed_for('order')}, split seed {cfg.seed_for('split')}{eta})")
        cfg = cfg.model_copy(update={"output_dir": str(study_dir), "name": None})
        summary = train_run(cfg, name=f"seed-{k}", console=console,
                            tags={"study": name, "seed_study": True, "vary": vary, "seed": k})
        runs.append(_run_row(k, cfg, summary))
    result = SeedStudyResult.model_validate(
        _study_result(name, study_dir, config, n, vary, monitor, runs)).to_dict()
    write_json_atomic(study_dir / "seeds.json", result)
    write_seed_report(study_dir)
    return result


def _run_row(k: int, cfg: RunConfig, summary: dict[str, Any]) -> dict[str, Any]:
    test = (summary.get("test") or {}).get("test") or {}
    return {
        "seed": k, "name": summary.get("name"), "run_dir": summary.get("path"),
        "status": summary.get("status"), "init_seed": cfg.seed_for("init"),
        "order_seed": cfg.seed_for("order"), "split_seed": cfg.seed_for("split"),
        "best_metric": summary.get("best_metric"), "best_step": summary.get("best_step"),
        "test_metric": summary.get("test_metric"), "test_accuracy": test.get("accuracy"),
        "test_macro_f1": test.get("macro_f1"),
    }


def _study_result(name: str, study_dir: Path, config: RunConfig, n: int, vary: str,
                  monitor: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    val = [float(r["best_metric"]) for r in runs if isinstance(r["best_metric"], (int, float))]
    test = [float(r["test_metric"]) for r in runs if isinstance(r["test_metric"], (int, float))]
    return {
        "name": name, "study_dir": str(study_dir), "n": n, "vary": vary, "monitor": monitor,
        "mode": "min" if monitor == "loss" else "max",
        "seeds": {"split": config.seed_for("split"),
                  "init": None if vary in ("all", "init") else config.seed_for("init"),
                  "order": None if vary in ("all", "order") else config.seed_for("order")},
        "runs": runs,
        "validation": _summary(val, monitor),
        # the test score is accuracy or macro-F1 (the monitor, or accuracy for a loss monitor)
        "test": _summary(test, "accuracy"),
        "excluded": [r["name"] for r in runs if not isinstance(r["best_metric"], (int, float))],
        "report": str(study_dir / "seeds.html"),
        "created": utc_now(),
    }


def read_seed_study(study_dir: Path) -> dict[str, Any]:
    """The ``seeds.json`` of a study directory (empty dict when absent)."""
    import json

    try:
        return json.loads((Path(study_dir) / "seeds.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
