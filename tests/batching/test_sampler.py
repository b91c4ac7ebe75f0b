import json
from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ftlab.batching import BucketBatchSampler
from ftlab.errors import CheckpointError, ConfigError, DataError


@st.composite
def setups(draw: st.DrawFn, max_n: int = 120) -> dict[str, Any]:
    world_size = draw(st.integers(1, 4))
    n = draw(st.integers(world_size, max_n))
    lengths = draw(st.lists(st.integers(1, 64), min_size=n, max_size=n))
    batch_size = draw(st.one_of(st.none(), st.integers(1, 16)))
    max_tokens = draw(st.integers(1, 200)) if batch_size is None else draw(
        st.one_of(st.none(), st.integers(1, 200))
    )
    return {
        "lengths": lengths,
        "batch_size": batch_size,
        "max_tokens": max_tokens,
        "shuffle": draw(st.booleans()),
        "bucket": draw(st.booleans()),
        "maxi_batch": draw(st.integers(1, 4)),
        "longest_first": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**31)),
        "world_size": world_size,
    }


def epoch_on_all_ranks(kwargs: dict[str, Any], epoch: int = 0) -> list[list[list[int]]]:
    out = []
    for rank in range(kwargs.get("world_size", 1)):
        s = BucketBatchSampler(**{**kwargs, "rank": rank})
        s.set_epoch(epoch)
        assert len(s) == len(batches := list(s))
        out.append(batches)
    return out


def padding(batches: list[list[int]], lengths: list[int]) -> int:
    return sum(len(b) * max(lengths[i] for i in b) - sum(lengths[i] for i in b) for b in batches)


# batches are merged (with a RuntimeWarning) when nearly every batch holds one example
pytestmark = pytest.mark.filterwarnings("ignore:BucketBatchSampler.*merged:RuntimeWarning")


@given(setups())
def test_every_example_exactly_once_and_equal_steps(kw: dict[str, Any]) -> None:
    for epoch in (0, 1):
        per_rank = epoch_on_all_ranks(kw, epoch)
        flat = [i for batches in per_rank for b in batches for i in b]
        assert sorted(flat) == list(range(len(kw["lengths"])))
        assert len({len(b) for b in per_rank}) == 1
        assert all(len(b) >= 1 for batches in per_rank for b in batches)


@given(setups())
def test_same_seed_same_order(kw: dict[str, Any]) -> None:
    assert epoch_on_all_ranks(kw, 3) == epoch_on_all_ranks(kw, 3)


@given(setups(max_n=60), st.data())
def test_token_budget_and_batch_size_respected(kw: dict[str, Any], data: st.DataObject) -> None:
    lengths = kw["lengths"]
    epoch = data.draw(st.integers(0, 3))
    # the same epoch's single-rank plan: shuffling changes how many batches the budget cuts
    single = epoch_on_all_ranks({**kw, "world_size": 1}, epoch)[0]
    ws = kw["world_size"]
    # with several ranks batches may only be merged when splitting cannot equalise the counts
    may_merge = -(-len(single) // ws) * ws > len(lengths)
    for batches in epoch_on_all_ranks(kw, epoch):
        for b in batches:
            if may_merge:
                continue
            if kw["batch_size"] is not None:
                assert len(b) <= kw["batch_size"]
            if kw["max_tokens"] is not None and len(b) > 1:
                assert len(b) * max(lengths[i] for i in b) <= kw["max_tokens"]


def test_over_long_example_gets_its_own_batch() -> None:
    s = BucketBatchSampler([5, 500, 5, 5], batch_size=None, max_tokens=20, shuffle=False)
    batches = list(s)
    assert [1] in batches
    assert sorted(i for b in batches for i in b) == [0, 1, 2, 3]


def test_different_epochs_different_orders() -> None:
    kw = {"lengths": list(np.random.default_rng(0).integers(1, 50, 200)), "batch_size": 8}
    e0, e1 = epoch_on_all_ranks(kw, 0)[0], epoch_on_all_ranks(kw, 1)[0]
    assert e0 != e1
    assert sorted(map(sorted, e0)) != sorted(map(sorted, e1))  # different groupings too


def test_different_seeds_different_orders() -> None:
    kw = {"lengths": [3] * 100, "batch_size": 10}
    assert epoch_on_all_ranks({**kw, "seed": 1}) != epoch_on_all_ranks({**kw, "seed": 2})


@given(setups(max_n=50), st.data())
def test_resume_from_any_position(kw: dict[str, Any], data: st.DataObject) -> None:
    rank = data.draw(st.integers(0, kw["world_size"] - 1))
    kw = {**kw, "rank": rank}
    ref = BucketBatchSampler(**kw)
    ref.set_epoch(2)
    full = list(ref)
    next_epoch = list(ref)  # the sampler moved to epoch 3 by itself
    stop = data.draw(st.integers(0, len(full)))
    first = BucketBatchSampler(**kw)
    first.set_epoch(2)
    it = iter(first)
    head = [next(it) for _ in range(stop)]
    state = json.loads(json.dumps(first.state_dict()))
    assert (state["epoch"], state["position"], state["seed"]) == (2, stop, kw["seed"])
    resumed = BucketBatchSampler(**kw)
    resumed.load_state_dict(state)
    resumed.set_epoch(2)  # the loop of a resumed run calls this; position is kept
    assert len(resumed) == len(full)
    assert head + list(resumed) == full
    assert list(resumed) == next_epoch


def test_set_epoch_to_another_epoch_restarts() -> None:
    s = BucketBatchSampler([2] * 20, batch_size=4)
    it = iter(s)
    next(it)
    assert s.state_dict()["position"] == 1
    s.set_epoch(5)
    assert s.state_dict()["position"] == 0 and len(list(s)) == 5


@given(st.integers(0, 1000), st.integers(400, 1200))
def test_bucketing_cuts_padding_on_skewed_lengths(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.lognormal(2.5, 0.8, n).astype(int), 1, 256).tolist()
    kw = {"lengths": lengths, "batch_size": 16, "seed": seed}
    random = padding(epoch_on_all_ranks({**kw, "bucket": False})[0], lengths)
    bucketed = padding(epoch_on_all_ranks(kw)[0], lengths)
    assert bucketed < 0.25 * random


def test_eval_mode_sorts_globally_and_is_stable() -> None:
    lengths = [5, 1, 3, 1, 9, 2]
    s = BucketBatchSampler(lengths, batch_size=2, shuffle=False)
    assert list(s) == [[1, 3], [5, 2], [0, 4]]
    plain = BucketBatchSampler(lengths, batch_size=4, shuffle=False, bucket=False)
    assert list(plain) == [[0, 1, 2, 3], [4, 5]]


def test_longest_first_on_every_rank() -> None:
    lengths = list(np.random.default_rng(1).integers(1, 100, 300))
    for ws in (1, 3):
        kw = {"lengths": lengths, "batch_size": 8, "longest_first": True, "world_size": ws}
        per_rank = epoch_on_all_ranks(kw)
        longest = [[max(lengths[i] for i in b) for b in batches] for batches in per_rank]
        rest = max(x for row in longest for x in row[1:])
        assert longest[0][0] == max(lengths)
        assert all(row[0] >= rest for row in longest)  # every rank starts with a longest batch
        plain = epoch_on_all_ranks({**kw, "longest_first": False})
        assert sorted(map(sorted, sum(plain, []))) == sorted(map(sorted, sum(per_rank, [])))


labelled = st.integers(2, 4).flatmap(
    lambda c: st.lists(st.integers(0, c - 1), min_size=c, max_size=150).filter(
        lambda ls: len(set(ls)) == c
    )
)


@given(labelled, st.integers(1, 3), st.integers(0, 3))
def test_oversample_balances_classes(labels: list[int], ws: int, epoch: int) -> None:
    assume(len(labels) >= ws)
    kw = {"lengths": [4] * len(labels), "labels": labels, "balance": "oversample",
          "batch_size": 7, "world_size": ws}
    flat = [i for batches in epoch_on_all_ranks(kw, epoch) for b in batches for i in b]
    counts = Counter(labels[i] for i in flat)
    majority = max(Counter(labels).values())
    assert set(counts.values()) == {majority}
    assert set(range(len(labels))) <= set(flat)  # nothing of the data is left out


@given(labelled, st.integers(1, 3), st.integers(0, 3))
def test_undersample_balances_classes(labels: list[int], ws: int, epoch: int) -> None:
    minority = min(Counter(labels).values())
    assume(minority * len(set(labels)) >= ws)
    kw = {"lengths": [4] * len(labels), "labels": labels, "balance": "undersample",
          "batch_size": 5, "world_size": ws}
    flat = [i for batches in epoch_on_all_ranks(kw, epoch) for b in batches for i in b]
    assert len(flat) == len(set(flat))  # without replacement
    assert set(Counter(labels[i] for i in flat).values()) == {minority}


def test_balance_draws_change_per_epoch_but_not_per_run() -> None:
    labels = [0] * 40 + [1] * 5
    kw = {"lengths": [3] * 45, "labels": labels, "balance": "undersample", "batch_size": 4}
    e0 = sorted(i for b in epoch_on_all_ranks(kw, 0)[0] for i in b)
    assert e0 == sorted(i for b in epoch_on_all_ranks(kw, 0)[0] for i in b)
    assert e0 != sorted(i for b in epoch_on_all_ranks(kw, 1)[0] for i in b)


def test_drop_last_gives_full_batches_on_all_ranks() -> None:
    per_rank = epoch_on_all_ranks({"lengths": [3] * 50, "batch_size": 4, "drop_last": True, "world_size": 2})
    assert all(len(b) == 4 for batches in per_rank for b in batches)
    assert [len(b) for b in per_rank] == [6, 6]


def test_merge_only_when_unavoidable_and_warns() -> None:
    # 5 single-example batches cannot be split into a multiple of 4 ranks: merge, with a warning
    with pytest.warns(RuntimeWarning, match="merged"):
        per_rank = epoch_on_all_ranks({"lengths": [1] * 5, "batch_size": 1, "world_size": 4})
    assert [len(b) for b in per_rank] == [1, 1, 1, 1]
    assert sorted(i for b in per_rank for bb in b for i in bb) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"batch_size": None}, ConfigError, "both None"),
        ({"batch_size": 0}, ConfigError, "`batch_size` must be an int >= 1"),
        ({"world_size": 4}, ConfigError, "3 examples but world_size=4"),
        ({"rank": 2, "world_size": 2}, ConfigError, "rank"),
        ({"balance": "oversample"}, ConfigError, "needs `labels`"),
        ({"balance": "smote"}, ConfigError, "balance"),
        ({"balance": "oversample", "labels": [0, 1]}, DataError, "2 labels for 3 lengths"),
        ({"balance": "oversample", "labels": [0, -1, 1]}, DataError, r"labels\[1\] = -1"),
        ({"drop_last": True, "batch_size": 4}, ConfigError, "drops all 3 examples"),
        ({"seed": -1}, ConfigError, "seed"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        BucketBatchSampler([1, 2, 3], **kwargs)


def test_negative_length_and_non_int_lengths() -> None:
    with pytest.raises(DataError, match=r"lengths\[1\] = -2"):
        BucketBatchSampler([1, -2])
    with pytest.raises(DataError, match="flat sequence of ints"):
        BucketBatchSampler([1.5, 2.0])  # type: ignore[list-item]


def test_load_state_from_other_settings_fails() -> None:
    state = BucketBatchSampler([2] * 10, batch_size=2).state_dict()
    with pytest.raises(CheckpointError, match="batch_size: saved 2 vs now 3"):
        BucketBatchSampler([2] * 10, batch_size=3).load_state_dict(state)
    with pytest.raises(CheckpointError, match="lacks"):
        BucketBatchSampler([2] * 10, batch_size=2).load_state_dict({"epoch": 0})
    with pytest.raises(CheckpointError, match="past the end"):
        BucketBatchSampler([2] * 10, batch_size=2).load_state_dict({**state, "position": 6})


def test_state_dict_is_json_and_loads_seed() -> None:
    s = BucketBatchSampler([2] * 30, batch_size=4, seed=11)
    state = s.state_dict()
    assert json.loads(json.dumps(state)) == state
    other = BucketBatchSampler([2] * 30, batch_size=4, seed=0)
    other.load_state_dict(state)
    assert list(other) == list(BucketBatchSampler([2] * 30, batch_size=4, seed=11))
