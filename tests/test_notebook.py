"""examples/walkthrough.ipynb runs top to bottom, and the stored copy holds its outputs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the notebook extra runs the walkthrough")
pytest.importorskip("nbclient", reason="the notebook extra runs the walkthrough")
pytest.importorskip("ipykernel", reason="the notebook extra runs the walkthrough")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "walkthrough.ipynb"
SECTIONS = ("Introduction", "Setup", "Data inspection", "Preprocessing", "baseline",
            "Model and training", "Evaluation", "Interpretation", "Robustness", "tuning",
            "Tools used")


def _builder():
    spec = importlib.util.spec_from_file_location("build_walkthrough",
                                                  ROOT / "examples" / "build_walkthrough.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stored_notebook_matches_its_builder_and_has_outputs():
    stored = nbformat.read(NOTEBOOK, as_version=4)
    built = _builder().build()
    assert [c.source for c in stored.cells] == [c.source for c in built.cells], \
        "examples/walkthrough.ipynb is stale: run .venv/bin/python examples/build_walkthrough.py"
    text = "\n".join(c.source for c in stored.cells if c.cell_type == "markdown")
    for section in SECTIONS:
        assert section in text
    code = [c for c in stored.cells if c.cell_type == "code"]
    assert all(c.outputs for c in code), "every code cell's output is stored"
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 4  # the report's figures inline


def test_notebook_runs_top_to_bottom(tmp_path):
    builder = _builder()
    nb = builder.execute(builder.build(), tmp_path)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.get("output_type") == "error"]
    assert not errors
    outputs = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                        for o in c.outputs)
    assert "baseline test accuracy" in outputs and "best validation accuracy" in outputs
    assert "robustness on test" in outputs
