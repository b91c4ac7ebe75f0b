"""Score a suite against any ``predict_proba(texts) -> (N, C)`` function. No torch here."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ftlab.core import closest
from ftlab.errors import ConfigError
from ftlab.robustness.suites._expand import Case, Expansion, expand_suite
from ftlab.robustness.suites._spec import DIR, INV, MFT, Suite

__all__ = ["PredictProba", "Failure", "TestResult", "SuiteResult", "run_suite", "resolve_labels",
           "parse_label_map"]

PredictProba = Callable[[list[str]], Any]
"""``predict_proba(texts) -> (N, C)`` class probabilities, columns in the order of the run's
label names."""

EPS = 1e-6  # probability differences below this are numerical noise, not a change


def parse_label_map(text: str | Mapping[str, str] | None) -> dict[str, str]:
    """Parse ``"0=negative,1=positive"`` (run label = suite label) into a dict.

    Raises:
        ConfigError: an item without ``=`` or an empty side.
    """
    if text is None:
        return {}
    if isinstance(text, Mapping):
        return {str(k): str(v) for k, v in text.items()}
    out = {}
    for item in (p.strip() for p in text.split(",")):
        run_label, sep, suite_label = (s.strip() for s in item.partition("="))
        if not item or not sep or not run_label or not suite_label:
            raise ConfigError(f"--label-map {text!r}: each item must be RUN_LABEL=SUITE_LABEL, "
                              f"e.g. 0=negative,1=positive (got {item!r})")
        out[run_label] = suite_label
    return out


def resolve_labels(suite: Suite, label_names: Sequence[str],
                   label_map: Mapping[str, str] | None = None) -> dict[str, int]:
    """Map each suite label to a column of the predictor's output.

    In order, the first rule that applies to a suite label wins:

    1. ``label_map`` (run label -> suite label), e.g. from ``--label-map 0=negative``;
    2. the same name (case-insensitive);
    3. one of the suite's ``aliases`` for it (``positive: [pos, fresh]``);
    4. when the run's labels are the integers ``0 .. C-1`` and ``C`` equals the number of suite
       labels, suite label ``i`` maps to run label ``"i"`` (SST-2 style ``0`` = negative).

    Args:
        suite: the suite.
        label_names: the run's label names, in column order.
        label_map: explicit run label -> suite label pairs.

    Returns:
        suite label -> column index, for every suite label.

    Raises:
        ConfigError: a label that maps nowhere, or to a column another label took, naming the
            run's labels and the ``--label-map`` fix.
    """
    names = [str(n) for n in label_names]
    explicit = parse_label_map(label_map)
    col: dict[str, int] = {}
    for run_label, suite_label in explicit.items():
        if run_label not in names:
            raise ConfigError(f"label map {run_label}={suite_label}: the run has no label "
                              f"{run_label!r}; its labels are {names}.{closest(run_label, names)}")
        if suite_label not in suite.labels:
            raise ConfigError(f"label map {run_label}={suite_label}: suite {suite.name!r} has no "
                              f"label {suite_label!r}; its labels are {suite.labels}."
                              f"{closest(suite_label, suite.labels)}")
        col[suite_label] = names.index(run_label)
    lower = {n.lower(): i for i, n in enumerate(names)}
    for label in suite.labels:
        if label in col:
            continue
        for alias in [label, *suite.aliases.get(label, [])]:
            if alias.lower() in lower:
                col[label] = lower[alias.lower()]
                break
    if len(col) < len(suite.labels) and sorted(names, key=str) == sorted(
            str(i) for i in range(len(suite.labels))) and not explicit:
        col = {label: names.index(str(i)) for i, label in enumerate(suite.labels)}
    missing = [label for label in suite.labels if label not in col]
    if missing:
        raise ConfigError(
            f"suite {suite.name!r} ({suite.source or 'in memory'}): cannot tell which of the "
            f"run's labels {names} is {missing[0]!r} (suite labels: {suite.labels}); pass "
            f"--label-map RUN_LABEL=SUITE_LABEL,... (e.g. --label-map "
            + ",".join(f"{n}={s}" for n, s in zip(names, suite.labels, strict=False))
            + ") or add aliases to the suite")
    taken: dict[int, str] = {}
    for label, c in col.items():
        if c in taken:
            raise ConfigError(f"suite {suite.name!r}: labels {taken[c]!r} and {label!r} both map "
                              f"to the run's label {names[c]!r}; fix --label-map or the aliases")
        taken[c] = label
    return col


@dataclass(frozen=True)
class Failure:
    """One failing case, with what was expected and what the model did.

    Attributes:
        id: the case id.
        text: the (original) input.
        perturbed: the perturbed input (INV/DIR), else ``None``.
        expected: MFT: the expected label; INV: the original prediction;
            DIR: e.g. ``"P(positive) not up"``.
        pred: the predicted label (of the perturbed input for INV/DIR).
        probs: label -> probability (of the perturbed input for INV/DIR).
        shift: INV: change of the originally predicted label's probability; DIR: change of
            ``P(label)``; MFT: ``None``.
    """

    id: str
    text: str
    perturbed: str | None
    expected: str
    pred: str
    probs: dict[str, float]
    shift: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (probabilities rounded to 6 places)."""
        return {"id": self.id, "text": self.text, "perturbed": self.perturbed,
                "expected": self.expected, "pred": self.pred,
                "probs": {k: round(v, 6) for k, v in self.probs.items()},
                "shift": None if self.shift is None else round(self.shift, 6)}


@dataclass(frozen=True)
class TestResult:
    """One test's outcome.

    Attributes:
        name, kind, capability, description: from the test.
        n: cases scored.
        failed: cases that failed.
        skipped: inputs a transform perturbation left unchanged (not scored).
        examples: up to ``max_examples`` failures, worst first.
        failures: every failing case (id, text, perturbed), in case order.
    """

    __test__ = False  # not a pytest class

    name: str
    kind: str
    capability: str
    description: str
    n: int
    failed: int
    skipped: int = 0
    examples: tuple[Failure, ...] = ()
    failures: tuple[Case, ...] = field(default=(), repr=False)

    @property
    def failure_rate(self) -> float:
        """``failed / n`` (0.0 for a test without cases)."""
        return self.failed / self.n if self.n else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (see :func:`ftlab.runs.check_run` for the schema)."""
        return {"name": self.name, "kind": self.kind, "capability": self.capability,
                "description": self.description, "n": self.n, "failed": self.failed,
                "skipped": self.skipped, "failure_rate": self.failure_rate,
                "examples": [e.to_dict() for e in self.examples],
                "failures": [{"id": c.id, "text": c.text, "perturbed": c.perturbed}
                             for c in self.failures]}


@dataclass(frozen=True)
class SuiteResult:
    """A suite's outcome on one predictor.

    Attributes:
        suite: the suite name.
        source: where it came from (``builtin:sentiment``, a path).
        label_names: the predictor's columns, named as the suite names them (run names for
            columns no suite label maps to); the keys of every ``probs``.
        label_map: suite label -> the run's label name.
        seed: the expansion seed.
        tests: per test, in suite order.
    """

    suite: str
    source: str
    label_names: tuple[str, ...]
    label_map: dict[str, str]
    seed: int
    tests: tuple[TestResult, ...]

    @property
    def summary(self) -> dict[str, Any]:
        """Totals and the worst test (by failure rate; ``None`` when no test has cases)."""
        scored = [t for t in self.tests if t.n]
        worst = max(scored, key=lambda t: t.failure_rate, default=None)
        return {"tests": len(self.tests), "cases": sum(t.n for t in self.tests),
                "failed_cases": sum(t.failed for t in self.tests),
                "worst_test": worst.name if worst else None,
                "max_failure_rate": worst.failure_rate if worst else 0.0}

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (see :func:`ftlab.runs.check_run` for the schema)."""
        return {"suite": self.suite, "source": self.source, "run": None,
                "label_names": list(self.label_names), "label_map": dict(self.label_map),
                "seed": self.seed, "tests": [t.to_dict() for t in self.tests],
                "summary": self.summary}


def _check_probs(probs: Any, n: int, c: int) -> np.ndarray:
    arr = np.asarray(probs, dtype=np.float64)
    if arr.shape != (n, c):
        raise ValueError(f"predict_proba returned shape {arr.shape} for {n} texts; expected "
                         f"({n}, {c}), one column per label name")
    if not np.isfinite(arr).all() or (arr < -EPS).any() or not np.allclose(arr.sum(1), 1.0, atol=1e-3):
        raise ValueError("predict_proba must return finite, non-negative rows that sum to 1 "
                         "(probabilities, not logits)")
    return arr


def _score(exp: Expansion, probs: Mapping[str, np.ndarray], col: Mapping[str, int],
           display: Sequence[str], max_examples: int) -> TestResult:
    test = exp.test
    bad: list[tuple[float, Failure, Case]] = []
    for case in exp.cases:
        p0 = probs[case.text]
        p1 = probs[case.perturbed] if case.perturbed is not None else p0
        pred0, pred1 = int(p0.argmax()), int(p1.argmax())
        shift: float | None = None
        if isinstance(test, MFT):
            expected, fail, severity = test.expect, pred0 != col[test.expect], 1 - p0[col[test.expect]]
        elif isinstance(test, INV):
            shift = float(p1[pred0] - p0[pred0])
            over = test.tolerance is not None and abs(shift) > test.tolerance + EPS
            expected, fail, severity = display[pred0], pred1 != pred0 or over, abs(shift) + (pred1 != pred0)
        else:
            assert isinstance(test, DIR)
            shift = float(p1[col[test.label]] - p0[col[test.label]])
            fail, severity = _dir_fails(test, shift, float(p1[col[test.label]]))
            expected = f"P({test.label}) {test.direction.replace('_', ' ')}"
        if fail:
            failure = Failure(case.id, case.text, case.perturbed, expected, display[pred1],
                              {d: float(v) for d, v in zip(display, p1, strict=True)}, shift)
            bad.append((float(severity), failure, case))
    worst = sorted(range(len(bad)), key=lambda i: -bad[i][0])[:max_examples]
    return TestResult(test.name, test.kind, test.capability, test.description, len(exp.cases),
                      len(bad), exp.skipped, tuple(bad[i][1] for i in worst),
                      tuple(b[2] for b in bad))


def _dir_fails(test: DIR, shift: float, after: float) -> tuple[bool, float]:
    """(failed, severity) of one DIR case; see :class:`DIR` for the rules."""
    tol = test.tolerance
    if test.direction == "not_up":
        return shift > tol + EPS, shift
    if test.direction == "not_down":
        return shift < -tol - EPS, -shift
    if test.direction == "up":
        return shift <= EPS and after < 1 - tol, -shift
    return shift >= -EPS and after > tol, shift


def run_suite(suite: Suite, predict_proba: PredictProba, label_names: Sequence[str], *,
              seed: int = 0, label_map: Mapping[str, str] | str | None = None,
              data: Mapping[str, Sequence[str]] | None = None,
              max_examples: int = 5) -> SuiteResult:
    """Expand a suite, predict every distinct text in one call and score each test.

    Args:
        suite: the suite (:func:`load_suite`).
        predict_proba: ``texts -> (N, C)`` probabilities; columns follow ``label_names``.
        label_names: the predictor's (run's) label names, in column order.
        seed: expansion seed (template sampling, transformations, ``from_split`` draws).
        label_map: run label -> suite label (or ``"0=negative,1=positive"``); the other
            rules of :func:`resolve_labels` apply to labels it leaves out.
        data: split -> texts, for tests with ``from_split``.
        max_examples: failing examples kept per test (worst first).

    Returns:
        The :class:`SuiteResult`.

    Raises:
        ConfigError: labels that cannot be mapped, or a ``from_split`` ``data`` lacks.
        ValueError: ``predict_proba`` returned something other than (N, C) probabilities.
    """
    col = resolve_labels(suite, label_names, parse_label_map(label_map))
    display = [str(n) for n in label_names]
    for label, c in col.items():
        display[c] = label
    expansions = expand_suite(suite, seed=seed, data=data)
    texts = list(dict.fromkeys(t for e in expansions for c in e.cases
                               for t in (c.text, c.perturbed) if t is not None))
    arr = _check_probs(predict_proba(texts), len(texts), len(display)) if texts else None
    probs = {t: arr[i] for i, t in enumerate(texts)} if arr is not None else {}
    tests = tuple(_score(e, probs, col, display, max_examples) for e in expansions)
    names = [str(n) for n in label_names]
    return SuiteResult(suite.name, suite.source, tuple(display),
                       {label: names[c] for label, c in col.items()}, seed, tests)
