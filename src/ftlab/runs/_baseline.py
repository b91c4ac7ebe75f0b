"""``ftlab baseline``: TF-IDF (word + character n-grams) + logistic regression on a run's splits.

The baseline is written as an ordinary run directory (config, run.json, predictions,
evaluation), so ``ftlab evaluate``, ``ftlab report`` and ``ftlab runs`` treat it like any
other run. Every model evaluation also shows its score (see :func:`baseline_scores`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ftlab.config import RunConfig

__all__ = ["TfidfBaseline", "train_baseline"]


def _joined(example: Any) -> str:
    # pairs: both sides, separated so n-grams do not run across the boundary
    return example.text if example.text_pair is None else f"{example.text} ||| {example.text_pair}"


class TfidfBaseline:
    """Word 1-2-gram + character 2-5-gram TF-IDF features, then logistic regression.

    Args:
        max_features: cap per feature family (keeps memory bounded on large sets).
        c: inverse regularisation strength of the logistic regression.
        seed: random state of the solver.
    """

    def __init__(self, *, max_features: int = 200_000, c: float = 4.0, seed: int = 0) -> None:
        self.max_features = max_features
        self.c = c
        self.seed = seed
        self._pipeline: Any = None

    def fit(self, texts: Sequence[str], labels: Sequence[int]) -> TfidfBaseline:
        """Fit vectorizers and classifier on training texts only.

        Terms must occur in two training documents; on sets so small or so varied that no
        term survives that pruning (short synthetic tasks), every term is kept instead.

        Raises:
            ValueError: the texts have no features at all (every text empty).
        """
        try:
            self._pipeline = self._build(min_df=2).fit(list(texts), list(labels))
        except ValueError as exc:
            if "no terms remain" not in str(exc):
                raise
            self._pipeline = self._build(min_df=1).fit(list(texts), list(labels))
        return self

    def _build(self, *, min_df: int) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion, make_pipeline

        features = FeatureUnion([
            ("word", TfidfVectorizer(ngram_range=(1, 2), min_df=min_df, sublinear_tf=True,
                                     max_features=self.max_features)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=min_df,
                                     sublinear_tf=True, max_features=self.max_features)),
        ])
        clf = LogisticRegression(C=self.c, max_iter=2000, random_state=self.seed)
        return make_pipeline(features, clf)

    def predict_proba(self, texts: Sequence[str], num_classes: int) -> np.ndarray:
        """(N, num_classes) probabilities; classes absent from training get probability 0."""
        raw = self._pipeline.predict_proba(list(texts))
        out = np.zeros((len(texts), num_classes), dtype=np.float64)
        out[:, self._pipeline.classes_] = raw
        return out


def train_baseline(config: RunConfig, *, name: str | None = None, console: Any = None) -> dict[str, Any]:
    """Fit the TF-IDF baseline on a config's splits and write it as a run.

    Returns:
        The run summary (run.json).
    """
    from ftlab.runs._evaluate import evaluate_arrays
    from ftlab.runs._prepare import prepare_data
    from ftlab.runs._rundir import create_run_dir, update_summary, utc_now, write_json_atomic

    say = console.print if console is not None else (lambda *a, **k: None)
    cfg = config.model_copy(update={"name": name or f"{config.name or 'run'}-tfidf"})
    run_dir = create_run_dir(cfg, name=cfg.name)
    started = time.time()
    update_summary(run_dir, name=run_dir.name, path=str(run_dir), status="running",
                   model="tfidf_lr", dataset=config.data.source or "files", seed=config.seed,
                   hparams={"model": "tfidf_lr", "features": "word 1-2 + char 2-5 tf-idf",
                            "C": 4.0, "seed": config.seed},
                   started=utc_now())
    prepared = prepare_data(config)
    encoder = prepared.encoder
    encoder.save(run_dir / "artifacts" / "encoder")  # label map, for evaluate/report
    write_json_atomic(run_dir / "data_report.json", prepared.report.to_dict())
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
                                         probs=probs, encoder=encoder, train_labels=y_train)
    val = results.get("validation", {}).get("metrics", {})
    test = {s: r["metrics"] for s, r in results.items() if s != "validation"}
    monitor = config.eval.monitor if config.eval.monitor != "loss" else "accuracy"
    summary = update_summary(
        run_dir, status="completed", stop_reason="fitted", best_metric=val.get(monitor),
        monitor=monitor, test=test, test_metric=test.get("test", {}).get(monitor),
        duration_s=round(time.time() - started, 2), ended=utc_now(),
    )
    say(f"baseline run: {run_dir}")
    return summary
