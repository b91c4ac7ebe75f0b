"""What every benchmark script shares: machine description, SST-2 rows, BENCHMARKS.md sections.

The scripts run as ``.venv/bin/python bench/<name>.py``, so this module is imported as ``_common``.
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "BENCHMARKS.md"
HEADER = "# ftlab benchmarks\n\nMeasured figures, one section per area; each section names its command.\n"


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (Linux), else ``"unknown CPU"``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def machine(threads: int | None = None) -> str:
    """Cores, CPU, Python and torch versions (and torch's intra-op thread count)."""
    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    n = threads if threads is not None else torch.get_num_threads()
    return (f"{cores} cores (`nproc`), {cpu_name()}; Python {platform.python_version()}, "
            f"torch {torch.__version__} (default {n} intra-op threads)")


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL file (gzipped when the name ends in .gz)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_rows(rows: list[dict[str, Any]], path: Path) -> Path:
    """Write rows as JSONL (gzipped when the name ends in .gz)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    return path


def write_section(section: str, path: Path = BENCHMARKS) -> None:
    """Replace the section with the same ``## `` title in BENCHMARKS.md, or append it.

    Args:
        section: markdown starting with its ``## Title`` line.
        path: the benchmarks file.
    """
    title = section.splitlines()[0]
    if not title.startswith("## "):
        raise ValueError(f"a section starts with '## Title', got {title!r}")
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    body = section.rstrip("\n") + "\n\n"
    pattern = re.compile(rf"^{re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: body, text)
    else:
        text = text.rstrip("\n") + "\n\n" + body
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
