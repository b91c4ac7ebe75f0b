"""Data augmentation: transformed copies of randomly chosen training examples."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ftlab.core import Example
from ftlab.errors import ConfigError
from ftlab.robustness._base import Change, Transform
from ftlab.robustness._examples import ExampleChanges, Sides, transform_examples

__all__ = ["AugmentRecord", "augment_examples"]


@dataclass(frozen=True)
class AugmentRecord:
    """One added example: where it came from and what changed.

    Attributes:
        id: the new example's id (``<source id>~aug<k>`` or ``~aug<k>.<round>``).
        source_id: the training example it was made from.
        transform: the pipeline spec (or transformation name) that made it.
        changes: the edits, offsets into the source example's texts.
    """

    id: str
    source_id: str
    transform: str
    changes: ExampleChanges

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (one line of ``augment.jsonl``)."""
        def side(changes: Sequence[Change]) -> list[dict[str, object]]:
            return [{"start": c.start, "end": c.end, "before": c.before, "after": c.after}
                    for c in changes]

        out: dict[str, object] = {"id": self.id, "source_id": self.source_id,
                                  "transform": self.transform,
                                  "changes": side(self.changes.text)}
        if self.changes.text_pair:
            out["pair_changes"] = side(self.changes.text_pair)
        if any(self.changes.choices):  # multiple choice: the edits of each choice
            out["choice_changes"] = [side(c) for c in self.changes.choices]
        return out


def augment_examples(
    train: Sequence[Example],
    transform: Transform,
    n: int,
    *,
    seed: int,
    sides: Sides = "text",
    tag: str = "aug0",
    spec: str | None = None,
) -> tuple[list[Example], list[AugmentRecord], dict[str, int]]:
    """``n`` transformed copies of randomly chosen training examples (seeded).

    Examples are drawn without replacement in a seeded random order; a copy the
    transformation left unchanged (no eligible word, say) is skipped and the next example is
    tried, so every added example differs from its source. When the training set runs out
    before ``n`` changed copies, further rounds draw again (new ids, new edits) until ``n``
    is reached or a full round changes nothing.

    Args:
        train: the training examples (not modified).
        transform: the transformation (e.g. from :func:`build_pipeline`).
        n: how many examples to add.
        seed: the run's seed; the choice and the edits depend on it and on ``tag`` only.
        sides: which text of a pair to transform (multiple choice: ``"text"`` the context,
            ``"choices"`` every choice, ``"both"`` the two).
        tag: distinguishes several augment entries of one run (ids ``<id>~<tag>``).
        spec: recorded as the transformation in the records (default: the transform's name).

    Returns:
        ``(added, records, stats)``: the new examples (labels kept, ``meta`` marks the source),
        one record each, and ``{"requested", "added", "tried", "unchanged"}``.

    Raises:
        ConfigError: ``n`` < 1 or an empty training set.
    """
    if n < 1:
        raise ConfigError(f"augment: n must be >= 1, got {n}")
    if not train:
        raise ConfigError("augment: the training split is empty; nothing to augment")
    name = spec or str(getattr(transform, "name", "transform"))
    order_rng = random.Random(f"ftlab.augment:{seed}:{tag}")
    added: list[Example] = []
    records: list[AugmentRecord] = []
    tried = unchanged = 0
    rounds = 0
    while len(added) < n:
        order = list(range(len(train)))
        order_rng.shuffle(order)
        suffix = f"~{tag}" if rounds == 0 else f"~{tag}.{rounds}"
        changed_this_round = 0
        # transform in chunks: only as many examples as still needed (plus misses)
        pos = 0
        while pos < len(order) and len(added) < n:
            chunk = [train[i] for i in order[pos: pos + max(n - len(added), 16)]]
            pos += len(chunk)
            renamed = [replace(ex, id=f"{ex.id}{suffix}") for ex in chunk]
            out, changes = transform_examples(renamed, transform, seed, sides)
            for src, new, ch in zip(chunk, out, changes):
                tried += 1
                if not ch.changed:
                    unchanged += 1
                    continue
                if len(added) >= n:
                    break
                meta = {**dict(src.meta or {}), "augmented_from": src.id}
                added.append(replace(new, meta=meta))
                records.append(AugmentRecord(new.id, src.id, name, ch))
                changed_this_round += 1
        rounds += 1
        if changed_this_round == 0:
            break  # the transformation changes none of these texts: stop short
    stats = {"requested": n, "added": len(added), "tried": tried, "unchanged": unchanged}
    return added, records, stats
