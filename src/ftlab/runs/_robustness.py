"""Evaluation on transformed test sets (``ftlab evaluate RUN_DIR --transform ...``).

For each transformation pipeline the split is transformed (seeded per example by the run's
seed), predicted, and compared with the clean predictions. Written into the run directory:

- ``predictions/<split>@<slug>.jsonl``: the transformed set itself, one row per example with
  ``id``, ``text`` (transformed), ``text_pair``, ``label``, ``pred``, ``probs``, and, where the
  transformation changed it, ``original_text``/``original_text_pair`` and ``changes``
  (``[{"side", "start", "end", "before", "after"}]``, offsets into the original). The file is valid
  input for ``ftlab evaluate --data`` and ``ftlab predict``.
- ``robustness/<split>.json``::

    {"split", "n", "seed", "sides", "label_names",
     "clean": {"accuracy", "macro_f1"},
     "transforms": {spec: {
         "transform", "slug", "changed_share", "accuracy", "macro_f1", "drop" (clean - transformed
         accuracy, points in [0, 1]), "drop_ci": [low, high] (paired bootstrap, 95%),
         "macro_f1_drop", "flip_rate" (share of predictions that changed), "flip_rate_changed"
         (among changed examples), "broken" (correct -> wrong), "fixed" (wrong -> correct),
         "confidence_shift" (mean change of the probability of the clean prediction),
         "seconds", "texts_per_s", "predictions" (file name),
         "flips": [{"id", "label", "text", "transformed", "changes", "clean_pred",
                    "clean_conf", "pred", "conf"}]}}}

  Results of earlier calls for other transformations are kept (merged by spec).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ftlab.core import atomic_write_text, dumps_json, phase, writes_run
from ftlab.errors import ConfigError, DataError
from ftlab.runs._rundir import update_summary, write_json_atomic

__all__ = ["evaluate_transforms", "transformed_rows", "paired_bootstrap_drop"]

N_BOOTSTRAP = 1000


def paired_bootstrap_drop(correct_clean: np.ndarray, correct_new: np.ndarray, *, seed: int,
                          n_resamples: int = N_BOOTSTRAP, confidence: float = 0.95) -> list[float]:
    """Percentile interval of the accuracy drop, resampling examples (both sets together).

    The clean and transformed predictions are of the same examples, so the pairs are
    resampled jointly: the interval reflects the variation of the drop itself, much
    narrower than the two accuracies' intervals suggest.
    """
    n = len(correct_clean)
    if n == 0:
        return [float("nan"), float("nan")]
    from ftlab.evaluation import bootstrap_draws, percentile_interval

    diff = correct_clean.astype(np.float64) - correct_new.astype(np.float64)
    drops = bootstrap_draws(lambda idx: {"drop": diff[idx].mean(axis=1)}, n, n_resamples,
                            np.random.default_rng(seed), chunk=200)  # bounds memory
    return list(percentile_interval(drops["drop"], confidence))


def _changes_json(changes: Any) -> list[dict[str, Any]]:
    out = []
    sides = [("text", changes.text), ("text_pair", changes.text_pair)]
    sides += [(f"choice{k}", items) for k, items in enumerate(changes.choices)]
    for side, items in sides:
        for c in items:
            out.append({"side": side, "start": c.start, "end": c.end, "before": c.before,
                        "after": c.after})
    return out


def transformed_rows(originals: Sequence[Any], transformed: Sequence[Any], changes: Sequence[Any],
                     probs: np.ndarray, names: Sequence[str],
                     preds: np.ndarray | None = None) -> list[dict[str, Any]]:
    """The rows of ``predictions/<split>@<slug>.jsonl`` (see the module docstring); ``preds``
    are the run's decisions (default arg-max)."""
    rows = []
    decided = probs.argmax(axis=1) if preds is None else preds
    for ex, new, ch, p, d in zip(originals, transformed, changes, probs, decided, strict=True):
        row: dict[str, Any] = {"id": ex.id, "text": new.text, "label": ex.label,
                               "pred": names[int(d)],
                               "probs": {n: round(float(v), 6) for n, v in zip(names, p)}}
        if new.text_pair is not None:
            row["text_pair"] = new.text_pair
        if new.choices is not None:
            row["choices"] = list(new.choices)
        if ch.changed:
            if ch.text:
                row["original_text"] = ex.text
            if ch.text_pair:
                row["original_text_pair"] = ex.text_pair
            if any(ch.choices):
                row["original_choices"] = list(ex.choices)
            row["changes"] = _changes_json(ch)
        rows.append(row)
    return rows


def _flips(originals: Sequence[Any], transformed: Sequence[Any], changes: Sequence[Any],
           clean: np.ndarray, new: np.ndarray, names: Sequence[str], k: int,
           rule: Any = None) -> list[dict[str, Any]]:
    """Up to ``k`` examples whose prediction changed, largest confidence loss first."""
    rule = rule or (lambda p: p.argmax(1))
    pred_c, pred_n = rule(clean), rule(new)
    idx = np.flatnonzero(pred_c != pred_n)
    rows = np.arange(len(clean))
    loss = clean[rows, pred_c] - new[rows, pred_c]
    idx = idx[np.argsort(-loss[idx], kind="stable")][:k]
    out = []
    for i in idx.tolist():
        ex, tr = originals[i], transformed[i]
        out.append({
            "id": ex.id, "label": ex.label, "text": ex.text, "transformed": tr.text,
            "text_pair": ex.text_pair, "transformed_pair": tr.text_pair,
            **({"choices": list(ex.choices), "transformed_choices": list(tr.choices)}
               if ex.choices is not None else {}),
            "changes": _changes_json(changes[i]),
            "clean_pred": names[int(pred_c[i])], "clean_conf": round(float(clean[i, pred_c[i]]), 4),
            "pred": names[int(pred_n[i])], "conf": round(float(new[i, pred_n[i]]), 4),
        })
    return out


def _compare(labels: np.ndarray, clean: np.ndarray, new: np.ndarray, changed: np.ndarray, *,
             seed: int, rule: Any = None) -> dict[str, Any]:
    from ftlab.evaluation import label_metrics

    rule = rule or (lambda p: p.argmax(1))  # the run's decision rule
    pred_c, pred_n = rule(clean), rule(new)
    ok_c, ok_n = pred_c == labels, pred_n == labels
    flipped = pred_c != pred_n
    rows = np.arange(len(labels))
    acc_c, acc_n = float(ok_c.mean()), float(ok_n.mean())
    c = clean.shape[1]  # macro over every class known at training, as everywhere
    f1_c = label_metrics(labels, pred_c, n_classes=c)["macro_f1"]
    f1_n = label_metrics(labels, pred_n, n_classes=c)["macro_f1"]
    return {
        "changed_share": float(changed.mean()),
        "accuracy": acc_n, "macro_f1": f1_n,
        "drop": acc_c - acc_n,
        "drop_ci": paired_bootstrap_drop(ok_c, ok_n, seed=seed),
        "macro_f1_drop": f1_c - f1_n,
        "flip_rate": float(flipped.mean()),
        "flip_rate_changed": float(flipped[changed].mean()) if changed.any() else 0.0,
        "broken": int((ok_c & ~ok_n).sum()), "fixed": int((~ok_c & ok_n).sum()),
        "confidence_shift": float((new[rows, pred_c] - clean[rows, pred_c]).mean()),
    }


@writes_run("evaluate --transform")
def evaluate_transforms(
    run_dir: Path,
    transforms: Sequence[str] | None = None,
    *,
    split: str = "test",
    sides: str | None = None,
    k_examples: int | None = None,
    loaded: tuple[Any, Any, Any] | None = None,
    examples: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """Evaluate a run on transformed copies of a split; writes ``robustness/<split>.json``.

    Args:
        run_dir: the run directory.
        transforms: pipeline specs such as ``"typos:0.05"`` or ``"synonyms,contractions"``
            (default: the run config's ``robustness.transforms``).
        split: the split of the run's data.
        sides: ``text``, ``pair``, ``choices`` or ``both`` (default: ``robustness.sides``).
        k_examples: example flips kept per transformation (default: ``robustness.examples``).
        loaded: ``(config, encoder, model)`` already in memory (after training); else loaded
            from the run's best checkpoint.
        examples: the split's examples (else loaded through the run's data config).

    Returns:
        The report (schema in the module docstring).

    Raises:
        ConfigError: no transformation given and none in the config, or a bad spec.
        DataError: unknown split or unlabelled examples.
    """
    from ftlab.evaluation import apply_temperature
    from ftlab.robustness import build_pipeline, parse_pipeline_spec, spec_slug, transform_examples
    from ftlab.runs._evaluate import load_run_model, predict_examples, read_calibration

    run_dir = Path(run_dir)
    config, encoder, model = loaded or load_run_model(run_dir)
    specs = list(transforms or config.robustness.transforms)
    if not specs:
        raise ConfigError("no transformation to evaluate: pass --transform NAME[:RATE] (e.g. "
                          "--transform typos:0.05 --transform synonyms) or set "
                          "robustness.transforms in the run's config")
    for spec in specs:
        parse_pipeline_spec(spec)  # all specs checked before the first is evaluated
    sides = sides or config.robustness.sides
    k = config.robustness.examples if k_examples is None else k_examples
    if examples is None:
        from ftlab.runs._prepare import prepare_data

        splits = prepare_data(config, encoder_dir=run_dir / "artifacts" / "encoder").splits
        if split not in splits:
            raise DataError(f"split {split!r} not in the run's data; choose one of {sorted(splits)}")
        examples = splits[split]
    examples = list(examples)
    if any(ex.label is None for ex in examples):
        raise DataError(f"split {split!r} has unlabelled examples; robustness evaluation needs labels")
    names = list(encoder.labels.names)
    labels = np.array([encoder.labels.encode(ex.label) for ex in examples])
    calibration = read_calibration(run_dir)
    temperature = calibration.get("temperature")
    from ftlab.evaluation import decide, decision_rule
    from ftlab.runs._evaluate import positive_class

    threshold = calibration.get("threshold")
    pos, _ = positive_class(names, None, calibration=calibration)

    def rule(p: np.ndarray) -> np.ndarray:
        return decide(p, threshold=threshold, positive=pos if pos is not None else 1)

    def predict(exs: Sequence[Any], label: str) -> np.ndarray:
        p = predict_examples(model, encoder, config, exs, label=label)
        return apply_temperature(p, temperature) if temperature else p

    clean = predict(examples, f"{split} (clean) for robustness")
    out_file = run_dir / "robustness" / f"{split}.json"
    previous: dict[str, Any] = {}
    if out_file.is_file():
        try:
            previous = json.loads(out_file.read_text(encoding="utf-8")).get("transforms", {})
        except (ValueError, AttributeError):
            previous = {}
    from ftlab.evaluation import label_metrics

    clean_m = label_metrics(labels, rule(clean), n_classes=len(names))
    report: dict[str, Any] = {
        "split": split, "n": len(examples), "seed": config.seed, "sides": sides,
        "label_names": names, "temperature": temperature,
        "decision_rule": decision_rule(threshold=threshold, temperature=temperature,
                                       positive_name=names[pos] if pos is not None else None,
                                       metric=calibration.get("threshold_metric")),
        "clean": {"accuracy": clean_m["accuracy"], "macro_f1": clean_m["macro_f1"]},
        "transforms": dict(previous),
    }
    for spec in specs:
        pipeline = build_pipeline(spec)
        started = time.perf_counter()
        with phase(f"transforming {split} with {spec}", unit="sets", heartbeat=True):
            new_examples, changes = transform_examples(examples, pipeline, config.seed, sides)  # type: ignore[arg-type]
        seconds = time.perf_counter() - started
        probs = predict(new_examples, f"{split}@{spec}")
        changed = np.array([c.changed for c in changes], dtype=bool)
        slug = spec_slug(spec)
        pred_file = run_dir / "predictions" / f"{split}@{slug}.jsonl"
        rows = transformed_rows(examples, new_examples, changes, probs, names, rule(probs))
        atomic_write_text(pred_file, "".join(dumps_json(r) + "\n" for r in rows))
        entry = {"transform": spec, "slug": slug,
                 **_compare(labels, clean, probs, changed, seed=config.seed, rule=rule),
                 "seconds": round(seconds, 3),
                 "texts_per_s": round(len(examples) / max(seconds, 1e-9), 1),
                 "predictions": str(pred_file.relative_to(run_dir)),
                 "flips": _flips(examples, new_examples, changes, clean, probs, names, k,
                                 rule)}
        report["transforms"][spec] = entry
    write_json_atomic(out_file, report)
    update_summary(run_dir, **{f"robustness_{split}": {
        s: {"accuracy": e["accuracy"], "drop": e["drop"], "flip_rate": e["flip_rate"]}
        for s, e in report["transforms"].items()}})
    return report
