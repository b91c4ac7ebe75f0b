"""Regex word tokenizer with a vocabulary fitted on training texts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Self

from ftlab.preprocessing._vocab import (
    build_vocab,
    check_vocab_params,
    construct,
    join_pair,
    load_vocab,
    not_fitted_error,
    save_vocab,
)

__all__ = ["WordTokenizer"]

_AN = r"[^\W_]"  # one letter or digit (Unicode-aware)
_CLITIC = r"(?:s|re|ve|ll|d|m)"
# Alternatives are tried in order at each position; the first that matches wins.
_TOKEN = re.compile(
    rf"""
      \d+(?:[.,:]\d+)+                        # numbers with separators: 3.14 1,000 10:30
    | {_AN}+?(?=n't\b)                        # the stem before n't: do|n't ca|n't is|n't
    | n't\b                                   # the negation clitic itself
    | '{_CLITIC}\b                            # clitics: 's 're 've 'll 'd 'm
    | {_AN}+(?:'(?!{_CLITIC}\b|t\b){_AN}+)*   # words; inner apostrophes kept: o'clock
    | \S                                      # anything else, one character a token
    """,
    re.VERBOSE | re.IGNORECASE,
)


class WordTokenizer:
    """Word-level tokenizer: a compiled regex, then dictionary lookups.

    Tokenisation follows the Penn Treebank convention for English clitics, which is how the
    GloVe vocabulary was built: ``"don't"`` -> ``do n't``, ``"can't"`` -> ``ca n't``,
    ``"it's"`` -> ``it 's``, ``"we'll"`` -> ``we 'll``; other inner apostrophes stay inside the
    word (``o'clock``). Numbers keep their separators (``3.14``, ``1,000``); letters and digits
    together form one word (``2nd``, ``mp3``); every other non-space character (punctuation,
    hyphens, quotes, symbols) is a token of its own. The typographic apostrophe (U+2019) is read
    as ``'``. Case is kept: lower-case with :class:`Normalizer` when the vocabulary is uncased.

    The vocabulary comes from the training texts only (``fit``): ``<pad>``=0, ``<unk>``=1,
    ``<sep>``=2, then tokens by decreasing frequency, ties alphabetically (deterministic).

    Args:
        min_freq: keep tokens seen at least this many times in training.
        max_size: keep at most this many regular tokens (specials not counted); None = all.
        use_sep: put ``<sep>`` between the two texts of a joined pair.

    Raises:
        ConfigError: for invalid arguments.
    """

    kind = "word"
    pad_id = 0
    unk_id = 1
    sep_id = 2

    def __init__(
        self, *, min_freq: int = 1, max_size: int | None = None, use_sep: bool = True
    ) -> None:
        check_vocab_params("WordTokenizer", min_freq, max_size, use_sep)
        self.min_freq = min_freq
        self.max_size = max_size
        self.use_sep = use_sep
        self.vocab: list[str] = []  # set by fit: index = id
        self._index: dict[str, int] = {}

    # -- attributes of the Tokenizer protocol ------------------------------------------------
    @property
    def vocab_size(self) -> int:
        """Number of ids, specials included (0 before ``fit``)."""
        return len(self.vocab)

    @property
    def is_fitted(self) -> bool:
        """Whether a vocabulary has been fitted or loaded."""
        return bool(self.vocab)

    def num_special_tokens(self, pair: bool = False) -> int:
        """0 for one text; 1 (``<sep>``) for a pair when ``use_sep``."""
        return int(pair and self.use_sep)

    # -- fitting and encoding ----------------------------------------------------------------
    def fit(self, texts: Iterable[str]) -> Self:
        """Build the vocabulary from training texts (replacing any previous one)."""
        self.vocab = build_vocab(
            (self.tokenize(t) for t in texts), min_freq=self.min_freq, max_size=self.max_size
        )
        self._index = {tok: i for i, tok in enumerate(self.vocab)}
        return self

    def tokenize(self, text: str) -> list[str]:
        """Split ``text`` into words, clitics, numbers and punctuation (see the class doc)."""
        return _TOKEN.findall(text.replace("\u2019", "'"))

    def encode(self, text: str) -> list[int]:
        """Ids of ``text`` (unknown words -> ``unk_id``); no specials, no truncation.

        Raises:
            FtlabError: before ``fit``.
        """
        if not self._index:
            raise not_fitted_error("WordTokenizer")
        get, unk = self._index.get, self.unk_id
        return [get(tok, unk) for tok in self.tokenize(text)]

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """``[encode(t) for t in texts]``."""
        return [self.encode(t) for t in texts]

    def build_inputs(
        self, a: list[int], b: list[int] | None = None
    ) -> tuple[list[int], list[int] | None]:
        """``a`` as is, or ``a <sep> b`` for a pair; segment ids are never produced."""
        return join_pair(a, b, use_sep=self.use_sep, sep_id=self.sep_id)

    # -- persistence -------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        """Write ``ftlab_tokenizer.json`` (settings and vocabulary) into ``directory``.

        Raises:
            FtlabError: before ``fit``.
        """
        if not self.is_fitted:
            raise not_fitted_error("WordTokenizer")
        params = {"min_freq": self.min_freq, "max_size": self.max_size, "use_sep": self.use_sep}
        save_vocab(Path(directory), kind=self.kind, params=params, vocab=self.vocab)

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Read a tokenizer written by :meth:`save`.

        Raises:
            CheckpointError: missing, corrupt or mismatched file.
        """
        params, vocab = load_vocab(Path(directory), kind=cls.kind)
        tok = construct(cls, params, directory)
        tok.vocab = vocab
        tok._index = {t: i for i, t in enumerate(vocab)}
        return tok

    def __repr__(self) -> str:
        return (
            f"WordTokenizer(min_freq={self.min_freq}, max_size={self.max_size}, "
            f"use_sep={self.use_sep}, vocab_size={self.vocab_size})"
        )
