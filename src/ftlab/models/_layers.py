"""Building blocks shared by the built-in models: embeddings, masked pooling, pair combination."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from ftlab.core import Batch
from ftlab.errors import ConfigError, DataError
from ftlab.models._validate import check_choice, check_positive_int

__all__ = [
    "Pooling", "PairCombine", "make_embedding", "masked_pool", "combine_pair", "pair_width",
    "check_pairs", "check_pair_combine", "choice_inputs", "choice_outputs",
]

Pooling = Literal["mean", "sum", "max"]
PairCombine = Literal["concat", "concat_diff_prod"]
PAIR_COMBINES = ("concat", "concat_diff_prod")


def make_embedding(
    vocab_size: int,
    embed_dim: int | None,
    pad_id: int,
    embeddings: torch.Tensor | None,
    freeze: bool,
) -> nn.Embedding:
    """Build the token embedding, optionally from pretrained vectors (vocab_size, dim).

    ``embed_dim=None`` takes the width of ``embeddings`` (64 without them).
    """
    check_positive_int("vocab_size", vocab_size)
    if isinstance(pad_id, bool) or not isinstance(pad_id, int) or not 0 <= pad_id < vocab_size:
        raise ConfigError(
            f"pad_id: must index the vocabulary [0, {vocab_size}), got {pad_id!r}. Pass the "
            "tokenizer's pad id."
        )
    if embeddings is not None:
        if not isinstance(embeddings, torch.Tensor) or embeddings.dim() != 2:
            raise ConfigError(
                "embeddings: expected a 2-D float tensor (vocab_size, embed_dim), got "
                f"{getattr(embeddings, 'shape', type(embeddings).__name__)}."
            )
        rows, width = embeddings.shape
        if rows != vocab_size or (embed_dim is not None and width != embed_dim):
            raise ConfigError(
                f"embeddings: shape {tuple(embeddings.shape)} does not match vocab_size="
                f"{vocab_size}, embed_dim={embed_dim}. Build the vectors from the same "
                "vocabulary (e.g. ftlab.models.load_glove(vocab)) and leave embed_dim unset."
            )
        embed_dim = width
    embed_dim = check_positive_int("embed_dim", 64 if embed_dim is None else embed_dim)
    emb = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)
    if embeddings is not None:
        with torch.no_grad():
            emb.weight.copy_(embeddings.detach().to(emb.weight.dtype))
    emb.weight.requires_grad_(not freeze)
    return emb


def masked_pool(x: torch.Tensor, mask: torch.Tensor, how: str) -> torch.Tensor:
    """Pool (B, T, D) over time, ignoring positions where ``mask`` (B, T) is 0.

    ``mean`` divides by the real length, ``sum`` adds real positions only, ``max`` never picks a
    padded position. Rows without any real token give zeros.
    """
    m = mask[:, : x.shape[1]].to(dtype=torch.bool).unsqueeze(-1)  # (B, T, 1)
    if how == "max":
        filled = x.masked_fill(~m, float("-inf"))
        pooled = filled.max(dim=1).values  # (B, D)
        return torch.where(torch.isinf(pooled) & (pooled < 0), torch.zeros_like(pooled), pooled)
    summed = (x * m.to(x.dtype)).sum(dim=1)  # (B, D)
    if how == "sum":
        return summed
    counts = m.sum(dim=1).clamp(min=1).to(x.dtype)  # (B, 1)
    return summed / counts


def pair_width(dim: int, combine: str) -> int:
    """Width of the combined pair features for sentence vectors of width ``dim``."""
    return 2 * dim if combine == "concat" else 4 * dim


def combine_pair(u: torch.Tensor, v: torch.Tensor, combine: str) -> torch.Tensor:
    """Combine sentence vectors (B, D): ``[u; v]`` or ``[u; v; |u - v|; u * v]``."""
    if combine == "concat":
        return torch.cat([u, v], dim=1)  # (B, 2D)
    return torch.cat([u, v, (u - v).abs(), u * v], dim=1)  # (B, 4D)


def check_pairs(
    model: str, batch: Batch, text_pairs: bool
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Return ``(pair_ids, pair_mask)`` or ``None``; raise when they disagree with the model."""
    has_pairs = batch.pair_ids is not None
    if has_pairs and batch.pair_mask is None:
        raise DataError(f"{model}: the batch has pair_ids but no pair_mask; collate both.")
    if has_pairs and not text_pairs:
        raise ConfigError(
            f"{model}: the batch holds separately encoded text pairs (pair_ids) but the model "
            "was built with text_pairs=False, so its head expects one text. Build it with "
            "text_pairs=True."
        )
    if text_pairs and not has_pairs:
        raise ConfigError(
            f"{model}: the model was built with text_pairs=True but the batch has no pair_ids. "
            "Encode pairs separately (pair_mode='separate') or build with text_pairs=False."
        )
    if batch.pair_ids is None or batch.pair_mask is None:
        return None
    return batch.pair_ids, batch.pair_mask


def check_pair_combine(combine: str) -> str:
    """Validate ``pair_combine``."""
    return check_choice("pair_combine", combine, PAIR_COMBINES)


def choice_outputs(num_classes: int, binary_mode: str, multiple_choice: bool) -> int:
    """Width of the scorer of a multiple-choice model (one score per choice), else 0.

    Raises:
        ConfigError: ``binary_mode="sigmoid"`` with multiple choice (choices compete in a softmax).
    """
    if not multiple_choice:
        return 0
    if binary_mode != "softmax":
        raise ConfigError("multiple choice scores every choice and takes a softmax over them; "
                          "set model.binary_mode: softmax.")
    return 1


def choice_inputs(
    model: str, batch: Batch, multiple_choice: bool
) -> tuple[torch.Tensor, torch.Tensor, int] | None:
    """``(ids, mask, N)`` flattened to (B*N, T) for a multiple-choice model, else ``None``.

    Raises:
        ConfigError: the batch and the model disagree on being multiple choice.
    """
    n = batch.num_choices
    if n is not None and not multiple_choice:
        raise ConfigError(f"{model}: the batch holds multiple-choice items (B, N, T) but the "
                          "model was built without multiple_choice=True.")
    if n is None and multiple_choice:
        raise ConfigError(f"{model}: the model was built with multiple_choice=True but the "
                          "batch holds plain texts; encode the data with its choices.")
    if n is None:
        return None
    width = batch.ids.shape[-1]
    return batch.ids.reshape(-1, width), batch.mask.reshape(-1, width), n
