"""`ftlab scratch --example` through the real command table."""

from __future__ import annotations

from typer.testing import CliRunner

from ftlab.cli import app


def test_scratch_example_prints_every_section_and_the_losses():
    res = CliRunner().invoke(app, ["scratch", "--example", "--seed", "0", "--lr", "0.1"])
    assert res.exit_code == 0, res.output
    for section in ("X (4, 3)", "Y (4, 3)", "H (3, 5)", "b_H (5,)", "U (5, 3)", "b_U (3,)",
                    "K (4, 5)", "S (4, 5)", "Z (4, 3)", "O (4, 3)", "dl/dZ (4, 3)",
                    "dl/dU (5, 3)", "dl/db_U (3,)", "dl/dS (4, 5)", "dl/dK (4, 5)",
                    "dl/dH (3, 5)", "dl/db_H (5,)", "after one SGD step", "dl/dZ = O - Y"):
        assert section in res.output, section
    assert "sum 4.8909" in res.output  # before the step
    assert "sum 4.2143 (before 4.8909" in res.output  # after the step


def test_scratch_without_example_says_what_to_pass():
    res = CliRunner().invoke(app, ["scratch"])
    assert res.exit_code == 2
    assert "--example" in res.output
