"""The BENCHMARKS.md sections of bench/ddp.py, bench/tuning.py and bench/predict.py are exactly
what their ``render`` makes of the stored raw figures (bench/results/*.json): ``--render-only``
leaves BENCHMARKS.md byte-identical, so the tables were not edited by hand after measuring."""

from __future__ import annotations

import importlib
import json
import shutil
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))
import _common  # noqa: E402


@pytest.mark.parametrize("script", ["ddp", "tuning", "predict"])
def test_render_only_reproduces_the_section(script: str, tmp_path: Path):
    module = importlib.import_module(script)
    store = json.loads(module.RESULTS.read_text(encoding="utf-8"))
    copy = tmp_path / "BENCHMARKS.md"
    shutil.copyfile(_common.BENCHMARKS, copy)
    _common.write_section(f"## {module.SECTION}\n\n{module.render(store)}", copy)
    assert copy.read_text(encoding="utf-8") == _common.BENCHMARKS.read_text(encoding="utf-8")
    assert "Single run, not re-measured" not in module.render(store)
