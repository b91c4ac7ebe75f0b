"""`ftlab --help` is fast (no torch, no trackers imported) and flags show no `<bool>` type."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from ftlab.cli import app

HEAVY = ("torch", "transformers", "optuna", "mlflow", "wandb", "matplotlib", "sklearn", "scipy")


def test_help_imports_no_heavy_dependency():
    code = ("import sys\nsys.argv = ['ftlab', '--help']\nfrom ftlab.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
    assert "Commands:" in out and "train" in out


def _commands():
    names = [c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands]
    return names + [f"data {c.name or c.callback.__name__}"
                    for g in app.registered_groups if g.name == "data"
                    for c in g.typer_instance.registered_commands]


@pytest.mark.parametrize("command", ["", *_commands()])
def test_help_shows_flags_without_a_bool_type(command):
    result = CliRunner().invoke(app, [*command.split(), "--help"], terminal_width=120)
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    assert "--help" in result.output
