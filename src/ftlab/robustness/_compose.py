"""Apply transformations in sequence, with change records re-based onto the original text."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from ftlab.errors import ConfigError
from ftlab.robustness._base import Change, Transform, Transformed, apply_changes

__all__ = ["Compose"]


def rebase(first: Sequence[Change], second: Sequence[Change], source: str, middle: str) -> tuple[Change, ...]:
    """Combine two rounds of edits into one round against ``source``.

    ``first`` maps ``source`` to ``middle``; ``second`` has offsets into ``middle``. Edits of
    the second round that overlap (or, for insertions and deletions, touch) an edit of the
    first are merged with it into one change, so every record is exact against ``source``:
    ``apply_changes(source, result) == apply_changes(middle, second)``.
    """
    # (start, end) in `middle` coordinates of every edit of both rounds
    items: list[tuple[int, int, int, Change]] = []
    shift = 0
    for c in first:
        s = c.start + shift
        items.append((s, s + len(c.after), 0, c))
        shift += len(c.after) - (c.end - c.start)
    items += [(c.start, c.end, 1, c) for c in second]
    items.sort(key=lambda it: (it[0], it[1], it[2]))
    groups: list[list[tuple[int, int, int, Change]]] = []
    for it in items:
        if groups:
            g_start = groups[-1][0][0]
            g_end = max(x[1] for x in groups[-1])
            if it[0] < g_end or (it[0] == g_end and (it[0] == it[1] or g_start == g_end)):
                groups[-1].append(it)
                continue
        groups.append([it])
    out: list[Change] = []
    delta = 0  # (len after - len before) of first-round edits before the current group
    for group in groups:
        a = group[0][0]
        b = max(x[1] for x in group)
        firsts = [x[3] for x in group if x[2] == 0]
        seconds = [Change(x[0] - a, x[1] - a, x[3].before, x[3].after) for x in group if x[2] == 1]
        grow = sum(len(c.after) - (c.end - c.start) for c in firsts)
        start = a - delta
        end = start + (b - a) - grow
        after = apply_changes(middle[a:b], seconds)
        if source[start:end] != after:
            out.append(Change(start, end, source[start:end], after))
        delta += grow
    return tuple(out)


@dataclass(frozen=True)
class Compose:
    """Apply transformations one after another, each to the previous one's output.

    The result's ``changes`` are re-based onto the original text (overlapping edits of
    different steps merged into one record), so ``apply_changes(source, changes) == text``;
    ``steps`` keeps each step's own result, with offsets into that step's input. All steps
    draw from the one ``rng`` in order.

    Args:
        transforms: the steps, in order (at least one).
    """

    transforms: tuple[Transform, ...]

    def __init__(self, transforms: Sequence[Transform]) -> None:
        steps = tuple(transforms)
        if not steps:
            raise ConfigError("Compose: needs at least one transformation, got none.")
        for t in steps:
            if not callable(t) or not hasattr(t, "name"):
                raise ConfigError(f"Compose: {t!r} is not a transformation (a callable with a name).")
        object.__setattr__(self, "transforms", steps)

    @property
    def name(self) -> str:
        """The step names joined with ``+``."""
        return "+".join(t.name for t in self.transforms)

    @property
    def rate(self) -> float:
        """The largest step rate (informational; each step applies its own)."""
        return max(t.rate for t in self.transforms)

    def __call__(self, text: str, rng: random.Random) -> Transformed:
        current = text
        changes: tuple[Change, ...] = ()
        results = []
        for t in self.transforms:
            r = t(current, rng)
            changes = rebase(changes, r.changes, text, current)
            results.append(r)
            current = r.text
        return Transformed(current, changes, text, self.name, sum(r.eligible for r in results), tuple(results))
