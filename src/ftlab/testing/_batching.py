"""Conformance checks for batch samplers and batch sources (raise AssertionError on failure)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import torch

from ftlab.batching import Batch, BatchSource

__all__ = ["check_sampler", "check_batch_source"]


class _Sampler(Protocol):
    def __iter__(self) -> Any: ...
    def __len__(self) -> int: ...
    def set_epoch(self, epoch: int) -> None: ...
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> None: ...


def _epoch(sampler: _Sampler, epoch: int) -> list[list[int]]:
    sampler.set_epoch(epoch)
    return [list(b) for b in sampler]


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise AssertionError(message)


def check_sampler(
    make_sampler: Callable[..., _Sampler],
    n: int,
    *,
    world_sizes: Sequence[int] = (1, 2, 3),
    epochs: int = 2,
    exactly_once: bool = True,
) -> None:
    """Check a batch sampler over a dataset of ``n`` examples.

    Checks, for every world size: each rank's ``len`` matches what it yields and all ranks yield
    the same number of batches; with ``exactly_once`` the union over ranks holds every position
    in ``range(n)`` exactly once per epoch; two samplers with the same seed agree; the state is
    JSON-serialisable and resuming from every position yields exactly the remaining batches,
    after which the next epoch matches an uninterrupted run.

    Args:
        make_sampler: ``make_sampler(seed=..., rank=..., world_size=...)`` returns a fresh
            sampler over the same ``n`` examples.
        n: dataset size the sampler was built for.
        world_sizes: world sizes to try (each must be <= n).
        epochs: epochs to iterate per check.
        exactly_once: check exact coverage (disable for over/undersampling samplers).

    Raises:
        AssertionError: describing the first violated property.
    """
    for ws in world_sizes:
        ranks = [make_sampler(seed=7, rank=r, world_size=ws) for r in range(ws)]
        twins = [make_sampler(seed=7, rank=r, world_size=ws) for r in range(ws)]
        for epoch in range(epochs):
            per_rank = []
            for r, (s, twin) in enumerate(zip(ranks, twins, strict=True)):
                s.set_epoch(epoch)
                expected_len = len(s)
                got = _epoch(s, epoch)
                _check(
                    len(got) == expected_len,
                    f"world_size={ws} rank={r} epoch={epoch}: len() said {expected_len} "
                    f"but {len(got)} batches were yielded",
                )
                _check(all(len(b) > 0 for b in got), f"rank {r} yielded an empty batch")
                _check(
                    got == _epoch(twin, epoch),
                    f"world_size={ws} rank={r} epoch={epoch}: two samplers with the same "
                    "seed yielded different batches",
                )
                per_rank.append(got)
            counts = {len(b) for b in per_rank}
            _check(
                len(counts) == 1,
                f"world_size={ws} epoch={epoch}: ranks yield different batch counts "
                f"{[len(b) for b in per_rank]} (DDP needs equal step counts)",
            )
            if exactly_once:
                seen = Counter(i for batches in per_rank for b in batches for i in b)
                wrong = {i: c for i, c in seen.items() if c != 1}
                missing = set(range(n)) - set(seen)
                _check(
                    not wrong and not missing and set(seen) <= set(range(n)),
                    f"world_size={ws} epoch={epoch}: not every example exactly once "
                    f"(repeated: {dict(list(wrong.items())[:5])}, "
                    f"missing: {sorted(missing)[:5]}, out of range: "
                    f"{sorted(set(seen) - set(range(n)))[:5]})",
                )
        _check_resume(make_sampler, ws)


def _check_resume(make_sampler: Callable[..., _Sampler], ws: int) -> None:
    rank = ws - 1
    reference = make_sampler(seed=3, rank=rank, world_size=ws)
    full = _epoch(reference, 1)
    after = _epoch(reference, 2)
    for stop in range(len(full) + 1):
        first = make_sampler(seed=3, rank=rank, world_size=ws)
        first.set_epoch(1)
        it = iter(first)
        head = [list(next(it)) for _ in range(stop)]
        state = json.loads(json.dumps(first.state_dict()))
        _check(
            state.get("position") == stop and state.get("epoch") == 1,
            f"world_size={ws}: after {stop} batches state_dict() says epoch="
            f"{state.get('epoch')} position={state.get('position')}, expected 1 and {stop}",
        )
        resumed = make_sampler(seed=3, rank=rank, world_size=ws)
        resumed.load_state_dict(state)
        resumed.set_epoch(1)  # a resumed training loop calls this; it must keep the position
        rest = [list(b) for b in resumed]
        _check(
            head + rest == full,
            f"world_size={ws}: resuming after {stop} of {len(full)} batches did not yield "
            "exactly the remaining batches",
        )
        if stop in (0, len(full)):
            _check(
                [list(b) for b in resumed] == after,
                f"world_size={ws}: the epoch after a resumed one differs from an uninterrupted run",
            )


def _same(a: Batch, b: Batch) -> bool:
    return all(
        (x is None and y is None)
        or (isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor) and torch.equal(x, y))
        for x, y in ((getattr(a, f), getattr(b, f)) for f in vars(a))
    )


def check_batch_source(make_source: Callable[[], BatchSource], *, epoch: int = 1) -> None:
    """Check a :class:`BatchSource`: protocol, batch shapes, determinism and resume.

    Args:
        make_source: returns a fresh source over the same data and settings.
        epoch: the epoch to iterate.

    Raises:
        AssertionError: describing the first violated property.
    """
    source = make_source()
    _check(isinstance(source, BatchSource), f"{type(source).__name__} is not a BatchSource")
    source.set_epoch(epoch)
    n = len(source)
    batches = list(source)
    _check(len(batches) == n, f"len() said {n} but {len(batches)} batches were yielded")
    for k, b in enumerate(batches):
        _check(isinstance(b, Batch), f"batch {k} is a {type(b).__name__}, not a Batch")
        B, T = b.ids.shape
        _check(b.mask.shape == (B, T), f"batch {k}: mask shape {tuple(b.mask.shape)} != {(B, T)}")
        for name in ("lengths", "labels", "index"):
            t = getattr(b, name)
            _check(t.shape == (B,), f"batch {k}: {name} shape {tuple(t.shape)} != ({B},)")
        _check(
            torch.equal(b.mask.sum(1), b.lengths),
            f"batch {k}: mask row sums differ from lengths",
        )
    _check(_all_same(batches, make_source(), epoch), "two fresh sources yielded different batches")
    stop = n // 2
    first = make_source()
    first.set_epoch(epoch)
    it = iter(first)
    for _ in range(stop):
        next(it)
    state = json.loads(json.dumps(first.state_dict()))
    resumed = make_source()
    resumed.load_state_dict(state)
    resumed.set_epoch(epoch)
    rest = list(resumed)
    _check(
        len(rest) == n - stop and all(_same(a, b) for a, b in zip(rest, batches[stop:])),
        f"resuming after {stop} of {n} batches did not yield exactly the remaining batches",
    )


def _all_same(batches: Iterable[Batch], source: BatchSource, epoch: int) -> bool:
    source.set_epoch(epoch)
    again = list(source)
    batches = list(batches)
    return len(again) == len(batches) and all(_same(a, b) for a, b in zip(batches, again))
