"""Synonym replacement over any :class:`Lexicon`, with a light part-of-speech guess."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ftlab.errors import ConfigError
from ftlab.robustness._entities import LOCATIONS, NAMES
from ftlab.robustness._base import Change, Transformed, check_rate, finish, pick
from ftlab.robustness._lexicons import DictLexicon, GloveLexicon, Lexicon, Pos, WordNetLexicon
from ftlab.robustness._text import (
    STOPWORDS,
    Token,
    is_alpha_word,
    is_negation,
    looks_like_entity,
    match_case,
    tokenize,
)

__all__ = ["SynonymReplace", "guess_pos"]

# Listed names and places are entities even at a sentence start ("John said ...").
_KNOWN_ENTITIES = frozenset(w for groups in (NAMES, LOCATIONS) for ws in groups.values() for w in ws)

# "not"/"never" are left out: "is not good" is as common as "do not like".
_BEFORE_VERB = frozenset("to will would can could should must may might shall do does did".split())
_DETERMINERS = frozenset("a an the this that these those its his her their our my your "
                         "some any no every each".split())
_SUFFIXES: tuple[tuple[str, Pos], ...] = (
    ("ly", "r"),
    ("ous", "a"), ("ful", "a"), ("ive", "a"), ("able", "a"), ("ible", "a"), ("less", "a"),
    ("ish", "a"), ("ic", "a"), ("al", "a"),
    ("tion", "n"), ("sion", "n"), ("ness", "n"), ("ment", "n"), ("ity", "n"), ("ism", "n"),
    ("ship", "n"), ("ance", "n"), ("ence", "n"),
    ("ize", "v"), ("ise", "v"), ("ify", "v"),
)


def guess_pos(tokens: Sequence[Token], i: int) -> Pos | None:
    """A light part-of-speech guess for ``tokens[i]`` from its suffix and left neighbour.

    Returns ``None`` when unsure; lexicons then use the word only when it is unambiguous.
    Inflected forms (``-ing``, ``-ed``) are not guessed: their synonyms would need re-inflecting.
    """
    word = tokens[i].word.lower()
    prev = tokens[i - 1].word.lower() if i > 0 else ""
    nxt = tokens[i + 1].word if i + 1 < len(tokens) else ""
    for suffix, pos in _SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            # "the potential" / "an individual": an adjective suffix on a word that ends a
            # determiner phrase is often a noun; unsure, so the lexicon decides (or skips)
            if pos == "a" and prev in _DETERMINERS and not nxt[:1].isalpha():
                return None
            return pos
    if prev in _BEFORE_VERB:
        return "v"
    return None  # after a determiner it may be a noun or an adjective: let the lexicon decide


def _nltk_tags(tokens: Sequence[Token]) -> list[Pos | None]:
    from ftlab.core import optional_import

    nltk = optional_import("nltk", "part-of-speech tagging")
    try:
        tags = nltk.pos_tag([t.word for t in tokens])
    except LookupError as exc:
        raise ConfigError(
            "SynonymReplace(pos_tagger='nltk') needs NLTK's averaged_perceptron_tagger_eng data, "
            "which is not installed; use pos_tagger='heuristic' (the default, offline) or run "
            "`python -c \"import nltk; nltk.download('averaged_perceptron_tagger_eng')\"`."
        ) from exc
    table: dict[str, Pos] = {"N": "n", "V": "v", "J": "a", "R": "r"}
    return [table.get(tag[:1]) for _, tag in tags]


@dataclass(frozen=True)
class SynonymReplace:
    """Replace content words with a synonym from a :class:`Lexicon` (``film`` -> ``movie``).

    Units: words the lexicon has a candidate for, excluding stopwords, negations and likely
    named entities (capitalised mid-sentence, acronyms, names and places of the built-in
    lists). Label-preserving because a synonym
    of the same part of speech keeps the meaning, and the words that flip or anchor a label
    (``not``, ``never``, names) are never touched. Replacements keep the word's casing.

    Args:
        lexicon: the synonym source: a :class:`Lexicon`, a mapping ``word -> candidates``,
            ``"wordnet"`` or ``"glove"`` (built with default options).
        rate: share of eligible words to replace.
        pos_tagger: ``"heuristic"`` (suffixes and context, offline) or ``"nltk"`` (needs
            NLTK's tagger data, never downloaded).
        name: the name recorded in results (``"embedding_synonyms"`` for the GloVe variant).
    """

    lexicon: Lexicon
    rate: float = 0.1
    pos_tagger: Literal["heuristic", "nltk"] = "heuristic"
    name: str = field(default="synonyms", kw_only=True)
    _lex: Lexicon = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_rate(self.name, self.rate)
        if self.pos_tagger not in ("heuristic", "nltk"):
            raise ConfigError(
                f"SynonymReplace: pos_tagger must be 'heuristic' or 'nltk', got {self.pos_tagger!r}."
            )
        object.__setattr__(self, "_lex", as_lexicon(self.lexicon))

    def __call__(self, text: str, rng: random.Random) -> Transformed:
        tokens = tokenize(text)
        tags = _nltk_tags(tokens) if self.pos_tagger == "nltk" and tokens else [
            guess_pos(tokens, i) for i in range(len(tokens))
        ]
        units: list[tuple[Token, Sequence[str]]] = []
        for t, pos in zip(tokens, tags):
            low = t.word.lower()
            if (low in STOPWORDS or is_negation(t.word) or not is_alpha_word(t.word)
                    or len(t.word) < 3 or looks_like_entity(text, t) or t.word in _KNOWN_ENTITIES):
                continue
            cands: Sequence[str] = [c for c in self._lex.synonyms(t.word, pos)
                     if c.lower() != low and c.lower() not in STOPWORDS and not is_negation(c)]
            if cands:
                units.append((t, cands))
        edits = []
        for j in pick(rng, units, self.rate):
            t, cands = units[j]
            edits.append(Change(t.start, t.end, t.word, match_case(t.word, rng.choice(cands))))
        return finish(self.name, text, edits, len(units))


def as_lexicon(value: object) -> Lexicon:
    """Turn ``"wordnet"``, ``"glove"``, a mapping or a :class:`Lexicon` into a lexicon."""
    if value == "wordnet":
        return WordNetLexicon()
    if value == "glove":
        return GloveLexicon()
    if isinstance(value, Mapping):
        return DictLexicon(value)
    if isinstance(value, Lexicon):
        return value
    raise ConfigError(
        f"synonyms: lexicon must be 'wordnet', 'glove', a mapping word -> synonyms or an object "
        f"with a synonyms(word, pos) method, got {value!r}."
    )
