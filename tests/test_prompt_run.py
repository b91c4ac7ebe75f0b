"""A prompting run (``model.family: prompt``) with a tiny random causal LM, through the real
CLI: both decision modes write a complete run directory, unparseable generations are counted
and shown in the report, ``ftlab evaluate`` reloads it and ``ftlab compare`` pairs it with a
fine-tuned (bow) run on the same split."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from ftlab.cli import app
from ftlab.errors import ConfigError

from tests._tiny_data import write_sentiment_jsonl
from tests.models._tiny_lm import tiny_causal_lm

runner = CliRunner()


def _invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("prompt")
    data = write_sentiment_jsonl(tmp / "reviews.jsonl", 48)
    base = {"seed": 3, "output_dir": str(tmp / "runs"), "data": {"source": str(data)},
            "batching": {"batch_size": 8, "eval_batch_size": 4},
            "eval": {"splits": ["test"]}}
    prompt = {**base, "model": {"family": "prompt", "name": str(tiny_causal_lm(tmp / "lm")),
                                "shots": 4, "template": "Review: {text}\nSentiment:",
                                "verbalizers": {"pos": "great", "neg": "awful"},
                                "max_new_tokens": 2}}
    bow = {**base, "preprocess": {"max_length": 16},
           "model": {"family": "bow", "embed_dim": 8}, "train": {"epochs": 1, "lr": 0.05}}
    for name, raw in (("prompt", prompt), ("bow", bow)):
        (tmp / f"{name}.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    return tmp


@pytest.mark.parametrize("mode", ["scoring", "generate"])
def test_prompt_run_writes_a_complete_run_directory(setup, mode):
    result = _invoke("train", setup / "prompt.yaml", "--set", f"model.mode={mode}",
                     "--name", f"p-{mode}")
    assert result.exit_code == 0, result.output
    assert "4 demonstrations from train (neg: 2, pos: 2); no training" in result.output
    run = setup / "runs" / f"p-{mode}"
    for path in ("config.yaml", "env.json", "run.json", "report.html", "eval.json",
                 "artifacts/prompt.json", "predictions/test.jsonl", "evaluation/test.json"):
        assert (run / path).is_file(), path
    summary = json.loads((run / "run.json").read_text())
    assert summary["status"] == "completed" and summary["step"] == 0
    assert "prompting baseline: no training (4-shot" in summary["stop_reason"]
    assert summary["parameters"]["trainable"] == 0
    demos = json.loads((run / "artifacts" / "prompt.json").read_text())["demonstrations"]
    assert sorted(d["label"] for d in demos) == ["neg", "neg", "pos", "pos"]
    rows = [json.loads(x) for x in (run / "predictions" / "test.jsonl").read_text().splitlines()]
    assert rows and all(abs(sum(r["probs"].values()) - 1) < 1e-4 for r in rows)
    test = json.loads((run / "evaluation" / "test.json").read_text())
    assert test["prompt"]["prompts"] == len(rows)
    if mode == "generate":
        gens = (run / "predictions" / "test.generations.jsonl").read_text().splitlines()
        bad = sum(json.loads(g)["rule"] == "unparseable" for g in gens)
        assert len(gens) == len(rows) and test["prompt"]["unparseable"] == bad
        line = f"generation: {bad} of {len(rows)} outputs unparseable (scored as wrong)"
        assert any(w.startswith(line) for w in test["warnings"])
        assert line in (run / "report.html").read_text()
        # scored as wrong: every unparseable example is an error
        wrong = sum(r["pred"] != r["label"] for r in rows)
        assert wrong >= bad
    else:
        assert not (run / "predictions" / "test.generations.jsonl").exists()

    if mode == "generate":
        return
    again = _invoke("evaluate", run, "--no-robustness", "--no-report", "--no-baseline")
    assert again.exit_code == 0, again.output  # reloaded without a checkpoint
    re_rows = [json.loads(x) for x in (run / "predictions" / "test.jsonl").read_text().splitlines()]
    assert [r["probs"] for r in re_rows] == [r["probs"] for r in rows]  # same demonstrations


def test_compare_pairs_a_prompt_run_with_a_fine_tuned_run(setup):
    if not (setup / "runs" / "p-scoring").is_dir():
        assert _invoke("train", setup / "prompt.yaml", "--name", "p-scoring").exit_code == 0
    trained = _invoke("train", setup / "bow.yaml", "--name", "bow")
    assert trained.exit_code == 0, trained.output
    out = _invoke("compare", setup / "runs" / "bow", setup / "runs" / "p-scoring",
                  "--resamples", 500, "--json", setup / "cmp.json")
    assert out.exit_code == 0, out.output
    assert "than A on accuracy" in out.output or "between A and B on accuracy" in out.output
    assert 'differs (A -> B): ' in out.output and 'model.family="bow" -> "prompt"' in out.output
    saved = json.loads((setup / "cmp.json").read_text())
    assert saved["details"]["differs"]["model.family"] == ["bow", "prompt"]


def test_dry_run_of_a_prompt_config_takes_no_step(setup):
    result = _invoke("train", setup / "prompt.yaml", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "'optimizer_steps': 0" in result.output


def test_a_bad_template_is_one_clear_config_error(setup):
    result = _invoke("train", setup / "prompt.yaml", "--set", "model.template='Q: {txt}'")
    assert isinstance(result.exception, ConfigError)  # the console script exits 2 with it
    assert "unknown field(s) ['txt']" in str(result.exception)
