"""Conformance check for the Model extension point (run over every registered family)."""

from __future__ import annotations

import copy
import tempfile
from dataclasses import fields
from pathlib import Path

import torch
from torch import nn

from ftlab.core import Batch
from ftlab.models import classification_loss, probabilities

__all__ = ["check_model"]


def _snapshot(batch: Batch) -> dict[str, torch.Tensor]:
    return {
        f.name: v.detach().clone()
        for f in fields(batch)
        for v in [getattr(batch, f.name)]
        if isinstance(v, torch.Tensor)
    }


def _check_unchanged(name: str, before: dict[str, torch.Tensor], batch: Batch, when: str) -> None:
    after = _snapshot(batch)
    for key, value in before.items():
        if key not in after or not torch.equal(value, after[key]):
            raise AssertionError(f"{name}: {when} mutated batch.{key}; models must not write to "
                                 "their input (clone before modifying).")


def _forward_eval(model: nn.Module, batch: Batch) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        return model(batch)


def check_model(model: nn.Module, batch: Batch, *, atol: float = 0.0) -> None:
    """Check that ``model`` honours the Model contract on ``batch``.

    Checks: integer ``num_classes`` / ``num_outputs`` attributes (``num_outputs`` is
    ``num_classes``, or 1 for a binary sigmoid model); logits of shape (B, num_outputs), finite;
    identical outputs for two eval-mode calls; the batch's tensors unchanged; the state_dict
    survives a safetensors ``save_file`` / ``load_file`` round trip into a perturbed copy with
    identical outputs; after ``backward`` of the classification loss every trainable parameter
    has a finite, non-zero gradient and every frozen one has none. The model's train/eval mode
    is restored and its gradients cleared afterwards.

    Args:
        model: the model under test.
        batch: a small batch with valid labels (in ``[0, num_classes)``) and, for pair models,
            pair tensors.
        atol: tolerance for the determinism and round-trip comparisons (0 = bitwise).

    Raises:
        AssertionError: the first broken rule, with what was expected and what was seen.
    """
    from safetensors.torch import load_file, save_file  # lazy: keeps `import ftlab` light

    name = type(model).__name__
    was_training = model.training
    num_classes = getattr(model, "num_classes", None)
    n_out = getattr(model, "num_outputs", None)
    if not isinstance(num_classes, int) or not isinstance(n_out, int):
        raise AssertionError(
            f"{name}: needs integer num_classes and num_outputs attributes, got "
            f"{num_classes!r} and {n_out!r}."
        )
    if n_out not in (num_classes, 1) or (n_out == 1 and num_classes != 2):
        raise AssertionError(
            f"{name}: num_outputs={n_out} fits neither softmax ({num_classes}) nor binary sigmoid "
            f"(1 with 2 classes)."
        )
    before = _snapshot(batch)
    try:
        logits = _forward_eval(model, batch)
        expected = (len(batch), n_out)
        if tuple(logits.shape) != expected:
            raise AssertionError(
                f"{name}: logits shape {tuple(logits.shape)}, expected {expected}."
            )
        if not bool(torch.isfinite(logits).all()):
            raise AssertionError(f"{name}: non-finite logits in eval mode: {logits}.")
        _check_unchanged(name, before, batch, "the eval-mode forward")
        probs = probabilities(logits)
        if not torch.allclose(probs.sum(dim=1), torch.ones(len(batch)), atol=1e-5):
            raise AssertionError(f"{name}: probabilities do not sum to 1 per row: {probs}.")
        again = _forward_eval(model, batch)
        if not torch.allclose(logits, again, atol=atol, rtol=0.0):
            raise AssertionError(
                f"{name}: not deterministic in eval mode; max difference between two calls on "
                f"the same batch is {float((logits - again).abs().max())}."
            )

        # safetensors round trip into a perturbed copy: loading must restore every output.
        state = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
        other = copy.deepcopy(model)
        with torch.no_grad():
            for p in other.parameters():
                p.add_(torch.randn_like(p) * 0.5 + 0.1)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.safetensors"
            save_file(state, str(path))
            loaded = load_file(str(path))
        missing, unexpected = other.load_state_dict(loaded, strict=False)
        if missing or unexpected:
            raise AssertionError(
                f"{name}: safetensors round trip lost keys {missing} / gained {unexpected}."
            )
        restored = _forward_eval(other, batch)
        if not torch.allclose(logits, restored, atol=atol, rtol=0.0):
            raise AssertionError(
                f"{name}: outputs differ after a safetensors state_dict round trip (max diff "
                f"{float((logits - restored).abs().max())}); some state is not in state_dict."
            )

        # Gradients reach every trainable parameter, and frozen ones stay frozen.
        model.train()
        model.zero_grad(set_to_none=True)
        loss = classification_loss(model(batch), batch.labels, reduction="mean")
        loss.backward()
        for pname, p in model.named_parameters():
            if not p.requires_grad:
                if p.grad is not None:
                    raise AssertionError(f"{name}: frozen parameter {pname!r} received a gradient.")
                continue
            if p.grad is None:
                raise AssertionError(
                    f"{name}: trainable parameter {pname!r} got no gradient; it is not used in "
                    "forward (remove it or freeze it)."
                )
            if not bool(torch.isfinite(p.grad).all()):
                raise AssertionError(f"{name}: non-finite gradient for {pname!r}.")
            if not bool((p.grad != 0).any()):
                raise AssertionError(f"{name}: gradient of {pname!r} is all zeros.")
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)

    _check_unchanged(name, before, batch, "the train-mode forward/backward")
