"""Behavioral suites: the YAML format, template expansion, scoring with a keyword model."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ftlab.errors import ConfigError
from ftlab.robustness.suites import (
    DIR,
    MFT,
    SUITES,
    Suite,
    count_expansions,
    expand_suite,
    expand_templates,
    load_suite,
    parse_suite,
    register_suite,
    resolve_labels,
    run_suite,
)
from ftlab.testing import check_suite

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SUITES = sorted((ROOT / "configs" / "suites").glob("*.yaml"))

SUITE_YAML = """
name: golden
labels: [neg, pos]
fillers:
  thing: [movie, film]
  adj: [good, fine, great]
tests:
  - name: positive
    kind: MFT
    capability: Vocabulary
    template: "The {thing} is {adj}."
    expect: pos
  - name: negation
    kind: MFT
    template: "The {thing} is not {adj}."
    expect: neg
  - name: neutral suffix
    kind: INV
    template: "The {thing} is {adj}."
    perturb: {append: [" Really."]}
  - name: negating suffix
    kind: INV
    template: "The {thing} is {adj}."
    perturb: {append: ["not"]}
  - name: intensifier up strict
    kind: DIR
    pairs: [["The {thing} is {adj}.", "The {thing} is very {adj}."]]
    label: pos
    direction: up
    tolerance: 0.05
  - name: intensifier up saturated
    kind: DIR
    pairs: [["The {thing} is {adj}.", "The {thing} is very {adj}."]]
    label: pos
    direction: up
    tolerance: 0.2
  - name: negation not up
    kind: DIR
    template: "The {thing} is {adj}."
    perturb: {append: ["not"]}
    label: pos
    direction: not_up
  - name: negation down
    kind: DIR
    template: "The {thing} is {adj}."
    perturb: {append: ["not"]}
    label: pos
    direction: down
    tolerance: 0.1
"""


class KeywordModel:
    """P(pos) = 0.9 iff "good" is in the text and "not" is not; else 0.2. Counts its calls."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        pos = [0.9 if "good" in t and "not" not in t.split() and not t.endswith("not") else 0.2
               for t in texts]
        return np.array([[1 - p, p] for p in pos])


@pytest.fixture()
def golden(tmp_path: Path) -> Suite:
    path = tmp_path / "golden.yaml"
    path.write_text(SUITE_YAML, encoding="utf-8")
    return load_suite(path)


def test_keyword_model_gives_the_known_failure_rates(golden: Suite) -> None:
    model = KeywordModel()
    result = run_suite(golden, model, ["neg", "pos"], max_examples=2)
    got = {t.name: (t.n, t.failed) for t in result.tests}
    assert got == {
        "positive": (6, 4),                  # only the two "good" cases are positive
        "negation": (6, 0),
        "neutral suffix": (6, 0),
        "negating suffix": (6, 2),           # the "good" cases flip
        "intensifier up strict": (6, 6),     # nothing rises; 0.9 < 1 - 0.05
        "intensifier up saturated": (6, 4),  # 0.9 >= 1 - 0.2 passes for "good"
        "negation not up": (6, 0),
        "negation down": (6, 4),             # 0.2 stays 0.2 > 0.1 for the others
    }
    assert len(model.calls) == 1, "all cases are predicted in one call"
    assert len(model.calls[0]) == len(set(model.calls[0])), "each distinct text once"
    positive = result.tests[0]
    assert math.isclose(positive.failure_rate, 4 / 6) and len(positive.examples) == 2
    ex = positive.examples[0]
    assert ex.expected == "pos" and ex.pred == "neg" and ex.shift is None
    assert ex.probs == pytest.approx({"neg": 0.8, "pos": 0.2})
    flip = result.tests[3].examples[0]
    assert flip.text.endswith("good.") and flip.perturbed == flip.text + " not"
    assert flip.expected == "pos" and flip.pred == "neg" and flip.shift == pytest.approx(-0.7)
    summary = result.summary
    assert summary == {"tests": 8, "cases": 48, "failed_cases": 20,
                       "worst_test": "intensifier up strict", "max_failure_rate": 1.0}


def test_result_json_has_the_documented_schema(golden: Suite) -> None:
    data = json.loads(json.dumps(run_suite(golden, KeywordModel(), ["neg", "pos"]).to_dict()))
    assert {"suite", "source", "run", "label_names", "label_map", "seed", "tests",
            "summary"} <= data.keys()
    assert data["suite"] == "golden" and data["label_names"] == ["neg", "pos"]
    test = data["tests"][3]
    assert {"name", "kind", "capability", "description", "n", "failed", "failure_rate",
            "examples", "failures"} <= test.keys()
    assert test["kind"] == "INV" and len(test["failures"]) == test["failed"] == 2
    assert {"text", "perturbed", "expected", "pred", "probs", "shift"} <= test["examples"][0].keys()


def test_examples_are_the_worst_failures_first() -> None:
    suite = parse_suite({"labels": ["neg", "pos"], "name": "s", "tests": [
        {"name": "m", "kind": "MFT", "inputs": ["a", "b", "c"], "expect": "pos"}]})
    probs = {"a": 0.4, "b": 0.1, "c": 0.3}
    result = run_suite(suite, lambda ts: np.array([[1 - probs[t], probs[t]] for t in ts]),
                       ["neg", "pos"], max_examples=2)
    assert [e.text for e in result.tests[0].examples] == ["b", "c"]
    assert [c.text for c in result.tests[0].failures] == ["a", "b", "c"]


def test_template_expansion_counts_and_shared_values() -> None:
    fillers = {"a": ["x", "y", "z"], "b": ["1", "2"]}
    assert count_expansions(["{a}-{b}", "{a}"], fillers) == 9
    assert [t[0] for t in expand_templates(["{a}-{b}"], fillers)] == [
        "x-1", "x-2", "y-1", "y-2", "z-1", "z-2"]
    assert [t[0] for t in expand_templates(["{a}{a}"], fillers)] == ["xx", "yy", "zz"]
    pairs = expand_templates([("{a} {b}", "{a} very {b}")], fillers)
    assert len(pairs) == 6 and all(b == a.replace(" ", " very ") for a, b in pairs)
    assert expand_templates(["no placeholders"], {}) == [("no placeholders",)]


@given(
    sizes=st.lists(st.integers(1, 5), min_size=1, max_size=4),
    max_cases=st.one_of(st.none(), st.integers(1, 40)),
    seed=st.integers(0, 10),
)
def test_expansion_count_is_the_product_capped(sizes: list[int], max_cases: int | None,
                                               seed: int) -> None:
    import random

    fillers = {f"p{i}": [f"v{i}_{j}" for j in range(n)] for i, n in enumerate(sizes)}
    template = " ".join(f"{{p{i}}}" for i in range(len(sizes)))
    full = expand_templates([template], fillers)
    assert len(full) == math.prod(sizes) == count_expansions([template], fillers)
    capped = expand_templates([template], fillers, max_cases=max_cases, rng=random.Random(seed))
    assert len(capped) == min(math.prod(sizes), max_cases or math.prod(sizes))
    assert set(capped) <= set(full)
    assert capped == expand_templates([template], fillers, max_cases=max_cases,
                                      rng=random.Random(seed))
    order = {t: i for i, t in enumerate(full)}
    assert [order[t] for t in capped] == sorted(order[t] for t in capped), "order kept"


def test_huge_expansion_needs_max_cases() -> None:
    fillers = {k: [str(i) for i in range(50)] for k in "abc"}
    with pytest.raises(ConfigError, match="set max_cases"):
        expand_templates(["{a}{b}{c}"], fillers)
    assert len(expand_templates(["{a}{b}{c}"], fillers, max_cases=10)) == 10


def test_expansion_is_deterministic_for_a_seed() -> None:
    suite = load_suite("builtin:sentiment")
    first, again = expand_suite(suite, seed=0), expand_suite(suite, seed=0)
    assert first == again
    other = expand_suite(suite, seed=1)
    typos = [e for e in first if e.test.name == "typos"][0]
    typos_other = [e for e in other if e.test.name == "typos"][0]
    assert typos.cases != typos_other.cases, "the seed drives the transformation"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as err:
        load_suite(_write(tmp_path, text))
    return str(err.value)


def test_unknown_key_names_file_test_line_and_closest_key(tmp_path: Path) -> None:
    msg = _error(tmp_path, "labels: [neg, pos]\ntests:\n  - name: first\n    kind: MFT\n"
                           "    inputs: [a]\n    expect: pos\n    max_case: 3\n")
    assert "suite.yaml" in msg and "tests[0] 'first' (MFT, line 3)" in msg
    assert "max_case: unknown key; did you mean 'max_cases'?" in msg


def test_unknown_kind_and_bad_direction_and_label_are_all_reported(tmp_path: Path) -> None:
    msg = _error(tmp_path, """labels: [neg, pos]
tests:
  - {name: a, kind: MFX, inputs: [x], expect: pos}
  - {name: b, kind: DIR, inputs: [x], perturb: {append: [y]}, label: pos, direction: sideways}
  - {name: c, kind: MFT, inputs: [x], expect: positive}
  - {name: d, kind: INV, inputs: [x], perturb: {apend: [y]}}
""")
    assert "4 problem(s)" in msg
    assert "tests[0] 'a' (MFX, line 3): kind: unknown kind 'MFX'; use one of MFT, INV, DIR" in msg
    assert "tests[1] 'b' (DIR, line 4): direction:" in msg and "not_up" in msg and "sideways" in msg
    assert "tests[2] 'c' (MFT, line 5): expect: 'positive' is not one of the suite's labels" in msg
    assert "Did you mean 'pos'?" in msg
    assert "tests[3] 'd' (INV, line 6): perturb.apend: unknown key; did you mean 'append'?" in msg


def test_missing_filler_and_missing_perturb_are_explained(tmp_path: Path) -> None:
    msg = _error(tmp_path, """labels: [neg, pos]
fillers: {adj: [good]}
tests:
  - {name: a, kind: MFT, template: "I {verb} it, {adj}.", expect: pos}
  - {name: b, kind: INV, inputs: [x]}
""")
    assert "tests[0] 'a' (MFT, line 4): placeholder {verb} has no filler" in msg
    assert "tests[1] 'b' (INV, line 5): inputs, templates and from_split need a perturb" in msg


def test_yaml_syntax_error_and_missing_files(tmp_path: Path) -> None:
    assert "YAML syntax error at line" in _error(tmp_path, "labels: [neg\ntests: 3\n")
    with pytest.raises(ConfigError, match="suite file not found"):
        load_suite(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="Did you mean 'builtin:sentiment'"):
        load_suite("builtin:sentimnt")


def test_perturbation_forms(tmp_path: Path) -> None:
    suite = parse_suite({"name": "p", "labels": ["neg", "pos"], "fillers": {"w": ["a", "b"]}, "tests": [
        {"name": "append", "kind": "INV", "inputs": ["One.", "Two."], "perturb": {"append": ["x {w}"]}},
        {"name": "prepend", "kind": "INV", "inputs": ["One."], "perturb": {"prepend": ["Hi! "]}},
        {"name": "typos", "kind": "INV", "inputs": ["The acting was wonderful."],
         "perturb": "char_swap:0.5"},
    ]})
    cases = {e.test.name: e.cases for e in expand_suite(suite)}
    assert [(c.text, c.perturbed) for c in cases["append"]] == [
        ("One.", "One. x a"), ("One.", "One. x b"), ("Two.", "Two. x a"), ("Two.", "Two. x b")]
    assert cases["prepend"][0].perturbed == "Hi! One."
    assert cases["typos"][0].perturbed != "The acting was wonderful."
    with pytest.raises(ConfigError, match="exactly one of transform, append, prepend"):
        parse_suite({"name": "p", "labels": ["a"], "tests": [
            {"name": "t", "kind": "INV", "inputs": ["x"], "perturb": {"append": ["y"], "prepend": ["z"]}}]})
    with pytest.raises(ConfigError, match="unknown transformation 'tpyos'"):
        parse_suite({"name": "p", "labels": ["a"], "tests": [
            {"name": "t", "kind": "INV", "inputs": ["x"], "perturb": "tpyos"}]})


def test_from_split_draws_a_seeded_sample() -> None:
    suite = parse_suite({"name": "d", "labels": ["neg", "pos"], "tests": [
        {"name": "t", "kind": "INV", "from_split": "test", "n": 5, "perturb": {"append": ["!"]}}]})
    data = {"test": [f"review {i}" for i in range(50)]}
    cases = expand_suite(suite, seed=3, data=data)[0].cases
    assert len(cases) == 5 and all(c.text in data["test"] for c in cases)
    assert cases == expand_suite(suite, seed=3, data=data)[0].cases
    with pytest.raises(ConfigError, match="only the splits \\['validation'\\]"):
        expand_suite(suite, data={"validation": ["x"]})
    assert suite.splits == {"test"}


def test_label_mapping_rules() -> None:
    suite = load_suite("builtin:sentiment")
    assert resolve_labels(suite, ["fresh", "rotten"]) == {"negative": 1, "positive": 0}
    assert resolve_labels(suite, ["0", "1"]) == {"negative": 0, "positive": 1}
    assert resolve_labels(suite, ["NEGATIVE", "POSITIVE"]) == {"negative": 0, "positive": 1}
    assert resolve_labels(suite, ["neg", "pos"]) == {"negative": 0, "positive": 1}
    assert resolve_labels(suite, ["a", "b"], {"b": "negative", "a": "positive"}) == {
        "negative": 1, "positive": 0}
    with pytest.raises(ConfigError, match=r"labels \['sport', 'tech'\].*--label-map"):
        resolve_labels(suite, ["sport", "tech"])
    with pytest.raises(ConfigError, match="the run has no label 'x'"):
        resolve_labels(suite, ["0", "1"], "x=negative")
    with pytest.raises(ConfigError, match="RUN_LABEL=SUITE_LABEL"):
        resolve_labels(suite, ["0", "1"], "0:negative")


def test_results_use_the_suite_label_names(golden: Suite) -> None:
    result = run_suite(golden, KeywordModel(), ["b", "a"], label_map="b=neg,a=pos")
    assert result.label_names == ("neg", "pos") and result.label_map == {"neg": "b", "pos": "a"}
    assert result.tests[0].failed == 4


def test_a_bad_predictor_is_a_clear_error(golden: Suite) -> None:
    with pytest.raises(ValueError, match="shape"):
        run_suite(golden, lambda ts: np.zeros((len(ts), 3)), ["neg", "pos"])
    with pytest.raises(ValueError, match="probabilities, not logits"):
        run_suite(golden, lambda ts: np.full((len(ts), 2), 3.0), ["neg", "pos"])


def test_register_suite_from_a_factory() -> None:
    def factory() -> Suite:
        return Suite(name="tiny", labels=["no", "yes"],
                     tests=[MFT(name="m", inputs=["yes please"], expect="yes"),
                            DIR(name="d", pairs=[("ok", "ok!")], label="yes", direction="not_down")])

    register_suite("tiny-test", factory)
    try:
        suite = load_suite("builtin:tiny-test")
        assert suite.source == "builtin:tiny-test"
        check_suite(suite)
        with pytest.raises(ConfigError, match="already registered"):
            register_suite("tiny-test", factory)
    finally:
        SUITES.pop("tiny-test")


@pytest.mark.parametrize("name", sorted(SUITES))
def test_every_registered_suite_conforms(name: str) -> None:
    check_suite(f"builtin:{name}")


@pytest.mark.parametrize("path", EXAMPLE_SUITES, ids=lambda p: p.stem)
def test_example_suites_load_and_conform(path: Path) -> None:
    suite = load_suite(path)
    assert suite.name == path.stem and suite.source == str(path)
    check_suite(suite)


def test_there_is_an_example_suite() -> None:
    assert EXAMPLE_SUITES, "configs/suites/ should hold an example suite"


def test_builtin_suite_covers_the_capabilities() -> None:
    suite = load_suite("builtin:sentiment")
    assert suite.labels == ["negative", "positive"]
    caps = {t.capability for t in suite.tests}
    assert {"Vocabulary", "Negation", "Intensifiers", "NER", "Robustness"} <= caps
    assert {t.kind for t in suite.tests} == {"MFT", "INV", "DIR"}
