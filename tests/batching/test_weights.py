import pytest
import torch

from ftlab.batching import class_weights
from ftlab.errors import ConfigError, DataError


@pytest.mark.parametrize("scheme", ["inverse", "sqrt_inverse", "effective"])
def test_weights_average_to_one_over_examples(scheme: str) -> None:
    labels = [0] * 90 + [1] * 9 + [2] * 1
    w = class_weights(labels, 3, scheme=scheme)  # type: ignore[arg-type]
    counts = torch.tensor([90.0, 9.0, 1.0])
    assert w.shape == (3,) and w.dtype == torch.float32
    assert (counts * w).sum().item() == pytest.approx(100.0, rel=1e-5)
    assert w[0] < w[1] < w[2]  # rarer classes weigh more


def test_inverse_makes_classes_contribute_equally() -> None:
    w = class_weights([0, 0, 0, 1], 2)
    assert (w * torch.tensor([3.0, 1.0])).tolist() == pytest.approx([2.0, 2.0])


def test_sqrt_is_milder_than_inverse() -> None:
    labels = [0] * 100 + [1] * 4
    inv = class_weights(labels, 2, scheme="inverse")
    sqrt = class_weights(labels, 2, scheme="sqrt_inverse")
    assert (sqrt[1] / sqrt[0]).item() == pytest.approx(5.0, rel=1e-5)
    assert (inv[1] / inv[0]).item() == pytest.approx(25.0, rel=1e-5)


def test_balanced_labels_give_ones() -> None:
    assert class_weights([0, 1, 2, 0, 1, 2], 3, scheme="effective").tolist() == pytest.approx([1, 1, 1])


def test_missing_class_gets_zero_with_warning() -> None:
    with pytest.warns(UserWarning, match=r"classes \[1\] have no training example"):
        w = class_weights([0, 0, 2], 3)
    assert w[1].item() == 0.0 and w[0].item() > 0


def test_errors() -> None:
    with pytest.raises(DataError, match=r"labels\[1\] = 5 is outside \[0, 2\)"):
        class_weights([0, 5], 2)
    with pytest.raises(DataError, match="no labels"):
        class_weights([], 2)
    with pytest.raises(ConfigError, match="scheme"):
        class_weights([0], 1, scheme="log")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="num_classes"):
        class_weights([0], 0)
