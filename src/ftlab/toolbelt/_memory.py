"""Memory budgets and peak-memory measurement of one training step (CPU and CUDA).

CPU: torch's CPU allocator has no peak statistics and ``tracemalloc`` does not see tensor
storage, so the step is measured from the outside, as the operating system sees the process:

1. ``gc.collect()`` and glibc's ``malloc_trim(0)`` hand memory freed by the previous probe back
   to the kernel, so it does not hide the next probe's allocations;
2. writing ``5`` to ``/proc/self/clear_refs`` resets the process's peak resident set size
   (``VmHWM`` in ``/proc/self/status``, Linux >= 4.0) to its current size;
3. the step runs; ``VmHWM - VmRSS(before)`` is the most memory the step added at any moment
   (activations, gradients, optimizer state, allocator slack), which is what has to fit.

Where ``clear_refs`` cannot be written (not Linux, a restricted container), a background thread
samples the resident set size every millisecond instead (psutil or ``/proc/self/statm``); that
can miss a spike shorter than a millisecond, so the result says which method measured.

CUDA: ``torch.cuda.reset_peak_memory_stats`` and ``max_memory_allocated`` around the step; the
limit is the out-of-memory error itself (caught, memory released with ``empty_cache``).
"""

from __future__ import annotations

import ctypes
import gc
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

import torch

from ftlab.errors import ConfigError

__all__ = ["parse_bytes", "format_bytes", "available_memory", "measure_cpu_peak",
           "measure_cuda_peak", "is_out_of_memory", "default_cpu_budget"]

_UNITS = {"": 1, "B": 1, "K": 1024, "KB": 1024, "KIB": 1024, "M": 1024**2, "MB": 1024**2,
          "MIB": 1024**2, "G": 1024**3, "GB": 1024**3, "GIB": 1024**3, "T": 1024**4,
          "TB": 1024**4, "TIB": 1024**4}
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]*)\s*")


def parse_bytes(text: str | int, *, name: str = "--max-memory") -> int:
    """``"8GB"``, ``"512MiB"``, ``"1.5G"``, ``"1000000"`` -> bytes (K/M/G/T are powers of 1024,
    as memory is sold; ``GB`` and ``GiB`` mean the same here).

    Raises:
        ConfigError: the text is not a positive size with a known unit.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        value, unit = float(text), ""
    else:
        m = _SIZE.fullmatch(str(text))
        if m is None or m.group(2).upper() not in _UNITS:
            raise ConfigError(f"{name}: expected a size such as 8GB, 512MB or 1.5GiB, "
                              f"got {text!r}")
        value, unit = float(m.group(1)), m.group(2).upper()
    size = int(value * _UNITS[unit])
    if size <= 0:
        raise ConfigError(f"{name}: the size must be positive, got {text!r}")
    return size


def format_bytes(n: int | float | None) -> str:
    """Bytes as a short human string (binary units): ``1536`` -> ``'1.50 KiB'``."""
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1024
    return f"{value:.2f} GiB"  # unreachable, keeps type checkers calm


def available_memory() -> int | None:
    """Memory the OS could give this process now (psutil, else ``MemAvailable``), or None."""
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    m = re.search(r"^MemAvailable:\s+(\d+)\s*kB", text, re.MULTILINE)
    return int(m.group(1)) * 1024 if m else None


def is_out_of_memory(exc: BaseException) -> bool:
    """True for CUDA OOM and for the CPU allocator's 'can't allocate memory' errors."""
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, (RuntimeError, MemoryError)) and (
        isinstance(exc, MemoryError) or "can't allocate memory" in text
        or "out of memory" in text or "not enough memory" in text)


def _status_kib(field: str) -> int | None:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    m = re.search(rf"^{field}:\s+(\d+)\s*kB", text, re.MULTILINE)
    return int(m.group(1)) * 1024 if m else None


def _rss() -> int | None:
    rss = _status_kib("VmRSS")
    if rss is not None:
        return rss
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except ImportError:
        return None


def _release_freed_memory() -> None:
    gc.collect()
    try:  # glibc only; elsewhere freed memory simply stays with the allocator
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return _status_kib("VmHWM") is not None
    except OSError:
        return False


def measure_cpu_peak(step: Callable[[], object]) -> tuple[int, str]:
    """Run ``step()`` and return (peak bytes it added to the process's RSS, method used).

    Raises:
        RuntimeError: when no way to read the process's memory exists on this system (then pass
            ``--max-memory`` with a probe of your own, or run on CUDA).
    """
    _release_freed_memory()
    if _reset_peak_rss():
        before = _status_kib("VmRSS") or 0
        step()
        return max(0, (_status_kib("VmHWM") or 0) - before), "peak RSS (VmHWM reset)"
    rss_before = _rss()
    if rss_before is None:
        raise RuntimeError("cannot read this process's memory use (no /proc/self/status and no "
                           "psutil); install psutil (pip install psutil)")
    peak = [rss_before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss() or 0)
            time.sleep(0.001)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        step()
    finally:
        done.set()
        sampler.join()
    peak[0] = max(peak[0], _rss() or 0)
    return max(0, peak[0] - rss_before), "sampled RSS (1 ms)"


def measure_cuda_peak(step: Callable[[], object], device: torch.device) -> int:
    """Run ``step()`` on ``device`` and return the peak bytes it allocated above the start."""
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    step()
    torch.cuda.synchronize(device)
    return max(0, torch.cuda.max_memory_allocated(device) - before)


def default_cpu_budget(share: float = 0.5) -> int:
    """``share`` of the memory available now.

    Raises:
        ConfigError: when the available memory cannot be read (pass ``--max-memory``).
    """
    avail = available_memory()
    if avail is None:
        raise ConfigError("cannot read the available memory on this system (no psutil, no "
                          "/proc/meminfo); pass --max-memory, e.g. --max-memory 8GB")
    return int(avail * share)

