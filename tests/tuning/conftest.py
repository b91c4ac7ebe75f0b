"""Tiny, deterministic data and configs for tuning tests (bag-of-embeddings, ~1 s a run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftlab.config import parse_config

from _tiny_data import write_sentiment_jsonl


def write_data(path: Path, n: int = 80) -> Path:
    return write_sentiment_jsonl(path, n, fill=3, numbered=False)


def tiny_raw(tmp: Path, epochs: int = 3) -> dict:
    return {
        "name": "tiny", "seed": 3, "output_dir": str(tmp / "runs"),
        "data": {"source": str(write_data(tmp / "d.jsonl")),
                 "split": {"validation": 0.25, "test": 0.2}},
        "preprocess": {"max_length": 8},
        "batching": {"batch_size": 16},
        "model": {"family": "bow", "embed_dim": 8, "hidden_dims": []},
        "train": {"lr": 0.05, "epochs": epochs, "trackers": [], "log_every": 100,
                  "schedule": "constant", "checkpoint": {"keep_best": 1}},
        "eval": {"splits": []},  # no test-split evaluation: trials are scored on validation
    }


@pytest.fixture
def tiny_config(tmp_path):
    return parse_config(tiny_raw(tmp_path))
