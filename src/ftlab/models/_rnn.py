"""Recurrent classifier: embedding -> packed LSTM/GRU -> pooling -> feed-forward head."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ftlab.core import Batch
from ftlab.errors import ConfigError, DataError
from ftlab.models._head import Activation, MLPHead, Norm
from ftlab.models._layers import (
    PairCombine,
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
from ftlab.models._validate import check_choice, check_dropout, check_positive_int

__all__ = ["RNNClassifier"]

Cell = Literal["lstm", "gru"]
RNNPooling = Literal["last", "mean", "max"]


class RNNClassifier(nn.Module):
    """LSTM or GRU over packed sequences, pooled to a sentence vector, then an :class:`MLPHead`.

    Sequences are packed with their real lengths (taken from ``mask``, right padding assumed), so
    padding never enters the recurrence: the same text gives the same logits however much it
    is padded. ``pooling="last"`` concatenates the final hidden state of each direction of the
    top layer; ``"mean"`` / ``"max"`` pool the top layer's outputs over real positions only.
    Pairs (``text_pairs=True``) share the encoder and are combined as in
    :class:`BagOfEmbeddings`.

    Args:
        vocab_size: number of token ids.
        num_classes: number of classes (>= 2).
        pad_id: the padding token id.
        embed_dim: embedding width; ``None`` takes it from ``embeddings`` (else 64).
        hidden_size: hidden units per direction.
        cell: ``"lstm"`` or ``"gru"``.
        num_layers: stacked recurrent layers.
        bidirectional: run a second, backward direction.
        dropout: dropout between recurrent layers and on the sentence vector before the head.
        pooling: ``"last"``, ``"mean"`` or ``"max"``.
        binary_mode: ``"softmax"`` (C logits) or ``"sigmoid"`` (one logit, binary only).
        hidden_dims, activation, norm, residual: the head (see :class:`MLPHead`).
        head_dropout: dropout inside the head's hidden layers.
        embeddings: pretrained vectors (vocab_size, embed_dim) to start from.
        freeze_embeddings: keep the embedding table fixed during training.
        text_pairs: the model reads separately encoded text pairs.
        multiple_choice: the model scores each joined ``(context, choice)`` sequence of a
            (B, N, T) batch with the shared encoder and a one-output head, and returns the N
            scores as logits (B, N): a softmax over the choices (``num_classes`` = N).
        pair_combine: ``"concat"`` or ``"concat_diff_prod"``.

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
        hidden_size: int = 64,
        cell: Cell = "lstm",
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        pooling: RNNPooling = "last",
        binary_mode: BinaryMode = "softmax",
        hidden_dims: Sequence[int] = (),
        activation: Activation = "relu",
        norm: Norm = "none",
        residual: bool = False,
        head_dropout: float = 0.0,
        embeddings: torch.Tensor | None = None,
        freeze_embeddings: bool = False,
        text_pairs: bool = False,
        pair_combine: PairCombine = "concat",
        multiple_choice: bool = False,
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.num_outputs = num_outputs(num_classes, binary_mode)
        self.pooling = check_choice("pooling", pooling, ("last", "mean", "max"))
        self.cell = check_choice("cell", cell, ("lstm", "gru"))
        self.text_pairs = bool(text_pairs)
        self.multiple_choice = bool(multiple_choice)
        score_width = choice_outputs(num_classes, binary_mode, self.multiple_choice)
        if self.multiple_choice and self.text_pairs:
            raise ConfigError(f"{type(self).__name__}: multiple choice reads each (context, "
                              "choice) as one joined sequence; build it with text_pairs=False.")
        self.pair_combine = check_pair_combine(pair_combine)
        check_positive_int("hidden_size", hidden_size)
        check_positive_int("num_layers", num_layers)
        dropout = check_dropout("dropout", dropout)
        self.embedding = make_embedding(
            vocab_size, embed_dim, pad_id, embeddings, freeze_embeddings
        )
        rnn_cls = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn_cls(
            self.embedding.embedding_dim,
            hidden_size,
            num_layers=num_layers,
            bidirectional=bool(bidirectional),
            batch_first=True,
            # torch applies this between layers only (and warns when there is one layer).
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(dropout)
        dim = hidden_size * (2 if bidirectional else 1)
        in_dim = pair_width(dim, self.pair_combine) if self.text_pairs else dim
        self.head = MLPHead(
            in_dim,
            score_width or self.num_outputs,
            hidden_dims=hidden_dims,
            activation=activation,
            dropout=head_dropout,
            norm=norm,
            residual=residual,
        )

    def encode(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Sentence vectors (B, D) from right-padded token ids (B, T) and mask (B, T)."""
        lengths = mask.sum(dim=1).to("cpu", torch.int64)  # pack needs CPU lengths
        if bool((lengths < 1).any()):
            bad = (lengths < 1).nonzero().flatten().tolist()[:5]
            raise DataError(
                f"RNNClassifier: rows {bad} of the batch have no real tokens (mask all 0); "
                "every example needs at least one token. Drop empty texts in preprocessing."
            )
        x = self.embedding(ids)  # (B, T, E)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, hidden = self.rnn(packed)
        if self.pooling == "last":
            h_n = hidden[0] if isinstance(hidden, tuple) else hidden  # LSTM gives (h_n, c_n)
            dirs = 2 if self.rnn.bidirectional else 1
            # (layers*dirs, B, H) -> top layer (dirs, B, H) -> (B, dirs*H); h_n is in batch order.
            top = h_n.view(self.rnn.num_layers, dirs, h_n.shape[1], h_n.shape[2])[-1]
            return top.transpose(0, 1).reshape(h_n.shape[1], dirs * h_n.shape[2])
        padded, _ = pad_packed_sequence(out, batch_first=True, total_length=ids.shape[1])
        return masked_pool(padded, mask, self.pooling)  # (B, dirs*H)

    def forward(self, batch: Batch) -> torch.Tensor:
        """Logits (B, num_outputs) for ``batch``."""
        mc = choice_inputs("RNNClassifier", batch, self.multiple_choice)
        if mc is not None:
            ids, mask, n = mc  # (B*N, T)
            return self.head(self.drop(self.encode(ids, mask))).view(-1, n)  # (B, N)
        pair = check_pairs("RNNClassifier", batch, self.text_pairs)
        u = self.encode(batch.ids, batch.mask)  # (B, D)
        if pair is not None:
            u = combine_pair(u, self.encode(*pair), self.pair_combine)
        return self.head(self.drop(u))
