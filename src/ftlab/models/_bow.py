"""Bag-of-embeddings classifier: embed, pool over real tokens, feed-forward head."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ftlab.core import Batch
from ftlab.errors import ConfigError
from ftlab.models._head import Activation, MLPHead, Norm
from ftlab.models._layers import (
    PairCombine,
    Pooling,
    check_pair_combine,
    check_pairs,
    choice_inputs,
    choice_outputs,
    combine_pair,
    make_embedding,
    masked_pool,
    pair_width,
)
from ftlab.models._output import BinaryMode, num_outputs
from ftlab.models._validate import check_choice

__all__ = ["BagOfEmbeddings"]


class BagOfEmbeddings(nn.Module):
    """Mean / sum / max of token embeddings (padding never counts), then an :class:`MLPHead`.

    With ``text_pairs=True`` both texts of a pair (``batch.ids`` and ``batch.pair_ids``) go
    through the same embedding and pooling, and the two sentence vectors u, v are combined as
    ``[u; v]`` (``pair_combine="concat"``) or ``[u; v; |u - v|; u * v]`` (``"concat_diff_prod"``).

    Args:
        vocab_size: number of token ids.
        num_classes: number of classes (>= 2).
        pad_id: the padding token id (its embedding row gets no gradient).
        embed_dim: embedding width; ``None`` takes it from ``embeddings`` (else 64).
        pooling: ``"mean"``, ``"sum"`` or ``"max"`` over real tokens.
        binary_mode: ``"softmax"`` (C logits) or ``"sigmoid"`` (one logit, binary only).
        hidden_dims, activation, dropout, norm, residual: the head (see :class:`MLPHead`).
        embeddings: pretrained vectors (vocab_size, embed_dim) to start from.
        freeze_embeddings: keep the embedding table fixed during training.
        text_pairs: the model reads separately encoded text pairs.
        multiple_choice: the model scores each joined ``(context, choice)`` sequence of a
            (B, N, T) batch with the shared encoder and a one-output head, and returns the N
            scores as logits (B, N): a softmax over the choices (``num_classes`` = N).
        pair_combine: how to combine the two sentence vectors of a pair.

    Raises:
        ConfigError: an invalid argument (the message names it and the fix).
    """

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        *,
        pad_id: int = 0,
        embed_dim: int | None = None,
        pooling: Pooling = "mean",
        binary_mode: BinaryMode = "softmax",
        hidden_dims: Sequence[int] = (),
        activation: Activation = "relu",
        dropout: float = 0.0,
        norm: Norm = "none",
        residual: bool = False,
        embeddings: torch.Tensor | None = None,
        freeze_embeddings: bool = False,
        text_pairs: bool = False,
        pair_combine: PairCombine = "concat",
        multiple_choice: bool = False,
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.num_outputs = num_outputs(num_classes, binary_mode)
        self.pooling = check_choice("pooling", pooling, ("mean", "sum", "max"))
        self.text_pairs = bool(text_pairs)
        self.multiple_choice = bool(multiple_choice)
        score_width = choice_outputs(num_classes, binary_mode, self.multiple_choice)
        if self.multiple_choice and self.text_pairs:
            raise ConfigError(f"{type(self).__name__}: multiple choice reads each (context, "
                              "choice) as one joined sequence; build it with text_pairs=False.")
        self.pair_combine = check_pair_combine(pair_combine)
        self.embedding = make_embedding(
            vocab_size, embed_dim, pad_id, embeddings, freeze_embeddings
        )
        dim = self.embedding.embedding_dim
        in_dim = pair_width(dim, self.pair_combine) if self.text_pairs else dim
        self.head = MLPHead(
            in_dim,
            score_width or self.num_outputs,
            hidden_dims=hidden_dims,
            activation=activation,
            dropout=dropout,
            norm=norm,
            residual=residual,
        )

    def encode(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Sentence vectors (B, D) from token ids (B, T) and mask (B, T)."""
        return masked_pool(self.embedding(ids), mask, self.pooling)

    def forward(self, batch: Batch) -> torch.Tensor:
        """Logits (B, num_outputs) for ``batch``."""
        mc = choice_inputs("BagOfEmbeddings", batch, self.multiple_choice)
        if mc is not None:
            ids, mask, n = mc  # (B*N, T)
            return self.head(self.encode(ids, mask)).view(-1, n)  # (B*N, 1) -> (B, N)
        pair = check_pairs("BagOfEmbeddings", batch, self.text_pairs)
        u = self.encode(batch.ids, batch.mask)  # (B, D)
        if pair is not None:
            v = self.encode(*pair)  # (B, D)
            u = combine_pair(u, v, self.pair_combine)
        return self.head(u)
