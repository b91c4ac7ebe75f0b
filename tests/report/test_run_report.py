"""The HTML report: self-contained, all sections, user text escaped, missing files noted."""

from __future__ import annotations

import base64
import io
import json
import math
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ftlab.errors import DataError, FtlabError
from ftlab.report import (
    PNG_SIGNATURE,
    SECTION_IDS,
    check_report,
    confusion_png,
    ema,
    learning_curves_png,
    overlay_curves_png,
    reliability_png,
    render_report,
    roc_pr_png,
    write_report,
)

LABELS = ["fresh", "rotten"]
EVIL = "<script>alert('x')</script> & \"quoted\""


# --- a small, schema-following run directory ------------------------------------------------------
def _curve(n: int = 50) -> dict[str, list[float]]:
    x = np.linspace(0, 1, n)
    return {"fpr": x.tolist(), "tpr": np.sqrt(x).tolist()}


def _evaluation(split: str = "test") -> dict[str, Any]:
    edges = np.linspace(0, 1, 16)
    conf = (edges[:-1] + edges[1:]) / 2
    per_class = {n: {"precision": 0.8, "recall": 0.75, "f1": 0.77, "support": 50} for n in LABELS}
    avg = {"precision": 0.8, "recall": 0.75, "f1": 0.77}
    item = {"id": "rt-1", "text": EVIL, "label": "fresh", "pred": "rotten", "prob": 0.97}
    return {
        "split": split, "n": 100, "label_names": LABELS,
        "decision_rule": {"rule": "threshold 0.420 on p('rotten') (tuned for f1 on validation), "
                                  "temperature 1.300", "kind": "threshold", "threshold": 0.42,
                          "temperature": 1.3, "positive": "rotten"},
        "classes": {"known": 2, "present": 2, "absent": [], "positive": "rotten",
                    "positive_source": "eval.positive_label"},
        "metrics": {"accuracy": 0.78, "log_loss": 0.48, "macro_f1": 0.77, "micro_f1": 0.78,
                    "weighted_f1": 0.78, "macro_precision": 0.8, "macro_recall": 0.75,
                    "roc_auc": 0.85, "pr_auc": 0.83, "ece": 0.04, "mce": 0.12},
        "argmax": {"accuracy": 0.77, "macro_f1": 0.76, "macro_f1_present": 0.76, "n": 100},
        "per_class": per_class,
        "averages": {"micro": avg, "macro": avg, "weighted": avg},
        "roc_auc": {"macro": 0.85, "per_class": {"rotten": 0.85}},
        "pr_auc": {"macro": 0.83, "per_class": {"rotten": 0.83}},
        "curves": {"roc": {"rotten": _curve()},
                   "pr": {"rotten": {"precision": np.linspace(1, 0.5, 50).tolist(),
                                     "recall": np.linspace(0, 1, 50).tolist()}}},
        "confusion": {"labels": LABELS, "counts": [[40, 10], [12, 38]],
                      "normalized": [[0.8, 0.2], [0.24, 0.76]]},
        "calibration": {"ece": 0.04, "ece_equal_mass": 0.05, "mce": 0.12, "n_bins": 15,
                        "reliability": {"bin_lower": edges[:-1].tolist(),
                                        "bin_upper": edges[1:].tolist(),
                                        "confidence": conf.tolist(),
                                        "accuracy": (conf * 0.9).tolist(),
                                        "count": list(range(15))},
                        "temperature": 1.3, "ece_before": 0.07, "ece_after": 0.04,
                        "nll_before": 0.52, "nll_after": 0.48},
        "threshold": {"metric": "f1", "threshold": 0.42,
                      "at_threshold": {"accuracy": 0.79, "precision": 0.8, "recall": 0.8,
                                       "f1": 0.8},
                      "at_0.5": {"accuracy": 0.78, "precision": 0.8, "recall": 0.75, "f1": 0.77}},
        "bootstrap": {"n_resamples": 1000, "confidence": 0.95,
                      "accuracy": {"estimate": 0.78, "low": 0.7, "high": 0.86},
                      "macro_f1": {"estimate": 0.77, "low": 0.69, "high": 0.85}},
        "baselines": {"majority": {"label": "fresh", "accuracy": 0.5, "macro_f1": 0.33},
                      "tfidf_lr": {"accuracy": 0.74, "macro_f1": 0.73}},
        "errors": {"most_confident_wrong": [item],
                   "least_confident": [{**item, "prob": 0.51, "margin": 0.02}]},
        "slices": {"length": [{"slice": "<= 60 chars", "n": 40, "accuracy": 0.8, "macro_f1": 0.79},
                              {"slice": "> 60 chars", "n": 60, "accuracy": 0.76,
                               "macro_f1": 0.75}],
                   "label": [{"slice": "fresh", "n": 50, "accuracy": 0.8}]},
        "warnings": ["recall of class 'rotten' is low"],
    }


def _metrics_lines(steps: int = 60, eval_every: int = 20, lr: float = 1e-3) -> str:
    rng = np.random.default_rng(0)
    recs: list[dict[str, Any]] = [{"kind": "start", "step": 0, "epoch": None,
                                   "values": {"total_steps": steps, "epochs": 3}}]
    for s in range(1, steps + 1):
        recs.append({"kind": "step", "step": s, "epoch": (s - 1) // eval_every, "values": {
            "loss": 0.7 * math.exp(-s / 30) + 0.05 * rng.random(), "lr": lr * (1 - s / steps),
            "grad_norm": 1 + rng.random(), "examples": 8}})
        if s % eval_every == 0:
            recs.append({"kind": "eval", "step": s, "epoch": s // eval_every - 1, "values": {
                "loss": 0.6 - s / 300, "accuracy": 0.6 + s / 400, "macro_f1": 0.55 + s / 400,
                "n": 100.0}})
    recs.append({"kind": "end", "step": steps, "epoch": 3,
                 "values": {"reason": "done", "best_metric": 0.75, "best_step": steps}})
    return "\n".join(json.dumps(r) for r in recs) + "\n"


def make_run(root: Path, name: str = "demo", *, lr: float = 1e-3, full: bool = True) -> Path:
    """A run directory with every file the report reads (``full=False``: run.json only)."""
    run = root / name
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({
        "name": name, "status": "completed", "model": "bow", "dataset": "builtin:rotten_tomatoes",
        "hparams": {"lr": lr, "batch_size": 8, "epochs": 3}, "best_metric": 0.75,
        "best_step": 60, "monitor": "accuracy", "duration_s": 12.5,
        "notes": [f"note about {EVIL}"]}))
    if not full:
        return run
    (run / "config.yaml").write_text(f"name: {name}\ntrain:\n  lr: {lr}\n")
    (run / "env.json").write_text(json.dumps({"device": "cpu", "versions": {"torch": "2.13.0"}}))
    (run / "data_report.json").write_text(json.dumps({
        "stats": {"train": {"rows": 800, "labels": {"fresh": 450, "rotten": 350},
                            "imbalance_ratio": 1.29, "char_length": {"p50": 100, "p90": 170,
                                                                     "max": 250},
                            "duplicates": 2, "empty": 0, "leaked": 0}},
        "findings": [{"level": "warning", "code": "duplicates", "split": "train",
                      "message": "2 example(s) repeat", "fix": "deduplicate",
                      "examples": ["rt-1 (line 2)"]}],
        "removed": {"train": {"empty_text": 3, "duplicates": 0}}}))
    (run / "metrics.jsonl").write_text(_metrics_lines(lr=lr))
    (run / "evaluation").mkdir()
    (run / "evaluation" / "test.json").write_text(json.dumps(_evaluation()))
    (run / "doctor.json").write_text(json.dumps({"findings": [{
        "rule": "overfitting", "severity": "warning", "title": "validation loss rises",
        "message": "validation loss rose from 0.40 to 0.55", "fix": "stop earlier",
        "evidence": {}}]}))
    return run


# --- HTML inspection --------------------------------------------------------------------------
class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.classes: list[str] = []
        self.scripts = 0
        self.data: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"])
        self.classes += (a.get("class") or "").split()
        self.scripts += tag == "script"

    def handle_data(self, data: str) -> None:
        self.data.append(data)


def _parse(html: str) -> _Collect:
    p = _Collect()
    p.feed(html)
    p.close()
    return p


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, float]:
    root = tmp_path_factory.mktemp("runs")
    run = make_run(root)
    confusion_png(["a", "b"], [[1, 0], [0, 1]])  # warm-up: pay matplotlib's import and font cache
    # CPU time, not wall time: rendering is single-threaded, and a busy CI machine must not
    # make the test flaky
    start = time.process_time()
    out = write_report([run])
    return run, out.read_text(encoding="utf-8"), time.process_time() - start


# --- tests ----------------------------------------------------------------------------------------
def test_single_run_report_is_self_contained_and_complete(rendered):
    run, html, _ = rendered
    assert (run / "report.html").is_file()
    images = check_report(html, section_ids=SECTION_IDS)  # parse, ids, no URLs, real PNGs
    assert images == 4  # learning curves, confusion, ROC/PR, reliability
    parsed = _parse(html)
    assert "missing" not in parsed.classes
    text = " ".join(parsed.data)
    for expected in ("builtin:rotten_tomatoes", "validation loss rises", "stop earlier",
                     "[0.7000, 0.8600]", "TF-IDF + LR", "<= 60 chars", "temperature T = 1.3000",
                     "2.13.0", "2 example(s) repeat", "empty_text: 3"):
        assert expected in text, expected


def test_user_text_is_escaped(rendered):
    _, html, _ = rendered
    assert "<script>" not in html
    assert "&lt;script&gt;alert(" in html
    assert _parse(html).scripts == 0
    # the parser gives the original text back: it is shown, only escaped
    assert any("<script>alert('x')</script>" in d for d in _parse(html).data)


def test_single_run_renders_fast(rendered):
    assert rendered[2] < 3.0


def test_missing_files_give_notes_not_crashes(tmp_path):
    run = tmp_path / "empty-run"
    run.mkdir()
    html = write_report([run]).read_text(encoding="utf-8")
    assert check_report(html, section_ids=SECTION_IDS) == 0
    parsed = _parse(html)
    assert parsed.classes.count("missing") >= 9
    text = " ".join(parsed.data)
    for producer in ("ftlab train CONFIG", "ftlab evaluate RUN_DIR --split test",
                     "run.json not found", "doctor.json not found", "metrics.jsonl not found"):
        assert producer in text, producer


def test_malformed_files_are_reported_per_section(tmp_path):
    run = make_run(tmp_path)
    (run / "metrics.jsonl").write_text('{"kind": "step", "step": 1, "values": [1]}\n{}\n')
    (run / "env.json").write_text("{not json")
    (run / "doctor.json").write_text("[1, 2]")
    ev = _evaluation()
    ev["confusion"]["counts"] = [[1, 2, 3]]  # wrong shape
    ev["calibration"]["reliability"]["count"] = []  # wrong length
    ev["curves"] = {"roc": []}  # wrong type: no curves drawn, no crash
    (run / "evaluation" / "test.json").write_text(json.dumps(ev))
    html = render_report([run])
    check_report(html, section_ids=SECTION_IDS)
    text = " ".join(_parse(html).data)
    assert "env.json could not be read (line 1" in text
    assert "metrics.jsonl could not be read" in text
    assert "expected a JSON object, got list" in text
    assert "could not draw confusion matrix" in text
    assert "could not draw reliability diagram" in text


def test_doctor_without_findings_says_so(tmp_path):
    run = make_run(tmp_path, full=False)
    (run / "doctor.json").write_text(json.dumps({"findings": []}))
    html = render_report([run])
    assert "no problems found" in html
    assert "doctor.json not found" not in html


def test_two_runs_give_a_comparison(tmp_path):
    a = make_run(tmp_path, "alpha", lr=1e-3)
    b = make_run(tmp_path, "beta", lr=3e-3, full=False)
    out = write_report([a, b])
    assert out == tmp_path / "report-compare.html"
    html = out.read_text(encoding="utf-8")
    ids = ["comparison", "summary-1", "summary-2"]
    assert check_report(html, section_ids=ids) == 1  # the overlaid validation curves
    text = " ".join(_parse(html).data)
    assert "alpha" in text and "beta" in text
    assert "0.003" in text  # lr differs, so it is a column
    assert "same in every run: batch_size=8, epochs=3" in text
    assert "beta: metrics.jsonl not found" in text


def test_explicit_output_and_bad_inputs(tmp_path):
    run = make_run(tmp_path, full=False)
    out = write_report(run, output=tmp_path / "sub" / "r.html")  # a single path is accepted
    assert out.is_file() and out.parent.name == "sub"
    with pytest.raises(DataError, match="does not exist"):
        write_report([tmp_path / "nope"])
    with pytest.raises(FtlabError, match="no run directory"):
        write_report([])
    with pytest.raises(FtlabError, match="is a directory"):
        write_report([run], output=tmp_path)


def _png_pixels(png: bytes) -> np.ndarray:
    from matplotlib.image import imread

    return imread(io.BytesIO(png), format="png")


@pytest.mark.parametrize("draw", [
    lambda: learning_curves_png([1, 2, 3], [0.9, 0.5, 0.4], [1e-3] * 3, [1.0, 2.0, 1.5], [3],
                                {"loss": [0.6], "accuracy": [0.7]}, best_step=3),
    lambda: learning_curves_png([], [], [], [], [], {}),  # nothing logged: still a figure
    lambda: confusion_png(["a", "b", "c", "d"], [[3, 1, 0, 0], [0, 4, 1, 0], [0, 0, 5, 0],
                                                 [1, 0, 0, 2]]),
    lambda: roc_pr_png({"x": _curve()}, {}, {"x": 0.7}),
    lambda: reliability_png([0, 0.5], [0.5, 1], [0.3, 0.8], [0.2, None], [5, 0]),
    lambda: overlay_curves_png({"r1": ([1, 2], {"accuracy": [0.5, 0.6], "loss": [1, 0.9]})},
                               "accuracy"),
])
def test_plots_return_non_blank_png(draw):
    png = draw()
    assert png.startswith(PNG_SIGNATURE) and len(png) > 1024
    assert _png_pixels(png).std() > 0


def test_plots_do_not_leave_figures_open():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    confusion_png(["a", "b"], [[1, 2], [3, 4]])
    assert plt.get_fignums() == before


def test_plot_errors_name_the_problem():
    with pytest.raises(ValueError, match="2 x 2"):
        confusion_png(["a", "b"], [[1, 2, 3]])
    with pytest.raises(ValueError, match="equal length"):
        reliability_png([0], [1], [0.5], [0.5], [])


def test_ema_smooths_and_skips_nan():
    out = ema([1.0, float("nan"), 3.0], 0.5)
    assert out[0] == pytest.approx(1.0)  # bias-corrected: no pull towards 0
    assert math.isnan(out[1])
    assert 1.0 < out[2] < 3.0
    np.testing.assert_allclose(ema([1.0, 2.0], 0.0), [1.0, 2.0])
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        ema([1.0], 1.0)


def test_check_report_catches_external_urls_and_bad_images():
    page = ('<html><body><section id="summary"><img src="https://x.org/a.png"></section>'
            '</body></html>')
    with pytest.raises(AssertionError, match="external"):
        check_report(page, section_ids=["summary"])
    blank = base64.b64encode(PNG_SIGNATURE + b"0" * 10).decode()
    with pytest.raises(AssertionError):
        check_report(f'<section id="summary"><img src="data:image/png;base64,{blank}"></section>',
                     section_ids=["summary"])
    with pytest.raises(AssertionError, match="curves"):
        check_report('<section id="summary"></section>', section_ids=["summary", "curves"])


@pytest.mark.parametrize(("value", "text"), [
    (None, "-"), (True, "yes"), (3, "3"), (2.0, "2"), (0.78123, "0.7812"), (0.001, "0.001"),
    (3e-5, "3e-05"), (float("nan"), "nan"), ([1, 0.5], "1, 0.5000"), ("<b>", "<b>"),
])
def test_fmt(value, text):
    from ftlab.report._blocks import fmt

    assert fmt(value) == text


_GARBAGE = [None, "text", 3, [1, "a", None], {"x": [1, 2]}, [[1], [2, 3]]]


def test_wrong_types_in_any_field_never_crash(tmp_path, monkeypatch):
    """Every top-level evaluation field (and run.json field) replaced by values of the wrong
    type: the page still renders. Figures are stubbed here; their own robustness is below."""
    from ftlab.report import _plots

    stub = PNG_SIGNATURE + b"\0" * 2000
    for name in ("learning_curves_png", "confusion_png", "roc_pr_png", "reliability_png",
                 "overlay_curves_png"):
        monkeypatch.setattr(_plots, name, lambda *a, **k: stub)
    run = make_run(tmp_path)
    good = _evaluation()
    for i, key in enumerate(good):
        ev = {**good, key: _GARBAGE[i % len(_GARBAGE)]}
        (run / "evaluation" / "test.json").write_text(json.dumps(ev))
        (run / "run.json").write_text(json.dumps({k: _GARBAGE[(i + 1) % len(_GARBAGE)] for k in
                                                  ("name", "hparams", "notes", "test", "step")}))
        html = render_report([run])
        assert 'id="confusion"' in html, key
    other = make_run(tmp_path, "other")
    assert 'id="comparison"' in render_report([run, other])


@pytest.mark.parametrize("bad", [None, "text", {"x": [1, 2]}, [[1], [2, 3]]])
def test_plot_helpers_fail_only_with_caught_errors(bad):
    from ftlab.report import png_block

    calls = [(confusion_png, (["a", "b"], bad)), (roc_pr_png, ({"a": bad}, {"a": bad})),
             (reliability_png, (bad, bad, bad, bad, bad))]  # learning curves: typed History
    for draw, args in calls:
        block = png_block(draw, *args, alt="x")  # raises if the error type is not handled
        assert block["kind"] in {"img", "note"}


def test_fixture_follows_the_evaluation_schema():
    from ftlab.evaluation import REPORT_KEYS

    assert tuple(_evaluation()) == tuple(REPORT_KEYS)


def test_names_moved_from_evaluation_say_where_they_went():
    import ftlab.evaluation

    with pytest.raises(AttributeError, match=r"moved to ftlab.report; use `from ftlab.report import write_report`"):
        ftlab.evaluation.write_report  # noqa: B018
    with pytest.raises(ImportError, match="render_report"):
        from ftlab.evaluation import render_report  # noqa: F401
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ftlab.evaluation.nope  # noqa: B018
