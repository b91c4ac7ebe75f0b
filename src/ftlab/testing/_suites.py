"""Conformance checks for the ``Suite`` extension point (``ftlab.robustness.suites``)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

__all__ = ["check_suite"]

_SPLIT_TEXTS = (
    "I do not like this movie. It isn't good, and John said so in Paris.",
    "A great, funny film: 8/10. We'll see it again with Mary.",
    "THE PLOT WAS TERRIBLE. But the actors were beautiful.",
    "An ordinary afternoon at the cinema in London with David.",
)


def _constant(column: int, classes: int) -> Any:
    def predict_proba(texts: list[str]) -> np.ndarray:
        assert isinstance(texts, list) and all(isinstance(t, str) for t in texts), \
            "run_suite must call predict_proba with a list of str"
        out = np.zeros((len(texts), classes))
        out[:, column] = 1.0
        return out

    return predict_proba


def check_suite(suite: Any, *, seeds: tuple[int, ...] = (0, 1)) -> None:
    """Check that a suite expands and scores as the :mod:`ftlab.robustness.suites` contract says.

    Checks: it loads (a name, path or :class:`~ftlab.robustness.suites.Suite`); for each seed
    the expansion is the same twice, every test has at least one case, case ids are unique
    within a test and match their content, INV/DIR cases have a perturbed text that differs
    from the original; expected labels are among the suite's labels; :func:`run_suite` with a
    constant predictor gives one well-formed, JSON-serialisable result per test in which INV
    and ``not_up``/``not_down`` DIR tests never fail and MFT tests fail exactly on the cases
    expecting another label; the suite is not modified.

    Args:
        suite: a :class:`Suite`, ``"builtin:NAME"`` or a YAML path.
        seeds: expansion seeds to try. Tests drawing ``from_split`` get a few stand-in texts.

    Raises:
        AssertionError: naming the suite, the test and the first broken rule.
        ConfigError: the suite does not load.
    """
    from ftlab.robustness.suites import DIR, INV, MFT, expand_suite, load_suite, run_suite

    suite = load_suite(suite)
    before = suite.model_dump()
    data = {split: list(_SPLIT_TEXTS) for split in suite.splits}
    where = f"suite {suite.name!r}"
    assert suite.tests, f"{where}: no tests"
    for test in suite.tests:
        label = test.expect if isinstance(test, MFT) else getattr(test, "label", None)
        if label is not None:
            assert label in suite.labels, \
                f"{where}, test {test.name!r}: label {label!r} not in {suite.labels}"
    for seed in seeds:
        first = expand_suite(suite, seed=seed, data=data)
        again = expand_suite(suite, seed=seed, data=data)
        assert first == again, f"{where}: expansion with seed {seed} is not deterministic"
        assert [e.test.name for e in first] == [t.name for t in suite.tests], f"{where}: tests out of order"
        for exp in first:
            at = f"{where}, test {exp.test.name!r} (seed {seed})"
            assert exp.cases, f"{at}: no cases (check its templates, fillers and perturbation)"
            ids = [c.id for c in exp.cases]
            assert len(set(ids)) == len(ids), f"{at}: duplicate case ids"
            if exp.test.max_cases is not None:
                assert len(exp.cases) <= exp.test.max_cases, f"{at}: more cases than max_cases"
            for case in exp.cases:
                assert isinstance(case.text, str), f"{at}: case text {case.text!r} is not a str"
                if isinstance(exp.test, MFT):
                    assert case.perturbed is None, f"{at}: MFT case with a perturbed text"
                else:
                    assert isinstance(case.perturbed, str) and case.perturbed != case.text, \
                        f"{at}: case {case.text!r} has no distinct perturbed text ({case.perturbed!r})"
    names = [f"run_{label}" for label in suite.labels]
    label_map = dict(zip(names, suite.labels, strict=True))
    cases = {e.test.name: e.cases for e in expand_suite(suite, seed=0, data=data)}
    for column, label in enumerate(suite.labels):
        result = run_suite(suite, _constant(column, len(names)), names, label_map=label_map,
                           data=data, max_examples=3)
        json.dumps(result.to_dict())
        assert result.suite == suite.name and result.seed == 0, f"{where}: wrong suite/seed"
        assert list(result.label_names) == list(suite.labels), \
            f"{where}: label_names {result.label_names}"
        assert len(result.tests) == len(suite.tests), \
            f"{where}: {len(result.tests)} results for {len(suite.tests)} tests"
        for test, res in zip(suite.tests, result.tests, strict=True):
            at = f"{where}, test {test.name!r} (constant predictor {label!r})"
            assert res.name == test.name and res.kind == test.kind, \
                f"{at}: name/kind {res.name!r}/{res.kind!r}"
            assert res.n == len(cases[test.name]), f"{at}: n {res.n}, {len(cases[test.name])} cases"
            assert 0 <= res.failed <= res.n and len(res.failures) == res.failed, \
                f"{at}: failed {res.failed}"
            assert math.isclose(res.failure_rate, res.failed / res.n), \
                f"{at}: failure_rate {res.failure_rate}"
            assert len(res.examples) <= min(3, res.failed), f"{at}: {len(res.examples)} examples"
            for ex in res.examples:
                assert set(ex.probs) == set(suite.labels), f"{at}: probs keys {sorted(ex.probs)}"
            if isinstance(test, MFT):
                want = 0 if test.expect == label else res.n
                assert res.failed == want, f"{at}: {res.failed} failures, expected {want}"
            elif isinstance(test, INV) or (isinstance(test, DIR) and test.direction.startswith("not_")):
                assert res.failed == 0, f"{at}: a constant predictor failed {res.failed} cases"
    assert suite.model_dump() == before, f"{where}: run_suite modified the suite"
