"""The suite format: validated models of a suite and its MFT, INV and DIR tests.

A suite is data, not code: these pydantic models validate a YAML file (or a dict built in
Python) once, at the boundary, and are frozen afterwards. Expansion into cases lives in
``_expand.py``, scoring in ``_run.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ftlab.core import closest
from ftlab.errors import ConfigError

__all__ = ["Suite", "MFT", "INV", "DIR", "Perturbation", "Direction", "KINDS", "placeholders",
           "cross_problems"]

Direction = Literal["up", "down", "not_up", "not_down"]

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def placeholders(*templates: str) -> list[str]:
    """The ``{name}`` placeholders of ``templates``, in order of first appearance, once each."""
    seen: dict[str, None] = {}
    for template in templates:
        for match in PLACEHOLDER.finditer(template):
            seen.setdefault(match.group(1), None)
    return list(seen)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Perturbation(_Spec):
    """How an INV or DIR test changes each input: exactly one of the three ways.

    In YAML a bare string is short for ``{transform: ...}`` (``perturb: typos:0.05``).

    Attributes:
        transform: an ftlab transformation pipeline (``"typos:0.05"``, ``"names"``,
            ``"locations:1.0"``), seeded per input; inputs it leaves unchanged are skipped.
        append: clauses added after each input (each input x each clause); ``{placeholders}``
            are filled from the fillers. A space is inserted unless the clause starts with one.
        prepend: clauses added before each input, likewise.
        samples: perturbed versions per input (``transform`` only), each with its own seed.
    """

    transform: str | None = None
    append: list[str] | None = None
    prepend: list[str] | None = None
    samples: int = Field(1, ge=1, le=100)

    @model_validator(mode="before")
    @classmethod
    def _bare_spec(cls, data: Any) -> Any:
        return {"transform": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _exactly_one(self) -> Perturbation:
        given = [k for k in ("transform", "append", "prepend") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a perturbation needs exactly one of transform, append, prepend; "
                             f"got {', '.join(given) or 'none'}")
        if self.samples != 1 and self.transform is None:
            raise ValueError("samples applies only to transform perturbations (append/prepend "
                             "already give one case per clause); remove it")
        clauses = self.append if self.append is not None else self.prepend
        if clauses is not None and (not clauses or any(not c.strip() for c in clauses)):
            raise ValueError(f"{given[0]} needs a list of non-empty clauses, got {clauses!r}")
        if self.transform is not None:
            # names and rates only: building may load resources (WordNet, GloVe)
            from ftlab.robustness._registry import parse_pipeline_spec

            try:
                parse_pipeline_spec(self.transform)
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        return self

    @property
    def clauses(self) -> list[str]:
        """The append/prepend clauses (empty for a transform)."""
        return list(self.append or self.prepend or [])


class _TestBase(_Spec):
    """Fields every test has.

    Attributes:
        kind: ``MFT``, ``INV`` or ``DIR`` (case-insensitive in YAML).
        name: unique within the suite; names the test in results and errors.
        capability: what the test probes (``Negation``, ``Vocabulary``, ``NER``...).
        description: one line.
        inputs: literal input texts.
        template, templates: texts with ``{placeholders}``, expanded over the fillers.
        fillers: placeholder -> values, added to (and overriding) the suite's fillers.
        max_cases: cap on the cases; a seeded uniform sample when exceeded.
    """

    kind: str = ""  # narrowed to a Literal by each test class
    name: str = Field(min_length=1, description="unique within the suite")
    capability: str = Field("General", description="what the test probes: Negation, Vocabulary...")
    description: str = ""
    inputs: list[str] = Field(default_factory=list, description="literal input texts")
    template: str | None = Field(None, description="one template, e.g. 'I {neg} {verb} it.'")
    templates: list[str] = Field(default_factory=list, description="several templates")
    fillers: dict[str, list[str]] = Field(default_factory=dict,
                                          description="placeholder -> values (adds to the suite's)")
    max_cases: int | None = Field(None, ge=1, description="cap; a seeded sample when exceeded")

    @property
    def all_templates(self) -> list[str]:
        """``template`` and ``templates`` together."""
        return ([self.template] if self.template is not None else []) + list(self.templates)

    def _template_strings(self) -> list[str]:
        return self.all_templates


class MFT(_TestBase):
    """Minimum functionality test: every case must be predicted as ``expect``.

    Attributes:
        expect: the expected label (one of the suite's ``labels``).
    """

    kind: Literal["MFT"] = "MFT"
    expect: str

    @model_validator(mode="after")
    def _has_inputs(self) -> MFT:
        if not self.inputs and not self.all_templates:
            raise ValueError("an MFT test needs inputs or template(s)")
        return self


class _Perturbed(_TestBase):
    """Fields of the tests that compare an input with a perturbed version (INV, DIR).

    Attributes:
        perturb: how ``inputs``, templates and ``from_split`` texts are perturbed.
        pairs: ``[original, perturbed]`` templates filled with the same values (no
            ``perturb``).
        from_split: draw inputs from this split of the run's data (``ftlab check``).
        n: how many inputs to draw from ``from_split`` (default 100; seeded).
    """

    perturb: Perturbation | None = None
    pairs: list[tuple[str, str]] = Field(default_factory=list,
                                         description="[original, perturbed] template pairs")
    from_split: str | None = Field(None, description="draw inputs from the run's split")
    n: int | None = Field(None, ge=1, description="inputs drawn from from_split (default 100)")

    @model_validator(mode="after")
    def _sources(self) -> _Perturbed:
        plain = bool(self.inputs or self.all_templates or self.from_split)
        if not plain and not self.pairs:
            raise ValueError(f"an {self.kind} test needs inputs, template(s), from_split or pairs")
        if plain and self.perturb is None:
            raise ValueError("inputs, templates and from_split need a perturb "
                             "(transform, append or prepend)")
        if self.pairs and self.perturb is not None:
            raise ValueError("pairs already hold the perturbed text; remove perturb "
                             "or move the inputs out of pairs")
        if self.n is not None and self.from_split is None:
            raise ValueError("n counts inputs drawn from_split; set from_split "
                             "(e.g. test) or remove n")
        return self

    def _template_strings(self) -> list[str]:
        out = self.all_templates + [t for pair in self.pairs for t in pair]
        return out + (self.perturb.clauses if self.perturb is not None else [])


class INV(_Perturbed):
    """Invariance test: the perturbation must not change the predicted label.

    Attributes:
        tolerance: when set, a case also fails when the probability of the originally
            predicted label moves by more than this (either way).
    """

    kind: Literal["INV"] = "INV"
    tolerance: float | None = Field(None, ge=0, le=1)


class DIR(_Perturbed):
    """Directional test: the perturbation must move ``P(label)`` in ``direction``.

    With ``shift = P_perturbed(label) - P_original(label)``, a case fails when

    - ``not_up``: ``shift > tolerance``; ``not_down``: ``shift < -tolerance``;
    - ``up``: ``shift <= 0`` while ``P_perturbed(label) < 1 - tolerance`` (it must rise unless
      already within ``tolerance`` of 1); ``down``: ``shift >= 0`` while
      ``P_perturbed(label) > tolerance``.

    Attributes:
        label: the label whose probability is watched (one of the suite's ``labels``).
        direction: ``up``, ``down``, ``not_up`` or ``not_down``.
        tolerance: slack, in probability.
    """

    kind: Literal["DIR"] = "DIR"
    label: str
    direction: Direction
    tolerance: float = Field(0.0, ge=0, le=1)


KINDS: dict[str, type[_TestBase]] = {"MFT": MFT, "INV": INV, "DIR": DIR}
TestSpec = Annotated[MFT | INV | DIR, Field(discriminator="kind")]


class Suite(_Spec):
    """A behavioral test suite: label names, shared fillers and a list of MFT/INV/DIR tests.

    Attributes:
        name: file-name-safe name (``checks/<name>.json``); defaults to the YAML file's stem.
        description: one line.
        labels: the label names the tests use (``expect``, ``label``).
        aliases: other names a run may use for each label (``positive: [pos, fresh]``).
        fillers: placeholder -> values, shared by every test (a test's own fillers win).
        tests: the tests, names unique.
        source: where the suite came from (``builtin:sentiment`` or a path); set by
            :func:`load_suite`.
    """

    name: str
    description: str = ""
    labels: list[str] = Field(min_length=1)
    aliases: dict[str, list[str]] = Field(default_factory=dict)
    fillers: dict[str, list[str]] = Field(default_factory=dict)
    tests: list[TestSpec] = Field(min_length=1)
    source: str = ""

    @model_validator(mode="before")
    @classmethod
    def _upper_kinds(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and isinstance(data.get("tests"), Sequence):
            data = dict(data)
            data["tests"] = [
                {**t, "kind": t["kind"].upper()} if isinstance(t, Mapping)
                and isinstance(t.get("kind"), str) and t["kind"].upper() in KINDS else t
                for t in data["tests"]
            ]
        return data

    @field_validator("name")
    @classmethod
    def _safe_name(cls, v: str) -> str:
        if not _SAFE_NAME.fullmatch(v):
            raise ValueError(f"suite name {v!r} must be a plain file name (letters, digits, "
                             f"'_', '.', '-'); it names checks/<name>.json")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Suite:
        views = [_View.of(t) for t in self.tests]
        problems = cross_problems(self.labels, self.aliases, self.fillers, views)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def fillers_for(self, test: MFT | INV | DIR) -> dict[str, list[str]]:
        """The suite's fillers overridden by the test's own."""
        return {**self.fillers, **test.fillers}

    @property
    def splits(self) -> set[str]:
        """The run splits that ``from_split`` tests draw inputs from."""
        return {t.from_split for t in self.tests if isinstance(t, INV | DIR) and t.from_split}

    def test(self, name: str) -> MFT | INV | DIR:
        """The test called ``name``.

        Raises:
            ConfigError: no such test (with the closest name).
        """
        for t in self.tests:
            if t.name == name:
                return t
        names = [t.name for t in self.tests]
        raise ConfigError(f"suite {self.name!r} has no test {name!r}.{closest(name, names)}")


class _View(NamedTuple):
    """What the cross-field checks need of a test (from a model or a raw YAML mapping)."""

    name: str
    kind: str
    field: str  # "expect" or "label"
    label: str | None
    fillers: Mapping[str, Sequence[str]]
    templates: list[str]

    @classmethod
    def of(cls, test: MFT | INV | DIR) -> _View:
        """The view of a validated test."""
        label = test.expect if isinstance(test, MFT) else getattr(test, "label", None)
        return cls(test.name, test.kind, "expect" if isinstance(test, MFT) else "label", label,
                   test.fillers, test._template_strings())


def cross_problems(labels: Sequence[str], aliases: Mapping[str, Any],
                   fillers: Mapping[str, Sequence[str]], tests: Sequence[_View | None], *,
                   describe: Callable[[int], str] | None = None) -> list[str]:
    """Problems across fields: labels (unknown, duplicated), fillers (missing, empty), names.

    ``tests[i]`` may be ``None`` for a test too broken to look at; ``describe(i)`` names test
    ``i`` in messages (default ``tests[i] 'name' (KIND)``).
    """
    out = []
    labels = list(labels)
    if len(set(labels)) != len(labels):
        out.append(f"labels {labels} hold duplicates")
    for key in aliases:
        if key not in labels:
            out.append(f"aliases: {key!r} is not one of the labels {labels}.{closest(key, labels)}")
    for key, values in fillers.items():
        if not values:
            out.append(f"fillers.{key}: needs at least one value")
    for i, test in enumerate(tests):
        if test is None:
            continue
        at = describe(i) if describe else f"tests[{i}] {test.name!r} ({test.kind})"
        if test.label is not None and test.label not in labels:
            out.append(f"{at}: {test.field}: {test.label!r} is not one of the suite's labels "
                       f"{labels}.{closest(test.label, labels)} Add it to labels or fix the name.")
        for key, values in test.fillers.items():
            if not values:
                out.append(f"{at}: fillers.{key}: needs at least one value")
        known = {**fillers, **test.fillers}
        for name in placeholders(*test.templates):
            if name not in known:
                out.append(f"{at}: placeholder {{{name}}} has no filler; add fillers: "
                           f"{{{name}: [...]}} to the test or the suite.{closest(name, known)}")
    names = [t.name for t in tests if t is not None]
    out += [f"test name {n!r} is used {names.count(n)} times; names must be unique"
            for n in sorted({n for n in names if names.count(n) > 1})]
    return out
