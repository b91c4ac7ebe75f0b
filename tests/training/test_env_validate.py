"""write_env_json, run_validation and predict."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ftlab.training import predict, run_validation, write_env_json

from ._toys import ToyModel, make_batch, softmax, sum_ce


def test_env_json(tmp_path):
    path = write_env_json(tmp_path / "env.json", seed=7, device="cpu", extra={"run": "x"})
    env = json.loads(path.read_text())
    assert env["seed"] == 7 and env["device"] == "cpu" and env["run"] == "x"
    assert env["versions"]["torch"].startswith(torch.__version__.split("+")[0])
    assert env["versions"]["python"].count(".") == 2 and env["cpu_count"] >= 1
    assert "git_commit" in env


class _Fixed(torch.nn.Module):
    """Predicts class (index % 3), so accuracy is known exactly."""

    def __init__(self):
        super().__init__()
        self.p = torch.nn.Parameter(torch.zeros(()))

    def forward(self, batch):
        return torch.nn.functional.one_hot(batch.index % 3, 3).float() * 5 + self.p


def test_run_validation_streams_and_computes_metrics():
    batches = [make_batch([0, 1, 2, 3]), make_batch([4, 5, 6])]
    labels = torch.cat([b.labels for b in batches]).numpy()
    preds = np.arange(7) % 3
    metrics = run_validation(_Fixed(), batches, loss_fn=sum_ce, probs_fn=softmax)
    assert metrics["accuracy"] == pytest.approx((labels == preds).mean())
    assert metrics["n"] == 7
    from sklearn.metrics import f1_score

    assert metrics["macro_f1"] == pytest.approx(f1_score(labels, preds, average="macro"))
    with torch.no_grad():
        logits = torch.cat([_Fixed()(b) for b in batches])
    assert metrics["loss"] == pytest.approx(float(sum_ce(logits, torch.from_numpy(labels))) / 7)


def test_predict_returns_numpy_and_restores_train_mode():
    model = ToyModel(dropout=0.5).train()
    index, probs, labels = predict(model, [make_batch([5, 9]), make_batch([1])], softmax)
    assert index.tolist() == [5, 9, 1] and probs.shape == (3, 3) and labels.shape == (3,)
    assert np.allclose(probs.sum(1), 1.0) and isinstance(probs, np.ndarray)
    assert model.training
    again = predict(model, [make_batch([5, 9]), make_batch([1])], softmax)[1]
    assert np.array_equal(probs, again)  # eval mode: dropout off


def test_unlabelled_examples_are_ignored_by_metrics():
    batch = make_batch([0, 1])
    batch.labels[:] = -1
    assert run_validation(_Fixed(), [batch], loss_fn=sum_ce, probs_fn=softmax)["n"] == 0
