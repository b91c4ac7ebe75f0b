"""``ftlab check``: behavioral suites on real (tiny) runs, the CI gate and run comparison."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ftlab.cli import app
from ftlab.config import dump_config, load_config
from ftlab.errors import CheckpointError, ConfigError
from ftlab.runs import check_run, compare_checks, train_run

POSITIVE = ["great", "wonderful", "superb", "lovely", "brilliant", "moving", "funny", "smart"]
NEGATIVE = ["awful", "boring", "dull", "terrible", "bland", "tedious", "clumsy", "stale"]
FILLER = ["the", "film", "was", "plot", "acting", "and", "really", "quite", "a", "story"]

SUITE = """
name: tiny
labels: [negative, positive]
aliases: {negative: [neg], positive: [pos]}
tests:
  - name: positive words
    kind: MFT
    capability: Vocabulary
    template: "{a} {b}"
    fillers: {a: [great, wonderful, superb], b: [lovely, brilliant]}
    expect: positive
  - name: negative words
    kind: MFT
    capability: Vocabulary
    template: "{a} {b}"
    fillers: {a: [awful, boring, dull], b: [terrible, tedious]}
    expect: negative
  - name: piling on negative words
    kind: INV
    capability: Robustness
    description: a deliberately unfair test a keyword model must fail
    inputs: ["great lovely", "superb brilliant", "wonderful funny"]
    perturb: {append: ["awful boring dull terrible tedious bland"]}
  - name: test reviews with typos
    kind: INV
    capability: Robustness
    from_split: test
    n: 10
    perturb: char_swap:0.5
"""


def _data(path: Path, *, flip: bool) -> None:
    rng = random.Random(0)
    rows = []
    for i in range(120):
        label = i % 2
        words = rng.sample(FILLER, 3) + rng.sample(POSITIVE if label else NEGATIVE, 2)
        rng.shuffle(words)
        rows.append({"text": " ".join(words), "label": "pos" if label != flip else "neg"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A run that learned the words, and one trained on flipped labels (a regression)."""
    tmp = tmp_path_factory.mktemp("check")
    suite = tmp / "tiny.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    out = {"suite": suite}
    for name, flip in (("good", False), ("flipped", True)):
        _data(tmp / f"{name}.jsonl", flip=flip)
        cfg = load_config(None, [
            f"output_dir={tmp / 'runs'}", f"data.source={tmp / name}.jsonl", "seed=3",
            "data.split={validation: 0.2, test: 0.2}", "preprocess.max_length=12",
            "batching.batch_size=16", "model.embed_dim=16", "model.hidden_dims=[16]",
            "train.lr=0.02", "train.epochs=6", "train.log_every=1000", "train.trackers=[]",
            f"robustness.suites=[{suite}]", "robustness.fail_over=0.5",
        ])
        out[name] = Path(train_run(cfg, name=name)["path"])
    return out


def _invoke(*args: str):
    return CliRunner().invoke(app, ["check", *map(str, args)])


def test_check_prints_rates_and_writes_the_json(runs: dict[str, Path]) -> None:
    result = _invoke(runs["good"], "--suite", runs["suite"], "--fail-over", "1.0")
    assert result.exit_code == 0, result.output
    for text in ("positive words", "MFT", "INV", "failure rate", "piling on negative words"):
        assert text in result.output
    data = json.loads((runs["good"] / "checks" / "tiny.json").read_text())
    assert data["suite"] == "tiny" and data["source"] == str(runs["suite"])
    assert data["run"] == str(runs["good"]) and data["seed"] == 0
    assert data["label_names"] == ["negative", "positive"]
    assert data["label_map"] == {"negative": "neg", "positive": "pos"}  # through the aliases
    tests = {t["name"]: t for t in data["tests"]}
    assert tests["positive words"]["n"] == 6 and tests["negative words"]["n"] == 6
    assert tests["positive words"]["failure_rate"] <= 0.2
    assert tests["negative words"]["failure_rate"] <= 0.2
    piling = tests["piling on negative words"]
    assert piling["kind"] == "INV" and piling["failure_rate"] >= 2 / 3
    ex = piling["examples"][0]
    assert ex["perturbed"].startswith(ex["text"]) and ex["shift"] < 0
    assert set(ex["probs"]) == {"negative", "positive"}
    drawn = tests["test reviews with typos"]
    test_texts = {json.loads(line)["text"] for line in
                  (runs["good"] / "predictions" / "test.jsonl").read_text().splitlines()}
    assert 1 <= drawn["n"] <= 10 and drawn["n"] + drawn["skipped"] == 10
    assert all(f["text"] in test_texts for f in drawn["failures"])
    s = data["summary"]
    assert s["tests"] == 4 and s["cases"] == 15 + drawn["n"]
    assert s["worst_test"] == "piling on negative words"
    assert "failed" in result.output and "saved" in result.output


def test_fail_over_is_a_ci_gate(runs: dict[str, Path]) -> None:
    gate = _invoke(runs["good"], "--suite", runs["suite"], "--fail-over", "0.5")
    assert gate.exit_code == 1
    assert "fail more often than --fail-over 0.5" in gate.output
    assert "tiny/piling on negative words" in gate.output
    assert "positive words (" not in gate.output.split("--fail-over 0.5")[-1]
    # no flags: the suites and the gate come from the run config's robustness section
    default = _invoke(runs["good"])
    assert default.exit_code == 1 and "tiny/piling on negative words" in default.output


def test_builtin_suite_runs_without_label_flags(runs: dict[str, Path]) -> None:
    result = _invoke(runs["good"], "--suite", "builtin:sentiment", "--examples", "1",
                     "--fail-over", "1.0")
    assert result.exit_code == 0, result.output
    data = json.loads((runs["good"] / "checks" / "sentiment.json").read_text())
    assert data["label_map"] == {"negative": "neg", "positive": "pos"}
    assert data["summary"]["cases"] > 500


def test_compare_lists_regressions_and_newly_failing_cases(runs: dict[str, Path]) -> None:
    result = _invoke(runs["flipped"], "--suite", runs["suite"], "--compare", runs["good"],
                     "--fail-over", "1.0")
    assert result.exit_code == 0, result.output
    assert "regressed from" in result.output and "newly failing" in result.output
    regressions = compare_checks(runs["good"], runs["flipped"], "tiny")
    names = [r["test"] for r in regressions]
    assert "positive words" in names and "negative words" in names
    positive = regressions[names.index("positive words")]
    assert positive["after"] > positive["before"] and positive["newly_failing"]
    assert {"id", "text", "perturbed"} <= positive["newly_failing"][0].keys()
    assert compare_checks(runs["good"], runs["good"], "tiny") == []


def test_user_errors_name_the_fix(runs: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not a run directory"):
        check_run(tmp_path, ["builtin:sentiment"])
    (tmp_path / "config.yaml").write_text(dump_config(load_config(None)), encoding="utf-8")
    with pytest.raises(ConfigError, match="pass --suite builtin:sentiment"):
        check_run(tmp_path)
    result = _invoke(runs["good"], "--suite", "builtin:sentiment", "--label-map", "x=negative")
    assert isinstance(result.exception, ConfigError)
    assert "the run has no label 'x'; its labels are ['neg', 'pos']" in str(result.exception)
    bad = tmp_path / "bad.yaml"
    bad.write_text("labels: [negative, positive]\ntests:\n"
                   "  - {name: t, kind: MFT, inputs: [x], expekt: positive}\n")
    result = _invoke(runs["good"], "--suite", bad)
    assert isinstance(result.exception, ConfigError)
    assert "bad.yaml" in str(result.exception) and "did you mean 'expect'" in str(result.exception)


def test_the_calibrated_temperature_is_applied(runs: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    run = tmp_path / "calibrated"
    shutil.copytree(runs["good"], run)
    (run / "calibration.json").write_text(json.dumps({"temperature": 1e6}), encoding="utf-8")
    data = check_run(run, [str(runs["suite"])])["suites"]["tiny"]
    assert data["temperature"] == 1e6
    probs = [p for t in data["tests"] for e in t["examples"] for p in e["probs"].values()]
    assert probs and all(abs(p - 0.5) < 1e-3 for p in probs)
