"""The README's "fine-tuning assignment" commands run as written (offline block), scaled down:
each `ftlab` line is run through the real CLI with tiny sizes appended as `--set` overrides
(a tiny random BERT instead of MiniLM, 80 examples, two optimizer steps) and keyboard typos
standing in for the WordNet pipeline (loading WordNet alone takes ~10 s per process; the
WordNet transformation itself is tested in tests/robustness)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

from typer.testing import CliRunner

from ftlab.cli import app

from tests.models._tiny_transformers import tiny_model_dir

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _offline_block() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## The fine-tuning assignment in ftlab", 1)[1]
    block = re.search(r"\*\*Offline, end to end\*\*.*?```bash\n(.*?)```", section, re.S)
    assert block is not None, "README: the offline block of the assignment section is missing"
    return [line for line in block.group(1).splitlines() if line.startswith("ftlab ")]


def test_the_table_maps_every_flag_of_main_py():
    text = (ROOT / "README.md").read_text(encoding="utf-8").split(
        "## The fine-tuning assignment in ftlab", 1)[1].split("\n## ", 1)[0]
    for flag in ("`--train --eval`", "`--eval_transformed`", "`--train_augmented`",
                 "`--debug_transformation`"):
        assert flag in text
    for config in ("configs/assignment-rt-minilm.yaml", "configs/imdb-distilbert.yaml",
                   "configs/imdb-distilbert-augmented.yaml"):
        assert (ROOT / config).is_file()


# the README's transformation and the stand-in, in spec and in file-name (slug) form
_SWAP = (("synonyms:0.5,typos:0.1", "typos:0.1"), ("synonyms-0.5+typos-0.1", "typos-0.1"))


def test_readme_assignment_commands_run_offline_scaled_down(tmp_path, monkeypatch):
    lines = _offline_block()
    assert [shlex.split(x)[1] for x in lines] == [
        "transform", "train", "evaluate", "train", "compare", "compare", "report"]
    (tmp_path / "configs").mkdir()
    shutil.copy(ROOT / "configs" / "assignment-rt-minilm.yaml", tmp_path / "configs")
    monkeypatch.chdir(tmp_path)
    # each run's own HTML report (matplotlib: half the time here) is tested elsewhere; the
    # README's last line, the side-by-side `ftlab report`, still runs for real
    monkeypatch.setattr("ftlab.runs._train.diagnose_and_report", lambda *a, **k: None)
    monkeypatch.setattr("ftlab.runs.diagnose_and_report", lambda *a, **k: None)
    tiny = {"data.max_examples": 80, "model.name": str(tiny_model_dir("bert")),
            "preprocess.max_length": 32, "batching.batch_size": 16, "train.max_steps": 2,
            "train.trackers": "[]", "robustness.transforms": "[typos:0.1]"}
    outputs = []
    for line in lines:
        for old, new in _SWAP:
            line = line.replace(old, new)
        args = shlex.split(line)[1:]
        if args[0] in ("train", "transform"):
            for key, value in tiny.items():
                args += ["--set", f"{key}={value}"]
        if args[0] == "train" and "--set" in line:  # the augmented run: 5,000 -> 40 examples
            args = [a.replace("n: 5000", "n: 40") for a in args]
        if args[0] == "compare":
            args += ["--resamples", "500"]
        result = runner.invoke(app, args)
        # --expect-drop exits 1 when the (tiny, untrained) model does not lose 4 points
        ok = result.exit_code == 0 or (args[0] == "evaluate" and result.exit_code == 1)
        assert ok, f"{line}\n{result.output}\n{result.exception!r}"
        outputs.append(result.output)
    transform, train, evaluate, augmented, clean, transformed, report = outputs
    assert "typos" in transform.lower()
    assert "test" in train and "robustness on test" in train
    assert re.search(r"check: typos:0\.1 lowers accuracy by -?\d+\.\d points", evaluate)
    assert "augmentation typos:0.1: +" in augmented
    for out in (clean, transformed):
        assert "between A and B on accuracy" in out or "than A on accuracy" in out
        assert 'differs (A -> B): train.augment=[] -> [{"transform": "typos:0.1", "n": 40' in out
    assert "(test@typos-0.1, n=" in transformed
    assert "report:" in report
    runs = tmp_path / "runs"
    assert (runs / "rt-minilm" / "predictions" / "test@typos-0.1.jsonl").is_file()
    added = json.loads((runs / "rt-minilm-augmented" / "run.json").read_text())["augment"]
    assert added[0]["added"] > 0
