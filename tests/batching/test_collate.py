import pytest
import torch

from ftlab.batching import Batch, Encoded, collate
from ftlab.errors import DataError


def _items() -> list[Encoded]:
    return [
        Encoded(index=10, ids=[5, 6, 7], label=1),
        Encoded(index=11, ids=[8], label=0),
        Encoded(index=12, ids=[9, 9], label=-1),
    ]


def test_shapes_padding_and_mask() -> None:
    batch = collate(_items(), pad_id=3)
    assert isinstance(batch, Batch)
    assert batch.ids.shape == (3, 3) and batch.ids.dtype == torch.long
    assert batch.ids.tolist() == [[5, 6, 7], [8, 3, 3], [9, 9, 3]]
    assert batch.mask.tolist() == [[1, 1, 1], [1, 0, 0], [1, 1, 0]]
    assert batch.mask.dtype == torch.long
    assert batch.lengths.tolist() == [3, 1, 2]
    assert torch.equal(batch.mask.sum(1), batch.lengths)
    assert batch.labels.tolist() == [1, 0, -1]
    assert batch.index.tolist() == [10, 11, 12]
    assert batch.pair_ids is None and batch.pair_mask is None and batch.pair_lengths is None
    assert batch.token_type_ids is None
    assert batch.n_tokens == 6 and batch.n_padded == 9


def test_width_is_longest_in_batch_not_global() -> None:
    batch = collate([Encoded(index=0, ids=[1, 2], label=0), Encoded(index=1, ids=[4], label=0)])
    assert batch.ids.shape == (2, 2)
    assert batch.ids[1, 1].item() == 0  # default pad_id


def test_pairs_are_padded_separately() -> None:
    items = [
        Encoded(index=0, ids=[1, 2], label=0, pair_ids=[7]),
        Encoded(index=1, ids=[3], label=1, pair_ids=[8, 9, 10]),
    ]
    batch = collate(items, pad_id=-5)
    assert batch.ids.tolist() == [[1, 2], [3, -5]]
    assert batch.pair_ids is not None and batch.pair_mask is not None
    assert batch.pair_ids.tolist() == [[7, -5, -5], [8, 9, 10]]
    assert batch.pair_mask.tolist() == [[1, 0, 0], [1, 1, 1]]
    assert batch.pair_lengths is not None and batch.pair_lengths.tolist() == [1, 3]
    assert batch.n_tokens == 3 + 4


def test_empty_pair_side_keeps_width_one() -> None:
    batch = collate([Encoded(index=0, ids=[1], label=0, pair_ids=[])])
    assert batch.pair_ids is not None and batch.pair_ids.shape == (1, 1)
    assert batch.pair_mask is not None and batch.pair_mask.tolist() == [[0]]


def test_token_type_ids_padded_with_zero() -> None:
    items = [
        Encoded(index=0, ids=[1, 2, 3], label=0, token_type_ids=[0, 1, 1]),
        Encoded(index=1, ids=[4], label=1, token_type_ids=[1]),
    ]
    batch = collate(items, pad_id=9)
    assert batch.token_type_ids is not None
    assert batch.token_type_ids.tolist() == [[0, 1, 1], [1, 0, 0]]
    assert batch.token_type_ids.shape == batch.ids.shape


def test_to_device_keeps_values() -> None:
    batch = collate(_items()).to("cpu")
    assert batch.ids.device.type == "cpu" and len(batch) == 3


@pytest.mark.parametrize(
    ("items", "match"),
    [
        ([], "empty batch"),
        ([Encoded(index=4, ids=[], label=0)], "index=4 has no tokens"),
        (
            [Encoded(index=0, ids=[1], label=0, pair_ids=[2]), Encoded(index=1, ids=[1], label=0)],
            "index=1 lacks pair_ids",
        ),
        (
            [Encoded(index=0, ids=[1], label=0), Encoded(index=2, ids=[1], label=0, token_type_ids=[0])],
            "index=2 has token_type_ids",
        ),
        ([Encoded(index=3, ids=[1, 2], label=0, token_type_ids=[0])], "1 token_type_ids for 2 ids"),
    ],
)
def test_bad_input_raises_data_error(items: list[Encoded], match: str) -> None:
    with pytest.raises(DataError, match=match):
        collate(items)


def test_import_is_cheap() -> None:
    import subprocess
    import sys

    code = "import sys, ftlab.batching; print(sorted({'transformers', 'datasets'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
