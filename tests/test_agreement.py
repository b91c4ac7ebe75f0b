"""One truth per figure: every command reports the same number for the same thing.

Two tiny runs through the real CLI: a binary task with a calibrated decision threshold (the
positive class is the minority class of train), and a 3-class task whose test split lacks one
class (macro-F1 over the known classes differs from macro-F1 over the classes present). For
each, the end of ``ftlab train``, ``ftlab evaluate``, ``ftlab compare``, the HTML report
(parsed), ``ftlab baseline`` and the run record must agree on accuracy, both macro-F1s and
the positive class's F1.
"""

from __future__ import annotations

import html
import json
import random
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ftlab.cli import app

runner = CliRunner()
WORDS = {"a": ["great", "superb", "lovely"], "b": ["awful", "boring", "weak"],
         "c": ["maybe", "unsure", "mixed"]}
FILL = ["the", "movie", "story", "cast", "was", "and", "really", "quite", "plot", "film"]
KEYS = ("accuracy", "macro_f1", "macro_f1_present", "positive_f1")


def _write(path: Path, labels: list[str], seed: int, offset: int) -> str:
    rng = random.Random(seed)
    rows = []
    for i, label in enumerate(labels):
        words = rng.sample(FILL, 3) + rng.sample(WORDS[label], 1)
        if rng.random() < 0.45:  # noise, so the threshold and the baseline have work to do
            words[-1] = rng.choice(WORDS[rng.choice(sorted(WORDS))])
        rng.shuffle(words)
        rows.append({"id": f"ex{offset + i}", "text": " ".join(words), "label": label})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def _config(tmp: Path, scenario: str) -> Path:
    if scenario == "binary":  # "a" is the minority class of train -> the positive class
        splits = {"train": ["a"] * 40 + ["b"] * 80, "validation": ["a"] * 15 + ["b"] * 25,
                  "test": ["a"] * 25 + ["b"] * 45}
    else:  # class "c" has no test example
        splits = {"train": ["a", "b", "c"] * 40, "validation": ["a", "b", "c"] * 12,
                  "test": ["a", "b"] * 35}
    files = {name: _write(tmp / f"{name}.jsonl", labels, seed=k, offset=1000 * k)
             for k, (name, labels) in enumerate(splits.items())}
    raw = {
        "name": scenario, "seed": 0, "output_dir": str(tmp / "runs"),
        "data": {"files": files, "columns": {"id": "id"}},
        "preprocess": {"max_length": 16}, "batching": {"batch_size": 8},
        "model": {"family": "bow", "embed_dim": 16, "hidden_dims": [16]},
        "train": {"lr": 0.05, "epochs": 3, "trackers": [], "log_every": 100},
    }
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def _cli(*args: object) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def _figures(line: str) -> dict[str, float]:
    """``key 0.1234`` pairs of one printed line."""
    return {k: float(v) for k, v in re.findall(r"\b(\w+) (\d\.\d{4})\b", line)}


def _line(output: str, start: str) -> str:
    return next(x for x in output.splitlines() if x.startswith(start))


def _evaluate_figures(output: str) -> dict[str, float]:
    """``  accuracy   0.8571  [low, high]`` rows of ``ftlab evaluate``."""
    return {k: float(v) for k, v in re.findall(r"^  (\w+)\s+(\d\.\d{4})(?:  \[|$)", output,
                                               flags=re.MULTILINE)}


def _report_figures(report: Path, split: str = "test") -> dict[str, float]:
    """The model column of the report's ``<split> metrics`` table."""
    page = report.read_text(encoding="utf-8")
    start = page.index(f"{split} metrics (n =")
    table = page[page.rindex("<table", 0, start):page.index("</table>", start)]
    out = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.DOTALL):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
                 for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, flags=re.DOTALL)]
        if len(cells) >= 2 and re.fullmatch(r"\d\.\d{4}", cells[1]):
            out[cells[0]] = float(cells[1])
    return out


def _rounded(metrics: dict, keys=KEYS) -> dict[str, float]:
    return {k: round(float(metrics[k]), 4) for k in keys if metrics.get(k) is not None}


@pytest.mark.parametrize("scenario", ["binary", "absent_class"])
def test_every_command_reports_the_same_figures(tmp_path, scenario):
    config = _config(tmp_path, scenario)
    train_out = _cli("train", config)
    run = tmp_path / "runs" / scenario
    end_of_train = _figures(_line(train_out, "test: accuracy"))
    assert set(KEYS) - {"positive_f1"} <= set(end_of_train)

    if scenario == "binary":
        calibrated = _cli("calibrate", run, "--threshold", "f1")
        assert "threshold" in calibrated and "on p('a')" in calibrated
    eval_out = _cli("evaluate", run)
    evaluation = json.loads((run / "evaluation" / "test.json").read_text())
    truth = _rounded(evaluation["metrics"])
    assert set(truth) == (set(KEYS) if scenario == "binary" else set(KEYS) - {"positive_f1"})

    # evaluate's printed figures and its interval estimates are the JSON's
    assert _rounded(_evaluate_figures(eval_out)) == truth
    for key in truth:
        assert round(evaluation["bootstrap"][key]["estimate"], 4) == truth[key]
    # the run record written by evaluate
    record = json.loads((run / "run.json").read_text())
    assert _rounded(record["eval_test"]) == truth
    # the HTML report, parsed
    assert _rounded(_report_figures(run / "report.html")) == truth
    # predictions/test.jsonl carry the same decisions (recomputed from its pred column)
    rows = [json.loads(x) for x in (run / "predictions" / "test.jsonl").read_text().splitlines()]
    names = evaluation["label_names"]
    from ftlab.evaluation import label_metrics

    positive = evaluation["classes"]["positive"]
    recomputed = label_metrics([names.index(r["label"]) for r in rows],
                               [names.index(r["pred"]) for r in rows], n_classes=len(names),
                               positive=names.index(positive) if positive else None)
    assert _rounded(recomputed) == truth

    if scenario == "binary":
        rule = evaluation["decision_rule"]
        assert rule["kind"] == "threshold" and rule["positive"] == "a" == positive
        assert f"decision rule: {rule['rule']}" in eval_out
        # the end of train decided by argmax: the argmax figures kept beside the thresholded
        assert "positive_f1" in end_of_train
        assert _rounded(end_of_train) == _rounded(evaluation["argmax"])
        assert "(argmax)" in eval_out
    else:
        assert evaluation["classes"]["absent"] == ["c"]
        assert truth["macro_f1_present"] > truth["macro_f1"]
        assert _rounded(end_of_train) == truth
        assert any("macro_f1_present averages over the 2 classes present" in w
                   for w in evaluation["warnings"])

    # robustness: its clean figures use the same definition and decision rule
    _cli("evaluate", run, "--transform", "casing", "--no-report", "--no-baseline")
    robust = json.loads((run / "robustness" / "test.json").read_text())
    assert _rounded(robust["clean"], ("accuracy", "macro_f1")) == {
        k: truth[k] for k in ("accuracy", "macro_f1")}
    assert robust["decision_rule"] == evaluation["decision_rule"]["rule"]

    # ftlab baseline: its own run agrees with the TF-IDF figure shown next to the model
    base_out = _cli("baseline", config, "--name", f"{scenario}-tfidf")
    base_run = tmp_path / "runs" / f"{scenario}-tfidf"
    base_eval = json.loads((base_run / "evaluation" / "test.json").read_text())
    tfidf = evaluation["baselines"]["tfidf_lr"]
    shown = {k: round(tfidf[k], 4) for k in ("accuracy", "macro_f1", "macro_f1_present")}
    assert _rounded(base_eval["metrics"], shown) == shown
    assert {k: v for k, v in _figures(_line(base_out, "test: accuracy")).items()
            if k in shown} == shown

    # ftlab compare: each side's figures are its evaluation's
    cmp_out = _cli("compare", run, base_run, "--resamples", 200)
    got_a = _rounded(_figures(_line(cmp_out, "A: ").split("decision rule")[-1]))
    assert got_a == truth
    base_truth = _rounded(base_eval["metrics"])
    got_b = _rounded(_figures(_line(cmp_out, "B: ").split("decision rule")[-1]))
    assert {k: got_b[k] for k in base_truth} == base_truth
