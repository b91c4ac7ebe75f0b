"""Run the shipped conformance checks over the batching implementations and settings."""

from typing import Any

import numpy as np
import pytest

from ftlab.batching import BucketBatchSampler, Encoded, Loader
from ftlab.testing import check_batch_source, check_sampler

N = 23
LENGTHS = np.random.default_rng(3).integers(1, 30, N).tolist()
LABELS = [0] * 17 + [1] * 6

SETTINGS: dict[str, dict[str, Any]] = {
    "bucketed": {"batch_size": 4},
    "token_budget": {"batch_size": None, "max_tokens": 60},
    "budget_and_size": {"batch_size": 3, "max_tokens": 40, "maxi_batch": 2},
    "random": {"batch_size": 5, "bucket": False},
    "eval_sorted": {"batch_size": 4, "shuffle": False},
    "sequential": {"batch_size": 4, "shuffle": False, "bucket": False},
    "longest_first": {"batch_size": 4, "longest_first": True},
}


@pytest.mark.parametrize("name", SETTINGS)
def test_bucket_batch_sampler_conforms(name: str) -> None:
    def make(*, seed: int, rank: int, world_size: int) -> BucketBatchSampler:
        return BucketBatchSampler(LENGTHS, seed=seed, rank=rank, world_size=world_size, **SETTINGS[name])

    check_sampler(make, N)


@pytest.mark.parametrize("balance", ["oversample", "undersample"])
def test_balanced_sampler_conforms(balance: str) -> None:
    def make(*, seed: int, rank: int, world_size: int) -> BucketBatchSampler:
        return BucketBatchSampler(
            LENGTHS, batch_size=4, labels=LABELS, balance=balance,  # type: ignore[arg-type]
            seed=seed, rank=rank, world_size=world_size,
        )

    check_sampler(make, N, exactly_once=False)


def test_check_sampler_catches_a_broken_sampler() -> None:
    class Forgetful(BucketBatchSampler):
        def state_dict(self) -> dict[str, Any]:
            return {**super().state_dict(), "position": 0}  # forgets where it was

    def make(*, seed: int, rank: int, world_size: int) -> BucketBatchSampler:
        return Forgetful(LENGTHS, batch_size=4, seed=seed, rank=rank, world_size=world_size)

    with pytest.raises(AssertionError, match="state_dict"):
        check_sampler(make, N, world_sizes=(1,))


def test_loader_conforms() -> None:
    encoded = [Encoded(index=i, ids=[1] * n, label=i % 2) for i, n in enumerate(LENGTHS)]

    def make() -> Loader:
        return Loader(encoded, BucketBatchSampler(LENGTHS, batch_size=4, seed=1))

    check_batch_source(make)
