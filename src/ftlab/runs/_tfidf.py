"""The TF-IDF (word + character n-grams) + logistic regression model behind ``ftlab baseline``
and the baseline score every evaluation shows (one module that both import, without a cycle)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["TfidfBaseline"]


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
