"""Tables and figures for a paper: LaTeX (booktabs) and Markdown tables, PDF/SVG figures.

:func:`write_paper` reads run directories (and seed-study directories) and writes, for an
ACL-style paper, ``results``, ``comparison``, ``robustness`` and ``seeds`` tables as
``.tex`` (a ``table`` float with ``\\toprule``/``\\midrule``/``\\bottomrule``, a caption and a
label) and ``.md``, and the figures ``learning_curves`` and ``robustness`` as vector files
with a ``figures.tex`` that includes them with captions. Every number is traceable: each table
row is preceded by a comment naming the file and the key it came from (``%`` in LaTeX, a
``Sources:`` list under the Markdown table), comparisons name the test and its settings.

Number formats are the report's: accuracies, F1 and drops in percent (points) with one
decimal, p-values with three decimals (``<0.001`` below), counts as integers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = ["PaperTable", "write_paper", "latex_escape", "PAPER_FORMATS"]

PAPER_FORMATS = ("latex", "markdown")
FigureFormat = Literal["pdf", "svg"]

_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}"}


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters in plain text."""
    return "".join(_LATEX_SPECIAL.get(c, c) for c in str(text))


def pct(x: float | None) -> str:
    """A fraction as percent with one decimal (``0.8517`` -> ``85.2``); ``-`` when missing."""
    return "-" if x is None or not math.isfinite(x) else f"{100 * x:.1f}"


def pct_ci(ci: Sequence[float] | None) -> str:
    """``[84.0, 86.3]`` (percent); empty when missing."""
    if not ci or len(ci) != 2 or not all(isinstance(v, (int, float)) for v in ci):
        return ""
    return f"[{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]"


def signed_points(x: float) -> str:
    """A difference of fractions in percentage points with a sign (``+1.3``)."""
    return f"{100 * x:+.1f}"


def p_text(p: float) -> str:
    """``0.042``; ``<0.001`` below."""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def stars(p: float) -> str:
    """Significance marks: ``**`` p < 0.01, ``*`` p < 0.05."""
    return "**" if p < 0.01 else "*" if p < 0.05 else ""


@dataclass
class PaperTable:
    """One table: header, rows (plain-text cells), the source of each row, caption, label."""

    name: str
    caption: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    align: str = ""
    note: str = ""

    def latex(self) -> str:
        """A booktabs ``table`` float (``\\small``), one ``%`` source comment per row."""
        align = self.align or "l" + "r" * (len(self.header) - 1)
        lines = [f"% {self.name}.tex: written by ftlab report --format latex",
                 r"\begin{table}[t]", r"\centering", r"\small",
                 rf"\begin{{tabular}}{{{align}}}", r"\toprule",
                 " & ".join(latex_escape(h) for h in self.header) + r" \\", r"\midrule"]
        for row, source in zip(self.rows, self.sources):
            lines.append(f"% source: {source}")
            lines.append(" & ".join(latex_escape(c) for c in row) + r" \\")
        lines += [r"\bottomrule", r"\end{tabular}"]
        caption = latex_escape(self.caption) + (f" {latex_escape(self.note)}" if self.note else "")
        lines += [rf"\caption{{{caption}}}", rf"\label{{tab:{self.name}}}", r"\end{table}", ""]
        return "\n".join(lines)

    def markdown(self) -> str:
        """A pipe table with the caption above and, below it, the source of each row."""
        lines = [f"**Table: {self.caption}**", "",
                 "| " + " | ".join(self.header) + " |",
                 "|" + "|".join(":---" if i == 0 else "---:" for i in range(len(self.header)))
                 + "|"]
        for row in self.rows:
            lines.append("| " + " | ".join(c.replace("|", r"\|") for c in row) + " |")
        if self.note:
            lines += ["", self.note]
        lines += ["", "Sources:"] + [f"- {row[0]}: {source}"
                                     for row, source in zip(self.rows, self.sources)]
        return "\n".join(lines) + "\n"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _name(run_dir: Path) -> str:
    return run_dir.name


def results_table(run_dirs: Sequence[Path], split: str = "test") -> PaperTable:
    """Accuracy and macro-F1 on ``split`` with their 95% bootstrap intervals, per run."""
    t = PaperTable("results", f"Results on the {split} set: accuracy and macro-F1 (%) with "
                   f"95% bootstrap confidence intervals.",
                   ["Run", "Model", "Accuracy", "95% CI", "Macro-F1", "95% CI", "n"])
    for run in run_dirs:
        summary = _read_json(run / "run.json")
        m = ((summary.get("test") or {}).get(split)) or {}
        t.rows.append([_name(run), str(summary.get("model", "")), pct(m.get("accuracy")),
                       pct_ci(m.get("accuracy_ci")), pct(m.get("macro_f1")),
                       pct_ci(m.get("macro_f1_ci")), str(m.get("n", "-"))])
        t.sources.append(f"{run / 'run.json'}: test.{split}.accuracy, accuracy_ci, macro_f1, "
                         f"macro_f1_ci, n")
    return t


def comparison_table(run_dirs: Sequence[Path], split: str = "test", *, seed: int = 0,
                     n_resamples: int = 10_000) -> PaperTable:
    """Each run against the first on the same examples: the difference in accuracy (points)
    with its paired-bootstrap interval and p-value, marked ``*`` (p<0.05) / ``**`` (p<0.01)."""
    from ftlab.analysis import compare_runs

    ref = run_dirs[0]
    t = PaperTable("comparison", f"Differences to {_name(ref)} on the {split} set (accuracy, "
                   f"percentage points) with paired-bootstrap 95% intervals and p-values "
                   f"({n_resamples} resamples, seed {seed}).",
                   ["Run", "Accuracy", "Difference", "95% CI", "p", ""],
                   note="* p < 0.05, ** p < 0.01.")
    for run in run_dirs[1:]:
        c = compare_runs(ref, run, split=split, seed=seed, n_resamples=n_resamples)
        d = c.accuracy
        t.rows.append([_name(run), pct(d.b), signed_points(d.difference),
                       f"[{signed_points(d.low)}, {signed_points(d.high)}]", p_text(d.p_value),
                       stars(d.p_value)])
        t.sources.append(f"ftlab.analysis.compare_runs({ref}, {run}, split={split!r}, "
                         f"test='paired-bootstrap', seed={seed}) over "
                         f"{ref / 'predictions' / (split + '.jsonl')} and "
                         f"{run / 'predictions' / (split + '.jsonl')}")
    return t


def robustness_table(run_dirs: Sequence[Path], split: str = "test") -> PaperTable | None:
    """Clean and transformed accuracy, the drop (points, 95% paired-bootstrap interval) and
    the flip rate per run and transformation; ``None`` when no run has a robustness file."""
    t = PaperTable("robustness", f"Robustness on the {split} set: accuracy (%) on the clean and "
                   f"the transformed examples, the drop in percentage points with its 95% "
                   f"paired-bootstrap interval, and the share of predictions that flipped (%).",
                   ["Run", "Transformation", "Clean", "Transformed", "Drop", "95% CI", "Flips"])
    for run in run_dirs:
        path = run / "robustness" / f"{split}.json"
        rob = _read_json(path)
        clean = (rob.get("clean") or {}).get("accuracy")
        for spec, e in (rob.get("transforms") or {}).items():
            lo, hi = (e.get("drop_ci") or [float("nan")] * 2)[:2]
            t.rows.append([_name(run), spec, pct(clean), pct(e.get("accuracy")),
                           f"{100 * e['drop']:.1f}", f"[{100 * lo:.1f}, {100 * hi:.1f}]",
                           pct(e.get("flip_rate"))])
            t.sources.append(f"{path}: clean.accuracy, transforms[{spec!r}].accuracy, drop, "
                             f"drop_ci, flip_rate")
    return t if t.rows else None


def seeds_table(study_dirs: Sequence[Path]) -> PaperTable | None:
    """Mean, standard deviation (ddof=1), min and max of the validation and test score over a
    seed study's runs; ``None`` when no directory is a seed study."""
    t = PaperTable("seeds", "Seed studies: mean, standard deviation (over runs, ddof=1), "
                   "minimum and maximum (%) of the best validation and the test score.",
                   ["Study", "Score", "Runs", "Mean", "Std", "Min", "Max"])
    for study in study_dirs:
        path = study / "seeds.json"
        data = _read_json(path)
        for which in ("validation", "test"):
            s = data.get(which)
            if not s:
                continue
            t.rows.append([study.name, which, str(s.get("n", "-")), pct(s.get("mean")),
                           pct(s.get("std")), pct(s.get("min")), pct(s.get("max"))])
            t.sources.append(f"{path}: {which}.n, mean, std, min, max")
    return t if t.rows else None


def _eval_curve(run: Path, metric: str) -> tuple[list[float], list[float]]:
    """(epoch, value) of each evaluation; epochs from the step (so runs with different steps
    per epoch line up), counted from 1 at the end of the first epoch."""
    xs: list[float] = []
    ys: list[float] = []
    per_epoch = None
    path = run / "metrics.jsonl"
    if not path.is_file():
        return xs, ys
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("kind") == "start":
            per_epoch = (rec.get("values") or {}).get("steps_per_epoch") or per_epoch
        elif rec.get("kind") == "eval" and per_epoch:
            value = (rec.get("values") or {}).get(metric)
            if isinstance(value, (int, float)):
                xs.append(rec["step"] / per_epoch)
                ys.append(float(value))
    return xs, ys


def _figure(width: float = 3.1, height: float = 2.2) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))  # one ACL column is 3.03 in wide
    return fig


def learning_curves_figure(run_dirs: Sequence[Path], path: Path, metric: str = "accuracy") -> bool:
    """Validation ``metric`` by epoch, one line per run; ``False`` when no run has a curve."""
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    drawn = False
    for run in run_dirs:
        xs, ys = _eval_curve(run, metric)
        if xs:
            ax.plot(xs, ys, marker="o", markersize=3, linewidth=1.2, label=_name(run))
            drawn = True
    if not drawn:
        return False
    ax.set_xlabel("Epoch")
    ax.set_ylabel(f"Validation {metric.replace('_', ' ')}")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if metric != "loss":
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, frameon=False, loc="best")
    fig.tight_layout()
    fig.savefig(path)
    return True


def robustness_figure(run_dirs: Sequence[Path], path: Path, split: str = "test") -> bool:
    """Accuracy drop (points) per transformation, one bar group per run, with 95% intervals."""
    import numpy as np

    data = {run: (_read_json(run / "robustness" / f"{split}.json").get("transforms") or {})
            for run in run_dirs}
    specs = sorted({s for d in data.values() for s in d})
    if not specs:
        return False
    fig = _figure(height=2.0 + 0.15 * len(specs))
    ax = fig.add_subplot(1, 1, 1)
    width = 0.8 / max(1, len(run_dirs))
    y = np.arange(len(specs))
    for i, run in enumerate(run_dirs):
        drops = [100 * data[run][s]["drop"] if s in data[run] else np.nan for s in specs]
        cis = [data[run][s].get("drop_ci") if s in data[run] else None for s in specs]
        err = np.array([[d - 100 * c[0], 100 * c[1] - d] if c else [0, 0]
                        for d, c in zip(drops, cis)]).T
        ax.barh(y + i * width, drops, height=width, xerr=err, capsize=2, label=_name(run))
    ax.set_yticks(y + width * (len(run_dirs) - 1) / 2, [latex_free(s) for s in specs], fontsize=7)
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_xlabel("Accuracy drop (percentage points)")
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    return True


def latex_free(text: str) -> str:
    """Text for a matplotlib label: ``$`` would start mathtext."""
    return text.replace("$", r"\$")


_FIGURE_CAPTIONS = {
    "learning_curves": "Validation accuracy by epoch (evaluations placed by their step, so runs "
                       "with different steps per epoch line up).",
    "robustness": "Accuracy drop on transformed test sets (percentage points) with 95% "
                  "paired-bootstrap intervals.",
}


def write_paper(run_dirs: Sequence[Path | str], out_dir: Path | str, *,
                formats: Sequence[str] = PAPER_FORMATS, figure_format: FigureFormat = "pdf",
                split: str = "test", seed: int = 0) -> list[Path]:
    """Write the paper's tables and figures for ``run_dirs`` into ``out_dir``.

    Args:
        run_dirs: run directories (the first is the reference of the comparison table) and
            seed-study directories (with ``seeds.json``).
        out_dir: where the files go (created).
        formats: ``"latex"`` and/or ``"markdown"``.
        figure_format: ``"pdf"`` or ``"svg"``.
        split: the evaluated split the tables report.
        seed: resampling seed of the comparison.

    Returns:
        The files written.

    Raises:
        DataError: a directory is neither a run nor a seed study.
    """
    from ftlab.errors import DataError

    out = Path(out_dir)
    dirs = [Path(d) for d in run_dirs]
    for d in dirs:
        if not (d / "run.json").is_file() and not (d / "seeds.json").is_file():
            raise DataError(f"{d} is neither a run directory (no run.json) nor a seed study "
                            f"(no seeds.json); pass the directories ftlab train / ftlab seeds "
                            f"printed")
    out.mkdir(parents=True, exist_ok=True)
    studies = [d for d in dirs if (d / "seeds.json").is_file()]
    runs = [d for d in dirs if (d / "run.json").is_file()]
    tables: list[PaperTable] = []
    if runs:
        tables.append(results_table(runs, split))
        if len(runs) > 1 and all((r / "predictions" / f"{split}.jsonl").is_file() for r in runs):
            tables.append(comparison_table(runs, split, seed=seed))
        rob = robustness_table(runs, split)
        if rob is not None:
            tables.append(rob)
    seeds = seeds_table(studies)
    if seeds is not None:
        tables.append(seeds)
    written: list[Path] = []
    for table in tables:
        if "latex" in formats:
            written.append(out / f"{table.name}.tex")
            written[-1].write_text(table.latex(), encoding="utf-8")
        if "markdown" in formats:
            written.append(out / f"{table.name}.md")
            written[-1].write_text(table.markdown(), encoding="utf-8")
    figures = []
    for name, draw in (("learning_curves", learning_curves_figure),
                       ("robustness", robustness_figure)):
        path = out / f"{name}.{figure_format}"
        if runs and draw(runs, path):
            figures.append(name)
            written.append(path)
    if figures and "latex" in formats:
        body = []
        for name in figures:
            body += [r"\begin{figure}[t]", r"\centering",
                     rf"\includegraphics[width=\columnwidth]{{{name}.{figure_format}}}",
                     rf"\caption{{{latex_escape(_FIGURE_CAPTIONS[name])}}}",
                     rf"\label{{fig:{name.replace('_', '-')}}}", r"\end{figure}", ""]
        written.append(out / "figures.tex")
        written[-1].write_text(f"% figures.tex: from {', '.join(map(str, runs))}\n"
                               + "\n".join(body), encoding="utf-8")
    if figures and "markdown" in formats:
        md = [f"![{_FIGURE_CAPTIONS[n]}]({n}.{figure_format})\n\n*Figure: {_FIGURE_CAPTIONS[n]}*\n"
              for n in figures]
        written.append(out / "figures.md")
        written[-1].write_text("\n".join(md), encoding="utf-8")
    return written
