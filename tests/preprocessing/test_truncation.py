import pytest
from hypothesis import given
from hypothesis import strategies as st

from ftlab.errors import ConfigError
from ftlab.preprocessing import truncate, truncate_pair

ids_st = st.lists(st.integers(0, 1000), max_size=60)
strategy_st = st.sampled_from(["head", "tail", "head_tail"])
pair_strategy_st = st.sampled_from(["longest_first", "only_first", "only_second"])


def test_examples():
    seq = list(range(10))
    assert truncate(seq, 4, "head") == [0, 1, 2, 3]
    assert truncate(seq, 4, "tail") == [6, 7, 8, 9]
    assert truncate(seq, 4, "head_tail") == [0, 7, 8, 9]  # head = 4 // 4 = 1
    assert truncate(seq, 4, "head_tail", head=2) == [0, 1, 8, 9]
    assert truncate(seq, 20) == seq and truncate(seq, 20) is not seq


def test_sun_et_al_split():
    out = truncate(list(range(1000)), 510, "head_tail", head=128)
    assert out[:128] == list(range(128)) and out[128:] == list(range(1000 - 382, 1000))


def test_pair_examples():
    a, b = list(range(10)), list(range(100, 104))
    assert truncate_pair(a, b, 8) == (list(range(4)), b)  # longest side cut first
    assert truncate_pair(a, a, 5) == (list(range(3)), list(range(2)))  # ties cut from b
    assert truncate_pair(a, b, 8, "only_second") == (a[:7], b[:1])  # b keeps one, a cut too
    assert truncate_pair(a, b, 12, "only_first") == (a[:8], b)
    assert truncate_pair(a, b, 8, "longest_first", "tail") == (a[-4:], b)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (([1, 2], -1), {}),
        (([1, 2], 2), {"strategy": "middle"}),
        (([1, 2], 2), {"strategy": "head_tail", "head": 3}),
        (([1, 2], 2.5), {}),
    ],
)
def test_bad_arguments(args, kwargs):
    with pytest.raises(ConfigError):
        truncate(*args, **kwargs)


def test_bad_pair_strategy():
    with pytest.raises(ConfigError, match="longest_first"):
        truncate_pair([1], [2], 2, "shortest_first")  # type: ignore[arg-type]


@given(ids_st, st.integers(0, 70), strategy_st, st.data())
def test_truncate_properties(ids, max_length, strategy, data):
    head = data.draw(st.none() | st.integers(0, max_length))
    before = list(ids)
    out = truncate(ids, max_length, strategy, head)
    assert ids == before  # input untouched
    assert len(out) <= max_length
    if len(ids) <= max_length:
        assert out == ids
    else:
        assert len(out) == max_length
    if ids and max_length >= 1:
        assert out
    n_head = max_length // 4 if head is None else head
    if strategy == "head_tail" and len(ids) > max_length:
        n_tail = max_length - n_head
        assert out == ids[:n_head] + ids[len(ids) - n_tail :]
    # always a prefix + suffix of the input, whatever the strategy
    assert any(
        out == ids[:k] + ids[len(ids) - (len(out) - k) :] for k in range(len(out) + 1)
    )


@given(ids_st, ids_st, st.integers(0, 80), pair_strategy_st, strategy_st)
def test_truncate_pair_properties(a, b, max_length, strategy, single):
    out_a, out_b = truncate_pair(a, b, max_length, strategy, single)
    assert len(out_a) + len(out_b) <= max_length
    if len(a) + len(b) <= max_length:
        assert (out_a, out_b) == (a, b)
    else:
        assert len(out_a) + len(out_b) == max_length  # the budget is used fully
    assert len(out_a) <= len(a) and len(out_b) <= len(b)
    if a and b and max_length >= 2:
        assert out_a and out_b  # each side keeps at least one token
    if (a or b) and max_length >= 1:
        assert out_a or out_b
    if strategy == "only_first" and len(a) + len(b) > max_length and len(b) < max_length:
        assert out_b == b  # the protected side is untouched when it fits with one of a
    if strategy == "only_second" and len(a) + len(b) > max_length and len(a) < max_length:
        assert out_a == a
