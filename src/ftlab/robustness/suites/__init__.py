"""CheckList-style behavioral test suites: MFT, INV and DIR tests written in YAML.

A suite probes capabilities (negation, vocabulary, named entities, typos...) with generated
inputs and reports a failure rate per test. ``ftlab check RUN_DIR --suite builtin:sentiment``
runs one on a trained run; :func:`run_suite` runs one on any ``predict_proba`` function::

    from ftlab.robustness.suites import load_suite, run_suite

    suite = load_suite("builtin:sentiment")          # or load_suite("my-suite.yaml")
    result = run_suite(suite, predict_proba, ["negative", "positive"], seed=0)
    for test in result.tests:
        print(test.name, test.kind, test.failure_rate)

The format (a YAML mapping)::

    name: my-sentiment            # optional; default the file's stem; names checks/<name>.json
    description: one line
    labels: [negative, positive]  # the label names the tests use
    aliases:                      # optional: other names a run may give each label
      positive: [pos, fresh]
    fillers:                      # optional: placeholder -> values, shared by all tests
      pos_adj: [good, great]
      thing: [movie, film]
    tests:
      - name: negated positive    # unique; required
        kind: MFT                 # MFT | INV | DIR
        capability: Negation      # optional grouping (default General)
        description: one line     # optional
        template: "I {neg} like this {thing}."   # or templates: [...], and/or inputs: [...]
        fillers: {neg: ["don't", "do not"]}      # adds to / overrides the suite's fillers
        max_cases: 50             # optional cap: a seeded sample of the expansion
        expect: negative          # MFT: every case must be predicted as this label
      - name: typos
        kind: INV                 # the perturbation must not change the predicted label
        templates: ["The {thing} was {pos_adj}."]
        perturb: typos:0.05       # short for {transform: typos:0.05}
        tolerance: 0.2            # optional: also fail when P(original prediction) moves > 0.2
      - name: negative ending
        kind: DIR                 # the perturbation must move P(label) in a direction
        inputs: ["I loved it."]
        perturb: {append: [" I hated the ending.", " The ending was {neg_adj}."]}
        label: positive
        direction: not_up         # up | down | not_up | not_down
        tolerance: 0.1
      - name: intensifiers
        kind: DIR
        pairs: [["It was {pos_adj}.", "It was very {pos_adj}."]]  # original, perturbed
        label: positive
        direction: not_down
        tolerance: 0.05

Templates: ``{name}`` is replaced by each value of filler ``name``; a template expands to the
cartesian product of its placeholders' values (the same placeholder twice takes the same
value), identical texts once. ``max_cases`` keeps a uniform sample, seeded by the test name and
the seed, without building the whole product.

Inputs of INV/DIR tests: ``inputs`` (literal texts), ``template(s)``, ``from_split: test`` with
``n: 200`` (a seeded sample of the run's split; :func:`run_suite` needs ``data``), each with a
``perturb``; or ``pairs`` of templates filled together, the second being the perturbed text.
``perturb`` is exactly one of ``transform`` (an ftlab pipeline such as ``typos:0.05``,
``names:1.0``, ``locations``, seeded per input; ``samples: 3`` draws three versions; inputs it
leaves unchanged are skipped and counted), ``append`` or ``prepend`` (clauses, templates
allowed; each input x each clause; a space is inserted unless the clause starts with one).

Scoring: MFT fails when the predicted label is not ``expect``. INV fails when the predicted
label changes (or, with ``tolerance``, when the originally predicted label's probability moves
by more). DIR, with ``shift = P_after(label) - P_before(label)``: ``not_up`` fails when
``shift > tolerance``, ``not_down`` when ``shift < -tolerance``, ``up`` when P did not rise and
``P_after < 1 - tolerance``, ``down`` when P did not fall and ``P_after > tolerance``.

Label names: a suite label maps to a run label by ``--label-map RUN=SUITE,...``, else by the
same name (case-insensitive), else by ``aliases``, else - when the run's labels are ``0..C-1``
and the suite has C labels - by position (suite label ``i`` is run label ``"i"``). The
built-in ``sentiment`` suite (``builtin:sentiment``; labels ``negative``, ``positive``) thus
works unchanged on SST-2 (``0``/``1``), ``builtin:rotten_tomatoes`` (``rotten``/``fresh``) and
``neg``/``pos`` data.
"""

from ftlab.robustness.suites._expand import (
    Case,
    Expansion,
    count_expansions,
    expand_suite,
    expand_templates,
    expand_test,
)
from ftlab.robustness.suites._load import SUITES, load_suite, parse_suite, register_suite
from ftlab.robustness.suites._run import (
    Failure,
    PredictProba,
    SuiteResult,
    TestResult,
    parse_label_map,
    resolve_labels,
    run_suite,
)
from ftlab.robustness.suites._spec import DIR, INV, MFT, Direction, Perturbation, Suite, placeholders

__all__ = [
    "Suite",
    "MFT",
    "INV",
    "DIR",
    "Direction",
    "Perturbation",
    "placeholders",
    "SUITES",
    "register_suite",
    "load_suite",
    "parse_suite",
    "Case",
    "Expansion",
    "count_expansions",
    "expand_templates",
    "expand_test",
    "expand_suite",
    "PredictProba",
    "Failure",
    "TestResult",
    "SuiteResult",
    "run_suite",
    "resolve_labels",
    "parse_label_map",
]
