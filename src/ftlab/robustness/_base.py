"""The transformation contract: change records, results, the protocol and shared helpers."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ftlab.errors import ConfigError

__all__ = ["Change", "Transformed", "Transform", "apply_changes"]


@dataclass(frozen=True)
class Change:
    """One edit: ``source[start:end]`` (``before``) became ``after``.

    Attributes:
        start: offset of the first replaced character in the text the transform received.
        end: offset one past the last replaced character (``start == end`` is an insertion).
        before: the replaced text, ``source[start:end]``.
        after: what replaced it.
    """

    start: int
    end: int
    before: str
    after: str


@dataclass(frozen=True)
class Transformed:
    """The result of a transformation.

    Attributes:
        text: the transformed text.
        changes: the edits, sorted and non-overlapping, with offsets into ``source``;
            ``apply_changes(source, changes) == text`` always holds (also for :class:`Compose`,
            whose records are re-based onto the original text).
        source: the text the transformation received.
        transform: name of the transformation (``"typos"``, ``"typos+synonyms"``).
        eligible: how many units (words, characters, sentences, see each transform) could
            have been changed; a transform with rate ``r`` makes at most ``ceil(r * eligible)``
            changes. For :class:`Compose` it is the sum over the steps (informational).
        steps: for :class:`Compose`, each step's own result, whose offsets point into that
            step's input (the previous step's output); empty for single transforms.
    """

    text: str
    changes: tuple[Change, ...]
    source: str
    transform: str
    eligible: int
    steps: tuple[Transformed, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether the text differs from the source."""
        return self.text != self.source


@runtime_checkable
class Transform(Protocol):
    """A seeded, label-preserving text transformation: ``(text, rng) -> Transformed``.

    Implementations are pure: the output depends only on ``text``, the transform's options
    and the state of ``rng`` (a :class:`random.Random`), and they never raise on any string.
    ``rate`` is the share of eligible units (see each transform) to change; ``0`` leaves the
    text untouched.
    """

    @property
    def name(self) -> str: ...

    @property
    def rate(self) -> float: ...

    def __call__(self, text: str, rng: random.Random) -> Transformed: ...


def apply_changes(text: str, changes: Iterable[Change]) -> str:
    """Apply change records to ``text`` (the text they were recorded against).

    Args:
        text: the source text.
        changes: sorted, non-overlapping changes whose ``before`` matches ``text``.

    Returns:
        The edited text.

    Raises:
        ValueError: a change overlaps the previous one, lies outside the text or its
            ``before`` does not match the text.
    """
    out: list[str] = []
    pos = 0
    for c in changes:
        if c.start < pos or c.end < c.start or c.end > len(text):
            raise ValueError(
                f"change {c} is out of order, overlaps the previous one (which ended at {pos}) "
                f"or lies outside the text (length {len(text)})"
            )
        if text[c.start:c.end] != c.before:
            raise ValueError(f"change {c} does not match the text there: {text[c.start:c.end]!r}")
        out.append(text[pos:c.start])
        out.append(c.after)
        pos = c.end
    out.append(text[pos:])
    return "".join(out)


def finish(name: str, text: str, edits: Iterable[Change], eligible: int) -> Transformed:
    """Sort ``edits``, drop no-ops and build the :class:`Transformed` result."""
    changes = tuple(sorted((c for c in edits if c.before != c.after), key=lambda c: (c.start, c.end)))
    return Transformed(apply_changes(text, changes), changes, text, name, eligible)


def check_rate(name: str, rate: object) -> float:
    """Raise :class:`ConfigError` unless ``0 <= rate <= 1``; return it as a float."""
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0.0 <= rate <= 1.0:
        raise ConfigError(
            f"transform {name!r}: rate is the share of eligible units to change and must "
            f"satisfy 0 <= rate <= 1, got {rate!r}."
        )
    return float(rate)


def sample_count(rng: random.Random, rate: float, eligible: int) -> int:
    """How many of ``eligible`` units to change: ``rate * eligible``, stochastically rounded.

    The expected count is exactly ``rate * eligible`` and the count never exceeds
    ``ceil(rate * eligible)``; rate 0 gives 0.
    """
    if eligible <= 0 or rate <= 0.0:
        return 0
    exact = rate * eligible
    count = math.floor(exact)
    if rng.random() < exact - count:
        count += 1
    return min(count, eligible)


def pick(rng: random.Random, items: Sequence[object], rate: float) -> list[int]:
    """Indices (sorted) of the items to change, ``sample_count`` of them, chosen uniformly."""
    k = sample_count(rng, rate, len(items))
    return sorted(rng.sample(range(len(items)), k)) if k else []
