"""``ftlab compare`` and ``ftlab ensemble`` on tiny trained runs, through the real CLI."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from ftlab.analysis import compare_run_groups, compare_runs
from ftlab.cli import app
from ftlab.errors import DataError, FtlabError

runner = CliRunner()


def _invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def test_compare_two_runs_says_b_is_better_and_writes_json(tiny_runs, tmp_path):
    out = tmp_path / "cmp" / "result.json"
    result = _invoke("compare", tiny_runs["weak"], tiny_runs["s1"], "--resamples", 2000,
                     "--json", out)
    assert result.exit_code == 0, result.output
    assert "B is better than A on accuracy: +" in result.output
    assert "(paired bootstrap, 2,000 resamples)" in result.output
    assert f"A: {tiny_runs['weak']}" in result.output
    saved = json.loads(out.read_text())
    assert saved["test"] == "paired-bootstrap" and saved["n"] == 80 and saved["significant"]
    assert saved["metrics"]["accuracy"]["p_value"] < 0.01
    assert saved["runs"] == {"a": str(tiny_runs["weak"]), "b": str(tiny_runs["s1"])}
    lib = compare_runs(tiny_runs["weak"], tiny_runs["s1"], n_resamples=2000)
    assert lib.to_dict()["metrics"] == saved["metrics"]


@pytest.mark.parametrize("test", ["mcnemar", "permutation"])
def test_compare_other_tests(tiny_runs, test):
    result = _invoke("compare", tiny_runs["s1"], tiny_runs["weak"], "--test", test,
                     "--resamples", 1000)
    assert result.exit_code == 0, result.output
    assert "B is worse than A on accuracy: -" in result.output


def test_compare_a_run_with_itself_is_no_difference(tiny_runs, tmp_path):
    twin = tmp_path / "twin"
    shutil.copytree(tiny_runs["s2"], twin)
    result = _invoke("compare", tiny_runs["s2"], twin, "--test", "mcnemar")
    assert result.exit_code == 0, result.output
    assert "no difference between A and B on accuracy: +0.0 points [0.0, 0.0], p = 1.000" \
        in result.output


def test_compare_refuses_runs_evaluated_on_different_examples(tiny_runs, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(tiny_runs["s3"], other)
    preds = other / "predictions" / "test.jsonl"
    lines = preds.read_text().splitlines()
    preds.write_text("\n".join(lines[1:]) + "\n")  # one example fewer
    result = _invoke("compare", tiny_runs["s1"], other)
    assert isinstance(result.exception, DataError)
    message = str(result.exception)
    assert "were not evaluated on the same examples" in message and "ex2000" in message
    assert "ftlab evaluate RUN --split test" in message
    relabelled = [json.loads(x) for x in lines]
    relabelled[0]["label"] = "pos" if relabelled[0]["label"] == "neg" else "neg"
    preds.write_text("".join(json.dumps(r) + "\n" for r in relabelled))
    with pytest.raises(DataError, match="different true labels to 1 of 80 examples"):
        compare_runs(tiny_runs["s1"], other)


def test_compare_names_the_command_that_writes_missing_predictions(tiny_runs, tmp_path):
    result = _invoke("compare", tiny_runs["s1"], tiny_runs["s2"], "--split", "validation")
    assert isinstance(result.exception, DataError)
    assert f"ftlab evaluate {tiny_runs['s1']} --split validation" in str(result.exception)
    bad = _invoke("compare", tiny_runs["s1"])
    assert isinstance(bad.exception, FtlabError) and "needs two runs" in str(bad.exception)
    both = _invoke("compare", tiny_runs["s1"], tiny_runs["s2"], "--a", tiny_runs["s3"])
    assert isinstance(both.exception, FtlabError) and "not both" in str(both.exception)


def test_compare_groups_of_seeds(tiny_runs, tmp_path):
    out = tmp_path / "groups.json"
    result = _invoke("compare", "--a", tiny_runs["s1"], "--a", tiny_runs["s2"],
                     "--b", tiny_runs["s3"], "--b", tiny_runs["weak"], "--metric", "macro_f1",
                     "--json", out)
    assert result.exit_code == 0, result.output
    assert "across seeds on macro_f1" in result.output and "Welch t-test, 2 vs 2 runs" \
        in result.output
    assert "bootstrap of the difference of means" in result.output
    saved = json.loads(out.read_text())
    assert saved["a"]["n"] == 2 and saved["metric"] == "macro_f1"
    assert len(saved["a"]["evp"]["mean"]) == 2
    with pytest.raises(DataError, match="group A has 1 run.*at least 2 per group"):
        compare_run_groups([tiny_runs["s1"]], [tiny_runs["s2"], tiny_runs["s3"]])
    only_a = _invoke("compare", "--a", tiny_runs["s1"], "--a", tiny_runs["s2"])
    assert isinstance(only_a.exception, DataError) and "group B has 0 run" in str(only_a.exception)


def test_ensemble_cli_and_compare_with_the_ensemble(tiny_runs, tmp_path):
    result = _invoke("ensemble", tiny_runs["s1"], tiny_runs["s2"], tiny_runs["s3"],
                     "--name", "ens3", "--dir", tmp_path)
    assert result.exit_code == 0, result.output
    for name in ("s1", "s2", "s3", "ensemble"):
        assert name in result.output
    assert "ensemble vs best member" in result.output and f"{tmp_path / 'ens3'}" in result.output
    cmp = _invoke("compare", tiny_runs["s1"], tmp_path / "ens3", "--resamples", 500)
    assert cmp.exit_code == 0, cmp.output
    ckpt = _invoke("ensemble", tiny_runs["s2"], "--checkpoints", "--dir", tmp_path)
    assert ckpt.exit_code == 0, ckpt.output
    assert "step-" in ckpt.output and (tmp_path / "s2-checkpoint-ensemble" / "run.json").is_file()
    two = _invoke("ensemble", tiny_runs["s1"], tiny_runs["s2"], "--checkpoints")
    assert isinstance(two.exception, FtlabError) and "one run" in str(two.exception)
