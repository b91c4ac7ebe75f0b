"""The ``transformer`` model section of the run config: implied tokenizer, checks, messages."""

from __future__ import annotations

import pytest
import yaml

from ftlab.config import TransformerConfig, dump_config, load_config, parse_config
from ftlab.errors import ConfigError


def test_the_model_implies_its_own_tokenizer_and_casing():
    cfg = load_config(None, ["model.family=transformer", "model.name=distilbert-base-uncased"])
    assert isinstance(cfg.model, TransformerConfig)
    tok = cfg.preprocess.tokenizer
    assert (tok.kind, tok.name) == ("pretrained", "distilbert-base-uncased")
    assert cfg.preprocess.lowercase is False  # the pretrained tokenizer handles casing
    # the resolved config names what ran, and reads back to the same config
    again = parse_config(yaml.safe_load(dump_config(cfg)))
    assert again == cfg and again.preprocess.tokenizer.name == "distilbert-base-uncased"


def test_explicit_choices_are_kept():
    cfg = load_config(None, ["model.family=transformer", "preprocess.tokenizer.kind=pretrained",
                             "preprocess.tokenizer.name=/local/tok", "preprocess.lowercase=true"])
    assert cfg.preprocess.tokenizer.name == "/local/tok" and cfg.preprocess.lowercase is True
    assert load_config(None, ["model.family=transformer"]).model.name == "minilm"
    # other families are untouched
    assert load_config(None, ["model.family=rnn"]).preprocess.tokenizer.kind == "word"


def test_an_own_vocabulary_or_separate_pairs_are_refused():
    with pytest.raises(ConfigError, match="needs its own tokenizer.*kind 'word'"):
        load_config(None, ["model.family=transformer", "preprocess.tokenizer.kind=word"])
    with pytest.raises(ConfigError, match="pair_mode: joined"):
        load_config(None, ["model.family=transformer", "preprocess.pair_mode=separate"])


def test_typos_and_bad_values_are_all_reported():
    with pytest.raises(ConfigError) as info:
        load_config(None, ["model.family=transformer", "model.layer_dekay=0.9",
                           "model.lora={r: 0, alpah: 2}", "model.head_lr=-1"])
    msg = str(info.value)
    assert "4 problem(s)" in msg
    assert "model.layer_dekay: unknown key; did you mean 'layer_decay'?" in msg
    assert "model.lora.alpah: unknown key; did you mean 'alpha'?" in msg
    assert "model.lora.r" in msg and "model.head_lr" in msg


def test_family_agnostic_summary_fields():
    m = load_config(None, ["model.family=transformer", "model.classifier_dropout=0.2"]).model
    assert m.dropout == 0.2 and m.embeddings == "pretrained" and m.init == "default"
    # load_run_model copies the model section with embeddings='random': harmless here
    assert m.model_copy(update={"embeddings": "random"}).embeddings == "pretrained"


@pytest.mark.parametrize("name", ["sst2-minilm", "sst2-minilm-lora", "imdb-distilbert"])
def test_shipped_transformer_configs(name):
    from pathlib import Path

    cfg = load_config(Path(__file__).resolve().parents[2] / "configs" / f"{name}.yaml")
    assert cfg.model.family == "transformer"
    assert cfg.train.lr == (5e-4 if "lora" in name else 5e-5)
    assert cfg.train.schedule == "linear" and cfg.train.warmup > 0
    assert (cfg.model.lora is not None) == ("lora" in name)
    if name == "imdb-distilbert":
        assert cfg.data.source == "hf:imdb" and cfg.preprocess.max_length == 512
        assert cfg.preprocess.truncation == "head_tail"
    else:
        assert cfg.model.name == "minilm" and cfg.preprocess.max_length == 128
        assert cfg.batching.batch_size == 32 and cfg.train.warmup == 0.06
