import pytest
from hypothesis import given
from hypothesis import strategies as st

from ftlab.errors import CheckpointError, DataError, FtlabError
from ftlab.preprocessing import LabelMap


def test_integer_labels_sort_numerically():
    lm = LabelMap().fit(["10", "2", "0", "1", "2"])
    assert lm.names == ["0", "1", "2", "10"]
    assert lm.encode("10") == 3 and lm.decode(3) == "10"
    assert lm.num_classes == 4


def test_string_labels_sort_alphabetically_and_skip_none():
    lm = LabelMap().fit(["sport", "business", None, "tech", "sport"])
    assert lm.names == ["business", "sport", "tech"]


def test_mixed_labels_sort_alphabetically():
    assert LabelMap().fit(["10", "2", "x"]).names == ["10", "2", "x"]


def test_unknown_label_error_names_label_where_and_known():
    lm = LabelMap().fit(["neg", "pos"])
    with pytest.raises(DataError) as info:
        lm.encode("neutral", where="valid.jsonl:7")
    msg = str(info.value)
    assert "'neutral'" in msg and "valid.jsonl:7" in msg and "'neg'" in msg and "'pos'" in msg


def test_decode_out_of_range():
    with pytest.raises(DataError, match="0..1"):
        LabelMap().fit(["a", "b"]).decode(2)


def test_empty_and_bad_inputs():
    with pytest.raises(DataError, match="no labels"):
        LabelMap().fit([None, None])
    with pytest.raises(DataError, match="strings"):
        LabelMap().fit([1, 2])  # type: ignore[list-item]
    with pytest.raises(DataError, match="duplicate"):
        LabelMap(["a", "a"])
    with pytest.raises(FtlabError, match="fit"):
        LabelMap().encode("a")


def test_save_load_and_dict(tmp_path):
    lm = LabelMap().fit(["b", "a"])
    lm.save(tmp_path / "labels.json")
    assert LabelMap.load(tmp_path / "labels.json") == lm
    assert LabelMap.from_dict(lm.to_dict()).names == ["a", "b"]
    (tmp_path / "bad.json").write_text('{"names": "ab"}')
    with pytest.raises(CheckpointError):
        LabelMap.load(tmp_path / "bad.json")


@given(st.lists(st.text(min_size=1, max_size=5) | st.integers(-5, 50).map(str), min_size=1))
def test_round_trip_and_order_independent(labels):
    lm = LabelMap().fit(labels)
    assert lm == LabelMap().fit(reversed(labels))
    assert all(lm.decode(lm.encode(x)) == x for x in labels)
    assert lm.num_classes == len(set(labels))
