"""Distributed data parallel helpers for runs launched by ``torchrun``.

``torchrun`` sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``
in every process. :func:`init_from_env` joins the process group from them (gloo on CPU, nccl on
CUDA). Without those variables, or with ``WORLD_SIZE=1``, nothing is initialised and every helper
answers for a single process (rank 0 of 1), so the single-process path does no communication.
"""

from __future__ import annotations

import os
import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import torch

from ftlab.core import torchrun_world_size

__all__ = [
    "all_reduce_sum",
    "barrier",
    "broadcast_flags",
    "broadcast_object",
    "gather_objects",
    "init_from_env",
    "is_distributed",
    "is_main",
    "local_rank",
    "rank",
    "shard",
    "teardown",
    "torchrun_world_size",
    "world_size",
]


def is_distributed() -> bool:
    """Whether a process group with more than one process is initialised."""
    dist = torch.distributed
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's global rank (0 when not distributed)."""
    return torch.distributed.get_rank() if is_distributed() else 0


def world_size() -> int:
    """Number of processes in the group (1 when not distributed)."""
    return torch.distributed.get_world_size() if is_distributed() else 1


def local_rank() -> int:
    """This process's rank on its machine (``LOCAL_RANK``; 0 when not distributed)."""
    return int(os.environ.get("LOCAL_RANK", "0")) if is_distributed() else 0


def is_main() -> bool:
    """True on rank 0 (and in a single process): the only rank that logs and writes files."""
    return rank() == 0


def init_from_env(device: torch.device) -> torch.device:
    """Join the process group described by torchrun's variables; idempotent.

    Args:
        device: the device the run asked for (``resolve_device``'s answer). A CUDA device picks
            the nccl backend and becomes ``cuda:LOCAL_RANK``; anything else uses gloo.

    Returns:
        The device this rank trains on (unchanged when not distributed).

    Raises:
        RuntimeError: torchrun variables are set but the group cannot be formed (from
            ``torch.distributed``; check ``MASTER_ADDR``/``MASTER_PORT`` and the node count).
    """
    if torchrun_world_size() <= 1 or "RANK" not in os.environ:
        return device
    dist = torch.distributed
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        if device.type == "cuda":
            dist.init_process_group(backend="nccl", device_id=device)
        else:
            dist.init_process_group(backend="gloo")
    return device


def teardown() -> None:
    """Leave the process group together (no-op when none is initialised).

    A collective: every rank waits at a barrier first, so no rank destroys the group while
    another still has work in flight on it. (The occasional abort after a clean run seen with
    gloo happens later, in interpreter finalisation; see ``ftlab.cli.main``.)
    """
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        if dist.get_world_size() > 1:
            dist.barrier()
        dist.destroy_process_group()


def barrier() -> None:
    """Wait until every rank gets here (no-op in a single process)."""
    if is_distributed():
        torch.distributed.barrier()


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """Rank ``src``'s ``obj`` on every rank (picklable objects, e.g. a run directory path).

    In a single process ``obj`` is returned unchanged.
    """
    if not is_distributed():
        return obj
    box = [obj]
    torch.distributed.broadcast_object_list(box, src=src)
    return box[0]


def broadcast_flags(flags: Sequence[bool], device: torch.device | str = "cpu") -> list[bool]:
    """Rank 0's booleans on every rank (unchanged in a single process).

    One small tensor broadcast: what the training loop sends every step (stop? save?), where
    :func:`broadcast_object` would pickle and send twice (size, then bytes).
    """
    if not is_distributed():
        return [bool(f) for f in flags]
    t = torch.tensor([int(bool(f)) for f in flags], dtype=torch.int32, device=device)
    torch.distributed.broadcast(t, src=0)
    return [bool(v) for v in t.tolist()]


def all_reduce_sum(values: Sequence[float], device: torch.device | str = "cpu") -> list[float]:
    """Element-wise sum of ``values`` over all ranks (float64; unchanged in a single process).

    Args:
        values: this rank's numbers (every rank passes the same count).
        device: where the reduction tensor lives (a CUDA device for nccl).

    Returns:
        The summed values, the same on every rank.
    """
    if not is_distributed():
        return [float(v) for v in values]
    t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=device)
    torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.SUM)
    return [float(v) for v in t.tolist()]


def gather_objects(obj: Any) -> list[Any]:
    """Every rank's ``obj``, in rank order, on every rank (``[obj]`` in a single process).

    A collective: every rank of the group must call it, in the same order as its other
    collectives, or the group hangs.
    """
    if not is_distributed():
        return [obj]
    out: list[Any] = [None] * world_size()
    torch.distributed.all_gather_object(out, obj)
    return out


def shard(items: Iterable[Any]) -> Iterator[Any]:
    """This rank's share of ``items``: every ``world_size``-th item, starting at ``rank``.

    Round-robin over length-sorted evaluation batches gives every rank a similar amount of
    work; :func:`gather_objects` and the batches' example indices put the results back in
    input order. In a single process every item is yielded.
    """
    return itertools.islice(items, rank(), None, world_size())
