"""``ftlab check``: behavioral test suites on a trained run, and regressions between runs.

Each suite's result is written to ``<run>/checks/<suite>.json``::

    {
      "suite": "sentiment",                  # suite name (the file name)
      "source": "builtin:sentiment",         # or the YAML path it was loaded from
      "run": "runs/bow-1",                   # the run directory
      "label_names": ["negative", "positive"],   # model columns, named as the suite names them
      "label_map": {"negative": "0", "positive": "1"},   # suite label -> run label
      "seed": 0,                             # expansion seed (sampling, transformations)
      "temperature": 1.3,                    # calibration applied to the probabilities, or null
      "tests": [
        {
          "name": "negated positive", "kind": "MFT" | "INV" | "DIR",
          "capability": "Negation", "description": "...",
          "n": 120,                          # cases scored
          "failed": 17,
          "skipped": 0,                      # inputs a transform left unchanged (not scored)
          "failure_rate": 0.1417,            # failed / n (0.0 when n == 0)
          "examples": [                      # up to --examples failures, worst first
            {"id": "3f2a9c01b7de",           # content hash of (text, perturbed)
             "text": "I don't like it.",
             "perturbed": null,              # INV/DIR: the perturbed text
             "expected": "negative",         # MFT: label; INV: original prediction;
                                             # DIR: "P(positive) not up"
             "pred": "positive",             # prediction (on the perturbed text for INV/DIR)
             "probs": {"negative": 0.31, "positive": 0.69},   # of the perturbed text
             "shift": null}                  # INV/DIR: probability change, MFT: null
          ],
          "failures": [{"id": ..., "text": ..., "perturbed": ...}]   # every failing case
        }
      ],
      "summary": {"tests": 18, "cases": 1994, "failed_cases": 308,
                  "worst_test": "negation lowers P(positive)", "max_failure_rate": 0.69}
    }
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ftlab.core import Record, writes_run
from ftlab.errors import CheckpointError, ConfigError

__all__ = ["check_run", "compare_checks", "read_checks", "CheckResult"]


class CheckResult(Record):
    """``checks/<suite>.json``: one behavioral suite run on one run (schema above)."""

    suite: str
    source: str | None = None
    run: str | None = None
    label_names: list[str] = []
    label_map: dict[str, Any] = {}
    seed: int | None = None
    temperature: float | None = None
    tests: list[dict[str, Any]] = []
    summary: dict[str, Any] = {}

    def format(self) -> str:
        """The suite's summary line: cases, failures and the worst test."""
        s = self.summary
        return (f"{self.suite}: {s.get('cases')} cases, {s.get('failed_cases')} failed; worst: "
                f"{s.get('worst_test')} ({s.get('max_failure_rate') or 0:.1%})")


def _suites_for(run_dir: Path, suites: Sequence[str] | None) -> list[Any]:
    from ftlab.config import load_config
    from ftlab.robustness.suites import load_suite

    if not (run_dir / "config.yaml").is_file():
        raise CheckpointError(f"{run_dir} is not a run directory (no config.yaml)")
    specs = list(suites) if suites else list(load_config(run_dir / "config.yaml").robustness.suites)
    if not specs:
        raise ConfigError(f"no behavioral suite to run on {run_dir}: pass --suite "
                          f"builtin:sentiment (or a YAML file), or set robustness.suites in the "
                          f"run's config")
    loaded = [load_suite(s) for s in specs]
    names = [s.name for s in loaded]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"suites {specs} share the name {dupes[0]!r} and would both write "
                          f"checks/{dupes[0]}.json; give one of them another name: in its YAML")
    return loaded


@writes_run("check")
def check_run(run_dir: Path | str, suites: Sequence[str] | None = None, *,
              fail_over: float | None = None, label_map: Mapping[str, str] | str | None = None,
              seed: int = 0, max_examples: int = 5,
              loaded_run: tuple[Any, Any, Any] | None = None) -> dict[str, Any]:
    """Run behavioral suites on a trained run; write ``checks/<suite>.json`` for each.

    Probabilities come from the run's best checkpoint, with the temperature of
    ``calibration.json`` applied when the run was calibrated.

    Args:
        run_dir: the run directory.
        suites: ``builtin:NAME`` or YAML paths; default the config's ``robustness.suites``.
        fail_over: failure-rate gate; default the config's ``robustness.fail_over``.
        label_map: run label -> suite label (``"0=negative,1=positive"``); see
            :func:`ftlab.robustness.suites.resolve_labels` for the automatic rules.
        seed: expansion seed; keep it fixed to compare runs.
        max_examples: failing examples kept per test.
        loaded_run: ``(config, encoder, model)`` already in memory (right after training);
            else loaded from the run's best checkpoint.

    Returns:
        ``{"run", "seed", "fail_over", "suites": {name: checks JSON (module docstring)},
        "over": [{"suite", "test", "failure_rate"}, ...]}``; ``over`` lists the tests whose
        failure rate exceeds ``fail_over`` (empty when it is ``None``).

    Raises:
        ConfigError: no suite given, a suite that does not load, unmappable labels, a
            ``fail_over`` outside [0, 1], or a run trained on text pairs.
        CheckpointError: not a run directory, or no checkpoint.
    """
    from ftlab.data import Example
    from ftlab.robustness.suites import run_suite
    from ftlab.runs._evaluate import load_run_model, predict_examples, read_calibration
    from ftlab.runs._rundir import load_summary, write_json_atomic

    run_dir = Path(run_dir)
    loaded = _suites_for(run_dir, suites)
    if load_summary(run_dir).text_pairs:
        raise ConfigError(f"{run_dir} was trained on text pairs; behavioral suites hold single "
                          f"texts and cannot be run on it")
    config, encoder, model = loaded_run or load_run_model(run_dir)
    if fail_over is None:
        fail_over = config.robustness.fail_over
    if fail_over is not None and not 0.0 <= fail_over <= 1.0:
        raise ConfigError(f"--fail-over is a failure rate and must be in [0, 1], got {fail_over}")
    temperature = read_calibration(run_dir).get("temperature")

    def predict_proba(texts: list[str]) -> Any:
        examples = [Example(id=f"check-{i}", text=t, label=None) for i, t in enumerate(texts)]
        probs = predict_examples(model, encoder, config, examples, label="behavioral checks")
        if temperature:
            from ftlab.evaluation import apply_temperature

            probs = apply_temperature(probs, temperature)
        return probs

    data = None
    if any(s.splits for s in loaded):
        from ftlab.runs._prepare import prepare_data

        prepared = prepare_data(config, encoder_dir=run_dir / "artifacts" / "encoder")
        data = {name: [e.text for e in exs] for name, exs in prepared.splits.items()}
    out: dict[str, Any] = {"run": str(run_dir), "seed": seed, "fail_over": fail_over,
                           "suites": {}, "over": []}
    for suite in loaded:
        result = run_suite(suite, predict_proba, encoder.labels.names, seed=seed,
                           label_map=label_map, data=data, max_examples=max_examples).to_dict()
        result["run"] = str(run_dir)
        result["temperature"] = temperature
        result = CheckResult.model_validate(result).to_dict()  # the schema, checked on write
        write_json_atomic(run_dir / "checks" / f"{suite.name}.json", result)
        out["suites"][suite.name] = result
        if fail_over is not None:
            out["over"] += [{"suite": suite.name, "test": t["name"], "failure_rate": t["failure_rate"]}
                            for t in result["tests"] if t["n"] and t["failure_rate"] > fail_over]
    return out


def read_checks(run_dir: Path | str, suite_name: str) -> dict[str, Any]:
    """``<run_dir>/checks/<suite_name>.json``.

    Raises:
        CheckpointError: missing or unreadable, with the command that writes it.
    """
    path = Path(run_dir) / "checks" / f"{suite_name}.json"
    if not path.is_file():
        have = sorted(p.stem for p in path.parent.glob("*.json")) if path.parent.is_dir() else []
        raise CheckpointError(f"{path} not found (checked suites there: {have or 'none'}); run "
                              f"ftlab check {run_dir} --suite ... first")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc}); run ftlab check again") from exc


def compare_checks(run_a: Path | str, run_b: Path | str, suite_name: str) -> list[dict[str, Any]]:
    """Tests of ``suite_name`` that fail more often in ``run_b`` than in ``run_a``.

    Both runs must have been checked (``checks/<suite_name>.json``), ideally with the same
    seed: cases are matched by content (their ids), so newly failing cases are exact.

    Args:
        run_a: the reference run (before).
        run_b: the run under test (after).
        suite_name: the suite's name.

    Returns:
        Regressions, largest increase first: ``{"test", "kind", "capability", "before",
        "after", "delta", "n", "newly_failing": [{"id", "text", "perturbed"}, ...]}``, where
        ``before``/``after`` are failure rates. Tests present in only one run are ignored.

    Raises:
        CheckpointError: a run has no checks for the suite.
    """
    a, b = read_checks(run_a, suite_name), read_checks(run_b, suite_name)
    before = {t["name"]: t for t in a.get("tests", [])}
    out = []
    for test in b.get("tests", []):
        ref = before.get(test["name"])
        if ref is None or test["failure_rate"] <= ref["failure_rate"] + 1e-12:
            continue
        old = {f["id"] for f in ref.get("failures", [])}
        out.append({"test": test["name"], "kind": test["kind"], "capability": test["capability"],
                    "before": ref["failure_rate"], "after": test["failure_rate"],
                    "delta": test["failure_rate"] - ref["failure_rate"], "n": test["n"],
                    "newly_failing": [f for f in test.get("failures", []) if f["id"] not in old]})
    return sorted(out, key=lambda r: -r["delta"])
