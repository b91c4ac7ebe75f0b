"""Turn a suite's tests into concrete cases: template expansion, perturbations, sampling.

Everything is a function of ``(suite, seed, data)`` only: the same seed gives the same cases,
in the same order, on every machine (string seeds hash with SHA-512, independent of
``PYTHONHASHSEED``).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ftlab.errors import ConfigError
from ftlab.robustness._examples import example_rng
from ftlab.robustness.suites._spec import (
    DIR,
    INV,
    MFT,
    PLACEHOLDER,
    Perturbation,
    Suite,
    placeholders,
)

__all__ = ["Case", "Expansion", "count_expansions", "expand_templates", "expand_test",
           "expand_suite", "MAX_EXPANSION"]

MAX_EXPANSION = 100_000
"""Templates expanding to more cases than this need ``max_cases`` (a seeded sample)."""


@dataclass(frozen=True)
class Case:
    """One input of a test, and for INV/DIR its perturbed version.

    Attributes:
        id: a short content hash of ``(text, perturbed)``, stable across runs and suite edits,
            so two runs' failures can be matched.
        text: the input (MFT) or original input (INV/DIR).
        perturbed: the perturbed input (INV/DIR), else ``None``.
    """

    id: str
    text: str
    perturbed: str | None = None


@dataclass(frozen=True)
class Expansion:
    """A test's cases for one seed.

    Attributes:
        test: the test.
        cases: its cases, in a deterministic order.
        skipped: inputs a ``transform`` perturbation left unchanged (no case for them).
    """

    test: MFT | INV | DIR
    cases: tuple[Case, ...]
    skipped: int = 0


def _case(text: str, perturbed: str | None = None) -> Case:
    digest = hashlib.sha1(f"{text}\x1f{perturbed}".encode()).hexdigest()
    return Case(digest[:12], text, perturbed)


def _sizes(group: Sequence[str], fillers: Mapping[str, Sequence[str]]) -> tuple[list[str], int]:
    names = placeholders(*group)
    missing = [n for n in names if n not in fillers]
    if missing:
        raise ConfigError(f"template(s) {list(group)} use {{{missing[0]}}} but no filler "
                          f"defines it; add fillers: {{{missing[0]}: [...]}}")
    return names, math.prod(len(fillers[n]) for n in names)


def count_expansions(templates: Sequence[str | Sequence[str]],
                     fillers: Mapping[str, Sequence[str]]) -> int:
    """How many texts ``templates`` expand to before capping and de-duplication.

    Args:
        templates: templates, or groups of templates filled together (a pair).
        fillers: placeholder -> values.

    Returns:
        The sum over templates of the product of their placeholders' filler sizes.
    """
    groups = [(t,) if isinstance(t, str) else tuple(t) for t in templates]
    return sum(_sizes(g, fillers)[1] for g in groups)


def _fill(template: str, values: Mapping[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def expand_templates(
    templates: Sequence[str | Sequence[str]],
    fillers: Mapping[str, Sequence[str]],
    *,
    max_cases: int | None = None,
    rng: random.Random | None = None,
) -> list[tuple[str, ...]]:
    """Fill templates with every combination of filler values (the cartesian product).

    A placeholder used twice in a template (or in both templates of a pair) takes the same
    value in both places. When there are more than ``max_cases`` combinations a uniform,
    seeded sample of ``max_cases`` is taken without building the full product; the order is
    kept. Identical results are kept once.

    Args:
        templates: templates (``"I {neg} {verb} it."``) or groups filled together
            (``("I {verb} it.", "I {neg} {verb} it.")``).
        fillers: placeholder -> values.
        max_cases: cap on the number of combinations.
        rng: the sampler's generator (needed only when capping; default ``Random(0)``).

    Returns:
        One tuple per combination, with one filled text per template of its group.

    Raises:
        ConfigError: a placeholder without filler, or more than :data:`MAX_EXPANSION`
            combinations and no ``max_cases``.
    """
    groups = [(t,) if isinstance(t, str) else tuple(t) for t in templates]
    shapes = [_sizes(g, fillers) for g in groups]
    total = sum(size for _, size in shapes)
    if max_cases is None and total > MAX_EXPANSION:
        raise ConfigError(f"templates {[g[0] for g in groups][:3]} expand to {total} cases "
                          f"(more than {MAX_EXPANSION}); set max_cases to sample some")
    if max_cases is not None and total > max_cases:
        chosen: Sequence[int] = sorted((rng or random.Random(0)).sample(range(total), max_cases))
    else:
        chosen = range(total)
    out: dict[tuple[str, ...], None] = {}
    starts = [0]
    for _, size in shapes:
        starts.append(starts[-1] + size)
    g = 0
    for index in chosen:
        while index >= starts[g + 1]:
            g += 1
        names, _ = shapes[g]
        rest = index - starts[g]
        values: dict[str, str] = {}
        for name in reversed(names):  # mixed radix: the last placeholder varies fastest
            rest, digit = divmod(rest, len(fillers[name]))
            values[name] = fillers[name][digit]
        out.setdefault(tuple(_fill(t, values) for t in groups[g]), None)
    return list(out)


def _cap(items: list[Case], max_cases: int | None, rng: random.Random) -> list[Case]:
    if max_cases is None or len(items) <= max_cases:
        return items
    return [items[i] for i in sorted(rng.sample(range(len(items)), max_cases))]


def _join(first: str, second: str) -> str:
    if not first or not second or first[-1].isspace() or second[0].isspace():
        return first + second
    return f"{first} {second}"


def _inputs(test: MFT | INV | DIR, fillers: Mapping[str, Sequence[str]], rng: random.Random,
            data: Mapping[str, Sequence[str]] | None) -> list[str]:
    texts = list(test.inputs)
    texts += [t[0] for t in expand_templates(test.all_templates, fillers,
                                             max_cases=test.max_cases, rng=rng)]
    if isinstance(test, INV | DIR) and test.from_split:
        if data is None or test.from_split not in data:
            have = sorted(data) if data is not None else []
            raise ConfigError(
                f"{test.kind} {test.name!r} draws from_split {test.from_split!r}, but "
                + (f"the run has only the splits {have}" if data is not None else
                   "no run data was given (pass data={split: texts} to run_suite, or use ftlab "
                   "check on a run)") + "; change from_split or give inputs/templates instead")
        pool = [t for t in data[test.from_split] if t.strip()]
        n = min(test.n or 100, len(pool))
        texts += [pool[i] for i in sorted(rng.sample(range(len(pool)), n))]
    return list(dict.fromkeys(texts))


def _perturb(test: INV | DIR, texts: list[str], perturb: Perturbation,
             fillers: Mapping[str, Sequence[str]], seed: int) -> tuple[list[Case], int]:
    if perturb.transform is None:
        clauses = [c[0] for c in expand_templates(perturb.clauses, fillers)]
        after = perturb.append is not None
        return [_case(t, _join(t, c) if after else _join(c, t)) for t in texts for c in clauses], 0
    from ftlab.robustness._registry import build_pipeline

    transform = build_pipeline(perturb.transform)
    cases, skipped = [], 0
    for text in texts:
        for sample in range(perturb.samples):
            result = transform(text, example_rng(seed, f"{test.name}:{sample}:{text}", "text"))
            if result.text != text:
                cases.append(_case(text, result.text))
            else:
                skipped += 1
    return cases, skipped


def expand_test(test: MFT | INV | DIR, fillers: Mapping[str, Sequence[str]], *, seed: int = 0,
                data: Mapping[str, Sequence[str]] | None = None) -> Expansion:
    """The cases of one test for ``seed``.

    MFT: each input and template expansion is a case. INV/DIR: each input (literal, template
    expansion or drawn ``from_split``) x each perturbation, or each filled ``pairs`` entry.
    Duplicates are kept once; ``max_cases`` caps the result with a seeded sample.

    Args:
        test: the test.
        fillers: placeholder -> values (:meth:`Suite.fillers_for`).
        seed: seeds sampling and transformations.
        data: split -> texts, for ``from_split`` tests.

    Returns:
        The :class:`Expansion`.

    Raises:
        ConfigError: ``from_split`` names a split ``data`` lacks, or an expansion too large.
    """
    rng = random.Random(f"ftlab.suites:{seed}:{test.name}")
    if isinstance(test, MFT):
        cases = [_case(t) for t in _inputs(test, fillers, rng, data)]
        return Expansion(test, tuple(_cap(cases, test.max_cases, rng)))
    skipped = 0
    cases = []
    if test.perturb is not None:
        cases, skipped = _perturb(test, _inputs(test, fillers, rng, data), test.perturb, fillers,
                                  seed)
    if test.pairs:
        filled = expand_templates(test.pairs, fillers, max_cases=test.max_cases, rng=rng)
        cases += [_case(a, b) for a, b in filled]
    unique = list({(c.text, c.perturbed): c for c in cases}.values())
    return Expansion(test, tuple(_cap(unique, test.max_cases, rng)), skipped)


def expand_suite(suite: Suite, *, seed: int = 0,
                 data: Mapping[str, Sequence[str]] | None = None) -> list[Expansion]:
    """Every test's cases, in suite order (see :func:`expand_test`)."""
    return [expand_test(t, suite.fillers_for(t), seed=seed, data=data) for t in suite.tests]
