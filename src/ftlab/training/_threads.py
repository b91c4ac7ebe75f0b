"""How many CPU threads torch's intra-op parallelism uses for a run."""

from __future__ import annotations

import os

import torch

__all__ = ["resolve_threads", "apply_threads"]


def resolve_threads(threads: int | None) -> int:
    """The intra-op thread count a run uses.

    Args:
        threads: the configured count (``train.threads`` or ``--threads``); ``None`` defers to
            the environment.

    Returns:
        ``threads`` when given; else ``OMP_NUM_THREADS`` when it is set to a positive integer;
        else torch's current count (its default: one thread per physical core).
    """
    if threads is not None:
        return int(threads)
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return int(torch.get_num_threads())


def apply_threads(threads: int | None) -> int:
    """Resolve the thread count (:func:`resolve_threads`), set it in torch and return it.

    On a machine shared with other processes, fewer threads than cores is often faster: every
    parallel op waits for its slowest thread, and a thread whose core is taken stalls them all.
    """
    n = resolve_threads(threads)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n
