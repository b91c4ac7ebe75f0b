"""Transformation throughput (texts/s) for every registered transformation, on SST-2 sentences.

Each transformation (default rate) runs over the 872 SST-2 validation sentences (or the
built-in Rotten Tomatoes test split without ../shared/data) through
``ftlab.robustness.transform_examples`` (per-example seeding included), in one process, one
thread. Resource loading (WordNet index, GloVe neighbours, nlpaug lists) is timed separately as
"first call": the throughput pass runs after a warm-up pass over the same texts, and a cold
pass over unseen texts shows what the WordNet cache saves. Writes the
``## Transformation throughput`` section of BENCHMARKS.md.

    .venv/bin/python bench/transforms.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from _common import ROOT, machine, read_rows, write_section

SST2 = ROOT.parent / "shared" / "data" / "sst2"
SECTION = "## Transformation throughput"


def _texts() -> tuple[str, list, list]:
    from ftlab.data import Example

    if (SST2 / "validation.jsonl.gz").is_file():
        dev = read_rows(SST2 / "validation.jsonl.gz")
        train = read_rows(SST2 / "train.jsonl.gz")
        long_train = [r for r in train if len(r["text"].split()) >= 8][:2000]
        mk = lambda rows, p: [Example(id=f"{p}{i}", text=r["text"], label=str(r["label"]))  # noqa: E731
                              for i, r in enumerate(rows)]
        return "SST-2 validation (872 sentences)", mk(dev, "d"), mk(long_train, "t")
    from ftlab.data import load_builtin

    splits = load_builtin("rotten_tomatoes")
    return "Rotten Tomatoes test (built-in)", splits["test"], splits["train"][:2000]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    from ftlab.robustness import TRANSFORMS, build_pipeline, transform_examples

    source, texts, unseen = _texts()
    rows = []
    for name in sorted(TRANSFORMS):
        t0 = time.perf_counter()
        pipeline = build_pipeline(name)
        transform_examples(texts[:1], pipeline, 0)
        first = time.perf_counter() - t0
        warm = []
        out, changes = transform_examples(texts, pipeline, 0)  # warm-up (fills caches)
        for rep in range(args.repeats):
            t0 = time.perf_counter()
            transform_examples(texts, pipeline, rep + 1)
            warm.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        transform_examples(unseen, pipeline, 0)
        cold = time.perf_counter() - t0
        changed = sum(c.changed for c in changes) / len(changes)
        edits = sum(len(c.text) for c in changes) / len(changes)
        rate = len(texts) / statistics.median(warm)
        rows.append(f"| {name} | {rate:,.0f} | {len(unseen) / cold:,.0f} | {first:.2f} | "
                    f"{changed:.1%} | {edits:.2f} |")
        print(rows[-1], flush=True)
    table = "\n".join(rows)
    section = f"""{SECTION}

Command: `.venv/bin/python bench/transforms.py` (repository root). Machine: {machine(1)}; one
thread. Texts: {source}, each transformation at its default rate through
`transform_examples` (per-example seeding included, the work a robustness evaluation or an
augmentation does). "warm" is the median of {args.repeats} passes after a warm-up pass over the
same texts (caches full); "unseen" is one pass over 2,000 other SST-2 training sentences of 8+
words (WordNet/GloVe lookups not cached yet, resources loaded); "first call" builds the
transformation and transforms one text (loading WordNet, GloVe neighbours or nlpaug's lists).
WordNet lookups are cached per (word, part of speech) with `functools.lru_cache`
(`WordNetLexicon`), so "warm" vs "unseen" for `synonyms` is what the cache saves.

| transformation | texts/s (warm) | texts/s (unseen texts) | first call (s) | texts changed | edits per text |
|---|---:|---:|---:|---:|---:|
{table}
"""
    write_section(section)
    print(section)


if __name__ == "__main__":
    main()
