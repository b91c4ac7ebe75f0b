"""model.attention_dropout / model.hidden_dropout: set through the model's config before it is
built, so they reach every dropout module; 0 makes the attention path deterministic in training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

from ftlab.config import load_config
from ftlab.errors import ConfigError
from ftlab.models import TransformerClassifier, build_model
from ftlab.runs import export_merged, load_run_model

from _tiny_data import write_sentiment_jsonl

from runs._faults import cli

from ._tiny_transformers import text_batch, tiny_model_dir


def _build(kind: str = "bert", **kwargs) -> TransformerClassifier:
    torch.manual_seed(0)
    return build_model("transformer", vocab_size=30522, pad_id=0, num_classes=3,
                       name=str(tiny_model_dir(kind)), **kwargs)


def _dropouts(model: TransformerClassifier) -> dict[str, float]:
    return {n: m.p for n, m in model.named_modules() if isinstance(m, torch.nn.Dropout)}


@pytest.mark.parametrize(("kind", "attention_field", "hidden_field", "attention_module"), [
    ("bert", "attention_probs_dropout_prob", "hidden_dropout_prob", "attention.self.dropout"),
    ("distilbert", "attention_dropout", "dropout", "attention.dropout"),
])
def test_values_reach_the_hf_config_and_the_modules(kind, attention_field, hidden_field,
                                                    attention_module):
    model = _build(kind, attention_dropout=0.0, hidden_dropout=0.3, classifier_dropout=0.2)
    config = model.core.config
    assert getattr(config, attention_field) == 0.0 and getattr(config, hidden_field) == 0.3
    p = _dropouts(model)
    attention = {n: v for n, v in p.items() if n.endswith(attention_module)}
    assert len(attention) == 2 and set(attention.values()) == {0.0}  # one per layer
    encoder = {n: v for n, v in p.items() if n not in attention and n != "hf_model.dropout"}
    assert encoder and set(encoder.values()) == {0.3}  # embeddings and layer outputs
    assert p["hf_model.dropout"] == 0.2  # the head keeps classifier_dropout
    # unset: the checkpoint's own values (0.1 for both tiny checkpoints)
    default = _build(kind).core.config
    assert getattr(default, attention_field) == 0.1 and getattr(default, hidden_field) == 0.1


@pytest.mark.parametrize("kind", ["bert", "distilbert"])
def test_attention_dropout_zero_makes_training_forward_passes_identical(kind):
    batch = text_batch()
    quiet = _build(kind, attention_dropout=0.0, hidden_dropout=0.0, classifier_dropout=0.0)
    noisy = _build(kind, attention_dropout=0.5, hidden_dropout=0.0, classifier_dropout=0.0)
    quiet.train(), noisy.train()
    with torch.no_grad():
        torch.testing.assert_close(quiet(batch), quiet(batch), atol=0, rtol=0)
        assert not torch.equal(noisy(batch), noisy(batch))  # attention is the only random part
        noisy.eval()
        torch.testing.assert_close(noisy(batch), noisy(batch), atol=0, rtol=0)


def test_bad_values_and_models_without_the_field_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"attention_dropout: dropout probability must satisfy"):
        _build(attention_dropout=1.0)
    with pytest.raises(ConfigError, match=r"hidden_dropout: dropout probability must satisfy"):
        _build(hidden_dropout=-0.1)
    import transformers

    transformers.GPT2Config(n_layer=1, n_embd=8, n_head=2).save_pretrained(str(tmp_path))
    with pytest.raises(ConfigError) as info:  # found in config.json, before any weight is read
        build_model("transformer", vocab_size=100, pad_id=0, num_classes=2, name=str(tmp_path),
                    attention_dropout=0.0)
    msg = str(info.value)
    assert "model.attention_dropout" in msg and "'gpt2'" in msg
    assert "attention_probs_dropout_prob or attention_dropout" in msg and "unset" in msg


def _config(tmp: Path, *, attention_dropout: str) -> Path:
    """A tiny BERT run on 24 separable sentences (one epoch of 2 steps)."""
    data = write_sentiment_jsonl(tmp / "d.jsonl", 24)
    cfg = tmp / "tiny-bert.yaml"
    cfg.write_text(f"""
name: attn0
output_dir: {tmp / 'runs'}
data: {{source: {data}, split: {{validation: 0.25, test: 0.25}}}}
preprocess: {{max_length: 16}}
batching: {{batch_size: 6}}
model: {{family: transformer, name: {tiny_model_dir('bert')}, attention_dropout: {attention_dropout},
        hidden_dropout: 0.05}}
train: {{epochs: 1, trackers: [], device: cpu}}
eval: {{splits: []}}
""", encoding="utf-8")
    return cfg


def test_a_run_records_the_setting_and_rebuilds_with_it(tmp_path):
    code, out = cli("train", str(_config(tmp_path, attention_dropout="0")))
    assert code == 0, out
    run = tmp_path / "runs" / "attn0"
    recorded = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))["model"]
    assert recorded["attention_dropout"] == 0.0 and recorded["hidden_dropout"] == 0.05
    model = load_run_model(run)[2]
    assert model.core.config.attention_probs_dropout_prob == 0.0
    assert model.core.config.hidden_dropout_prob == 0.05
    exported = json.loads((export_merged(run, tmp_path / "hf") / "config.json").read_text())
    assert exported["attention_probs_dropout_prob"] == 0.0  # the export says how it was trained
    assert exported["hidden_dropout_prob"] == 0.05


@pytest.mark.parametrize("value", ["1.5", "-0.1", "high"])
def test_bad_values_exit_2_with_one_message(tmp_path, value):
    code, out = cli("train", str(_config(tmp_path, attention_dropout=value)))
    assert code == 2 and "model.attention_dropout" in out and "Traceback" not in out
    assert out.count("error:") == 1
    assert not (tmp_path / "runs").exists()  # refused before any work


def test_config_defaults_are_the_checkpoints_own():
    m = load_config(None, ["model.family=transformer"]).model
    assert m.attention_dropout is None and m.hidden_dropout is None
