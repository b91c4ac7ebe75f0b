"""Examples -> Encoded: normalise, tokenize, truncate, add specials, map labels."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal, Self, get_args

# The shared types straight from their modules: no import of the other subpackages' code.
from ftlab.core import Encoded
from ftlab.core import Example
from ftlab.errors import CheckpointError, ConfigError, DataError, FtlabError
from ftlab.preprocessing._jsonio import read_json, write_json
from ftlab.preprocessing._labels import LabelMap
from ftlab.preprocessing._normalizer import Normalizer
from ftlab.preprocessing._protocol import Tokenizer
from ftlab.preprocessing._registry import TOKENIZERS, tokenizer_kind
from ftlab.preprocessing._truncation import (
    PairTruncationStrategy,
    TruncationStrategy,
    truncate,
    truncate_pair,
)

__all__ = ["TextEncoder", "PairMode"]

PairMode = Literal["joined", "separate"]
_FILE = "encoder.json"
_TOKENIZER_DIR = "tokenizer"


def _where(ex: Example, position: int) -> str:
    source, line = ex.meta.get("source"), ex.meta.get("line")
    loc = f"{source}:{line}" if source is not None and line is not None else str(source or "")
    return f"{loc} (example id={ex.id!r}, position {position})".strip()


class TextEncoder:
    """Turns :class:`~ftlab.data.Example` s into :class:`~ftlab.batching.Encoded` model inputs.

    ``fit`` learns the tokenizer vocabulary and the label map from the training split only;
    ``encode`` then applies them unchanged to any split. Every encoded sequence has length
    >= 1: an empty text becomes the tokenizer's specials (``[CLS] [SEP]`` for BERT) or, when the
    tokenizer adds none (word/char), the single token ``<unk>``.

    Args:
        tokenizer: any :class:`Tokenizer` (built unfitted; ``fit`` fits it).
        normalizer: applied to every text first (None: texts are used as given).
        max_length: the most ids per sequence, special tokens included; None: no limit
            (not allowed for tokenizers with a ``model_max_length``, e.g. 512 for BERT).
        truncation: how a single text is cut (``"head"``, ``"tail"``, ``"head_tail"``).
        head: tokens kept from the start with ``"head_tail"`` (default: a quarter).
        pair_truncation: how the budget is split between the two texts of a joined pair.
        pair_mode: ``"joined"``: one sequence ``a <sep> b`` (``[CLS] a [SEP] b [SEP]``) within
            ``max_length``; ``"separate"``: ``ids`` and ``pair_ids`` each within ``max_length``
            (for siamese models; no segment ids).

    Raises:
        ConfigError: for invalid arguments.
    """

    def __init__(
        self,
        *,
        tokenizer: Tokenizer,
        normalizer: Normalizer | None = None,
        max_length: int | None = 256,
        truncation: TruncationStrategy = "head",
        head: int | None = None,
        pair_truncation: PairTruncationStrategy = "longest_first",
        pair_mode: PairMode = "joined",
    ) -> None:
        if not isinstance(tokenizer, Tokenizer):
            raise ConfigError(
                f"TextEncoder(tokenizer=...) needs a Tokenizer (e.g. build_tokenizer('word')), "
                f"got {type(tokenizer).__name__}"
            )
        if normalizer is not None and not isinstance(normalizer, Normalizer):
            raise ConfigError(
                f"TextEncoder(normalizer=...) must be a Normalizer or None, got {normalizer!r}"
            )
        n_special = tokenizer.num_special_tokens(False)
        if max_length is not None and (
            isinstance(max_length, bool)
            or not isinstance(max_length, int)
            or max_length < n_special + 1
        ):
            raise ConfigError(
                f"TextEncoder(max_length=...) must be None or an int >= {n_special + 1} (room "
                f"for {n_special} special token(s) and one text token), got {max_length!r}"
            )
        model_max = getattr(tokenizer, "model_max_length", None)
        if isinstance(model_max, int) and (max_length is None or max_length > model_max):
            raise ConfigError(
                f"TextEncoder(max_length={max_length}) exceeds what the pretrained model "
                f"accepts ({model_max} tokens, specials included); set max_length <= {model_max}"
            )
        for name, value, allowed in (
            ("truncation", truncation, get_args(TruncationStrategy)),
            ("pair_truncation", pair_truncation, get_args(PairTruncationStrategy)),
            ("pair_mode", pair_mode, get_args(PairMode)),
        ):
            if value not in allowed:
                raise ConfigError(
                    f"TextEncoder({name}=...) must be one of {list(allowed)}, got {value!r}"
                )
        if head is not None:
            limit = None if max_length is None else max_length - n_special
            if isinstance(head, bool) or not isinstance(head, int) or head < 0 or (
                limit is not None and head > limit
            ):
                raise ConfigError(
                    f"TextEncoder(head=...) must be None or an int in [0, {limit}] (max_length "
                    f"minus {n_special} special token(s)), got {head!r}"
                )
        self.tokenizer = tokenizer
        self.normalizer = normalizer
        self.max_length = max_length
        self.truncation: TruncationStrategy = truncation
        self.head = head
        self.pair_truncation: PairTruncationStrategy = pair_truncation
        self.pair_mode: PairMode = pair_mode
        self.label_map = LabelMap()  # set by fit
        self.num_choices: int | None = None  # set by fit on multiple-choice data

    # -- fitting -----------------------------------------------------------------------------
    def fit(self, train_examples: Iterable[Example]) -> Self:
        """Fit the tokenizer vocabulary and the label map on the training split only.

        Both texts of a pair feed the vocabulary. Never pass validation or test data here.
        Multiple-choice examples (``Example.choices``) feed their context and every choice;
        their label map is the choice positions ``"0"``..``"N-1"``, whichever of them train
        happens to hold.

        Raises:
            DataError: a text that is not a string, no labels at all, or a mix of examples
                with and without choices (or with different numbers of them).
        """
        examples = list(train_examples)
        texts = self._texts(examples)
        counts = {None if ex.choices is None else len(ex.choices) for ex in examples}
        if len(counts) > 1:
            raise DataError(
                f"TextEncoder.fit: the training examples mix {sorted(counts, key=str)} choices "
                "(None: not multiple choice); every example of a multiple-choice run needs the "
                "same number of choices")
        self.num_choices = next(iter(counts)) if counts else None
        choice_texts = [self._norm(c) for ex in examples for c in ex.choices or ()]
        self.tokenizer.fit([t for pair in texts for t in pair if t is not None] + choice_texts)
        if self.num_choices is not None:
            self.label_map = LabelMap([str(i) for i in range(self.num_choices)])
        else:
            self.label_map = LabelMap().fit(ex.label for ex in examples)
        return self

    @property
    def is_fitted(self) -> bool:
        """Whether ``encode`` can run (tokenizer and label map fitted or loaded)."""
        return self.tokenizer.is_fitted and self.label_map.is_fitted

    @property
    def labels(self) -> LabelMap:
        """The fitted label map (same object as ``label_map``)."""
        return self.label_map

    @property
    def num_classes(self) -> int:
        """Number of classes in the label map."""
        return self.label_map.num_classes

    @property
    def pad_id(self) -> int:
        """The id batches are padded with."""
        return self.tokenizer.pad_id

    def _norm(self, text: str) -> str:
        return self.normalizer(text) if self.normalizer is not None else text

    def _texts(self, examples: Sequence[Example]) -> list[tuple[str, str | None]]:
        out = []
        for i, ex in enumerate(examples):
            if not isinstance(ex.text, str) or not (
                ex.text_pair is None or isinstance(ex.text_pair, str)
            ):
                bad = ex.text if not isinstance(ex.text, str) else ex.text_pair
                raise DataError(
                    f"{_where(ex, i)}: text must be a string, got {type(bad).__name__} "
                    f"{bad!r:.60}; fix the reader or the data row"
                )
            pair = self._norm(ex.text_pair) if ex.text_pair is not None else None
            out.append((self._norm(ex.text), pair))
        return out

    # -- encoding ----------------------------------------------------------------------------
    def encode(self, examples: Sequence[Example]) -> list[Encoded]:
        """Encode a split; ``Encoded.index`` is the position in ``examples``.

        Labels: the label map's index, or -1 for ``label=None`` (unlabelled inputs).

        Raises:
            FtlabError: before ``fit``/``load``.
            DataError: an unknown label or a non-string text (naming the example).
            ConfigError: ``max_length`` leaves no room for a joined pair's texts.
        """
        if not self.is_fitted:
            raise FtlabError(
                "TextEncoder is not fitted: call fit(train_examples) or TextEncoder.load(dir)"
            )
        examples = list(examples)
        texts = self._texts(examples)
        tok = self.tokenizer
        ids_a = tok.encode_batch([a for a, _ in texts])
        pair_pos = [i for i, (_, b) in enumerate(texts) if b is not None]
        ids_b: dict[int, list[int]] = dict(
            zip(pair_pos, tok.encode_batch([texts[i][1] or "" for i in pair_pos]), strict=True)
        )
        choice_ids = self._choice_ids(examples)
        out = []
        for i, ex in enumerate(examples):
            label = -1 if ex.label is None else self.label_map.encode(ex.label, where=_where(ex, i))
            b = ids_b.get(i)
            if self.num_choices is not None:
                ctx, _ = self._single(ids_a[i])
                seqs = [self._joined(ids_a[i], c) for c in choice_ids[i]]
                seg = [t for _, t in seqs]
                out.append(Encoded(index=i, ids=ctx, label=label, choices=[q for q, _ in seqs],
                                   choice_token_type_ids=None if seg[0] is None
                                   else [t or [] for t in seg]))
            elif b is None:
                ids, types = self._single(ids_a[i])
                out.append(Encoded(index=i, ids=ids, label=label, token_type_ids=types))
            elif self.pair_mode == "separate":
                first, _ = self._single(ids_a[i])
                second, _ = self._single(b)
                out.append(Encoded(index=i, ids=first, label=label, pair_ids=second))
            else:
                ids, types = self._joined(ids_a[i], b)
                out.append(Encoded(index=i, ids=ids, label=label, token_type_ids=types))
        return out

    def _choice_ids(self, examples: Sequence[Example]) -> list[list[list[int]]]:
        """Token ids of every choice, per example (``[]`` per example when not multiple choice).

        Raises:
            DataError: an example whose choices do not match the fitted choice count.
        """
        n = self.num_choices
        for i, ex in enumerate(examples):
            got = None if ex.choices is None else len(ex.choices)
            if got != n:
                want = "no choices" if n is None else f"{n} choices"
                raise DataError(
                    f"{_where(ex, i)}: {'no' if got is None else got} choices, but this encoder "
                    f"was fitted on items with {want}; give every example the same kind of "
                    f"input as the training data (set data.columns.choices the same way)")
        if n is None:
            return [[] for _ in examples]
        flat = [self._norm(c) for ex in examples for c in ex.choices or ()]
        ids = self.tokenizer.encode_batch(flat) if flat else []
        return [ids[i * n:(i + 1) * n] for i in range(len(examples))]

    def _single(self, a: list[int]) -> tuple[list[int], list[int] | None]:
        if self.max_length is not None:
            budget = self.max_length - self.tokenizer.num_special_tokens(False)
            a = truncate(a, budget, self.truncation, self.head)
        return self._non_empty(*self.tokenizer.build_inputs(a, None))

    def _joined(self, a: list[int], b: list[int]) -> tuple[list[int], list[int] | None]:
        if self.max_length is not None:
            budget = self.max_length - self.tokenizer.num_special_tokens(True)
            if budget < 1:
                raise ConfigError(
                    f"TextEncoder(max_length={self.max_length}) leaves no room for text in a "
                    f"joined pair ({self.tokenizer.num_special_tokens(True)} special tokens); "
                    "raise max_length"
                )
            a, b = truncate_pair(
                a, b, budget, self.pair_truncation, self.truncation, self.head
            )
        return self._non_empty(*self.tokenizer.build_inputs(a, b))

    def _non_empty(
        self, ids: list[int], types: list[int] | None
    ) -> tuple[list[int], list[int] | None]:
        # Models and samplers rely on length >= 1 (mean pooling, packing, lengths tensors).
        if ids:
            return ids, types
        return [self.tokenizer.unk_id], (None if types is None else [0])

    def count_tokens(self, text: str) -> int:
        """Tokens in the normalised ``text``, untruncated and without specials (for inspection)."""
        return len(self.tokenizer.encode(self._norm(text)))

    # -- persistence -------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """The constructor settings other than the tokenizer, JSON-serialisable."""
        return {
            "normalizer": None if self.normalizer is None else self.normalizer.to_dict(),
            "max_length": self.max_length,
            "truncation": self.truncation,
            "head": self.head,
            "pair_truncation": self.pair_truncation,
            "pair_mode": self.pair_mode,
        }

    def save(self, directory: Path) -> None:
        """Write ``encoder.json`` (settings, label map) and ``tokenizer/`` into ``directory``.

        Raises:
            FtlabError: before ``fit``.
            ConfigError: the tokenizer's class is not registered in ``TOKENIZERS``.
        """
        if not self.is_fitted:
            raise FtlabError("TextEncoder.save: nothing to save yet, call fit(train) first")
        directory = Path(directory)
        kind = tokenizer_kind(self.tokenizer)
        self.tokenizer.save(directory / _TOKENIZER_DIR)
        write_json(
            directory / _FILE,
            {
                "format_version": 1,
                "tokenizer_kind": kind,
                "settings": self.settings(),
                "label_map": self.label_map.to_dict(),
                "num_choices": self.num_choices,
            },
        )

    @classmethod
    def load(cls, directory: Path) -> TextEncoder:
        """Read an encoder written by :meth:`save`; it encodes exactly as the saved one did.

        Raises:
            CheckpointError: missing or corrupt files, or an unknown tokenizer kind.
        """
        directory = Path(directory)
        data = read_json(directory / _FILE, what="text encoder")
        kind = data.get("tokenizer_kind")
        tok_cls = TOKENIZERS.get(kind) if isinstance(kind, str) else None
        if tok_cls is None:
            raise CheckpointError(
                f"{directory / _FILE}: unknown tokenizer_kind {kind!r}; known kinds are "
                f"{sorted(TOKENIZERS)} (register a custom tokenizer before loading)"
            )
        settings = data.get("settings")
        if not isinstance(settings, dict):
            raise CheckpointError(f"{directory / _FILE}: 'settings' missing; save it again")
        settings = dict(settings)
        tokenizer = tok_cls.load(directory / _TOKENIZER_DIR)
        try:
            norm = settings.pop("normalizer", None)
            encoder = cls(
                tokenizer=tokenizer,
                normalizer=None if norm is None else Normalizer.from_dict(norm),
                **settings,
            )
            encoder.label_map = LabelMap.from_dict(data.get("label_map") or {})
            n_choices = data.get("num_choices")
            if n_choices is not None and (isinstance(n_choices, bool)
                                          or not isinstance(n_choices, int) or n_choices < 2):
                raise DataError(f"num_choices must be null or an int >= 2, got {n_choices!r}")
            encoder.num_choices = n_choices
        except (ConfigError, DataError, TypeError) as exc:
            raise CheckpointError(
                f"{directory / _FILE}: saved settings cannot be used ({exc}); save it again"
            ) from exc
        return encoder

    def __repr__(self) -> str:
        return (
            f"TextEncoder(tokenizer={self.tokenizer!r}, normalizer={self.normalizer!r}, "
            f"max_length={self.max_length}, truncation={self.truncation!r}, "
            f"pair_mode={self.pair_mode!r}, num_classes={self.num_classes}"
            + (f", num_choices={self.num_choices})" if self.num_choices is not None else ")")
        )
