"""Multiple-choice rows: where the choices sit, how the label names the right one, and the two
real schemas shipped as presets (WinoGrande and COPA).

A multiple-choice :class:`~ftlab.core.Example` holds the context in ``text``, the candidate
answers in ``choices`` and, as its label, the 0-based index of the correct choice as a string
(``"0"``..``"N-1"``): the label map then maps choice ``i`` to class ``i`` and every classifier
tool (metrics, calibration, ensembles, significance tests) works on choice indices unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ftlab.data._checks import normalize_text

__all__ = ["ChoiceLabel", "ChoiceSchema", "ChoiceSpec", "CHOICE_SCHEMAS", "choice_spec",
           "choice_item"]

ChoiceLabel = Literal["index", "index_1", "text"]
ChoiceSchema = Literal["winogrande", "copa"]
_LABEL_HELP = ("`data.columns.choice_label` says how the label names the right choice: index "
               "(0-based), index_1 (1-based, WinoGrande's '1'/'2') or text (the choice's text)")


@dataclass(frozen=True)
class ChoiceSpec:
    """Where a row keeps its choices and how its label points at the right one.

    Attributes:
        columns: one column per choice (``option1, option2``), in choice order.
        field: instead, one column holding the list of choices (a JSON list; in CSV/TSV a
            JSON array written as text).
        label: ``"index"`` (0-based), ``"index_1"`` (1-based) or ``"text"`` (the text of the
            correct choice).
        schema: a preset that also rewrites the row (``"winogrande"``: the sentence is cut at
            its blank ``_``; ``"copa"``: the premise gets "because"/"so" from ``question``).
        extra: further columns the schema needs (COPA's ``question``).
    """

    columns: tuple[str, ...] = ()
    field: str | None = None
    label: ChoiceLabel = "index"
    schema: ChoiceSchema | None = None
    extra: tuple[str, ...] = ()

    @property
    def required(self) -> list[tuple[str, str]]:
        """(config option, column) pairs every row must have."""
        opt = "columns.choices"
        out = [(opt, c) for c in self.columns]
        if self.field is not None:
            out.append((opt, self.field))
        out.extend((f"schema {self.schema}", c) for c in self.extra)
        return out

    def raw_choices(self, row: Mapping[str, Any]) -> tuple[list[tuple[str, Any]], str | None]:
        """``[(field name, raw value), ...]`` of a row's choices, or a problem message."""
        if self.field is None:
            return [(c, row[c]) for c in self.columns], None
        value = row[self.field]
        if isinstance(value, str) and value.lstrip().startswith("["):
            try:
                value = json.loads(value)
            except ValueError as exc:
                return [], (f"field {self.field!r} (from `columns.choices`) is not a valid JSON "
                            f"list ({exc}); write the choices as a JSON array like "
                            f'["first", "second"]')
        if hasattr(value, "tolist"):  # numpy arrays from Parquet/datasets
            value = value.tolist()
        if not isinstance(value, (list, tuple)):
            return [], (f"field {self.field!r} (from `columns.choices`) must be a list of "
                        f"choices, got {_show(value)}; write it as a JSON array like "
                        f'["first", "second"], or list one column per choice in '
                        f"`columns.choices`")
        return [(f"{self.field}[{i}]", v) for i, v in enumerate(value)], None

    def label_index(self, label: str, choices: Sequence[str], col: str) -> tuple[int | None, str]:
        """The 0-based index the label names, or ``(None, problem message)``."""
        n = len(choices)
        if self.label == "text":
            hits = [i for i, c in enumerate(choices) if c.strip() == label.strip()]
            if hits:
                return hits[0], ""
            return None, (f"label field {col!r} is {label!r}, which is none of the {n} choices; "
                          f"give the text of the correct choice, or fix {_LABEL_HELP}")
        base = 1 if self.label == "index_1" else 0
        try:
            value = int(label)
        except ValueError:
            return None, (f"label field {col!r} is {label!r}, not a choice number; "
                          f"{_LABEL_HELP}")
        if not base <= value < n + base:
            return None, (f"label field {col!r} is {label!r}, out of range for {n} choices "
                          f"(valid: {base}..{n - 1 + base}); fix the label, or {_LABEL_HELP}")
        return value - base, ""

    def rewrite(self, text: str, choices: list[str], row: Mapping[str, Any]
                ) -> tuple[str, list[str], str]:
        """Apply the schema: ``(context, choices, problem)``; problem is ``""`` when fine."""
        if self.schema == "winogrande":
            if text.count("_") != 1:
                return text, choices, (f"the WinoGrande sentence must hold exactly one blank "
                                       f"'_', found {text.count('_')}; fix the sentence")
            # the usual multiple-choice reading: context = the sentence up to the blank, each
            # choice = the option followed by the rest of the sentence
            before, after = text.split("_")
            return before.rstrip(), [f"{c}{after}" for c in choices], ""
        if self.schema == "copa":
            question = str(row.get("question", "")).strip().lower()
            if question not in ("cause", "effect"):
                return text, choices, (f"COPA field 'question' must be 'cause' or 'effect', got "
                                       f"{_show(row.get('question'))}; fix the row")
            joint = "because" if question == "cause" else "so"
            return f"{text.rstrip().rstrip('.')} {joint}", choices, ""
        return text, choices, ""


@dataclass(frozen=True)
class _Preset:
    text: str
    choices: tuple[str, ...]
    label: str
    choice_label: ChoiceLabel
    extra: tuple[str, ...] = ()


CHOICE_SCHEMAS: dict[str, _Preset] = {
    # allenai/winogrande: sentence (with "_"), option1, option2, answer "1"/"2" ("" in test)
    "winogrande": _Preset("sentence", ("option1", "option2"), "answer", "index_1"),
    # COPA (SuperGLUE): premise, choice1, choice2, question cause/effect, label 0/1
    "copa": _Preset("premise", ("choice1", "choice2"), "label", "index", ("question",)),
}


def choice_spec(
    choices: str | Sequence[str] | None,
    *,
    choice_label: ChoiceLabel = "index",
    schema: ChoiceSchema | None = None,
) -> ChoiceSpec | None:
    """The :class:`ChoiceSpec` for reader options, or ``None`` for a non-multiple-choice source.

    Args:
        choices: a list of columns (one per choice) or one column holding a list of choices.
        choice_label: how the label names the correct choice.
        schema: a preset (``"winogrande"``, ``"copa"``) that sets the columns itself.
    """
    if schema is not None:
        preset = CHOICE_SCHEMAS[schema]
        return ChoiceSpec(columns=preset.choices, label=preset.choice_label, schema=schema,
                          extra=preset.extra)
    if choices is None:
        return None
    if isinstance(choices, str):
        return ChoiceSpec(field=choices, label=choice_label)
    return ChoiceSpec(columns=tuple(choices), label=choice_label)


def choice_item(builder: Any, row: Mapping[str, Any], text: str, label: str | None, here: str,
                line: int, where: str) -> tuple[str, tuple[str, ...], str | None] | None:
    """Context, checked choices and the 0-based label of a multiple-choice row.

    ``builder`` is the reader's row builder: its ``spec``, ``n_choices`` (count and line of the
    first row), ``label`` column, ``_text`` check and ``problem`` collector. Returns ``None``
    after recording a problem (``"<where> <line>: ..."`` naming the field and the fix).
    """
    self = builder
    spec = self.spec
    assert spec is not None
    raw, problem = spec.raw_choices(row)
    if problem:
        self.problem(f"{here}: {problem}")
        return None
    choices: list[str] = []
    for name, value in raw:
        if value is None or (isinstance(value, str) and not value.strip()):
            self.problem(f"{here}: choice {name!r} is empty; every choice needs a text: "
                         f"fill it in or drop the row")
            return None
        choice = self._text(value, here, "columns.choices", name)
        if choice is None:
            return None
        choices.append(choice)
    if len(choices) < 2:
        self.problem(f"{here}: {len(choices)} choice(s) in {spec.field or spec.columns}; a "
                     f"multiple-choice item needs at least 2: add the choices or drop the row")
        return None
    if self.n_choices is None:
        self.n_choices = (len(choices), line)
    elif len(choices) != self.n_choices[0]:
        n, first = self.n_choices
        self.problem(f"{here}: {len(choices)} choices, but {where} {first} has {n}; every "
                     f"item needs the same number of choices: add or remove choices, or "
                     f"drop the row")
        return None
    seen: dict[str, int] = {}
    for i, c in enumerate(choices):
        j = seen.setdefault(normalize_text(c), i)
        if j != i:
            self.problem(f"{here}: choices {j} and {i} are the same text ({_show(c)}), so "
                         f"the label cannot tell them apart; fix one of them or drop the row")
            return None
    context, choices, problem = spec.rewrite(text, choices, row)
    if problem:
        self.problem(f"{here}: {problem}")
        return None
    index = None
    if label is not None:
        index, problem = spec.label_index(label, choices, str(self.label))
        if index is None:
            self.problem(f"{here}: {problem}")
            return None
    return context, tuple(choices), None if index is None else str(index)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
