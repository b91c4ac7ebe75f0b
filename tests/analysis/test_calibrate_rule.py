"""``ftlab calibrate`` keeps a temperature only when it helps validation (issue 18)."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from ftlab.cli import app


def test_temperature_that_worsens_validation_is_not_applied(tiny_runs, tmp_path, monkeypatch):
    run = tmp_path / "run"
    shutil.copytree(tiny_runs["s1"], run)
    # a temperature far from the NLL optimum worsens validation NLL
    monkeypatch.setattr("ftlab.evaluation.fit_temperature", lambda probs, labels: 25.0)
    result = CliRunner().invoke(app, ["calibrate", str(run), "--threshold", "f1"])
    assert result.exit_code == 0, result.output
    record = json.loads((run / "calibration.json").read_text())
    assert record["temperature"] is None and record["fitted_temperature"] == 25.0
    assert record["nll_after"] > record["nll_before"]
    assert "temperature 25.000 not applied: it worsened validation NLL" in result.output
    assert record["positive"] in ("neg", "pos") and record["threshold"] is not None
    evaluated = CliRunner().invoke(app, ["evaluate", str(run), "--no-report", "--no-baseline"])
    assert evaluated.exit_code == 0, evaluated.output
    report = json.loads((run / "evaluation" / "test.json").read_text())
    assert report["calibration"]["temperature"] is None
    assert report["decision_rule"]["temperature"] is None
    assert any("not applied" in w for w in report["warnings"])
