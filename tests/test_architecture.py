"""The layer contracts of ARCHITECTURE.md hold (import-linter, configured in pyproject.toml),
and a planted violation of each kind breaks them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("importlinter", reason="import-linter comes with the test extra")

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"


def _lint(src: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with the repository's contracts over the ``ftlab`` package in ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    return subprocess.run(
        [sys.executable, "-c", code, "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=300,
    )


def test_contracts_hold() -> None:
    out = _lint(SRC, ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout and "BROKEN" not in out.stdout


def test_planted_violations_break_the_contracts(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(SRC / "ftlab", src / "ftlab", ignore=shutil.ignore_patterns("__pycache__"))
    pkg = src / "ftlab"
    # a component reaching up into runs, through a private module
    (pkg / "data" / "_planted.py").write_text("from ftlab.runs._rundir import utc_now\n")
    # another package's private module, imported inside a function
    (pkg / "toolbelt" / "_planted.py").write_text(
        "def f():\n    from ftlab.training._loop import fit\n    return fit\n")
    # a cycle hidden in a function-level import: config -> robustness -> ... -> config
    with (pkg / "config.py").open("a") as fh:
        fh.write("\n\ndef _planted():\n    from ftlab.robustness import TRANSFORMS\n    return TRANSFORMS\n")
    # a cycle between two modules of one package
    (pkg / "core" / "_planted_a.py").write_text("def f():\n    from ftlab.core import _planted_b\n")
    (pkg / "core" / "_planted_b.py").write_text("from ftlab.core import _planted_a\n")
    out = _lint(src, tmp_path)
    assert out.returncode != 0
    broken = {line.rsplit(" ", 1)[0] for line in out.stdout.splitlines() if line.endswith("BROKEN")}
    text = " ".join(out.stdout.split())  # contract names may wrap
    for name in (
        "Stage layers: a package imports only core and the packages below it (no cycles) BROKEN",
        "Components never import config or runs",
        "No import cycles between sibling modules or packages, at any depth BROKEN",
        "ftlab.runs: its private modules are imported only inside ftlab.runs BROKEN",
        "ftlab.training: its private modules are imported only inside ftlab.training BROKEN",
    ):
        assert name in text, out.stdout
    assert "ftlab.data: its private modules are imported only inside ftlab.data KEPT" in text
    assert broken  # at least one line-final BROKEN marker
    assert "ftlab.config -> ftlab.robustness" in text and "ftlab.data._planted" in text
