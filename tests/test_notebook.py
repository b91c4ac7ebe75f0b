"""examples/walkthrough.ipynb runs top to bottom, and the stored copy holds its outputs."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the notebook extra runs the walkthrough")
pytest.importorskip("nbclient", reason="the notebook extra runs the walkthrough")
pytest.importorskip("ipykernel", reason="the notebook extra runs the walkthrough")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "walkthrough.ipynb"
SECTIONS = ("## Introduction", "**Task.**", "**Data.**", "**Method.**", "**Experiments.**",
            "**Results.**", "## Setup", "## Data inspection", "## Preprocessing", "baseline",
            "## Model and training", "## Evaluation against the baselines", "## Error analysis",
            "## Robustness and augmentation", "tuning", "## Interpretation", "## Conclusion",
            "report.html", "## Tools used")
# what must never be in a stored output: object reprs, machine paths, warnings
UNCLEAN = re.compile(r"object at 0x|<rich\.|/work/|/tmp/|/home/|site-packages|Warning|"
                     r"warnings\.warn|Traceback")


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


def _texts(nb) -> list[str]:
    """Every text a reader sees in the outputs (streams, plain-text and markdown results)."""
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                out.append(o.get("text", ""))
            data = o.get("data", {})
            if "image/png" not in data:  # an image's text/plain is never shown
                out += [str(data.get(k, "")) for k in ("text/plain", "text/markdown")]
    return out


def test_stored_outputs_are_clean():
    stored = nbformat.read(NOTEBOOK, as_version=4)
    bad = [m.group(0) + ": " + t[max(0, m.start() - 60):m.end() + 60]
           for t in _texts(stored) for m in [UNCLEAN.search(t)] if m]
    assert not bad, bad


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
    for computed in ("test tokens are in it", "parameters, ", "A = TF-IDF, B = model:",
                     "most confident errors look non-English", "typo test:",
                     "train.augment", "the configs differ in", "- Typos at 5% of the letters cost",
                     "Typo augmentation"):
        assert computed in outputs, computed
    bad = [t for t in _texts(nb) if UNCLEAN.search(t)]
    assert not bad, bad
    assert (tmp_path / "runs" / "walkthrough" / "bow" / "report.html").is_file()
