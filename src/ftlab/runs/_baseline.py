"""``ftlab baseline``: TF-IDF (word + character n-grams) + logistic regression on a run's splits.

The baseline is written as an ordinary run directory (config, run.json, predictions,
evaluation), so ``ftlab evaluate``, ``ftlab report`` and ``ftlab runs`` treat it like any
other run. Every model evaluation also shows its score (see :func:`baseline_scores`).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ftlab.config import RunConfig
from ftlab.runs._tfidf import TfidfBaseline, _joined

__all__ = ["TfidfBaseline", "train_baseline"]


def _multiple_choice(config: RunConfig) -> bool:
    """Whether the config's data is a multiple-choice task (choice columns, a preset or a
    built-in multiple-choice dataset)."""
    data = config.data
    if data.preset is not None or data.columns.choices is not None:
        return True
    if data.source.startswith("builtin:"):
        from ftlab.data import list_builtin

        name = data.source.removeprefix("builtin:")
        return any(b.name == name and b.task == "multiple_choice" for b in list_builtin())
    return False


def train_baseline(config: RunConfig, *, name: str | None = None, console: Any = None) -> dict[str, Any]:
    """Fit the TF-IDF baseline on a config's splits and write it as a run.

    Returns:
        The run summary (run.json).
    """
    from ftlab.runs._evaluate import evaluate_arrays
    from ftlab.runs._prepare import data_origin, prepare_data
    from ftlab.runs._rundir import create_run_dir, update_summary, utc_now, write_json_atomic

    if _multiple_choice(config):
        from ftlab.errors import ConfigError

        raise ConfigError("ftlab baseline fits a TF-IDF text classifier, which cannot score the "
                          "choices of a multiple-choice task; compare against the majority "
                          "position every evaluation reports, or train a bow model as the "
                          "baseline (configs/choice-category-bow.yaml)")
    say = console.print if console is not None else (lambda *a, **k: None)
    cfg = config.model_copy(update={"name": name or f"{config.name or 'run'}-tfidf"})
    run_dir = create_run_dir(cfg, name=cfg.name)
    started = time.time()
    update_summary(run_dir, name=run_dir.name, path=str(run_dir), status="running",
                   model="tfidf_lr", dataset=data_origin(config), seed=config.seed,
                   hparams={"model": "tfidf_lr", "features": "word 1-2 + char 2-5 tf-idf",
                            "C": 4.0, "seed": config.seed},
                   started=utc_now())
    prepared = prepare_data(config)
    encoder = prepared.encoder
    encoder.save(run_dir / "artifacts" / "encoder")  # label map, for evaluate/report
    write_json_atomic(run_dir / "data_report.json", prepared.report.to_dict())
    from ftlab.runs._prepare import data_warning_lines

    for line in data_warning_lines(prepared.report):  # the same lines ftlab train prints
        say(line, markup=False, highlight=False)
    update_summary(run_dir, data_removed=prepared.report.removed)
    train = prepared.splits["train"]
    y_train = [encoder.labels.encode(e.label) for e in train]
    model = TfidfBaseline(seed=config.seed).fit([_joined(e) for e in train], y_train)
    n_classes = encoder.labels.num_classes
    results: dict[str, Any] = {}
    for split in ("validation", *config.eval.splits):
        examples = prepared.splits.get(split) or []
        if not examples or split in results:
            continue
        probs = model.predict_proba([_joined(e) for e in examples], n_classes)
        labels = np.array([encoder.labels.encode(e.label) for e in examples])
        results[split] = evaluate_arrays(run_dir, split=split, examples=examples, labels=labels,
                                         probs=probs, encoder=encoder, train_labels=y_train,
                                         positive_label=config.eval.positive_label)
    val = results.get("validation", {}).get("metrics", {})
    from ftlab.runs._evaluate import _summary_metrics

    # the same flat figures (decision rule, intervals, absent classes) as a trained run's
    test = {s: _summary_metrics(r) for s, r in results.items() if s != "validation"}
    monitor = config.eval.monitor if config.eval.monitor != "loss" else "accuracy"
    summary = update_summary(
        run_dir, status="completed", stop_reason="fitted", best_metric=val.get(monitor),
        monitor=monitor, test=test, test_metric=test.get("test", {}).get(monitor),
        duration_s=round(time.time() - started, 2), ended=utc_now(),
    )
    say(f"baseline run: {run_dir}")
    return summary
