"""Tokenizers by name: what configs refer to and what saved encoders record."""

from __future__ import annotations

import inspect
from typing import Any

from ftlab.core import Registry, closest_match
from ftlab.errors import ConfigError
from ftlab.preprocessing._char import CharTokenizer
from ftlab.preprocessing._protocol import Tokenizer
from ftlab.preprocessing._pretrained import PretrainedTokenizer
from ftlab.preprocessing._word import WordTokenizer

__all__ = ["TOKENIZERS", "build_tokenizer", "tokenizer_kind"]

TOKENIZERS: Registry[type[Any]] = Registry("tokenizer kind", {
    "word": WordTokenizer,
    "char": CharTokenizer,
    "pretrained": PretrainedTokenizer,
})


def build_tokenizer(kind: str, **kwargs: Any) -> Tokenizer:
    """Build an unfitted tokenizer of a registered ``kind`` from keyword arguments.

    Args:
        kind: a key of :data:`TOKENIZERS` (``"word"``, ``"char"``, ``"pretrained"``).
        **kwargs: the constructor arguments of that class.

    Raises:
        ConfigError: unknown kind (closest name suggested) or arguments the class does not take.
    """
    cls = TOKENIZERS.get(kind)
    if cls is None:
        close = closest_match(str(kind), TOKENIZERS)
        hint = f" (did you mean {close!r}?)" if close is not None else ""
        raise ConfigError(
            f"unknown tokenizer kind {kind!r}{hint}; choose one of {sorted(TOKENIZERS)}"
        )
    try:
        inspect.signature(cls).bind(**kwargs)
    except TypeError as exc:
        params = [p for p in inspect.signature(cls).parameters if p != "self"]
        raise ConfigError(
            f"tokenizer {kind!r} ({cls.__name__}): {exc}; its parameters are {params}"
        ) from exc
    tok: Tokenizer = cls(**kwargs)
    return tok


def tokenizer_kind(tokenizer: object) -> str:
    """The registry name of ``tokenizer``'s class.

    Raises:
        ConfigError: the class is not registered (so a saved encoder could not reload it).
    """
    for name, cls in TOKENIZERS.items():
        if type(tokenizer) is cls:
            return name
    raise ConfigError(
        f"{type(tokenizer).__name__} is not in ftlab.preprocessing.TOKENIZERS "
        f"({sorted(TOKENIZERS)}); register it (TOKENIZERS['name'] = cls) so it can be reloaded"
    )
