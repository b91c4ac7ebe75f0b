"""Multiple-choice models: bow/rnn score each (context, choice) with a shared encoder and a
one-output scorer; the transformer family goes through AutoModelForMultipleChoice (also with
LoRA), on a tiny random BERT built offline; a whole run trains it on the built-in task."""

from __future__ import annotations

import pytest
import torch

from ftlab.batching import collate
from ftlab.core import Batch, Encoded
from ftlab.errors import ConfigError
from ftlab.models import build_model, classification_loss

from ._tiny_transformers import tiny_model_dir

VOCAB = 30522


def _choice_batch(b: int = 3, n: int = 4, vocab: int = 40, seed: int = 0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    items = []
    for i in range(b):
        seqs = [[101, *torch.randint(2000, 2000 + vocab, (int(k),), generator=g).tolist(), 102]
                for k in torch.randint(1, 6, (n,), generator=g)]
        items.append(Encoded(index=i, ids=[101, 102], label=i % n, choices=seqs,
                             choice_token_type_ids=[[0] * len(s) for s in seqs]))
    return collate(items, pad_id=0)


@pytest.mark.parametrize("family", ["bow", "rnn"])
def test_small_families_score_each_choice_with_one_shared_encoder(family: str) -> None:
    torch.manual_seed(0)
    model = build_model(family, vocab_size=VOCAB, pad_id=0, num_classes=4, embed_dim=8,
                        multiple_choice=True)
    batch = _choice_batch()
    model.eval()
    logits = model(batch)
    assert logits.shape == (3, 4)
    # a choice's score depends on that (context, choice) sequence only: swapping two choices
    # swaps their scores
    swapped = Batch(ids=batch.ids[:, [1, 0, 2, 3]], mask=batch.mask[:, [1, 0, 2, 3]],
                    lengths=batch.lengths[:, [1, 0, 2, 3]], labels=batch.labels,
                    index=batch.index)
    assert torch.allclose(model(swapped), logits[:, [1, 0, 2, 3]], atol=1e-6)
    with pytest.raises(ConfigError, match="multiple_choice"):
        build_model(family, vocab_size=VOCAB, pad_id=0, num_classes=4, embed_dim=8)(batch)
    with pytest.raises(ConfigError, match="softmax"):
        build_model(family, vocab_size=VOCAB, pad_id=0, num_classes=2, embed_dim=8,
                    multiple_choice=True, binary_mode="sigmoid")


@pytest.mark.parametrize("lora", [None, {"r": 2, "alpha": 4.0}], ids=["full", "lora"])
def test_transformer_multiple_choice_head_learns(lora: dict | None) -> None:
    torch.manual_seed(0)
    model = build_model("transformer", vocab_size=VOCAB, pad_id=0, num_classes=4,
                        name=str(tiny_model_dir("bert")), multiple_choice=True, lora=lora)
    assert type(model.core).__name__ == "BertForMultipleChoice"
    assert model.core.classifier.out_features == 1  # one score per (context, choice)
    batch = _choice_batch()
    model.eval()
    logits = model(batch)
    assert logits.shape == (3, 4) and torch.isfinite(logits).all()
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    if lora:
        assert all("lora" in n or "classifier" in n
                   for n, p in model.named_parameters() if p.requires_grad)
    opt = torch.optim.AdamW(params, lr=3e-2)
    losses = []
    for _ in range(8):  # the head (and adapters) learn: the loss on one batch drops
        loss = classification_loss(model(batch), batch.labels, reduction="mean")
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    if lora:  # the adapters start at zero (lora_B): only check that training moves the loss
        assert min(losses[1:]) < losses[0], losses
    else:
        assert losses[-1] < 0.8 * losses[0], losses
    with pytest.raises(ConfigError, match="multiple-choice items"):
        build_model("transformer", vocab_size=VOCAB, pad_id=0, num_classes=4,
                    name=str(tiny_model_dir("bert")))(batch)


def test_a_transformer_run_on_the_builtin_task(tmp_path) -> None:
    from ftlab.config import parse_config
    from ftlab.runs import build_run

    config = parse_config({
        "data": {"source": "builtin:category_choice", "options": {"size": 24}},
        "model": {"family": "transformer", "name": str(tiny_model_dir("bert"))},
        "preprocess": {"max_length": 16}, "train": {"epochs": 1},
        "batching": {"batch_size": 4}, "output_dir": str(tmp_path)})
    parts = build_run(config, torch.device("cpu"))
    assert parts.encoder.num_choices == 4 and parts.num_classes == 4
    batch = next(iter(parts.train_loader))
    assert batch.ids.shape[:2] == (4, 4) and batch.token_type_ids is not None
    logits = parts.model(batch)
    assert logits.shape == (4, 4)
    # each (context, choice) sequence is [CLS] context [SEP] choice [SEP], segment ids 0 then 1
    ids, types = batch.ids[0, 0], batch.token_type_ids[0, 0]
    n = int(batch.lengths[0, 0])
    assert ids[0] == 101 and ids[n - 1] == 102 and types[n - 1] == 1 and types[1] == 0
