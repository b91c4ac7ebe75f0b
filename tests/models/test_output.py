import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ftlab.errors import ConfigError, DataError
from ftlab.models import classification_loss, num_outputs, probabilities

# Hand-computed: logits [[1, 2, 0], [0, 0, 0]], labels [1, 2]
#   CE_1 = log(e + e^2 + 1) - 2 = 0.407605964,  CE_2 = log 3 = 1.098612289
CE_1, CE_2 = 0.407605964, 1.098612289
# logits [[0], [2]], labels [1, 0]: BCE_1 = log(1 + e^0) = log 2, BCE_2 = log(1 + e^2)
BCE_1, BCE_2 = 0.693147181, 2.126928011


def test_num_outputs():
    assert num_outputs(2) == 2
    assert num_outputs(2, "sigmoid") == 1
    assert num_outputs(5, "softmax") == 5


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((1,), "at least 2"),
        ((3, "sigmoid"), "exactly 2"),
        ((2, "sigmod"), "Did you mean 'sigmoid'"),
    ],
)
def test_num_outputs_rejects(args, fragment):
    with pytest.raises(ConfigError, match=fragment):
        num_outputs(*args)


def test_cross_entropy_golden():
    logits = torch.tensor([[1.0, 2.0, 0.0], [0.0, 0.0, 0.0]])
    labels = torch.tensor([1, 2])
    assert classification_loss(logits, labels).item() == pytest.approx(CE_1 + CE_2, abs=1e-6)
    assert classification_loss(logits, labels, reduction="mean").item() == pytest.approx(
        (CE_1 + CE_2) / 2, abs=1e-6
    )


def test_cross_entropy_class_weights_scale_each_example_by_its_class():
    logits = torch.tensor([[1.0, 2.0, 0.0], [0.0, 0.0, 0.0]])
    labels = torch.tensor([1, 2])
    w = torch.tensor([1.0, 2.0, 3.0])
    got = classification_loss(logits, labels, class_weights=w)
    assert got.item() == pytest.approx(2 * CE_1 + 3 * CE_2, abs=1e-6)  # 4.111048795
    mean = classification_loss(logits, labels, class_weights=w, reduction="mean")
    assert mean.item() == pytest.approx((2 * CE_1 + 3 * CE_2) / 2, abs=1e-6)  # / examples


def test_bce_golden_and_class_weights():
    logits = torch.tensor([[0.0], [2.0]])
    labels = torch.tensor([1, 0])
    assert classification_loss(logits, labels).item() == pytest.approx(BCE_1 + BCE_2, abs=1e-6)
    w = torch.tensor([0.5, 3.0])
    weighted = classification_loss(logits, labels, class_weights=w)
    assert weighted.item() == pytest.approx(3.0 * BCE_1 + 0.5 * BCE_2, abs=1e-6)  # 3.142905548


@given(st.floats(-20, 20), st.integers(0, 1))
def test_one_logit_bce_equals_two_logit_ce(z, label):
    # softmax over [0, z] gives p(class 1) = sigmoid(z): both losses must agree.
    labels = torch.tensor([label])
    bce = classification_loss(torch.tensor([[z]], dtype=torch.float64), labels)
    ce = classification_loss(torch.tensor([[0.0, z]], dtype=torch.float64), labels)
    assert bce.item() == pytest.approx(ce.item(), rel=1e-9, abs=1e-9)


def test_loss_gradient_flows():
    logits = torch.zeros(3, 4, requires_grad=True)
    classification_loss(logits, torch.tensor([0, 1, 3])).backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


@pytest.mark.parametrize(
    ("logits", "labels", "err", "fragment"),
    [
        (torch.zeros(2, 3), torch.tensor([0, -1]), DataError, "unlabelled"),
        (torch.zeros(2, 3), torch.tensor([0, 3]), DataError, r"\[0, 3\)"),
        (torch.zeros(2, 1), torch.tensor([0, 2]), DataError, r"\[0, 2\)"),
        (torch.zeros(2, 3), torch.tensor([0, 1, 2]), DataError, "logits"),
        (torch.zeros(3), torch.tensor([0, 1, 2]), DataError, "logits"),
    ],
)
def test_loss_rejects_bad_inputs(logits, labels, err, fragment):
    with pytest.raises(err, match=fragment):
        classification_loss(logits, labels)


def test_loss_rejects_bad_weights_and_reduction():
    with pytest.raises(ConfigError, match="3 weights"):
        classification_loss(torch.zeros(2, 3), torch.tensor([0, 1]), class_weights=torch.ones(2))
    with pytest.raises(ConfigError, match="2 weights"):
        classification_loss(torch.zeros(2, 1), torch.tensor([0, 1]), class_weights=torch.ones(3))
    with pytest.raises(ConfigError, match="Did you mean 'mean'"):
        classification_loss(torch.zeros(2, 3), torch.tensor([0, 1]), reduction="meen")


def test_probabilities_golden():
    p = probabilities(torch.tensor([[0.0, math.log(3.0)], [0.0, 0.0]]))
    assert torch.allclose(p, torch.tensor([[0.25, 0.75], [0.5, 0.5]]))
    q = probabilities(torch.tensor([[0.0], [math.log(3.0)]]))
    assert torch.allclose(q, torch.tensor([[0.5, 0.5], [0.25, 0.75]]))
    with pytest.raises(DataError):
        probabilities(torch.zeros(3))


@given(st.lists(st.floats(-50, 50), min_size=1, max_size=6), st.integers(1, 4))
def test_probabilities_are_distributions(values, rows):
    logits = torch.tensor([values] * rows, dtype=torch.float64)
    p = probabilities(logits)
    assert p.shape == (rows, max(len(values), 2))
    assert torch.all(p >= 0)
    assert torch.allclose(p.sum(dim=1), torch.ones(rows, dtype=torch.float64))
