"""Vocabulary building and storage shared by ftlab's own tokenizers (word, char)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Self, TypeVar

from ftlab.errors import CheckpointError, ConfigError, FtlabError
from ftlab.preprocessing._jsonio import read_json, write_json

__all__ = [
    "PAD",
    "UNK",
    "SEP",
    "SPECIALS",
    "FILE_NAME",
    "build_vocab",
    "check_vocab_params",
    "construct",
    "join_pair",
    "not_fitted_error",
    "save_vocab",
    "load_vocab",
]

PAD, UNK, SEP = "<pad>", "<unk>", "<sep>"
# Fixed ids 0, 1, 2 whatever the data: padding is 0 so that zero-initialised buffers are padding.
SPECIALS = (PAD, UNK, SEP)
FILE_NAME = "ftlab_tokenizer.json"
_FORMAT_VERSION = 1
_T = TypeVar("_T")


def check_vocab_params(owner: str, min_freq: Any, max_size: Any, use_sep: Any) -> None:
    """Validate the constructor arguments shared by the vocabulary tokenizers.

    Raises:
        ConfigError: naming the argument, the value received and the valid range.
    """
    if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
        raise ConfigError(f"{owner}(min_freq=...) must be an int >= 1, got {min_freq!r}")
    if max_size is not None and (
        isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 0
    ):
        raise ConfigError(
            f"{owner}(max_size=...) must be None (no limit) or an int >= 0 counting regular "
            f"tokens (the 3 special tokens come on top), got {max_size!r}"
        )
    if not isinstance(use_sep, bool):
        raise ConfigError(f"{owner}(use_sep=...) must be a bool, got {use_sep!r}")


def build_vocab(
    token_lists: Iterable[list[str]], *, min_freq: int, max_size: int | None
) -> list[str]:
    """Specials, then tokens seen ``>= min_freq`` times, by frequency then alphabetically.

    The order depends only on the multiset of training tokens, so two fits on the same texts
    (in any order) give the same ids.
    """
    counts: Counter[str] = Counter()
    for tokens in token_lists:
        counts.update(tokens)
    for special in SPECIALS:
        counts.pop(special, None)
    items = sorted(
        ((tok, n) for tok, n in counts.items() if n >= min_freq), key=lambda tn: (-tn[1], tn[0])
    )
    if counts and not items:
        top, n = counts.most_common(1)[0]
        raise ConfigError(
            f"tokenizer min_freq={min_freq} keeps none of the {len(counts)} distinct training "
            f"tokens (the most frequent, {top!r}, occurs {n} times): the model would see only "
            f"unknown tokens; lower preprocess.tokenizer.min_freq (e.g. to 1 or 2)")
    if max_size is not None:
        items = items[:max_size]
    return [*SPECIALS, *(tok for tok, _ in items)]


def join_pair(
    a: list[int], b: list[int] | None, *, use_sep: bool, sep_id: int
) -> tuple[list[int], None]:
    """``a`` alone, or ``a <sep> b`` (``a b`` without ``use_sep``); no segment ids."""
    if b is None:
        return list(a), None
    return [*a, sep_id, *b] if use_sep else [*a, *b], None


def not_fitted_error(owner: str) -> FtlabError:
    """The error for encoding with a vocabulary that was never fitted."""
    return FtlabError(
        f"{owner} has no vocabulary yet: call fit(train_texts) first (or load() a saved one); "
        "fit on training texts only, never on validation or test"
    )


def save_vocab(directory: Path, *, kind: str, params: dict[str, Any], vocab: list[str]) -> None:
    """Write ``ftlab_tokenizer.json`` (kind, constructor params, vocabulary) into ``directory``."""
    write_json(
        Path(directory) / FILE_NAME,
        {"format_version": _FORMAT_VERSION, "kind": kind, "params": params, "vocab": vocab},
    )


def load_vocab(directory: Path, *, kind: str) -> tuple[dict[str, Any], list[str]]:
    """Read what :func:`save_vocab` wrote and check it.

    Returns:
        ``(params, vocab)``.

    Raises:
        CheckpointError: missing/corrupt file, another tokenizer kind, or a malformed vocabulary.
    """
    path = Path(directory) / FILE_NAME
    data = read_json(path, what="tokenizer")
    if data.get("kind") != kind:
        raise CheckpointError(
            f"{path} holds a {data.get('kind')!r} tokenizer, not {kind!r}; load it with the "
            "matching class or ftlab.preprocessing.TOKENIZERS[kind].load(directory)"
        )
    params, vocab = data.get("params"), data.get("vocab")
    if not isinstance(params, dict) or not isinstance(vocab, list):
        raise CheckpointError(f"{path} lacks 'params' (object) or 'vocab' (list); save it again")
    if tuple(vocab[: len(SPECIALS)]) != SPECIALS or not all(isinstance(t, str) for t in vocab):
        raise CheckpointError(
            f"{path}: the vocabulary must be strings starting with {list(SPECIALS)}, got "
            f"{vocab[:3]!r}...; the file is corrupted, save the tokenizer again"
        )
    if len(set(vocab)) != len(vocab):
        dupes = sorted({t for t, n in Counter(vocab).items() if n > 1})[:5]
        raise CheckpointError(f"{path}: duplicate vocabulary entries {dupes}; save it again")
    return params, vocab


def construct(cls: type[_T], params: dict[str, Any], directory: Path) -> _T:
    """``cls(**params)`` for saved params, with a checkpoint error when they no longer fit."""
    try:
        return cls(**params)
    except (TypeError, ConfigError) as exc:
        raise CheckpointError(
            f"{Path(directory) / FILE_NAME}: saved settings {params} do not build a "
            f"{cls.__name__} ({exc}); save the tokenizer again with this ftlab version"
        ) from exc


class VocabTokenizer:
    """Shared machinery of the own-vocabulary tokenizers (word, char).

    Subclasses set ``kind`` and implement :meth:`tokenize`; everything else (fitting on
    training texts, id lookup, pairs, persistence) is identical and lives here once.
    ``<pad>``=0, ``<unk>``=1, ``<sep>``=2, then tokens by decreasing training frequency,
    ties in sorted order (deterministic).

    Args:
        min_freq: keep tokens seen at least this many times in training.
        max_size: keep at most this many regular tokens (specials not counted); None = all.
        use_sep: put ``<sep>`` between the two texts of a joined pair.

    Raises:
        ConfigError: for invalid arguments.
    """

    kind = "vocab"
    pad_id = 0
    unk_id = 1
    sep_id = 2

    def __init__(
        self, *, min_freq: int = 1, max_size: int | None = None, use_sep: bool = True
    ) -> None:
        check_vocab_params(type(self).__name__, min_freq, max_size, use_sep)
        self.min_freq = min_freq
        self.max_size = max_size
        self.use_sep = use_sep
        self.vocab: list[str] = []  # set by fit: index = id
        self._index: dict[str, int] = {}

    def tokenize(self, text: str) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError

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

    def fit(self, texts: Iterable[str]) -> Self:
        """Build the vocabulary from training texts (replacing any previous one)."""
        self.vocab = build_vocab(
            (self.tokenize(t) for t in texts), min_freq=self.min_freq, max_size=self.max_size
        )
        self._index = {tok: i for i, tok in enumerate(self.vocab)}
        return self

    def encode(self, text: str) -> list[int]:
        """Ids of ``text`` (unknown tokens -> ``unk_id``); no specials, no truncation.

        Raises:
            FtlabError: before ``fit``.
        """
        if not self._index:
            raise not_fitted_error(type(self).__name__)
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

    def save(self, directory: Path) -> None:
        """Write ``ftlab_tokenizer.json`` (settings and vocabulary) into ``directory``.

        Raises:
            FtlabError: before ``fit``.
        """
        if not self.is_fitted:
            raise not_fitted_error(type(self).__name__)
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
            f"{type(self).__name__}(min_freq={self.min_freq}, max_size={self.max_size}, "
            f"use_sep={self.use_sep}, vocab_size={self.vocab_size})"
        )
