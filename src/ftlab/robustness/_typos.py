"""Typing noise: keyboard typos, real-world misspellings, character swap/drop/repeat.

The keyboard map and the misspelling list are nlpaug 1.1.11's resource files (MIT), read from
the installed package's folder; nlpaug's modules are never imported (its dependencies are not
needed and not installed: ``pip install --no-deps nlpaug==1.1.11``).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ftlab.core import MissingDependencyError
from ftlab.robustness._base import Change, Transformed, check_rate, finish, pick, sample_count
from ftlab.robustness._text import Token, is_negation, match_case, tokenize

__all__ = ["KeyboardTypos", "Misspellings", "CharSwap", "CharDrop", "CharRepeat"]

_NLPAUG_INSTALL = "pip install --no-deps nlpaug==1.1.11"


def _nlpaug_file(*parts: str) -> Path:
    spec = importlib.util.find_spec("nlpaug")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            f"the typo resources come from the 'nlpaug' package, which is not installed; install "
            f"it with: {_NLPAUG_INSTALL} (its own dependencies are not needed)."
        )
    path = Path(next(iter(spec.submodule_search_locations)), "res", *parts)
    if not path.is_file():
        raise MissingDependencyError(
            f"nlpaug is installed but {path} is missing; reinstall it with: {_NLPAUG_INSTALL}."
        )
    return path


@functools.cache
def keyboard_neighbours() -> Mapping[str, tuple[str, ...]]:
    """QWERTY neighbours of each lowercase ASCII letter (letters only).

    Digits are left out: a slipped digit turns ``8/10`` into ``8/20``, which changes a rating
    that may be the label itself.
    """
    raw = json.loads(_nlpaug_file("char", "keyboard", "en.json").read_text(encoding="utf-8"))
    out: dict[str, tuple[str, ...]] = {}
    for key, values in raw.items():
        values = [values] if isinstance(values, str) else values
        keep = tuple(v for v in values if v.isascii() and v.isalpha() and v.islower())
        if key.isascii() and key.isalpha() and keep:
            out[key] = keep
    return out


@functools.cache
def misspellings() -> Mapping[str, tuple[str, ...]]:
    """Correct word (lowercase) -> real-world misspellings of it.

    Candidates that are themselves correct words of the list (``luck -> like``), differ only
    in case, or are negations are dropped: they would change the word, not misspell it.
    """
    path = _nlpaug_file("word", "spelling", "spelling_en.txt")
    rows = [line.split() for line in path.read_text(encoding="utf-8").splitlines()]
    heads = {row[0].lower() for row in rows if row}
    out: dict[str, list[str]] = {}
    for row in rows:
        if len(row) < 2:
            continue
        head = row[0].lower()
        if not head.isalpha() or len(head) < 2:
            continue  # numbers ("10" -> "10.oo") and "I" -> "I'm" are not misspellings
        for cand in row[1:]:
            low = cand.lower()
            if (low != head and low.isalpha() and low not in heads and not is_negation(cand)
                    and low not in out.get(head, ())):
                out.setdefault(head, []).append(low)
    return {k: tuple(v) for k, v in out.items() if v}


def _letters(text: str, tokens: list[Token]) -> list[int]:
    """Offsets of letters inside words, negations excluded (``not`` -> ``nto`` reads oddly)."""
    return [
        i for t in tokens if not is_negation(t.word)
        for i in range(t.start, t.end) if text[i].isalpha()
    ]


def _case_like(template: str, char: str) -> str:
    return char.upper() if template.isupper() else char


@dataclass(frozen=True)
class KeyboardTypos:
    """Replace letters with a neighbouring QWERTY key (``great`` -> ``grwat``).

    Units: ASCII letters inside words (negations excluded; digits never, see
    :func:`keyboard_neighbours`). Label-preserving because a
    reader still recognises a word with one slipped key; the sentiment or topic is untouched.

    Args:
        rate: share of eligible characters to replace.
    """

    rate: float = 0.05
    name: ClassVar[str] = "typos"

    def __post_init__(self) -> None:
        check_rate(self.name, self.rate)

    def __call__(self, text: str, rng: random.Random) -> Transformed:
        keys = keyboard_neighbours()
        tokens = tokenize(text)
        units = [
            i for t in tokens if not is_negation(t.word)
            for i in range(t.start, t.end) if text[i].lower() in keys
        ]
        edits = []
        for j in pick(rng, units, self.rate):
            i = units[j]
            new = rng.choice(keys[text[i].lower()])
            edits.append(Change(i, i + 1, text[i], _case_like(text[i], new)))
        return finish(self.name, text, edits, len(units))


@dataclass(frozen=True)
class Misspellings:
    """Replace words with a misspelling people really make (``because`` -> ``becuase``).

    Units: words that have a known misspelling (nlpaug's list, about 13k words; negations
    excluded). Label-preserving because the misspellings come from real text, where readers
    understand them; candidates that are other correct words are filtered out.

    Args:
        rate: share of eligible words to misspell.
    """

    rate: float = 0.1
    name: ClassVar[str] = "misspellings"

    def __post_init__(self) -> None:
        check_rate(self.name, self.rate)

    def __call__(self, text: str, rng: random.Random) -> Transformed:
        table = misspellings()
        units = [
            t for t in tokenize(text)
            if not is_negation(t.word) and t.word.lower() in table
        ]
        edits = []
        for j in pick(rng, units, self.rate):
            t = units[j]
            edits.append(Change(t.start, t.end, t.word, match_case(t.word, rng.choice(table[t.word.lower()]))))
        return finish(self.name, text, edits, len(units))


@dataclass(frozen=True)
class CharSwap:
    """Swap two adjacent letters inside a word (``movie`` -> ``moive``).

    Units: adjacent letter pairs inside words (negations excluded); chosen pairs never
    overlap. Label-preserving because transposed letters are the most common typing slip and
    readers decode them effortlessly.

    Args:
        rate: share of eligible letter pairs to swap.
    """

    rate: float = 0.05
    name: ClassVar[str] = "char_swap"

    def __post_init__(self) -> None:
        check_rate(self.name, self.rate)

    def __call__(self, text: str, rng: random.Random) -> Transformed:
        letters = set(_letters(text, tokenize(text)))
        units = [i for i in sorted(letters) if i + 1 in letters and text[i] != text[i + 1]]
        k = sample_count(rng, self.rate, len(units))
        used: set[int] = set()
        edits = []
        for j in rng.sample(range(len(units)), len(units)) if k else []:
            i = units[j]
            if i in used or i + 1 in used:
                continue
            used.update((i, i + 1))
            edits.append(Change(i, i + 2, text[i:i + 2], text[i + 1] + text[i]))
            if len(edits) == k:
                break
        return finish(self.name, text, edits, len(units))


@dataclass(frozen=True)
class CharDrop:
    """Delete a letter from a word (``terrible`` -> ``terible``); every word keeps one letter.

    Units: letters inside words of two or more letters (negations excluded). Label-preserving
    because a dropped letter leaves the word recognisable, as in hurried real text.

    Args:
        rate: share of eligible letters to delete.
    """

    rate: float = 0.05
    name: ClassVar[str] = "char_drop"

    def __post_init__(self) -> None:
        check_rate(self.name, self.rate)

    def __call__(self, text: str, rng: random.Random) -> Transformed:
        tokens = [t for t in tokenize(text) if not is_negation(t.word)]
        units: list[tuple[int, int]] = []  # (offset, token index)
        left: list[int] = []  # letters each token may still lose
        for n, t in enumerate(tokens):
            idx = [i for i in range(t.start, t.end) if text[i].isalpha()]
            left.append(len(idx) - 1)
            if len(idx) >= 2:
                units.extend((i, n) for i in idx)
        k = sample_count(rng, self.rate, len(units))
        edits = []
        for j in rng.sample(range(len(units)), len(units)) if k else []:
            i, n = units[j]
            if left[n] == 0:
                continue
            left[n] -= 1
            edits.append(Change(i, i + 1, text[i], ""))
            if len(edits) == k:
                break
        return finish(self.name, text, edits, len(units))


@dataclass(frozen=True)
class CharRepeat:
    """Double a letter (``good`` -> ``goood``, ``movie`` -> ``moviee``): a sticky key.

    Units: letters inside words (negations excluded). Label-preserving because a repeated
    letter is a sticky key or emphasis; the word stays the same word.

    Args:
        rate: share of eligible letters to double.
    """

    rate: float = 0.05
    name: ClassVar[str] = "char_repeat"

    def __post_init__(self) -> None:
        check_rate(self.name, self.rate)

    def __call__(self, text: str, rng: random.Random) -> Transformed:
        units = _letters(text, tokenize(text))
        edits = [Change(units[j], units[j] + 1, text[units[j]], text[units[j]] * 2)
                 for j in pick(rng, units, self.rate)]
        return finish(self.name, text, edits, len(units))
