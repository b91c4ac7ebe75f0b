"""Entity swaps a user meets in real text: person names, places and numbers."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from ftlab.robustness._base import Change, Transformed, check_rate, finish, sample_count

__all__ = ["NameSwap", "LocationSwap", "NumberSwap", "NAMES", "LOCATIONS"]

# Common names chosen not to be ordinary words ("Will", "Grace", "Mark" are left out), grouped
# so a swap keeps the pronouns around it consistent.
NAMES: Mapping[str, tuple[str, ...]] = {
    "female": tuple("""Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen
        Nancy Lisa Emily Michelle Laura Emma Olivia Sophia Hannah Priya Aisha Mei Fatima Maria
        Chloe Rachel Rebecca Natalie Julia Ingrid""".split()),
    "male": tuple("""James John Robert Michael David William Richard Joseph Thomas Charles Daniel
        Matthew Anthony Steven Paul Andrew Joshua Kevin Brian George Edward Ryan Jacob Ahmed
        Rahul Wei Carlos Juan Omar Kenji""".split()),
    "surname": tuple("""Johnson Williams Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
        Gonzalez Wilson Anderson Taylor Jackson Thompson Harris Robinson Nguyen Patel Chen Singh
        Kowalski Okafor Tanaka Schmidt Rossi Novak Larsen Dubois Murphy""".split()),
}

LOCATIONS: Mapping[str, tuple[str, ...]] = {
    "city": ("Paris", "London", "Berlin", "Madrid", "Rome", "Tokyo", "Sydney", "Toronto",
             "Chicago", "Boston", "Dublin", "Vienna", "Prague", "Lisbon", "Mumbai", "Cairo",
             "Lagos", "Nairobi", "Seoul", "Bangkok", "Melbourne", "Seattle", "Denver", "Houston",
             "Amsterdam", "Oslo", "Stockholm", "Helsinki", "Athens", "Warsaw", "New York",
             "Los Angeles", "San Francisco", "Hong Kong", "Mexico City", "Buenos Aires"),
    "country": ("France", "Germany", "Spain", "Italy", "Japan", "Canada", "Australia", "Brazil",
                "Mexico", "India", "China", "Egypt", "Kenya", "Nigeria", "Sweden", "Norway",
                "Poland", "Greece", "Ireland", "Portugal", "Argentina", "Chile", "Peru",
                "Vietnam", "Thailand", "Indonesia", "Belgium", "Austria", "South Korea",
                "New Zealand", "South Africa"),
}


def _phrases(groups: Mapping[str, Sequence[str]]) -> tuple[re.Pattern[str], dict[str, str]]:
    group_of = {p: g for g, ps in groups.items() for p in ps}
    body = "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in sorted(group_of, key=len, reverse=True))
    return re.compile(rf"(?<![\w'\u2019-])(?:{body})(?![\w'\u2019-])"), group_of


def _swap(name: str, text: str, rng: random.Random, rate: float,
          groups: Mapping[str, Sequence[str]]) -> Transformed:
    """Replace listed phrases with another of their group, every occurrence alike."""
    pattern, group_of = _phrases(groups)
    hits = [m for m in pattern.finditer(text)]
    key = {m.start(): " ".join(m.group().split()) for m in hits}
    budget = sample_count(rng, rate, len(hits))
    counts: dict[str, int] = {}
    for m in hits:
        counts[key[m.start()]] = counts.get(key[m.start()], 0) + 1
    present = set(counts)
    mapping: dict[str, str] = {}
    for surface in rng.sample(sorted(counts), len(counts)) if budget else []:
        if counts[surface] > budget:
            continue
        choices = [p for p in groups[group_of[surface]] if p not in present and p not in mapping.values()]
        if choices:
            mapping[surface] = rng.choice(choices)
            budget -= counts[surface]
    edits = [Change(m.start(), m.end(), m.group(), mapping[key[m.start()]])
             for m in hits if key[m.start()] in mapping]
    return finish(name, text, edits, len(hits))


@dataclass(frozen=True)
class NameSwap:
    """Replace person names from a built-in list with others of the same kind.

    First names swap within their gender (so ``she``/``he`` still agree), surnames with
    surnames, and every occurrence of a name gets the same replacement. Units: occurrences of
    listed names (see :data:`NAMES`). Label-preserving because which person a text is about
    does not decide its sentiment or topic; a prediction that moves reveals reliance on names.

    Args:
        rate: share of name occurrences to replace (whole names at a time).
        names: groups of interchangeable names; the default is :data:`NAMES`.
    """

    rate: float = 0.5
    names: Mapping[str, Sequence[str]] | None = None
    name: ClassVar[str] = "names"

    def __post_init__(self) -> None:
        check_rate(self.name, self.rate)

    def __call__(self, text: str, rng: random.Random) -> Transformed:
        return _swap(self.name, text, rng, self.rate, self.names or NAMES)


@dataclass(frozen=True)
class LocationSwap:
    """Replace cities with cities and countries with countries from a built-in list.

    Units: occurrences of listed places (see :data:`LOCATIONS`); every occurrence of a place
    gets the same replacement. Label-preserving for sentiment and for most topics: a review of
    a hotel in Paris reads the same in Lisbon. Where a place itself is evidence of the label
    (regional news), a changed prediction shows that dependence; read the result that way.

    Args:
        rate: share of place occurrences to replace.
        places: groups of interchangeable places; the default is :data:`LOCATIONS`.
    """

    rate: float = 0.5
    places: Mapping[str, Sequence[str]] | None = None
    name: ClassVar[str] = "locations"

    def __post_init__(self) -> None:
        check_rate(self.name, self.rate)

    def __call__(self, text: str, rng: random.Random) -> Transformed:
        return _swap(self.name, text, rng, self.rate, self.places or LOCATIONS)


_NUMBER = re.compile(r"(?<![\w.,/:%$\u20ac\u00a3-])\d+(?:[.,]\d+)*(?![\w/:%]|[.,]\d)")
# Rating-like contexts carry the label itself ("8/10", "4 out of 5", "3 stars", "rated 9"),
# and percentages often do ("only 10% of it works"): those numbers are never changed.
_RATING_AFTER = re.compile(r"\s*(?:/|out\s+of\b|stars?\b|points?\b|pts\b|%|percent\b)", re.IGNORECASE)
_RATING_BEFORE = re.compile(
    r"(?:/|\bout\s+of|\b(?:rated?|rating|score[ds]?|grade[ds]?|give\s+it|gave\s+it|giving\s+it)"
    r"(?:\s+(?:of|a|an|it))?\s*:?)\s*$",
    re.IGNORECASE,
)


def _new_digits(rng: random.Random, number: str) -> str:
    digits = [i for i, c in enumerate(number) if c.isdigit()]
    years = len(number) == 4 and number[:2] in ("19", "20")
    out = list(number)
    for n, i in enumerate(digits):
        if years and n < 2:
            continue  # a year stays a year of the same century
        low = 1 if n == 0 and len(digits) > 1 else 0  # no new leading zero
        out[i] = str(rng.randint(low, 9))
    if "".join(out) == number:  # force a change in the last digit
        last = digits[-1]
        out[last] = str((int(number[last]) + rng.randint(1, 9)) % 10)
    return "".join(out)


@dataclass(frozen=True)
class NumberSwap:
    """Replace numbers with others of the same shape (``2 hours`` -> ``7 hours``,
    ``1,250`` -> ``3,918``, ``1998`` -> ``1973``).

    Digits change, separators and length stay, years stay in their century. Units: standalone
    numbers outside rating-like contexts. Label-preserving because quantities in reviews and
    news rarely decide the label, EXCEPT ratings: ``8/10``, ``4 out of 5``, ``3 stars``,
    ``rated 9`` and percentages often are the label (review labels are frequently derived from
    the star rating), so changing them would change the gold label; they are skipped.

    Args:
        rate: share of eligible numbers to change.
    """

    rate: float = 0.5
    name: ClassVar[str] = "numbers"

    def __post_init__(self) -> None:
        check_rate(self.name, self.rate)

    def __call__(self, text: str, rng: random.Random) -> Transformed:
        units = [
            m for m in _NUMBER.finditer(text)
            if m.group().isascii()
            and not _RATING_AFTER.match(text, m.end())
            and not _RATING_BEFORE.search(text, max(0, m.start() - 40), m.start())
        ]
        k = sample_count(rng, self.rate, len(units))
        chosen = sorted(rng.sample(range(len(units)), k)) if k else []
        edits = [Change(units[j].start(), units[j].end(), units[j].group(),
                        _new_digits(rng, units[j].group())) for j in chosen]
        return finish(self.name, text, edits, len(units))
