"""Tiny, separable sentiment data for run-level tests (a bag-of-embeddings run takes ~1 s)."""

from __future__ import annotations

import json
import random
from pathlib import Path

POS = ["great", "wonderful", "superb", "lovely", "brilliant"]
NEG = ["awful", "terrible", "boring", "dreadful", "weak"]
FILL = ["the", "movie", "story", "cast", "was", "and", "really", "quite", "plot", "film"]


def write_sentiment_jsonl(path: Path, n: int = 160, *, fill: int = 4, numbered: bool = True,
                          seed: int = 0) -> Path:
    """``n`` JSONL rows alternating ``neg``/``pos``: ``fill`` filler words and two sentiment
    words, shuffled; ``numbered`` appends the row number (keeps texts unique)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = i % 2
        words = rng.sample(FILL, fill) + rng.sample(POS if label else NEG, 2)
        rng.shuffle(words)
        text = " ".join(words) + (f" {i}" if numbered else "")
        rows.append({"text": text, "label": "pos" if label else "neg"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path
