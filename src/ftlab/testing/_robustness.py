"""Conformance checks for the ``Transform`` extension point (``ftlab.robustness``)."""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Sequence
from typing import Any

__all__ = ["check_transform", "check_transformed"]

_TEXTS = (
    "",
    "   ",
    "I do not like this movie. It isn't good, and John said so in Paris on 3 May 1998!",
    "A great, funny film: 8/10. We'll see it again with Mary... :)",
    "Ünïcödé tëxt — with émojis 🎬 and 中文 words\tand\nnewlines.",
    "THE PLOT WAS TERRIBLE. But the actors were beautiful. So it cost $5, about 2 hours.",
)


def check_transformed(result: Any, source: str, *, rate: float | None = None, where: str = "") -> None:
    """Check one result: types, ``source``, change records and the rate bound.

    Args:
        result: what a transform returned for ``source``.
        source: the input text.
        rate: when given, ``len(changes) <= ceil(rate * eligible)`` must hold.
        where: a prefix for error messages.

    Raises:
        AssertionError: naming the first broken rule.
    """
    from ftlab.robustness import Transformed, apply_changes

    assert isinstance(result, Transformed), f"{where}returned {type(result).__name__}, not Transformed"
    assert isinstance(result.text, str), f"{where}text is {type(result.text).__name__}, not str"
    assert result.source == source, f"{where}source {result.source!r} is not the input {source!r}"
    assert isinstance(result.eligible, int) and result.eligible >= 0, f"{where}bad eligible {result.eligible!r}"
    end = 0
    for c in result.changes:
        assert end <= c.start <= c.end <= len(source), f"{where}change {c} unsorted, overlapping or out of range"
        assert source[c.start:c.end] == c.before, f"{where}change {c}: before != source[start:end]"
        assert c.before != c.after, f"{where}change {c} is a no-op"
        end = c.end
    rebuilt = apply_changes(source, result.changes)
    assert rebuilt == result.text, f"{where}applying the changes gives {rebuilt!r}, not {result.text!r}"
    if rate is not None and not result.steps:
        bound = math.ceil(rate * result.eligible)
        assert len(result.changes) <= bound, (
            f"{where}{len(result.changes)} changes exceed ceil(rate * eligible) = ceil({rate} * "
            f"{result.eligible}) = {bound}"
        )
    for n, step in enumerate(result.steps):
        check_transformed(step, result.steps[n - 1].text if n else source, where=f"{where}step {n}: ")


def check_transform(transform: Any, texts: Sequence[str] = _TEXTS, *, seeds: Sequence[int] = (0, 1, 2)) -> None:
    """Check that a transformation honours the :class:`ftlab.robustness.Transform` contract.

    Checks: ``name`` (non-empty str) and ``rate`` (in [0, 1]); for every text and seed it
    returns a :class:`~ftlab.robustness.Transformed` whose ``source`` is the input, whose
    change records are sorted, non-overlapping, match the source and rebuild the output
    exactly; at most ``ceil(rate * eligible)`` changes; the same seed gives the same result
    twice; and, for dataclass transforms, ``rate=0`` leaves every text untouched.

    Args:
        transform: the transformation to check.
        texts: inputs (defaults cover empty, whitespace, Unicode, numbers, names, pairs of
            sentences).
        seeds: seeds for :class:`random.Random`.

    Raises:
        AssertionError: naming the transform, the input and the first broken rule.
    """
    name = getattr(transform, "name", None)
    assert isinstance(name, str) and name, f"{transform!r}: name must be a non-empty str, got {name!r}"
    rate = getattr(transform, "rate", None)
    assert isinstance(rate, int | float) and 0 <= rate <= 1, f"{name}: rate must be in [0, 1], got {rate!r}"
    for text in texts:
        for seed in seeds:
            where = f"{name} on {text[:40]!r} (seed {seed}): "
            first = transform(text, random.Random(seed))
            check_transformed(first, text, rate=rate, where=where)
            again = transform(text, random.Random(seed))
            assert again == first, f"{where}not deterministic: {first.text!r} then {again.text!r}"
    if (dataclasses.is_dataclass(transform) and not isinstance(transform, type)
            and any(f.name == "rate" for f in dataclasses.fields(transform))):
        still: Any = dataclasses.replace(transform, rate=0.0)
        for text in texts:
            r = still(text, random.Random(0))
            assert r.text == text and not r.changes, f"{name}: rate=0 changed {text!r} into {r.text!r}"
