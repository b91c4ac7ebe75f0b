"""Tiny trained runs shared by the analysis tests (bag of embeddings, ~1 s each on CPU).

The data comes as explicit train/validation/test files, so runs with different seeds are
evaluated on the same test examples and can be paired.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from ftlab.config import parse_config
from ftlab.runs import train_run

POS = ["great", "wonderful", "superb", "lovely", "brilliant"]
NEG = ["awful", "terrible", "boring", "dreadful", "weak"]
FILL = ["the", "movie", "story", "cast", "was", "and", "really", "quite", "plot", "film"]


def _write(path: Path, n: int, offset: int, seed: int) -> str:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = i % 2
        words = rng.sample(FILL, 4) + rng.sample(POS if label else NEG, 1)
        if rng.random() < 0.15:  # some noise so that runs differ
            words += rng.sample(NEG if label else POS, 1)
        rng.shuffle(words)
        rows.append({"id": f"ex{offset + i}", "text": " ".join(words),
                     "label": "pos" if label else "neg"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def tiny_config(tmp: Path, *, seed: int, **extra):
    """A bow config on the shared files under ``tmp`` (``extra``: ``"section.field": value``)."""
    raw = {
        "seed": seed, "output_dir": str(tmp / "runs"),
        "data": {"files": {"train": str(tmp / "train.jsonl"),
                           "validation": str(tmp / "validation.jsonl"),
                           "test": str(tmp / "test.jsonl")},
                 "columns": {"id": "id"}},
        "preprocess": {"max_length": 16},
        "batching": {"batch_size": 8},
        "model": {"family": "bow", "embed_dim": 16, "hidden_dims": [16]},
        "train": {"lr": 0.05, "epochs": 5, "trackers": [], "log_every": 100,
                  "checkpoint": {"keep_best": 3}},
    }
    for key, value in extra.items():
        section, _, field = key.partition(".")
        raw.setdefault(section, {})[field] = value
    return parse_config(raw)


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory) -> dict[str, Path]:
    """Three seeds of one config (``s1``-``s3``) and an almost untrained run (``weak``)."""
    tmp = tmp_path_factory.mktemp("analysis")
    _write(tmp / "train.jsonl", 120, 0, seed=0)
    _write(tmp / "validation.jsonl", 40, 1000, seed=1)
    _write(tmp / "test.jsonl", 80, 2000, seed=2)
    with pytest.MonkeyPatch.context() as mp:
        # the members' HTML reports (matplotlib, ~3/4 of a tiny run's time) are not needed here
        mp.setattr("ftlab.runs._train.diagnose_and_report", lambda *a, **k: None)
        runs = {f"s{k}": Path(train_run(tiny_config(tmp, seed=k), name=f"s{k}")["path"])
                for k in (1, 2, 3)}
        weak = tiny_config(tmp, seed=7, **{"train.lr": 1e-6, "train.epochs": 1})
        runs["weak"] = Path(train_run(weak, name="weak")["path"])
    return runs
