"""Conformance check for a transformer-family model (any architecture, with or without LoRA)."""

from __future__ import annotations

from typing import Any

import torch

from ftlab.core import Batch
from ftlab.testing._models import check_model

__all__ = ["check_transformer"]


def check_transformer(
    model: Any, batch: Batch, *, lr: float = 1e-3, atol: float = 1e-5
) -> None:
    """Check a :class:`~ftlab.models.TransformerClassifier` beyond the generic Model contract.

    Checks: :func:`check_model` (run it after one optimizer step for LoRA models, whose zero
    ``lora_B`` gives ``lora_A`` a zero first gradient); the new head is found, fully trainable
    and in the ``state_dict`` (with LoRA: as PEFT ``modules_to_save`` copies, so it is trained
    and saved); ``optimizer_groups(lr)``, when it returns groups, covers every trainable
    parameter exactly once with a positive rate; and ``merged_hf_model()`` (LoRA merged, as
    exported) gives the same eval-mode logits as the model.

    Args:
        model: the model under test.
        batch: a small batch with valid labels (and segment ids when the tokenizer makes them).
        lr: base learning rate for the param-group check.
        atol: tolerance between the model's and the merged copy's logits.

    Raises:
        AssertionError: the first broken rule, with what was expected and what was seen.
    """
    name = type(model).__name__
    for attr in ("head_names", "optimizer_groups", "merged_hf_model", "core"):
        if not hasattr(model, attr):
            raise AssertionError(f"{name}: not a transformer-family model (no {attr!r}).")
    check_model(model, batch, atol=0.0)
    heads = model.head_names()
    if not heads:
        raise AssertionError(f"{name}: no classification head among the top-level modules.")
    keys = list(model.state_dict())
    for head in heads:
        params = [(n, p) for n, p in model.named_parameters() if f".{head}." in f".{n}"]
        trained = [n for n, p in params if p.requires_grad]
        if not trained:
            raise AssertionError(
                f"{name}: head {head!r} has no trainable parameter; with LoRA it must be in "
                f"modules_to_save, else it stays at its random init. Its parameters: "
                f"{[n for n, _ in params]}"
            )
        if not all(n in keys for n in trained):
            raise AssertionError(f"{name}: trainable head parameters {trained} are not all saved "
                                 f"in the state_dict.")
    groups = model.optimizer_groups(lr)
    if groups is not None:
        seen = [id(p) for g in groups for _, p in g["params"]]
        trainable = {id(p) for p in model.parameters() if p.requires_grad}
        if len(seen) != len(set(seen)) or set(seen) != trainable:
            raise AssertionError(
                f"{name}: optimizer_groups covers {len(set(seen))} parameters ({len(seen)} "
                f"entries), expected each of the {len(trainable)} trainable ones once."
            )
        if not all(g["lr"] > 0 for g in groups):
            rates = [g["lr"] for g in groups]
            raise AssertionError(f"{name}: non-positive learning rate in {rates}")
    was_training = model.training
    model.eval()
    try:
        merged = model.merged_hf_model()
        inputs = {"input_ids": batch.ids, "attention_mask": batch.mask}
        if getattr(model, "uses_token_type_ids", False) and batch.token_type_ids is not None:
            inputs["token_type_ids"] = batch.token_type_ids
        with torch.no_grad():
            ours, theirs = model(batch), merged(**inputs).logits
    finally:
        model.train(was_training)
    if not torch.allclose(ours, theirs, atol=atol, rtol=1e-4):
        raise AssertionError(
            f"{name}: the merged (exported) model differs from the model by up to "
            f"{float((ours - theirs).abs().max())}."
        )
    if any("lora_" in n for n, _ in merged.named_parameters()):
        raise AssertionError(f"{name}: merged_hf_model() still holds LoRA parameters.")
