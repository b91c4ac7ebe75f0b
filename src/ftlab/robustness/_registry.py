"""Transformations by name: the registry and the spec parsers."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ftlab.core import Registry, closest
from ftlab.errors import ConfigError
from ftlab.robustness._base import Transform
from ftlab.robustness._compose import Compose
from ftlab.robustness._entities import LocationSwap, NameSwap, NumberSwap
from ftlab.robustness._lexicons import GloveLexicon, Lexicon
from ftlab.robustness._surface import (
    CaseNoise,
    Contractions,
    PunctuationNoise,
    ShuffleSentences,
    WhitespaceNoise,
)
from ftlab.robustness._synonyms import SynonymReplace
from ftlab.robustness._typos import CharDrop, CharRepeat, CharSwap, KeyboardTypos, Misspellings

__all__ = [
    "TRANSFORMS", "TransformSpec", "register_transform", "build_transform", "build_pipeline",
    "parse_pipeline_spec", "spec_slug",
]

TransformSpec = str | Mapping[str, Any] | Transform
"""``"typos"``, ``"typos:0.2"``, ``{"name": "typos", "rate": 0.2, ...options}`` or a transform."""


def _synonyms(
    rate: float = 0.1,
    lexicon: Lexicon | Mapping[str, Sequence[str]] | str = "wordnet",
    pos_tagger: str = "heuristic",
) -> Transform:
    """WordNet synonyms by default; ``lexicon`` may be ``"glove"``, a mapping or a Lexicon."""
    return SynonymReplace(lexicon, rate, pos_tagger)  # type: ignore[arg-type]


def _embedding_synonyms(
    rate: float = 0.1, top_n: int = 20_000, k: int = 10, min_similarity: float = 0.8,
    exclude: Sequence[str] = (),
) -> Transform:
    """Synonyms from GloVe nearest neighbours (no WordNet needed)."""
    lexicon = GloveLexicon(top_n=top_n, k=k, min_similarity=min_similarity, exclude=exclude)
    return SynonymReplace(lexicon, rate, name="embedding_synonyms")


# name -> factory taking ``rate`` and the transformation's options as keyword arguments.
TRANSFORMS: Registry[Callable[..., Transform]] = Registry("transformation", {
    "typos": KeyboardTypos,
    "misspellings": Misspellings,
    "char_swap": CharSwap,
    "char_drop": CharDrop,
    "char_repeat": CharRepeat,
    "synonyms": _synonyms,
    "embedding_synonyms": _embedding_synonyms,
    "contractions": Contractions,
    "casing": CaseNoise,
    "punctuation": PunctuationNoise,
    "whitespace": WhitespaceNoise,
    "names": NameSwap,
    "locations": LocationSwap,
    "numbers": NumberSwap,
    "shuffle_sentences": ShuffleSentences,
})


def register_transform(name: str, factory: Callable[..., Transform], *, overwrite: bool = False) -> None:
    """Add a transformation to :data:`TRANSFORMS`.

    Args:
        name: the name used in specs (``"typos"``); no ``:`` or ``,``.
        factory: called with ``rate=`` and the spec's options; returns a :class:`Transform`.
        overwrite: replace an existing entry of the same name.

    Raises:
        ConfigError: the name is taken (and ``overwrite`` is false) or malformed, or
            ``factory`` is not callable.
    """
    if not callable(factory):
        raise ConfigError(f"register_transform({name!r}): factory must be callable, got {factory!r}.")
    if not name or any(c in name for c in ":, "):
        raise ConfigError(f"register_transform: name {name!r} must be non-empty, without ':', ',' or spaces.")
    TRANSFORMS.add(name, factory, overwrite=overwrite, caller="register_transform")


def _options(factory: Callable[..., Transform]) -> list[str] | None:
    params = inspect.signature(factory).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return [p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _parse_one(spec: str) -> tuple[str, dict[str, Any]]:
    name, _, rate_text = spec.strip().partition(":")
    options: dict[str, Any] = {}
    if rate_text:
        try:
            options["rate"] = float(rate_text)
        except ValueError:
            raise ConfigError(
                f"transform spec {spec!r}: the part after ':' must be a rate in [0, 1], "
                f"got {rate_text!r} (e.g. 'typos:0.1')."
            ) from None
        if not 0.0 <= options["rate"] <= 1.0:
            raise ConfigError(f"transform spec {spec!r}: the rate must satisfy 0 <= rate <= 1 "
                              f"(a share of the eligible units), got {rate_text}.")
    return name.strip(), options


def parse_pipeline_spec(spec: str) -> list[tuple[str, dict[str, Any]]]:
    """Check a pipeline spec (``"typos:0.05,synonyms"``) without building it.

    Building may load resources (WordNet, GloVe); this only checks names and rates, so a
    config can be validated before any work.

    Returns:
        ``[(name, options), ...]`` in pipeline order.

    Raises:
        ConfigError: empty pipeline, unknown name (with the closest valid one) or a bad rate.
    """
    items = [s for s in str(spec).split(",") if s.strip()]
    if not items:
        raise ConfigError(f"transform pipeline {spec!r} is empty; name at least one of {sorted(TRANSFORMS)}.")
    out = []
    for item in items:
        name, options = _parse_one(item)
        TRANSFORMS.lookup(name)  # unknown name: ConfigError with the closest registered one
        out.append((name, options))
    return out


def spec_slug(spec: str) -> str:
    """A file-name-safe name for a pipeline spec: ``"typos:0.05,synonyms"`` -> ``"typos-0.05+synonyms"``."""
    return "+".join(item.strip().replace(":", "-") for item in str(spec).split(",") if item.strip())


def build_transform(spec: TransformSpec) -> Transform:
    """Build one transformation from a spec.

    Args:
        spec: a name (``"typos"``), ``"name:rate"`` (``"synonyms:0.2"``), a mapping
            ``{"name": ..., "rate": ..., **options}`` or an already built transform.

    Returns:
        The transformation.

    Raises:
        ConfigError: unknown name (with the closest valid one), unknown option, bad rate or
            malformed spec.
    """
    if not isinstance(spec, str | Mapping):
        if callable(spec) and hasattr(spec, "name"):
            return spec
        raise ConfigError(f"transform spec must be a name, 'name:rate', a mapping or a transform, got {spec!r}.")
    options: dict[str, Any]
    if isinstance(spec, str):
        name, options = _parse_one(spec)
    else:
        options = dict(spec)
        name = options.pop("name", None)
        if not isinstance(name, str):
            raise ConfigError(f"transform spec {dict(spec)!r} needs a 'name' key naming a transformation.")
    name = name.strip()
    factory = TRANSFORMS.lookup(name)
    valid = _options(factory)
    if valid is not None:
        for key in options:
            if key not in valid:
                raise ConfigError(
                    f"transformation {name!r} has no option {key!r}; its options are "
                    f"{sorted(valid)}.{closest(key, valid)}"
                )
    try:
        return factory(**options)
    except TypeError as exc:
        raise ConfigError(f"transformation {name!r}: bad options {options!r}: {exc}") from exc


def build_pipeline(specs: str | Sequence[TransformSpec]) -> Transform:
    """Build a sequence of transformations, e.g. ``"typos:0.05,synonyms"``.

    Args:
        specs: comma-separated specs, or a list of specs (see :func:`build_transform`).

    Returns:
        The single transformation, or a :class:`Compose` of several in the given order.

    Raises:
        ConfigError: an empty pipeline or any bad spec.
    """
    items: Sequence[TransformSpec] = (
        [s for s in specs.split(",") if s.strip()] if isinstance(specs, str) else list(specs)
    )
    if not items:
        raise ConfigError(f"transform pipeline {specs!r} is empty; name at least one of {sorted(TRANSFORMS)}.")
    steps = [build_transform(s) for s in items]
    return steps[0] if len(steps) == 1 else Compose(steps)
