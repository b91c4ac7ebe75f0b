"""``ftlab check-setup``: every check passes on a healthy tiny config and fails on its bug."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch
import yaml
from torch import nn
from typer.testing import CliRunner

from ftlab.cli import app
from ftlab.config import parse_config
from ftlab.models import classification_loss
from ftlab.toolbelt import CHECKS, check_setup

POS = ["great", "wonderful", "superb", "lovely", "brilliant"]
NEG = ["awful", "terrible", "boring", "dreadful", "weak"]
FILL = ["the", "movie", "story", "cast", "was", "and", "really", "quite", "plot", "film"]


def _rows(n: int = 120, *, leak: bool = False) -> list[dict]:
    rng = random.Random(0)
    rows = []
    for i in range(n):
        label = "pos" if i % 2 else "neg"
        words = rng.sample(FILL, 4) + rng.sample(POS if i % 2 else NEG, 2)
        rng.shuffle(words)
        rows.append({"text": " ".join(words) + (f" {label}" if leak else ""), "label": label})
    return rows


def _raw(tmp: Path, *, leak: bool = False) -> dict:
    data = tmp / ("leaky.jsonl" if leak else "clean.jsonl")
    data.write_text("".join(json.dumps(r) + "\n" for r in _rows(leak=leak)), encoding="utf-8")
    return {
        "seed": 3, "output_dir": str(tmp / "runs"),
        "data": {"source": str(data), "split": {"validation": 0.2, "test": 0.2}},
        "preprocess": {"max_length": 16},
        "batching": {"batch_size": 8},
        "model": {"family": "bow", "embed_dim": 16, "hidden_dims": [16]},
        "train": {"lr": 0.02, "epochs": 1, "trackers": [], "device": "cpu"},
    }


@pytest.fixture(scope="module")
def tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("setup")


@pytest.fixture(scope="module")
def healthy(tmp):
    return parse_config(_raw(tmp))


class Planted(nn.Module):
    """Mean of embeddings -> linear head, with one optional planted bug."""

    def __init__(self, vocab_size: int, num_classes: int, bug: str | None = None) -> None:
        super().__init__()
        self.num_classes = self.num_outputs = num_classes
        self.emb = nn.Embedding(vocab_size, 16, padding_idx=0)
        self.head = nn.Linear(16, num_classes)
        self.bias = nn.Parameter(torch.zeros(num_classes))
        self.bug = bug

    def forward(self, batch):
        mask = batch.mask.unsqueeze(-1).float()  # (B, T, 1)
        x = (self.emb(batch.ids) * mask).sum(1) / mask.sum(1).clamp(min=1)  # (B, 16)
        if self.bug == "detached_branch":
            x = x.detach()  # the embeddings never learn
        logits = self.head(x) + self.bias
        if self.bug == "detached_output":
            logits = logits.detach()
        if self.bug == "ignores_input":
            logits = self.bias.expand(batch.ids.shape[0], -1)
        if self.bug == "huge_scale":
            logits = logits * 1000.0
        if self.bug == "oom" and batch.ids.shape[0] > 4:
            raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return logits


def _planted(bug: str | None):
    return lambda encoder, num_classes: Planted(encoder.tokenizer.vocab_size, num_classes, bug)


def _by_name(results):
    return {r.name: r for r in results}


def test_every_check_passes_on_a_healthy_config(healthy):
    results = check_setup(healthy)
    assert [r.name for r in results] == list(CHECKS)
    failed = {r.name: r.message for r in results if r.passed is not True}
    assert not failed
    res = _by_name(results)
    assert res["overfit_batch"].details["final_loss"] <= 0.05
    assert res["overfit_batch"].details["final_loss"] < res["overfit_batch"].details["first_loss"]
    assert abs(res["initial_loss"].details["expected"] - 0.6931) < 1e-3
    assert res["input_dependence"].details["shuffled_changed"] >= 0.5
    assert res["batch_fits"].details["batch_size"] == 8


@pytest.mark.parametrize(
    ("bug", "check", "words"),
    [
        ("detached_branch", "gradients", ["emb.weight", "no gradient"]),
        ("detached_output", "gradients", ["detached", "emb.weight"]),
        ("detached_output", "overfit_batch", ["does not require grad"]),
        ("ignores_input", "input_dependence", ["ignores its input"]),
        ("huge_scale", "initial_loss", ["far above log(2)", "init"]),
        ("oom", "batch_fits", ["out of memory", "grad_accum"]),
    ],
)
def test_each_model_check_fails_on_its_planted_bug(healthy, bug, check, words):
    control = _by_name(check_setup(healthy, model=_planted(None), checks=[check]))[check]
    assert control.passed is True, control.message
    result = _by_name(check_setup(healthy, model=_planted(bug), checks=[check]))[check]
    assert result.passed is False
    for word in words:
        assert word in result.message


def _no_step(model, batch, optimizer):
    optimizer.zero_grad()
    loss = classification_loss(model(batch), batch.labels, reduction="mean")
    loss.backward()  # ... and forgets optimizer.step()
    return float(loss.detach())


def _detached_loss(model, batch, optimizer):
    optimizer.zero_grad()
    loss = classification_loss(model(batch), batch.labels, reduction="mean")
    loss.detach().requires_grad_().backward()  # gradients never reach the parameters
    optimizer.step()
    return float(loss.detach())


@pytest.mark.parametrize("step", [_no_step, _detached_loss])
def test_overfit_fails_when_the_step_does_not_update(healthy, step):
    result = check_setup(healthy, train_step=step, checks=["overfit_batch"], overfit_steps=20)[0]
    assert result.passed is False
    assert "no parameter changed" in result.message and "optimizer.step()" in result.message
    assert result.details["changed_tensors"] == 0


def test_overfit_names_the_learning_rate_it_used(healthy):
    result = check_setup(healthy, checks=["overfit_batch"], overfit_lr=1e-9, overfit_steps=5)[0]
    assert result.passed is False  # far too small a rate cannot memorise a batch
    assert "lr=1e-09 (given)" in result.message and "learning rate" in result.message


def test_label_in_the_text_is_a_leak(tmp):
    result = check_setup(parse_config(_raw(tmp, leak=True)), checks=["label_leakage", "data"])
    res = _by_name(result)
    assert res["data"].passed is True
    leak = res["label_leakage"]
    assert leak.passed is False
    assert "'pos' (the label's own name)" in leak.message and "shortcut" in leak.message
    assert {r["token"] for r in leak.details["tokens"]} == {"pos", "neg"}


def test_a_text_pair_copying_the_label_is_a_leak(tmp):
    rows = [{**r, "pair": r["label"].upper()} for r in _rows()]
    path = tmp / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    raw = _raw(tmp)
    raw["data"] = {**raw["data"], "source": str(path), "columns": {"text_pair": "pair"}}
    leak = check_setup(parse_config(raw), checks=["label_leakage"])[0]
    assert leak.passed is False
    assert "column 'text_pair' equals the label" in leak.message


def test_cli_exits_0_when_healthy_and_1_on_a_leaky_dataset(tmp):
    runner = CliRunner()
    for leak, code in ((False, 0), (True, 1)):
        path = tmp / f"cfg-{leak}.yaml"
        path.write_text(yaml.safe_dump(_raw(tmp, leak=leak)), encoding="utf-8")
        out = tmp / f"checks-{leak}.json"
        result = runner.invoke(app, ["check-setup", str(path), "--json", str(out)])
        assert result.exit_code == code, result.output
        assert "label_leakage" in result.output
        saved = {r["name"]: r["status"] for r in json.loads(out.read_text())}
        assert saved["label_leakage"] == ("FAIL" if leak else "pass")


def test_data_errors_fail_the_data_check_and_skip_the_rest(tmp):
    rows = [{"text": r["text"], "label": "pos"} for r in _rows()]  # a single class
    path = tmp / "one-class.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    raw = _raw(tmp)
    raw["data"] = {**raw["data"], "source": str(path)}
    res = _by_name(check_setup(parse_config(raw)))
    assert res["data"].passed is False and "single_class" in res["data"].message
    assert all(r.passed is None and "fix the data errors" in r.message
               for name, r in res.items() if name != "data")
