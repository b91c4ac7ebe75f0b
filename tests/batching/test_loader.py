import json

import numpy as np
import pytest
import torch

from ftlab.batching import Batch, BatchSource, BucketBatchSampler, Encoded, Loader, collate, padding_stats
from ftlab.errors import ConfigError


def make_encoded(n: int = 37, seed: int = 0) -> list[Encoded]:
    rng = np.random.default_rng(seed)
    return [
        Encoded(index=100 + i, ids=rng.integers(1, 50, rng.integers(1, 20)).tolist(), label=i % 3)
        for i in range(n)
    ]


def make_loader(encoded: list[Encoded], num_workers: int = 0, **kw: object) -> Loader:
    sampler = BucketBatchSampler([e.length for e in encoded], batch_size=4, seed=5, **kw)  # type: ignore[arg-type]
    return Loader(encoded, sampler, pad_id=0, num_workers=num_workers)


def test_is_a_batch_source_and_covers_the_split() -> None:
    encoded = make_encoded()
    loader = make_loader(encoded)
    assert isinstance(loader, BatchSource)
    batches = list(loader)
    assert len(batches) == len(loader.sampler.epoch_batches(0)) == 10
    assert all(isinstance(b, Batch) for b in batches)
    assert sorted(torch.cat([b.index for b in batches]).tolist()) == [e.index for e in encoded]
    by_index = {e.index: e for e in encoded}
    for b in batches:
        for row, idx, n in zip(b.ids.tolist(), b.index.tolist(), b.lengths.tolist(), strict=True):
            assert row[:n] == by_index[idx].ids


def test_state_after_n_consumed_batches_resumes_at_n() -> None:
    encoded = make_encoded()
    full = list(make_loader(encoded))
    loader = make_loader(encoded)
    it = iter(loader)
    for _ in range(3):
        next(it)
    state = json.loads(json.dumps(loader.state_dict()))
    assert state["position"] == 3 and state["epoch"] == 0
    resumed = make_loader(encoded)
    resumed.load_state_dict(state)
    rest = list(resumed)
    assert [b.index.tolist() for b in rest] == [b.index.tolist() for b in full[3:]]
    assert resumed.state_dict()["epoch"] == 1 and resumed.state_dict()["position"] == 0


def test_workers_prefetch_does_not_move_the_position() -> None:
    encoded = make_encoded()
    reference = [b.index.tolist() for b in make_loader(encoded)]
    loader = make_loader(encoded, num_workers=1)
    it = iter(loader)
    got = [next(it).index.tolist() for _ in range(2)]
    assert loader.state_dict()["position"] == 2  # the worker has prefetched more than 2
    got += [b.index.tolist() for b in it]
    assert got == reference


def test_eval_loader_restores_input_order_through_index() -> None:
    encoded = make_encoded(20)
    loader = make_loader(encoded, shuffle=False)
    preds = {}
    for b in loader:
        for idx, n in zip(b.index.tolist(), b.lengths.tolist(), strict=True):
            preds[idx] = n
    assert [preds[e.index] for e in encoded] == [len(e.ids) for e in encoded]


def test_mismatched_sampler_is_rejected() -> None:
    encoded = make_encoded(5)
    with pytest.raises(ConfigError, match="built for 4 lengths but 5 examples"):
        Loader(encoded, BucketBatchSampler([1, 2, 3, 4]))
    with pytest.raises(ConfigError, match="num_workers"):
        Loader(encoded, BucketBatchSampler([1] * 5), num_workers=-1)


def test_padding_stats_counts() -> None:
    batch = collate([Encoded(index=0, ids=[1, 2, 3], label=0), Encoded(index=1, ids=[1], label=0)])
    stats = padding_stats([batch])
    assert stats == {"real_tokens": 4, "padded_tokens": 2, "total_tokens": 6, "padding_share": 2 / 6}
    assert padding_stats([])["padding_share"] == 0.0


def test_padding_stats_on_loader_keeps_state_and_bucketing_helps() -> None:
    encoded = make_encoded(400, seed=1)
    bucketed = make_loader(encoded)
    random = make_loader(encoded, bucket=False)
    it = iter(bucketed)
    next(it)
    before = bucketed.state_dict()
    share = padding_stats(bucketed)["padding_share"]
    assert bucketed.state_dict() == before
    assert share < 0.5 * padding_stats(random)["padding_share"]
