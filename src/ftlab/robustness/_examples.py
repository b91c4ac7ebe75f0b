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

Sides = Literal["text", "pair", "choices", "both"]


@dataclass(frozen=True)
class ExampleChanges:
    """What a transformation changed in one example.

    Attributes:
        id: the example's id.
        text: changes to ``text`` (offsets into the original ``text``).
        text_pair: changes to ``text_pair`` (offsets into the original ``text_pair``).
        choices: multiple choice: the changes to each choice, in choice order (offsets into the
            original choice); empty when the choices were not transformed.
    """

    id: str
    text: tuple[Change, ...] = ()
    text_pair: tuple[Change, ...] = ()
    choices: tuple[tuple[Change, ...], ...] = ()

    @property
    def changed(self) -> bool:
        """Whether any side changed."""
        return bool(self.text or self.text_pair or any(self.choices))


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
        sides: ``"text"`` (first text; the context of a multiple-choice item), ``"pair"``
            (``text_pair``), ``"choices"`` (every choice of a multiple-choice item, each with its
            own generator) or ``"both"`` (text and pair, or context and choices). Examples
            without a pair are left alone by ``"pair"``.

    Returns:
        ``(new_examples, changes)``, both in the order of ``examples``.

    Raises:
        ConfigError: ``sides`` is not one of the four, or asks for pairs (choices) and no
            example has one.
    """
    if sides not in ("text", "pair", "choices", "both"):
        raise ConfigError(f"transform_examples: sides must be 'text', 'pair', 'choices' or "
                          f"'both', got {sides!r}.")
    if sides == "choices" and examples and all(ex.choices is None for ex in examples):
        raise ConfigError(
            "transform_examples: sides='choices' but no example is a multiple-choice item; use "
            "sides='text' (or 'pair'/'both' for text pairs).")
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
        choices = ex.choices
        choice_changes: tuple[tuple[Change, ...], ...] = ()
        if sides in ("choices", "both") and ex.choices is not None:
            results = [transform(c, example_rng(seed, ex.id, f"choice{k}"))
                       for k, c in enumerate(ex.choices)]
            choices = tuple(r.text for r in results)
            choice_changes = tuple(r.changes for r in results)
        if text_changes or pair_changes or any(choice_changes):
            ex_new = replace(ex, text=text, text_pair=pair, choices=choices)
        else:
            ex_new = ex
        out.append(ex_new)
        records.append(ExampleChanges(ex.id, text_changes, pair_changes, choice_changes))
    return out, records
