"""A tiny config on disk for the find-batch-size / find-lr tests (bag of embeddings, 80 rows)."""

from __future__ import annotations

import json
import random
from pathlib import Path

POS = ["great", "superb", "lovely"]
NEG = ["awful", "boring", "weak"]
FILL = ["the", "a", "movie", "plot", "was", "cast"]

CONFIG_TEXT = """\
# tiny config for the toolbelt tests
seed: 1
output_dir: {out}
data:
  source: {data}   # jsonl made by the test
  split: {{validation: 0.2, test: 0.2}}
preprocess:
  max_length: 16
batching:
  batch_size: 8   # examples per step
model:
  family: bow
  embed_dim: 8
  hidden_dims: [8]
train:
  lr: 0.02  # tuned by hand
  epochs: 1
  trackers: []
  device: cpu
"""


def write_tiny(tmp: Path, n: int = 80) -> Path:
    """Data with lengths 3..11 tokens and a config file; returns the config path."""
    rng = random.Random(0)
    rows = []
    for i in range(n):
        label = i % 2
        words = [rng.choice(FILL) for _ in range(2 + (i * 7) % 9)]
        words.append(rng.choice(POS if label else NEG))
        rows.append({"text": " ".join(words), "label": "pos" if label else "neg"})
    data = tmp / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cfg = tmp / "tiny.yaml"
    cfg.write_text(CONFIG_TEXT.format(out=tmp / "runs", data=data), encoding="utf-8")
    return cfg
