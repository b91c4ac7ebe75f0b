"""Every kind of report, as a reader gets it: rendered in headless Chromium (no console errors,
every image drawn with a size; screenshots kept under the test's temp dir), and the paper
export (LaTeX booktabs tables, Markdown, PDF figures) from two tiny runs.

One seed study of two tiny bag-of-words runs gives the run report, the comparison of the two
runs and seeds.html; the tuning study report comes from a toy Optuna study."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ftlab.cli import app
from ftlab.report import write_report
from ftlab.runs import parse_config, seed_study

from _browser import render
from _system import CHROMIUM_MISSING, chromium_bin
from _tiny_data import write_sentiment_jsonl


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reports")
    raw = {
        "seed": 7, "output_dir": str(tmp / "runs"),
        "data": {"source": str(write_sentiment_jsonl(tmp / "d.jsonl", 80)),
                 "split": {"validation": 0.25, "test": 0.25}},
        "preprocess": {"max_length": 12}, "batching": {"batch_size": 16},
        "model": {"family": "bow", "embed_dim": 8, "hidden_dims": [8]},
        "train": {"lr": 0.05, "epochs": 2, "log_every": 100, "trackers": []},
        "robustness": {"transforms": ["char_drop:0.5"]},
    }
    result = seed_study(parse_config(raw), 2, name="seeds")
    study_dir = Path(result["report"]).parent
    runs = sorted(p for p in study_dir.iterdir() if (p / "run.json").is_file())
    assert len(runs) == 2
    comparison = write_report(runs, tmp / "comparison.html")
    return tmp, study_dir, runs, comparison


def _toy_study_report(tmp: Path, runs: list[Path]) -> Path:
    optuna = pytest.importorskip("optuna")
    from ftlab.report import write_study_report

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial):
        lr = trial.suggest_float("train.lr", 1e-4, 1e-1, log=True)
        for epoch in range(3):
            trial.report(0.8 - 0.05 * abs(lr - 0.01) + 0.01 * epoch, epoch)
        trial.set_user_attr("epochs", 3)
        trial.set_user_attr("run_dir", str(runs[trial.number % len(runs)]))
        return 0.8 + 0.01 * trial.number

    s = optuna.create_study(study_name="toy", direction="maximize",
                            sampler=optuna.samplers.RandomSampler(seed=0))
    s.optimize(objective, n_trials=4)
    return write_study_report(s, tmp / "study" / "report.html")


@pytest.mark.skipif(chromium_bin() is None, reason=CHROMIUM_MISSING)
def test_every_report_kind_renders_in_a_browser_without_errors(study):
    tmp, study_dir, runs, comparison = study
    pages = {"run": runs[0] / "report.html", "comparison": comparison,
             "seeds": study_dir / "seeds.html", "study": _toy_study_report(tmp, runs)}
    shots = tmp / "screenshots"  # kept: the test's temp dir is CI's artifact
    for kind, page in pages.items():
        result = render(chromium_bin(), page, shots / kind)
        errors = [m for m in result.console if "error" in m.lower()]
        assert result.console == [], f"{kind} report logged to the console: {errors or result.console}"
        assert result.images, f"{kind} report has no images"
        for natural_w, natural_h, shown_w, shown_h in result.images:
            assert natural_w > 0 and natural_h > 0, f"{kind} report has a broken image"
            assert shown_w > 0 and shown_h > 0, f"{kind} report shows an image with no size"
        assert result.screenshot.stat().st_size > 10_000, f"{kind} screenshot is empty"


def _balanced(text: str) -> bool:
    depth = 0
    for i, c in enumerate(text):
        if c in "{}" and i > 0 and text[i - 1] == "\\":
            continue
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth < 0:
            return False
    return depth == 0


def _check_latex_table(tex: str) -> int:
    """Booktabs rules, balanced braces, the same column count in every row; returns rows."""
    body = "\n".join(line for line in tex.splitlines() if not line.lstrip().startswith("%"))
    assert _balanced(body)
    for rule in (r"\toprule", r"\midrule", r"\bottomrule", r"\caption{", r"\label{tab:"):
        assert rule in body
    (spec,) = re.findall(r"\\begin\{tabular\}\{([lrc]+)\}", body)
    inner = body.split(r"\toprule")[1].split(r"\bottomrule")[0]
    rows = [r for r in inner.replace(r"\midrule", "").split(r"\\") if r.strip()]
    for row in rows:
        assert len(re.split(r"(?<!\\)&", row)) == len(spec), row
    return len(rows) - 1  # minus the header


def test_paper_tables_and_figures_from_two_runs(study, tmp_path):
    _tmp, study_dir, runs, _ = study
    out = tmp_path / "paper"
    result = CliRunner().invoke(app, ["report", *map(str, runs), str(study_dir),
                                      "--format", "latex", "--format", "markdown",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "paper tables and figures in" in result.output
    for name in ("results", "comparison", "robustness", "seeds"):
        assert (out / f"{name}.tex").is_file() and (out / f"{name}.md").is_file(), name
    assert _check_latex_table((out / "results.tex").read_text()) == 2
    assert _check_latex_table((out / "comparison.tex").read_text()) == 1
    assert _check_latex_table((out / "robustness.tex").read_text()) == 2
    assert _check_latex_table((out / "seeds.tex").read_text()) == 2  # validation and test
    results = (out / "results.tex").read_text()
    # every row names the file and key it came from, and the numbers are those of the file
    summary = __import__("json").loads((runs[0] / "run.json").read_text())
    acc = summary["test"]["test"]["accuracy"]
    assert f"% source: {runs[0] / 'run.json'}: test.test.accuracy" in results
    assert f"{100 * acc:.1f}" in results
    comparison = (out / "comparison.tex").read_text()
    assert "paired-bootstrap" in comparison and re.search(r"& (<0\.001|[01]\.\d{3}) &", comparison)
    assert "| Run | Model | Accuracy | 95% CI |" in (out / "results.md").read_text()
    assert "Sources:" in (out / "results.md").read_text()
    for fig in ("learning_curves.pdf", "robustness.pdf"):
        data = (out / fig).read_bytes()
        assert data.startswith(b"%PDF") and len(data) > 1000
    figures = (out / "figures.tex").read_text()
    assert r"\includegraphics[width=\columnwidth]{learning_curves.pdf}" in figures
    assert _balanced(figures)
    if shutil.which("pdflatex"):  # compile with a minimal document where LaTeX is installed
        doc = out / "doc.tex"
        doc.write_text("\\documentclass{article}\\usepackage{booktabs,graphicx}\\begin{document}"
                       "\\input{results}\\input{comparison}\\input{robustness}\\input{seeds}"
                       "\\input{figures}\\end{document}\n")
        done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "doc.tex"], cwd=out,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout[-2000:]


def test_paper_export_refuses_a_directory_that_is_no_run(tmp_path):
    result = CliRunner().invoke(app, ["report", str(tmp_path), "--format", "latex",
                                      "--out", str(tmp_path / "p")])
    from ftlab.errors import DataError

    assert isinstance(result.exception, DataError)  # main() prints it as one line, exit 2
    assert "neither a run directory" in str(result.exception)


def test_reports_read_well(study):
    """The defects a reader met are gone: coloured edits, one number format, epochs from 1,
    scrolling tables, the config keys that differ, paired differences, linked seed runs."""
    _tmp, study_dir, runs, comparison = study
    run_html = (runs[0] / "report.html").read_text(encoding="utf-8")
    assert "[[" not in run_html and "texts/s" not in run_html
    assert "overflow-wrap: anywhere" not in run_html and '<div class="scroll">' in run_html
    rob = json.loads((runs[0] / "robustness" / "test.json").read_text())["transforms"]
    e = rob["char_drop:0.5"]
    assert f"<td>{100 * e['flip_rate']:.1f}%</td>" in run_html  # as the terminal prints it
    assert f"<td>{100 * e['drop']:+.1f}</td>" in run_html  # points, one decimal
    if e.get("flips"):
        assert '<mark class="del">' in run_html
    passes = run_html.split("validation passes")[1]
    assert re.search(r"<tr><td>\d+</td><td>1</td>", passes)  # the first epoch is epoch 1
    assert "`" not in re.sub(r"<pre>.*?</pre>", "", run_html, flags=re.S)  # no literal backticks
    comp = comparison.read_text(encoding="utf-8")
    assert "config keys that differ" in comp and "train.init_seed" in comp
    assert "paired differences to" in comp and "test@char_drop-0.5" in comp
    assert re.search(r"<td>p (=|&lt;) 0\.\d{3}</td>", comp)
    seeds = (study_dir / "seeds.html").read_text(encoding="utf-8")
    assert '<a href="seed-1/report.html">seed-1</a>' in seeds
    assert "ddof=1" in seeds and "ddof=0" in seeds
