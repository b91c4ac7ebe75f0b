"""The ``Tokenizer`` extension point."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol, Self, runtime_checkable

__all__ = ["Tokenizer"]


@runtime_checkable
class Tokenizer(Protocol):
    """Turns text into ids and adds the model's special tokens.

    A tokenizer is built unfitted from keyword arguments; ``fit`` learns its vocabulary from
    training texts only (a no-op for pretrained tokenizers, which are always fitted).
    ``encode`` never adds special tokens and never truncates: truncation happens in between
    (``ftlab.preprocessing.truncate``) and ``build_inputs`` adds specials afterwards, so that
    the length budget is exact.

    Attributes:
        pad_id: id used to pad batches (0 for ftlab's own vocabularies).
        unk_id: id of unknown tokens; also the one-token stand-in for an empty text when the
            tokenizer adds no special tokens.
        vocab_size: number of ids (every id is in ``[0, vocab_size)``).
        is_fitted: whether ``encode`` can be called.
    """

    @property
    def pad_id(self) -> int: ...

    @property
    def unk_id(self) -> int: ...

    @property
    def vocab_size(self) -> int: ...

    @property
    def is_fitted(self) -> bool: ...

    def num_special_tokens(self, pair: bool = False) -> int:
        """Number of tokens ``build_inputs`` adds around one text (``pair=False``) or a pair."""
        ...

    def fit(self, texts: Iterable[str]) -> Self:
        """Learn the vocabulary from training texts; return ``self``."""
        ...

    def tokenize(self, text: str) -> list[str]:
        """Split ``text`` into token strings (no special tokens)."""
        ...

    def encode(self, text: str) -> list[int]:
        """Ids of ``text``: no special tokens, no truncation."""
        ...

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """``[encode(t) for t in texts]``, possibly faster."""
        ...

    def build_inputs(
        self, a: list[int], b: list[int] | None = None
    ) -> tuple[list[int], list[int] | None]:
        """Add special tokens (and a separator between a pair).

        Returns:
            ``(ids, token_type_ids)``; ``token_type_ids`` is ``None`` when the model takes none,
            else a list as long as ``ids``.
        """
        ...

    def save(self, directory: Path) -> None:
        """Write everything ``load`` needs into ``directory`` (created if missing)."""
        ...

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Read a tokenizer written by ``save``, offline, ready to encode."""
        ...
