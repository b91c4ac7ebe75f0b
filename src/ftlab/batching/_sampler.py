"""Bucketed, token-budget, rank-aware, resumable batch sampler."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, get_args

import numpy as np

from ftlab.batching._plan import Balance, plan_epoch, warn_merged
from ftlab.errors import CheckpointError, ConfigError, DataError

__all__ = ["BucketBatchSampler"]

# state_dict keys that must match the sampler a state is loaded into (else the plan differs)
_FINGERPRINT = (
    "n",
    "batch_size",
    "max_tokens",
    "shuffle",
    "bucket",
    "maxi_batch",
    "longest_first",
    "drop_last",
    "rank",
    "world_size",
    "balance",
)


def _check_int(name: str, value: object, minimum: int, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        none = " or None" if allow_none else ""
        raise ConfigError(
            f"BucketBatchSampler: `{name}` must be an int >= {minimum}{none}, got {value!r}."
        )


class BucketBatchSampler:
    """Yields batches (lists of example positions) bucketed by length, one epoch per iteration.

    Per epoch a generator seeded with ``(seed, epoch)`` shuffles the examples, cuts them into
    maxi-batches of ``maxi_batch * batch_size`` examples, sorts each maxi-batch by length, cuts it
    into batches and shuffles the batch order (Marian/fairseq style). With ``world_size > 1``
    every rank computes the same global plan and takes every ``world_size``-th batch; batches are
    split so that every rank gets the same number of batches without dropping or duplicating
    examples.

    Iteration is resumable: ``state_dict()`` records the epoch and how many batches this rank
    already yielded; after ``load_state_dict`` iteration yields exactly the remaining batches of
    that epoch. A completed iteration moves to the next epoch by itself; ``set_epoch(e)`` with a
    different epoch starts ``e`` from its first batch, with the current epoch it keeps the
    position (so a resumed loop that calls ``set_epoch(start_epoch)`` continues mid-epoch).
    One iteration at a time: the sampler is its own cursor.

    Args:
        lengths: token length of every example (its cost; lengths below 1 count as 1).
        batch_size: at most this many examples per batch; ``None`` for a pure token budget.
        max_tokens: token budget per batch: ``len(batch) * longest <= max_tokens``; an example
            longer than the budget gets a batch of its own. ``None`` for no budget.
        shuffle: random order per epoch (training). ``False``: deterministic order (evaluation);
            with ``bucket=True`` sorted by length globally for fast inference.
        bucket: group similar lengths to cut padding. ``False``: plain (shuffled) batches.
        maxi_batch: how many batches' worth of examples are sorted together; larger means less
            padding and less randomness.
        longest_first: put the batch with the longest sequences first in every epoch (on every
            rank), so an out-of-memory error shows at step 1.
        drop_last: drop the examples that do not fill a last batch of ``batch_size`` on every
            rank (needs ``batch_size``).
        seed: seed of the per-epoch shuffles; the order depends only on ``(seed, epoch)``.
        rank: this process's rank in ``[0, world_size)``.
        world_size: number of data-parallel processes.
        labels: class index per example; needed for ``balance``.
        balance: ``"oversample"`` draws smaller classes with replacement up to the largest class
            count each epoch; ``"undersample"`` draws every class down to the smallest class count
            each epoch; ``"none"`` uses every example once.

    Raises:
        ConfigError: for an invalid argument (the message names it and the fix).
        DataError: for invalid lengths or labels.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        *,
        batch_size: int | None = 32,
        max_tokens: int | None = None,
        shuffle: bool = True,
        bucket: bool = True,
        maxi_batch: int = 100,
        longest_first: bool = False,
        drop_last: bool = False,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        labels: Sequence[int] | None = None,
        balance: Balance = "none",
    ) -> None:
        _check_int("batch_size", batch_size, 1, allow_none=True)
        _check_int("max_tokens", max_tokens, 1, allow_none=True)
        _check_int("maxi_batch", maxi_batch, 1)
        _check_int("seed", seed, 0)
        _check_int("world_size", world_size, 1)
        _check_int("rank", rank, 0)
        if batch_size is None and max_tokens is None:
            raise ConfigError(
                "BucketBatchSampler: set `batch_size`, `max_tokens` or both; got both None."
            )
        if rank >= world_size:
            raise ConfigError(
                f"BucketBatchSampler: `rank` must be in [0, world_size={world_size}), got {rank}."
            )
        if balance not in get_args(Balance):
            raise ConfigError(
                f"BucketBatchSampler: `balance` must be one of {get_args(Balance)}, "
                f"got {balance!r}."
            )
        if drop_last and batch_size is None:
            raise ConfigError(
                "BucketBatchSampler: `drop_last=True` needs `batch_size`; got batch_size=None. "
                "Set a batch_size or drop_last=False."
            )
        self._lengths = self._as_array(lengths, "lengths")
        if len(self._lengths) and int(self._lengths.min()) < 0:
            bad = int(np.argmin(self._lengths))
            raise DataError(
                f"BucketBatchSampler: lengths[{bad}] = {int(self._lengths[bad])} is negative; "
                "lengths are token counts."
            )
        self._cost = np.maximum(self._lengths, 1)
        n = len(self._lengths)
        if n < world_size:
            raise ConfigError(
                f"BucketBatchSampler: the dataset has {n} examples but world_size={world_size}; "
                "every rank needs at least one example. Use more data or fewer processes."
            )
        self._labels: np.ndarray | None = None
        if balance != "none":
            if labels is None:
                raise ConfigError(
                    f"BucketBatchSampler: balance={balance!r} needs `labels`; got None."
                )
            self._labels = self._as_array(labels, "labels")
            if len(self._labels) != n:
                raise DataError(
                    f"BucketBatchSampler: got {len(self._labels)} labels for {n} lengths; "
                    "pass one label per example."
                )
            if int(self._labels.min()) < 0:
                bad = int(np.argmin(self._labels))
                raise DataError(
                    f"BucketBatchSampler: labels[{bad}] = {int(self._labels[bad])}; balancing "
                    "needs a class index >= 0 for every example (unlabelled examples cannot be "
                    "balanced)."
                )
        self.n = n
        # plain Python types so that state_dict() stays JSON-serialisable
        self.batch_size = None if batch_size is None else int(batch_size)
        self.max_tokens = None if max_tokens is None else int(max_tokens)
        self.shuffle = bool(shuffle)
        self.bucket = bool(bucket)
        self.maxi_batch = int(maxi_batch)
        self.longest_first = bool(longest_first)
        self.drop_last = bool(drop_last)
        self.seed = int(seed)
        self.rank = int(rank)
        self.world_size = int(world_size)
        self.balance: Balance = balance
        if batch_size is not None:
            per_batch = batch_size
        else:  # token budget only: estimate examples per batch from the median length
            per_batch = max(1, int(max_tokens or 1) // max(1, int(np.median(self._cost))))
        self._chunk = maxi_batch * per_batch
        pool = self._pool_size()
        if pool < world_size:
            raise ConfigError(
                f"BucketBatchSampler: balance={balance!r} leaves {pool} examples per epoch but "
                f"world_size={world_size}; every rank needs at least one example. Use "
                "balance='oversample' or 'none', or fewer processes."
            )
        if drop_last and batch_size is not None:
            if pool < batch_size * world_size:
                raise ConfigError(
                    f"BucketBatchSampler: drop_last=True with batch_size={batch_size} and "
                    f"world_size={world_size} drops all {pool} examples of an epoch; use "
                    "drop_last=False or a smaller batch_size."
                )
        self.epoch = 0
        self._position = 0
        self._plan_cache: tuple[int, list[list[int]]] | None = None
        self._warned = False

    @staticmethod
    def _as_array(values: Sequence[int], name: str) -> np.ndarray:
        try:
            arr = np.asarray(list(values))
        except (TypeError, ValueError) as exc:
            raise DataError(f"BucketBatchSampler: `{name}` must be a sequence of ints.") from exc
        if arr.size == 0:
            return np.zeros(0, dtype=np.int64)
        if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
            raise DataError(
                f"BucketBatchSampler: `{name}` must be a flat sequence of ints, got dtype "
                f"{arr.dtype} with shape {arr.shape}."
            )
        return arr.astype(np.int64)

    def _pool_size(self) -> int:
        if self._labels is None:
            return self.n
        counts = np.unique(self._labels, return_counts=True)[1]
        target = counts.max() if self.balance == "oversample" else counts.min()
        return int(target) * len(counts)

    def epoch_batches(self, epoch: int | None = None) -> list[list[int]]:
        """All batches of ``epoch`` (default: the current one) on this rank; changes no state.

        Args:
            epoch: the epoch to plan; ``None`` for the current epoch.

        Returns:
            A list of batches, each a list of example positions.
        """
        epoch = self.epoch if epoch is None else epoch
        if self._plan_cache is not None and self._plan_cache[0] == epoch:
            return self._plan_cache[1]
        batches, merged = plan_epoch(
            lengths=self._cost,
            labels=self._labels,
            batch_size=self.batch_size,
            max_tokens=self.max_tokens,
            shuffle=self.shuffle,
            bucket=self.bucket,
            chunk=self._chunk,
            longest_first=self.longest_first,
            drop_last=self.drop_last,
            seed=self.seed,
            epoch=epoch,
            world_size=self.world_size,
            balance=self.balance,
        )
        if merged and not self._warned:
            self._warned = True
            warn_merged(self.world_size)
        mine = batches[self.rank :: self.world_size]
        self._plan_cache = (epoch, mine)
        return mine

    def remaining_batches(self) -> list[list[int]]:
        """The batches of the current epoch this rank has not yielded yet; changes no state."""
        return self.epoch_batches()[self._position :]

    def _advance(self) -> None:
        """Count one batch as handed to the consumer (used by :class:`Loader`)."""
        self._position += 1

    def _finish_epoch(self) -> None:
        """Move to the start of the next epoch after a completed iteration."""
        self.epoch += 1
        self._position = 0

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self.remaining_batches():
            self._advance()
            yield list(batch)
        self._finish_epoch()

    def __len__(self) -> int:
        """Number of batches in the current epoch on this rank (the full epoch)."""
        return len(self.epoch_batches())

    def epoch_length(self, epoch: int) -> int:
        """Number of batches of ``epoch`` on this rank (planned; changes no state).

        Without a token budget every epoch has the same count; with ``max_tokens`` the count
        depends on the epoch's order, so that epoch is planned (and not cached, unless it is the
        current one).
        """
        if self.max_tokens is None or epoch == self.epoch:
            return len(self)
        batches, _ = plan_epoch(
            lengths=self._cost, labels=self._labels, batch_size=self.batch_size,
            max_tokens=self.max_tokens, shuffle=self.shuffle, bucket=self.bucket,
            chunk=self._chunk, longest_first=self.longest_first, drop_last=self.drop_last,
            seed=self.seed, epoch=epoch, world_size=self.world_size, balance=self.balance,
        )
        return len(batches[self.rank :: self.world_size])

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch to iterate; a different epoch starts from its first batch.

        Args:
            epoch: epoch number (>= 0).

        Raises:
            ConfigError: when ``epoch`` is negative.
        """
        _check_int("epoch", epoch, 0)
        if epoch != self.epoch:
            self.epoch = int(epoch)
            self._position = 0

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state: epoch, seed, position (batches yielded) and the settings."""
        state: dict[str, Any] = {
            "epoch": self.epoch,
            "seed": self.seed,
            "position": self._position,
            "num_batches": len(self),
        }
        state.update({key: getattr(self, key) for key in _FINGERPRINT})
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state from :meth:`state_dict`; iteration then yields the remaining batches.

        Args:
            state: a dict produced by :meth:`state_dict` of an equally configured sampler.

        Raises:
            CheckpointError: when keys are missing or the state belongs to a sampler with
                different settings (dataset size, batch size, ranks, ...).
        """
        missing = [k for k in ("epoch", "seed", "position") if k not in state]
        if missing:
            raise CheckpointError(
                f"BucketBatchSampler.load_state_dict: the state lacks {missing}; pass the dict "
                "returned by state_dict()."
            )
        diff = {
            k: (state[k], getattr(self, k))
            for k in _FINGERPRINT
            if k in state and state[k] != getattr(self, k)
        }
        if diff:
            detail = ", ".join(f"{k}: saved {a!r} vs now {b!r}" for k, (a, b) in diff.items())
            raise CheckpointError(
                f"BucketBatchSampler.load_state_dict: the saved sampler differs ({detail}); "
                "resume with the same data and batching settings."
            )
        epoch, seed, position = state["epoch"], state["seed"], state["position"]
        for name, value in (("epoch", epoch), ("seed", seed), ("position", position)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise CheckpointError(
                    f"BucketBatchSampler.load_state_dict: `{name}` must be an int >= 0, "
                    f"got {value!r}."
                )
        if seed != self.seed:
            self._plan_cache = None
        self.seed, self.epoch = seed, epoch
        total = len(self)
        if position > total:
            raise CheckpointError(
                f"BucketBatchSampler.load_state_dict: position {position} is past the end of "
                f"epoch {epoch}, which has {total} batches on rank {self.rank}."
            )
        self._position = position
