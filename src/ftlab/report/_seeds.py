"""The seed-study report: ``seeds.html`` of a seed study directory, rendered from its ``seeds.json``.

Sections: summary (validation and test mean ± std), the runs, the expected validation performance
curve (Dodge et al. 2019) and the scores per run. ``ftlab.runs.seed_study`` writes the study.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ftlab.core import atomic_write_text
from ftlab.errors import DataError
from ftlab.report._blocks import kv, link, missing, note, png_block, score, table
from ftlab.report._page import render_page
from ftlab.report._plots import figure_png as _png
from ftlab.report._plots import new_figure as _figure

__all__ = ["write_seed_report", "evp_png", "scores_png"]


def evp_png(n: list[int], mean: list[float], std: list[float], *, values: list[float],
            metric: str) -> bytes:
    """The EVP curve (expected best of ``n`` runs) with a ±1 std band, plus the observed mean
    and best as reference lines."""
    import numpy as np


    x, m, s = (np.asarray(a, dtype=np.float64) for a in (n, mean, std))
    fig = _figure(6.4, 3.6, left=0.14, bottom=0.15)
    ax = fig.add_subplot(1, 1, 1)
    # the best of n draws from the observed runs never leaves their range: the band is clipped
    lo_obs, hi_obs = float(min(values)), float(max(values))
    ax.fill_between(x, np.clip(m - s, lo_obs, hi_obs), np.clip(m + s, lo_obs, hi_obs),
                    color="C0", alpha=0.2, label="±1 std of the best of n (within observed)")
    ax.plot(x, m, "o-", color="C0", label="expected best")
    ax.axhline(float(np.mean(values)), color="0.5", ls=":", lw=1, label="mean of runs")
    ax.axhline(float(max(values) if metric != "loss" else min(values)), color="C3", ls="--",
               lw=1, label="best observed")
    ax.set_xlabel("number of runs (seeds)")
    ax.set_ylabel(f"expected best validation {metric}")
    ax.set_title("expected validation performance")
    ax.set_xticks(x if x.size <= 20 else x[:: max(1, x.size // 10)])
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return _png(fig)


def scores_png(series: dict[str, list[float]]) -> bytes:
    """A strip plot: one row per score kind (validation, test), one dot per run, mean ± std."""
    import numpy as np


    # room for the row labels ("validation accuracy") left of the axis
    fig = _figure(6.4, 0.9 + 0.8 * len(series), left=0.27, bottom=0.3)
    ax = fig.add_subplot(1, 1, 1)
    for row, vals in enumerate(series.values()):
        v = np.asarray(vals, dtype=np.float64)
        # deterministic jitter so equal scores stay visible
        jitter = (np.arange(v.size) % 5 - 2) * 0.06
        ax.scatter(v, row + jitter, s=22, color=f"C{row}", alpha=0.8, zorder=3)
        mu, sd = float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0
        ax.errorbar([mu], [row], xerr=[[sd], [sd]], fmt="|", ms=18, color="k", capsize=4,
                    zorder=4)
    ax.set_yticks(range(len(series)))
    ax.set_yticklabels(list(series))
    ax.set_ylim(-0.6, len(series) - 0.4)
    ax.set_xlabel("score per run (bar: mean ± 1 std over runs, ddof=1)")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def _report_href(study_dir: Path, run_dir: Any) -> str | None:
    """The run's ``report.html`` relative to the study directory, when it exists."""
    import os

    if not run_dir:
        return None
    report = Path(run_dir) / "report.html"
    if not report.is_file():
        return None
    try:
        return Path(os.path.relpath(report.resolve(), study_dir.resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        return report.resolve().as_uri()


def write_seed_report(study_dir: Path) -> Path:
    """Render ``seeds.html`` from ``seeds.json`` in ``study_dir``.

    Args:
        study_dir: a seed study directory (holding ``seeds.json``).

    Returns:
        The report path.

    Raises:
        DataError: ``seeds.json`` is missing or unreadable.
    """
    study_dir = Path(study_dir)
    try:
        data = json.loads((study_dir / "seeds.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{study_dir / 'seeds.json'} is missing or unreadable ({exc}); "
                        f"run `ftlab seeds CONFIG --n N` to make a study") from None
    monitor, val, test = data["monitor"], data.get("validation"), data.get("test")
    what = {"all": "initialization and data order", "init": "initialization only",
            "order": "data order only"}[data["vary"]]

    def stats(label: str, s: dict[str, Any] | None) -> tuple[str, Any]:
        if not s:
            return label, None
        std = "-" if s["std"] is None else f"{s['std']:.4f}"
        return label, (f"{s['mean']:.4f} ± {std} (min {s['min']:.4f}, max {s['max']:.4f}, "
                       f"n={s['n']})")

    summary_blocks = [kv([("study", data["name"]), ("runs", data["n"]),
                          ("seeds vary", what),
                          ("split seed (fixed)", data["seeds"]["split"]),
                          ("monitor", monitor),
                          stats(f"best validation {monitor}: mean ± std (over runs, ddof=1)",
                                val),
                          stats("test score: mean ± std (over runs, ddof=1)", test)])]
    if data.get("excluded"):
        summary_blocks.append(note(f"excluded (no validation score): "
                                   f"{', '.join(map(str, data['excluded']))}"))
    rows = [[link(r["name"], _report_href(study_dir, r.get("run_dir"))), r["init_seed"],
             r["order_seed"], r["split_seed"], r["status"], score(r["best_metric"]),
             r["best_step"], score(r["test_accuracy"]), score(r["test_macro_f1"])]
            for r in data["runs"]]
    runs_block = table(["run", "init seed", "order seed", "split seed", "status",
                        f"best validation {monitor}", "best step", "test accuracy",
                        "test macro-F1"], rows, caption="runs of the study")
    if val and val["n"] >= 1:
        evp = val["evp"]
        evp_blocks = [
            png_block(evp_png, evp["n"], evp["mean"], evp["std"], values=val["values"],
                      metric=monitor, alt="expected validation performance curve"),
            table(["runs n", "expected best", "std of the best of n"],
                  [[k, score(m), score(s)] for k, m, s in
                   zip(evp["n"], evp["mean"], evp["std"])]),
            note("expected best validation score of n runs drawn with replacement from these "
                 "(order-statistics estimator of Dodge et al. 2019); n = 1 is the mean. Its std "
                 "is the spread of that best over the draws (population std, ddof=0), so at "
                 "n = 1 it is the summary's std (ddof=1) times sqrt((N-1)/N) for N runs; the "
                 "band in the figure is clipped to the observed scores"),
        ]
        series = {f"validation {monitor}": val["values"]}
        if test:
            series["test"] = test["values"]
        score_blocks = [png_block(scores_png, series, alt="scores per run")]
    else:
        evp_blocks = [missing("no run finished with a validation score")]
        score_blocks = [missing("no scores")]
    sections = [
        {"id": "summary", "title": "Summary", "blocks": summary_blocks},
        {"id": "runs", "title": "Runs", "blocks": [runs_block]},
        {"id": "evp", "title": "Expected validation performance", "blocks": evp_blocks},
        {"id": "scores", "title": "Scores", "blocks": score_blocks},
    ]
    html = render_page(f"ftlab seed study: {data['name']}", sections,
                       sources=[str(study_dir)])
    out = study_dir / "seeds.html"
    atomic_write_text(out, html)
    return out
