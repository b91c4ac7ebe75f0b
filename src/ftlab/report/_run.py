"""The HTML report: one self-contained file for a run, or a comparison of several runs.

``write_report`` reads only the files of each run directory (``run.json``, ``config.yaml``,
``env.json``, ``data_report.json``, ``metrics.jsonl``, ``evaluation/<split>.json``,
``doctor.json``), any of which may be missing: the section that needs it then says so and names
the command that writes it. The page has no external URL: CSS is inline and figures are PNG data
URIs drawn with matplotlib (Agg). All user text goes through Jinja2's autoescaping.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ftlab.core import atomic_write_text
from ftlab.errors import FtlabError
from ftlab.report import _plots
from ftlab.report._blocks import (
    Block,
    Section,
    as_dict,
    fmt,
    missing,
    note,
    png_block,
    score,
    table,
)
from ftlab.report._page import render_page
from ftlab.report._run_files import RunFiles, load_run
from ftlab.report._run_sections import run_sections, summary_section

__all__ = ["write_report", "render_report", "report_figures", "SECTION_IDS", "COMPARISON_SECTION_ID"]

SECTION_IDS = ("summary", "config", "data", "curves", "confusion", "roc-pr", "calibration",
               "errors", "slices", "robustness", "behavior", "doctor", "environment")
COMPARISON_SECTION_ID = "comparison"


def _config_tree(r: RunFiles) -> dict[str, Any]:
    import yaml

    try:
        tree = yaml.safe_load(r.config_text or "") or {}
    except yaml.YAMLError:
        return {}
    return _flat(tree) if isinstance(tree, dict) else {}


def _flat(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in tree.items():
        if isinstance(v, dict) and v:
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _config_differences(names: Sequence[str], runs: Sequence[RunFiles]) -> Block | None:
    """The resolved-config keys whose values differ between the runs (e.g. ``train.augment``),
    one row per key; ``None`` when the configs are the same (or not readable)."""
    trees = [_config_tree(r) for r in runs]
    if not all(trees):
        return None
    keys = list(dict.fromkeys(k for t in trees for k in t))
    differ = [k for k in keys if k not in ("name", "output_dir")
              and len({repr(t.get(k)) for t in trees}) > 1]
    if not differ:
        return note("the runs' resolved configs are the same except for their names")
    return table(["config key", *names], [[k, *(t.get(k) for t in trees)] for k in differ],
                 caption="config keys that differ between the runs (config.yaml)")


def _paired_differences(names: Sequence[str], runs: Sequence[RunFiles]) -> list[Block]:
    """Each run against the first on the same examples, on the test set and on each
    transformed test set both runs have: the accuracy difference with its paired-bootstrap
    95% interval and p-value (:func:`ftlab.analysis.compare_runs`)."""
    from ftlab.analysis import compare_runs, format_p

    ref = runs[0]
    sets = ["test", *(f"test@{as_dict(e).get('slug') or k}" for k, e in
                      as_dict(as_dict(ref.robustness.get("test")).get("transforms")).items())]
    rows, problems = [], []
    for name, r in zip(names[1:], runs[1:]):
        for split in sets:
            if not ((ref.path / "predictions" / f"{split}.jsonl").is_file()
                    and (r.path / "predictions" / f"{split}.jsonl").is_file()):
                continue
            try:
                c = compare_runs(ref.path, r.path, split=split, n_resamples=2000)
            except FtlabError as exc:
                problems.append(f"{name} on {split}: {exc}")
                continue
            d = c.accuracy
            rows.append([name, split, c.n, f"{d.a:.4f}", f"{d.b:.4f}",
                         f"{100 * d.difference:+.1f}",
                         f"[{100 * d.low:+.1f}, {100 * d.high:+.1f}]", format_p(d.p_value),
                         "yes" if d.p_value < c.alpha else "no"])
    blocks: list[Block] = []
    if rows:
        blocks.append(table(
            ["run", "test set", "examples", f"accuracy {names[0]}", "accuracy of run",
             "difference (points)", "95% interval", "p", "significant (p < 0.05)"], rows,
            caption=f"paired differences to {names[0]} on the same examples (paired bootstrap, "
                    f"2000 resamples; `ftlab compare` gives the same with more options)"))
    blocks += [note(p) for p in problems]
    return blocks


def _comparison(runs: Sequence[RunFiles]) -> Section:
    """The runs (hyperparameters that differ, validation and test scores), the config keys that
    differ, each paired difference with its interval and p-value, and the validation curves
    overlaid (by epoch when the runs' steps per epoch differ)."""
    names = _unique_names(runs)
    hparams = [as_dict(as_dict(r.run).get("hparams")) for r in runs]
    keys = list(dict.fromkeys(k for h in hparams for k in h))
    # "model" already has its column; hyperparameters equal in every run go into one note
    differ = [k for k in keys if k != "model" and len({repr(h.get(k)) for h in hparams}) > 1]
    same = [(k, hparams[0].get(k)) for k in keys if k not in differ and k != "model"]
    rows = []
    for name, r, h in zip(names, runs, hparams):
        run = as_dict(r.run)
        test = _test_metrics(r)
        best = run.get("best_metric")
        val = None if best is None else f"{score(best)} ({run.get('monitor') or '?'})"
        duration = run.get("duration_s")
        rows.append([name, run.get("status"), run.get("model"), run.get("dataset"),
                     *(h.get(k) for k in differ), val, run.get("best_step"),
                     score(test.get("accuracy")), score(test.get("macro_f1")),
                     f"{duration:.1f}" if isinstance(duration, (int, float)) else None])
    blocks: list[Block] = [table(
        ["run", "status", "model", "dataset", *differ, "best validation", "best step",
         "test accuracy", "test macro_f1", "duration (s)"], rows, caption="runs")]
    config_diff = _config_differences(names, runs)
    if config_diff is not None:
        blocks.append(config_diff)
    if same:
        blocks.append(note("hyperparameters the same in every run: "
                           + ", ".join(f"{k}={fmt(v)}" for k, v in same)))
    blocks += _paired_differences(names, runs)
    robust = _robustness_comparison(names, runs)
    if robust is not None:
        blocks.append(robust)
    monitors = [str(as_dict(r.run).get("monitor") or "") for r in runs]
    metric = max(set(monitors) - {"", "loss"}, key=monitors.count, default="accuracy")
    per_epoch = [as_dict(r.history.start).get("steps_per_epoch") if r.history is not None
                 and r.history.start else None for r in runs]
    by_epoch = all(isinstance(p, int) and p > 0 for p in per_epoch) and len(set(per_epoch)) > 1
    curves = {name: ([e.step / p if by_epoch and p else e.step for e in r.history.evals],
                     {k: list(r.history.eval_series(k)) for k in (metric, "loss")})
              for name, r, p in zip(names, runs, per_epoch)
              if r.history is not None and r.history.evals}
    if curves:
        blocks.append(png_block(_plots.overlay_curves_png, curves, metric,
                                x_label="epoch" if by_epoch else "step",
                                alt="validation curves of all runs"))
        if by_epoch:
            blocks.append(note("the runs have different numbers of steps per epoch: their "
                               "curves are drawn by epoch (step / steps per epoch)"))
    for name, r in zip(names, runs):
        if r.history is None:
            blocks.append(missing(f"{name}: {r.note('metrics.jsonl')}"))
    return {"id": COMPARISON_SECTION_ID, "title": "Comparison", "blocks": blocks}


def _robustness_comparison(names: Sequence[str], runs: Sequence[RunFiles]) -> Block | None:
    """Clean and transformed test accuracy of every run side by side (e.g. a model and its
    augmented twin), for the transformations evaluated on any of them."""
    reports = [as_dict(r.robustness.get("test")) for r in runs]
    specs = list(dict.fromkeys(s for rep in reports for s in as_dict(rep.get("transforms"))))
    if not specs:
        return None
    rows = []
    for name, rep in zip(names, reports):
        transforms = as_dict(rep.get("transforms"))
        clean = as_dict(rep.get("clean")).get("accuracy")
        cells: list[Any] = [name, score(clean)]
        for spec in specs:
            e = as_dict(transforms.get(spec))
            acc, drop = e.get("accuracy"), e.get("drop")
            cells.append(None if acc is None else
                         f"{score(acc)} ({100 * drop:+.1f})" if isinstance(drop, (int, float))
                         else score(acc))
        rows.append(cells)
    return table(["run", "clean test accuracy", *specs], rows,
                 caption="robustness: test accuracy on each transformed test set (drop from clean "
                         "in points); `ftlab evaluate RUN_DIR --transform ...` fills a missing cell")


def _test_metrics(r: RunFiles) -> dict[str, Any]:
    metrics = as_dict(as_dict(r.evaluations.get("test")).get("metrics"))
    # else the headline numbers training wrote into run.json
    return metrics or as_dict(as_dict(as_dict(r.run).get("test")).get("test"))


def _unique_names(runs: Sequence[RunFiles]) -> list[str]:
    names = [r.name for r in runs]
    return [f"{n} ({r.path})" if names.count(n) > 1 else n for n, r in zip(names, runs)]


def render_report(run_dirs: Sequence[Path]) -> str:
    """Render the report for one or several runs as an HTML string (nothing is written).

    Args:
        run_dirs: run directories; one gives the full report, several a comparison followed
            by each run's summary.

    Returns:
        The HTML page.

    Raises:
        FtlabError: no run directory was given.
        DataError: a run directory does not exist.
    """
    dirs = [Path(p) for p in run_dirs]
    if not dirs:
        raise FtlabError("no run directory given; pass at least one (e.g. runs/<name>)")
    runs = [load_run(d) for d in dirs]
    if len(runs) == 1:
        title = f"ftlab report: {runs[0].name}"
        sections = run_sections(runs[0])
    else:
        names = _unique_names(runs)
        title = f"ftlab comparison: {', '.join(names)}"
        sections = [_comparison(runs)] + [
            summary_section(r, section_id=f"summary-{k}", title=f"Run {k}: {name}")
            for k, (name, r) in enumerate(zip(names, runs), start=1)]
    return render_page(title, sections, sources=[str(d) for d in dirs])


def report_figures(run_dir: Path | str) -> dict[str, bytes]:
    """The report's figures of one run as PNG bytes, keyed by their description (for notebooks:
    ``IPython.display.Image(data=png)``).

    Args:
        run_dir: a run directory.

    Returns:
        ``{alt text: PNG bytes}`` in page order (learning curves, confusion matrix, ROC/PR,
        reliability diagram, robustness chart when present).
    """
    import base64

    out: dict[str, bytes] = {}
    for section in run_sections(load_run(Path(run_dir))):
        for block in section["blocks"]:
            if block.get("kind") == "img":
                src = str(block["src"]).split(",", 1)[1]
                out[str(block.get("alt") or section["id"])] = base64.b64decode(src)
    return out


def _default_output(dirs: Sequence[Path]) -> Path:
    if len(dirs) == 1:
        return dirs[0] / "report.html"
    try:
        parent = Path(os.path.commonpath([d.resolve() for d in dirs]))
    except ValueError as exc:  # e.g. different drives on Windows
        raise FtlabError(f"the runs {', '.join(map(str, dirs))} share no parent directory; "
                         f"pass output=PATH (CLI: -o FILE)") from exc
    if parent in {d.resolve() for d in dirs}:  # one run inside another: keep it out of runs
        parent = parent.parent
    return parent / "report-compare.html"


def write_report(run_dirs: Sequence[Path] | Path | str, output: Path | None = None) -> Path:
    """Write one self-contained HTML report for one run, or a comparison of several.

    Args:
        run_dirs: run directories (``runs/<name>``); a single path is accepted too.
        output: the HTML file to write. Default: ``<run_dir>/report.html`` for one run,
            ``report-compare.html`` in the runs' common parent directory for several.

    Returns:
        The path written.

    Raises:
        FtlabError: no run directory was given, or the output cannot be written.
        DataError: a run directory does not exist.
    """
    if isinstance(run_dirs, (str, os.PathLike)):
        run_dirs = [Path(run_dirs)]
    dirs = [Path(p) for p in run_dirs]
    html = render_report(dirs)
    out = Path(output) if output is not None else _default_output(dirs)
    if out.is_dir():
        raise FtlabError(f"report output {out} is a directory; pass a file name such as "
                         f"{out / 'report.html'}")
    try:
        atomic_write_text(out, html)
    except OSError as exc:
        raise FtlabError(f"cannot write the report to {out}: {exc.strerror or exc}; choose "
                         f"another output path (CLI: -o FILE)") from exc
    return out
