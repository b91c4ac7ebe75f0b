"""A resumable :class:`BatchSource` over encoded examples, plus padding statistics."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from torch.utils.data import DataLoader, Dataset

from ftlab.core import Batch, Encoded
from ftlab.batching._collate import collate
from ftlab.batching._sampler import BucketBatchSampler
from ftlab.errors import ConfigError

__all__ = ["Loader", "padding_stats"]


class _Items(Dataset[Encoded]):
    """Map-style view of the encoded examples for torch's DataLoader."""

    def __init__(self, encoded: Sequence[Encoded]) -> None:
        self.encoded = encoded

    def __len__(self) -> int:
        return len(self.encoded)

    def __getitem__(self, i: int) -> Encoded:
        return self.encoded[i]


class Loader:
    """Batches of encoded examples in the sampler's order, collated with dynamic padding.

    Implements the :class:`~ftlab.batching.BatchSource` protocol. The sampler position counts
    batches handed to the consumer, not batches prefetched by workers, so a ``state_dict()``
    taken after consuming ``n`` batches resumes at batch ``n``.

    Args:
        encoded: the examples; the sampler's positions index this sequence.
        sampler: yields batches of positions into ``encoded``; it holds epoch and position.
        pad_id: padding id passed to :func:`collate`.
        num_workers: worker processes for collation (``torch.utils.data.DataLoader``);
            0 collates in the calling process.

    Raises:
        ConfigError: when the sampler was built for a different number of examples, or
            ``num_workers`` is negative.
    """

    def __init__(
        self,
        encoded: Sequence[Encoded],
        sampler: BucketBatchSampler,
        *,
        pad_id: int = 0,
        num_workers: int = 0,
    ) -> None:
        if sampler.n != len(encoded):
            raise ConfigError(
                f"Loader: the sampler was built for {sampler.n} lengths but {len(encoded)} "
                "examples were given; build it from the same encoded split "
                "(lengths=[e.length for e in encoded])."
            )
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ConfigError(f"Loader: `num_workers` must be an int >= 0, got {num_workers!r}.")
        self.encoded = encoded
        self.sampler = sampler
        self.pad_id = pad_id
        self.num_workers = num_workers

    def _collated(self, batches: list[list[int]]) -> Iterator[Batch]:
        if self.num_workers == 0:
            return (collate([self.encoded[i] for i in b], pad_id=self.pad_id) for b in batches)
        loader = DataLoader(
            _Items(self.encoded),
            batch_sampler=batches,  # a fixed list: workers may prefetch, the count stays ours
            collate_fn=functools.partial(collate, pad_id=self.pad_id),
            num_workers=self.num_workers,
        )
        return iter(loader)

    def __iter__(self) -> Iterator[Batch]:
        batches = self.sampler.remaining_batches()
        for batch in self._collated(batches):
            self.sampler._advance()  # counted when handed over, after any prefetching
            yield batch
        self.sampler._finish_epoch()

    def __len__(self) -> int:
        """Number of batches in one full epoch on this rank."""
        return len(self.sampler)

    def epoch_length(self, epoch: int) -> int:
        """Number of batches of ``epoch`` on this rank; see :meth:`BucketBatchSampler.epoch_length`."""
        return self.sampler.epoch_length(epoch)

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch; see :meth:`BucketBatchSampler.set_epoch`."""
        self.sampler.set_epoch(epoch)

    def state_dict(self) -> dict[str, Any]:
        """The sampler's JSON-serialisable state (epoch, seed, position, settings)."""
        return self.sampler.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the sampler's state; iteration then yields the remaining batches."""
        self.sampler.load_state_dict(state)


def padding_stats(loader_or_batches: Loader | Iterable[Batch]) -> dict[str, int | float]:
    """How much of the computed token slots is padding.

    A :class:`Loader` is measured over its whole current epoch without changing its state;
    any other iterable of :class:`Batch` is consumed once.

    Args:
        loader_or_batches: a :class:`Loader` or an iterable of batches.

    Returns:
        ``{"real_tokens", "padded_tokens", "total_tokens", "padding_share"}`` where
        ``padded_tokens`` counts padding positions (pair sides included),
        ``total_tokens = real_tokens + padded_tokens`` and
        ``padding_share = padded_tokens / total_tokens`` (0.0 for no tokens).
    """
    if isinstance(loader_or_batches, Loader):
        ld = loader_or_batches
        batches: Iterable[Batch] = (
            collate([ld.encoded[i] for i in b], pad_id=ld.pad_id)
            for b in ld.sampler.epoch_batches()
        )
    else:
        batches = loader_or_batches
    real = total = 0
    for batch in batches:
        real += batch.n_tokens
        total += batch.n_padded
    padded = total - real
    return {
        "real_tokens": real,
        "padded_tokens": padded,
        "total_tokens": total,
        "padding_share": padded / total if total else 0.0,
    }
