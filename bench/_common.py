"""What every benchmark script shares: machine description, SST-2 rows, BENCHMARKS.md sections.

The scripts run as ``.venv/bin/python bench/<name>.py``, so this module is imported as ``_common``.
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import re
import statistics
from collections.abc import Callable
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


def publish(title: str, text: str, *, results: Path, store: dict[str, Any] | None = None,
            write: bool = True) -> None:
    """Print a benchmark's table; with ``write``, also save its raw figures (``store``, when
    given) to ``results`` and put the same text in BENCHMARKS.md under ``## title``."""
    print(text)
    if not write:
        return
    if store is not None:
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_text(json.dumps(store, indent=1) + "\n", encoding="utf-8")
    write_section(f"## {title}\n\n{text}")


def load_results(results: Path) -> dict[str, Any]:
    """The raw figures a script saved (``{}`` before its first measurement)."""
    return json.loads(results.read_text(encoding="utf-8")) if results.is_file() else {}


def rerender(title: str, render: Callable[[dict[str, Any]], str], results: Path) -> None:
    """``--render-only``: rewrite a section from the saved figures, measuring nothing."""
    publish(title, render(load_results(results)), results=results)


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
    path.write_text(with_methodology(text).rstrip("\n") + "\n", encoding="utf-8")


def with_methodology(text: str) -> str:
    """``text`` with the methodology section (:data:`METHODOLOGY`) first, before every other."""
    pattern = re.compile(r"^## Methodology\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub("", text)
    first = re.search(r"^## ", text, re.M)
    cut = first.start() if first else len(text)
    head = text[:cut].rstrip("\n") + "\n\n"
    return head + METHODOLOGY.rstrip("\n") + "\n\n" + text[cut:]


# ---------------------------------------------------------------- methodology (BENCHMARKS.md top)
#
# Every speed claim follows these rules: competitors interleaved (A B A B ..., at least 3 pairs,
# each run a fresh process), the median and the range reported, the load average before and
# after, the thread count fixed and stated, and training rows given as a share of this machine's
# measured fp32 matmul peak at that thread count (FLOPs per step counted from the model).

METHODOLOGY = """\
## Methodology

Every speed comparison in this file that says "interleaved" was measured this way
(`bench/_common.py`: `interleaved`, `summarize`, `matmul_peak`, `training_flops`):

- **Interleaved, fresh processes.** Competitors run A B A B ... (at least 3 pairs), each run a
  new Python process (no shared caches, clean peak memory), so a change in the machine's load
  hits both sides alike instead of whichever ran second.
- **Median and range.** Each figure is the median over the repetitions, with the minimum and
  maximum beside it; a ratio is the ratio of the medians, with the range of the per-pair ratios.
  A ratio whose per-pair range straddles 1.0 is parity, whatever its median says.
- **Load stated.** The 1-minute load average before the first and after the last run; above
  the core count the figures measure the machine's other jobs too.
- **Threads fixed.** Every run gets the same intra-op thread count (`OMP_NUM_THREADS` and
  `torch.set_num_threads` in the child; ftlab via `train.threads`), stated with the table.
- **Roofline.** The machine's fp32 matmul throughput at that thread count is measured in the
  same invocation (square `torch.mm`, best of several repeats, so it is the peak, not the
  typical rate under load), and each training row is given as a share of it: FLOPs per step =
  6 x non-embedding parameters x token slots (B x T, padding included: what the model computes),
  the usual forward + backward count (Kaplan et al. 2020; attention's T^2 term is left out, it
  is small below a few hundred tokens).

Every speed comparison in this file was re-measured this way on 2026-12-01 (issue 21); each
section says what changed against its earlier single-run figures and why. A figure measured
without interleaving (one run, or one process timing several variants) says so where it stands.
Measurements ran on a shared 2-core VM, with benchmarks serialized on one CPU slot each (at most
two at once), so each section states its load; a ratio whose range straddles 1 is parity.
"""


def load_average() -> float:
    """The 1-minute load average (0.0 where the OS does not report one)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return 0.0


def thread_env(threads: int, base: dict[str, str] | None = None) -> dict[str, str]:
    """A child environment with the intra-op thread count fixed (OpenMP, MKL, OpenBLAS)."""
    env = dict(os.environ if base is None else base)
    for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[key] = str(threads)
    return env


def interleaved_order(variants: list[str], pairs: int) -> list[tuple[int, str]]:
    """``(repetition, variant)`` in the order A B A B ...: every variant once per repetition.

    Raises:
        ValueError: fewer than 3 repetitions or fewer than 2 variants.
    """
    if pairs < 3:
        raise ValueError(f"an interleaved comparison needs at least 3 pairs, got {pairs}")
    if len(variants) < 2:
        raise ValueError(f"an interleaved comparison needs at least 2 variants, got {variants}")
    return [(rep, v) for rep in range(pairs) for v in variants]


def interleaved(variants: list[str], pairs: int,
                run_one: Callable[[str, int], dict[str, Any]]) -> dict[str, Any]:
    """Run ``run_one(variant, repetition)`` A B A B ... and collect the results per variant.

    ``run_one`` is expected to start a fresh process (see :func:`run_child`). The load average is
    taken before the first and after the last run, and each result gets ``load_before``.

    Returns:
        ``{"runs": {variant: [result, ...]}, "load": [before, after], "order": [...]}``.
    """
    order = interleaved_order(variants, pairs)
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    before = load_average()
    for rep, variant in order:
        load = load_average()
        result = run_one(variant, rep)
        result["load_before"] = load
        runs[variant].append(result)
    return {"runs": runs, "load": [before, load_average()],
            "order": [f"{v}#{rep + 1}" for rep, v in order]}


def run_child(cmd: list[str], result_file: Path, *, threads: int,
              cwd: Path = ROOT) -> dict[str, Any]:
    """Run ``cmd`` as a fresh process with ``threads`` fixed; return the JSON it wrote."""
    import subprocess

    result_file.unlink(missing_ok=True)
    subprocess.run(cmd, check=True, cwd=cwd, env=thread_env(threads), stdout=subprocess.DEVNULL)
    return dict(json.loads(result_file.read_text(encoding="utf-8")))


def summarize(values: list[float]) -> dict[str, float]:
    """Median, minimum, maximum and count of ``values``."""
    if not values:
        raise ValueError("nothing to summarize")
    return {"median": float(statistics.median(values)), "min": float(min(values)),
            "max": float(max(values)), "n": len(values)}


def ratio_of(a: list[float], b: list[float]) -> dict[str, float]:
    """``median(a) / median(b)`` and the range of the per-repetition ratios ``a[i] / b[i]``."""
    if len(a) != len(b) or not a:
        raise ValueError(f"paired ratios need equal, non-empty lists ({len(a)} vs {len(b)})")
    per = [x / y for x, y in zip(a, b)]
    return {"ratio": statistics.median(a) / statistics.median(b), "min": min(per), "max": max(per)}


def fmt_range(s: dict[str, float], fmt: str = ".1f") -> str:
    """``median [min, max]`` of a :func:`summarize` result."""
    return f"{s['median']:{fmt}} [{s['min']:{fmt}}, {s['max']:{fmt}}]"


def fmt_ratio(r: dict[str, float]) -> str:
    """``1.02x [0.95, 1.10]``, with "(parity)" when the per-pair range straddles 1."""
    tag = " (parity: the range straddles 1)" if r["min"] < 1 < r["max"] else ""
    return f"{r['ratio']:.2f}x [{r['min']:.2f}, {r['max']:.2f}]{tag}"


def matmul_peak(threads: int, *, n: int = 1024, repeats: int = 10) -> dict[str, float]:
    """This machine's fp32 matmul throughput at ``threads`` intra-op threads.

    Times ``repeats`` square ``n x n`` products (``2 n^3`` FLOPs each) after a warm-up; the
    torch thread count is restored afterwards.

    Returns:
        ``{"threads", "n", "peak_gflops" (best repeat), "median_gflops"}``.
    """
    import time

    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        a, b = torch.randn(n, n), torch.randn(n, n)
        for _ in range(2):
            torch.mm(a, b)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            torch.mm(a, b)
            times.append(time.perf_counter() - t0)
    finally:
        torch.set_num_threads(before)
    flops = 2.0 * n ** 3
    return {"threads": threads, "n": n, "peak_gflops": flops / min(times) / 1e9,
            "median_gflops": flops / statistics.median(times) / 1e9}


def non_embedding_parameters(model: Any) -> int:
    """Parameters outside ``nn.Embedding`` modules (what a token's matmuls touch)."""
    import torch

    embedding = {id(p) for m in model.modules() if isinstance(m, torch.nn.Embedding)
                 for p in m.parameters(recurse=False)}
    return int(sum(p.numel() for p in model.parameters() if id(p) not in embedding))


def training_flops(non_embedding_params: int, token_slots: int) -> float:
    """Forward + backward FLOPs of training over ``token_slots`` (B x T summed): 6 N T."""
    return 6.0 * non_embedding_params * token_slots


def share_of_peak(non_embedding_params: int, token_slots: int, seconds: float,
                  peak_gflops: float) -> float:
    """Achieved training GFLOP/s (:func:`training_flops` / ``seconds``) over ``peak_gflops``."""
    return training_flops(non_embedding_params, token_slots) / seconds / 1e9 / peak_gflops
