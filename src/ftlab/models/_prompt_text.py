"""Prompting without a model: demonstrations, templates and the generation parser.

Pure functions over strings, so each can be tested (and property-tested) without a language
model. :class:`~ftlab.models.PromptClassifier` puts them together.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ftlab.errors import ConfigError

__all__ = [
    "Demonstration",
    "ParseRule",
    "PromptTemplate",
    "draw_demonstrations",
    "parse_generation",
]

ParseRule = Literal["exact", "normalized", "first_mention", "unparseable"]


@dataclass(frozen=True)
class Demonstration:
    """One solved example shown before the query (``label`` is the label name)."""

    text: str
    label: str
    text_pair: str | None = None
    choices: tuple[str, ...] | None = None
    id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (``artifacts/prompt.json`` of a run)."""
        out: dict[str, Any] = {"id": self.id, "text": self.text, "label": self.label}
        if self.text_pair is not None:
            out["text_pair"] = self.text_pair
        if self.choices is not None:
            out["choices"] = list(self.choices)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Demonstration:
        """Inverse of :meth:`to_dict`."""
        choices = data.get("choices")
        return cls(text=str(data["text"]), label=str(data["label"]),
                   text_pair=data.get("text_pair"), id=data.get("id"),
                   choices=tuple(choices) if choices is not None else None)


def draw_demonstrations(examples: Sequence[Any], k: int, *, seed: int) -> list[Demonstration]:
    """``k`` demonstrations from labelled ``examples``, seeded and class-balanced.

    Classes take turns (in a seeded order), each giving its next example from a seeded shuffle,
    until ``k`` are drawn or every example is used; the drawn set is then shuffled, so the
    query never follows a fixed class order. With ``k`` a multiple of the class count every
    class appears ``k / C`` times (when it has that many examples).

    Args:
        examples: records with ``text``, ``label`` and optionally ``text_pair``, ``choices``,
            ``id`` (unlabelled ones are skipped).
        k: how many to draw (0: none).
        seed: the random seed (same seed and examples: same demonstrations).

    Returns:
        The demonstrations, in prompt order.
    """
    if k <= 0:
        return []
    rng = random.Random(seed)
    by_class: dict[str, list[Any]] = {}
    for ex in examples:
        if ex.label is not None:
            by_class.setdefault(str(ex.label), []).append(ex)
    order = sorted(by_class)
    rng.shuffle(order)
    for name in order:
        rng.shuffle(by_class[name])
    drawn: list[Any] = []
    while len(drawn) < k and any(by_class[n] for n in order):
        for name in order:
            if by_class[name] and len(drawn) < k:
                drawn.append(by_class[name].pop())
    rng.shuffle(drawn)
    return [Demonstration(text=ex.text, label=str(ex.label),
                          text_pair=getattr(ex, "text_pair", None),
                          choices=tuple(ex.choices) if getattr(ex, "choices", None) else None,
                          id=getattr(ex, "id", None)) for ex in drawn]


class PromptTemplate:
    """Renders the prompt of one example, with or without its answer.

    Fields in ``template`` and ``instruction``: ``{text}``, ``{text_pair}``, ``{labels}`` (the
    verbalizers, comma-separated) and ``{choices}`` (the example's choices as lettered lines
    ``A. ...``, or the verbalizers when the example has none). A demonstration is the template
    followed by ``answer_separator`` and its label's verbalizer; demonstrations and the query
    are joined by ``demo_separator``, after the instruction.

    Args:
        template: one example's prompt.
        verbalizers: one word per class, in class-index order.
        instruction: text before everything else ("" for none).
        answer_separator: between a prompt and its answer.
        demo_separator: between the instruction, the demonstrations and the query.

    Raises:
        ConfigError: a field name outside the four above.
    """

    FIELDS = ("text", "text_pair", "labels", "choices")

    def __init__(self, template: str, verbalizers: Sequence[str], *, instruction: str = "",
                 answer_separator: str = " ", demo_separator: str = "\n\n") -> None:
        for what, value in (("template", template), ("instruction", instruction)):
            names = [f for _, f, _, _ in string.Formatter().parse(value) if f is not None]
            bad = [n for n in names if n not in self.FIELDS]
            if bad:
                raise ConfigError(f"model.{what}: unknown field(s) {bad}; the fields are "
                                  f"{list(self.FIELDS)}")
        self.template = template
        self.verbalizers = list(verbalizers)
        self.instruction = instruction
        self.answer_separator = answer_separator
        self.demo_separator = demo_separator

    def _fields(self, text: str, text_pair: str | None,
                choices: Sequence[str] | None) -> dict[str, str]:
        options = list(choices) if choices else self.verbalizers
        return {"text": text, "text_pair": text_pair or "",
                "labels": ", ".join(self.verbalizers),
                "choices": "\n".join(f"{string.ascii_uppercase[i % 26]}. {c}"
                                     for i, c in enumerate(options))}

    def render(self, text: str, text_pair: str | None = None, *,
               choices: Sequence[str] | None = None, answer: str | None = None) -> str:
        """One example's prompt; with ``answer`` (a verbalizer) appended as a demonstration."""
        body = self.template.format_map(self._fields(text, text_pair, choices))
        return body if answer is None else body + self.answer_separator + answer

    def header(self) -> str:
        """The instruction with its fields filled ("" without one)."""
        return self.instruction.format_map(self._fields("", None, None))

    def compose(self, demonstrations: Sequence[str], query: str) -> str:
        """Instruction, rendered demonstrations and the rendered query, joined."""
        parts = [p for p in (self.header(), *demonstrations) if p]
        return self.demo_separator.join([*parts, query])


_SPACE = re.compile(r"\s+")


def _norm(s: str) -> str:
    return _SPACE.sub(" ", s).strip().lower()


def parse_generation(output: str, verbalizers: Sequence[str]) -> tuple[int | None, ParseRule]:
    """Map a generated answer to a class; the rules are tried in this order.

    1. ``exact``: the output, stripped of surrounding whitespace, equals a verbalizer.
    2. ``normalized``: equal after lowercasing, collapsing whitespace and stripping
       surrounding punctuation (``" Positive."`` -> ``positive``).
    3. ``first_mention``: the verbalizer that occurs first in the output as a whole word
       (case-insensitive); at the same position the longer one wins (``"very good"`` before
       ``"very"``).
    4. ``unparseable``: none of the above (``None``): the caller counts it and scores it wrong.

    Args:
        output: the decoded generation (without the prompt).
        verbalizers: one word per class, in class-index order.

    Returns:
        ``(class index or None, rule that decided)``.
    """
    stripped = output.strip()
    for i, v in enumerate(verbalizers):
        if stripped == v.strip():
            return i, "exact"
    plain = _norm(output).strip(string.punctuation + " ")
    for i, v in enumerate(verbalizers):
        if plain == _norm(v):
            return i, "normalized"
    low = _norm(output)
    best: tuple[int, int, int] | None = None  # (position, -length, class)
    for i, v in enumerate(verbalizers):
        word = _norm(v)
        m = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", low)
        if m is not None:
            key = (m.start(), -len(word), i)
            best = key if best is None or key < best else best
    if best is not None:
        return best[2], "first_mention"
    return None, "unparseable"
