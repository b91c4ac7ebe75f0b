"""Transform ftlab :class:`~ftlab.data.Example` lists deterministically per example."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from ftlab.core import Example
from ftlab.errors import ConfigError
from ftlab.robustness._base import Change, Transform

__all__ = ["ExampleChanges", "transform_examples", "example_rng"]

Sides = Literal["text", "pair", "both"]


@dataclass(frozen=True)
class ExampleChanges:
    """What a transformation changed in one example.

    Attributes:
        id: the example's id.
        text: changes to ``text`` (offsets into the original ``text``).
        text_pair: changes to ``text_pair`` (offsets into the original ``text_pair``).
    """

    id: str
    text: tuple[Change, ...] = ()
    text_pair: tuple[Change, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether either side changed."""
        return bool(self.text or self.text_pair)


def example_rng(seed: int, example_id: str, side: str) -> random.Random:
    """The generator for one side of one example: a function of (seed, id, side) only.

    String seeds are hashed with SHA-512 by :class:`random.Random`, independent of
    ``PYTHONHASHSEED``, so results are stable across runs, orders and batches.
    """
    return random.Random(f"ftlab.robustness:{seed}:{side}:{example_id}")


def transform_examples(
    examples: Sequence[Example],
    transform: Transform,
    seed: int,
    sides: Sides = "text",
) -> tuple[list[Example], list[ExampleChanges]]:
    """Apply ``transform`` to each example, seeded by ``(seed, example.id)``.

    Each example (and each side of a pair) gets its own generator, so an example's result
    does not depend on its position, the other examples or batching; transforming ``"both"``
    sides gives the same ``text`` as transforming ``"text"`` alone. Labels, ids and ``meta``
    are kept; the inputs are not modified.

    Args:
        examples: the examples.
        transform: any :class:`Transform` (e.g. from :func:`build_pipeline`).
        seed: the run's seed.
        sides: ``"text"`` (first text), ``"pair"`` (``text_pair``) or ``"both"``. Examples
            without a pair are left alone by ``"pair"``.

    Returns:
        ``(new_examples, changes)``, both in the order of ``examples``.

    Raises:
        ConfigError: ``sides`` is not one of the three, or asks for pairs and no example has one.
    """
    if sides not in ("text", "pair", "both"):
        raise ConfigError(f"transform_examples: sides must be 'text', 'pair' or 'both', got {sides!r}.")
    if sides == "pair" and examples and all(ex.text_pair is None for ex in examples):
        raise ConfigError(
            "transform_examples: sides='pair' but no example has a text_pair; use sides='text'."
        )
    out: list[Example] = []
    records: list[ExampleChanges] = []
    for ex in examples:
        text, pair = ex.text, ex.text_pair
        text_changes: tuple[Change, ...] = ()
        pair_changes: tuple[Change, ...] = ()
        if sides in ("text", "both"):
            r = transform(ex.text, example_rng(seed, ex.id, "text"))
            text, text_changes = r.text, r.changes
        if sides in ("pair", "both") and ex.text_pair is not None:
            r = transform(ex.text_pair, example_rng(seed, ex.id, "text_pair"))
            pair, pair_changes = r.text, r.changes
        out.append(replace(ex, text=text, text_pair=pair) if (text_changes or pair_changes) else ex)
        records.append(ExampleChanges(ex.id, text_changes, pair_changes))
    return out, records
