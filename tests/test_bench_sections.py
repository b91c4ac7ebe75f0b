"""BENCHMARKS.md sections are what their scripts render from the saved raw figures.

``bench/<script>.py --render-only`` rewrites a section from ``bench/results/<script>.json``;
this checks, without measuring anything, that the committed section is byte-identical to that
rendering (a hand edit of a figure, or figures saved without the section, fails here).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


def _load(script: str):
    spec = importlib.util.spec_from_file_location(f"bench_{script}", ROOT / "bench" / f"{script}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _section(title: str) -> str:
    text = (ROOT / "BENCHMARKS.md").read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", text, re.S | re.M)
    assert match, f"no '## {title}' section in BENCHMARKS.md"
    return match.group(0)


SCRIPTS = ["batching", "train_throughput", "transforms", "ddp", "tuning", "predict",
           "onnx_infer", "profile_step", "vs_hf_trainer", "long_docs"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_section_is_rendered_from_the_saved_figures(script: str):
    bench = _load(script)
    store = json.loads(bench.RESULTS.read_text(encoding="utf-8"))
    rendered = f"## {bench.SECTION}\n\n{bench.render(store)}".rstrip("\n") + "\n"
    assert _section(bench.SECTION).rstrip("\n") + "\n" == rendered
    assert "Single run, not re-measured" not in rendered
