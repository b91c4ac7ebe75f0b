"""Paired significance tests: is classifier B better than A on the same examples?

Three tests of "no difference" on paired predictions, all reported with a percentile
interval from a paired bootstrap of the difference (examples resampled together for A and B):

- ``paired-bootstrap``: resample the examples; the p-value is the share of resampled
  differences at least as far from the observed one as the observed one is from 0 (the
  bootstrap distribution shifted to the null, Berg-Kirkpatrick et al. 2012).
- ``permutation``: swap A's and B's prediction of each example with probability 1/2
  (approximate randomization); the p-value is the share of swapped differences at least as
  large in magnitude as the observed one.
- ``mcnemar``: on the discordant examples only (one right, the other wrong); accuracy only.

Resampling p-values count the observed data as one draw, ``(1 + hits) / (1 + draws)``
(Phipson and Smyth 2010), so they are never exactly 0. Resamples are vectorised in chunks:
one ``np.bincount`` per chunk gives every resample's confusion matrix.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from ftlab.errors import ConfigError, DataError
from ftlab.evaluation import bootstrap_draws, percentile_interval

__all__ = ["MetricDifference", "McNemarResult", "PairedComparison", "TESTS", "TestName",
           "compare_predictions", "format_p", "mcnemar_test"]

TestName = Literal["paired-bootstrap", "mcnemar", "permutation"]
TESTS: tuple[str, ...] = ("paired-bootstrap", "mcnemar", "permutation")
PAIRED_METRICS = ("accuracy", "macro_f1")
# McNemar: exact binomial test below this many discordant pairs, chi-square above (the
# chi-square approximation is poor for small counts; 25 is the usual cut-off)
EXACT_BELOW = 25
_CHUNK_ELEMENTS = 1_000_000  # resamples x examples per chunk: bounds memory to a few MB
_TIE = 1e-12  # differences are sums of 1/N steps: compare them with a rounding tolerance


def format_p(p: float) -> str:
    """``"p = 0.031"``, or ``"p < 0.001"`` for smaller values."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _points(x: float) -> float:
    """A fraction as points (x100), rounded to 0.1 without a negative zero."""
    return round(100.0 * x, 1) + 0.0


@dataclass(frozen=True)
class MetricDifference:
    """One metric of A and B on the same examples, and the difference B - A.

    Attributes:
        metric: ``"accuracy"`` or ``"macro_f1"``.
        a: the metric of A (a fraction in [0, 1]).
        b: the metric of B.
        difference: ``b - a``.
        low: lower bound of the paired-bootstrap interval of the difference.
        high: upper bound.
        p_value: two-sided p-value of "A and B score the same" by the comparison's test.
    """

    metric: str
    a: float
    b: float
    difference: float
    low: float
    high: float
    p_value: float


@dataclass(frozen=True)
class McNemarResult:
    """McNemar's test on paired correctness.

    Attributes:
        a_only: examples A gets right and B gets wrong.
        b_only: examples B gets right and A gets wrong.
        statistic: the continuity-corrected chi-square statistic (``None`` for the exact test).
        p_value: two-sided p-value.
        method: ``"exact"`` (binomial) or ``"chi2"`` (chi-square, 1 degree of freedom, with
            continuity correction).
    """

    a_only: int
    b_only: int
    statistic: float | None
    p_value: float
    method: Literal["exact", "chi2"]

    @property
    def discordant(self) -> int:
        """Examples on which exactly one of A and B is right."""
        return self.a_only + self.b_only


def mcnemar_test(correct_a: Any, correct_b: Any, *, exact: bool | None = None) -> McNemarResult:
    """McNemar's test of equal accuracy from paired correctness.

    Only the discordant examples count: with ``b`` = A-only-right and ``c`` = B-only-right,
    under the null each discordant example is B's with probability 1/2. The exact test is
    the two-sided binomial test of ``c`` out of ``b + c``; the approximate one compares
    ``(|b - c| - 1)^2 / (b + c)`` with a chi-square of 1 degree of freedom (Edwards'
    continuity correction, floored at 0). No discordant example gives p = 1.

    Args:
        correct_a: (N,) booleans, whether A is right on each example.
        correct_b: (N,) booleans for B, same examples in the same order.
        exact: force the exact (True) or chi-square (False) test; default exact when there
            are fewer than 25 discordant examples.

    Returns:
        The counts, statistic, p-value and method.

    Raises:
        DataError: the arrays differ in shape or are empty.
    """
    from scipy import stats

    a = np.asarray(correct_a, dtype=bool)
    b = np.asarray(correct_b, dtype=bool)
    if a.ndim != 1 or a.shape != b.shape or a.size == 0:
        raise DataError(f"mcnemar_test: correct_a and correct_b must be non-empty (N,) arrays "
                        f"of the same length, got shapes {a.shape} and {b.shape}")
    a_only, b_only = int(np.sum(a & ~b)), int(np.sum(~a & b))
    k = a_only + b_only
    use_exact = k < EXACT_BELOW if exact is None else bool(exact)
    if k == 0:
        return McNemarResult(a_only, b_only, None if use_exact else 0.0, 1.0,
                             "exact" if use_exact else "chi2")
    # scipy has no McNemar test (statsmodels does, but is not a dependency): it is written
    # here on top of scipy's binomial test and chi-square distribution.
    if use_exact:
        p = stats.binomtest(b_only, k, 0.5, alternative="two-sided").pvalue
        return McNemarResult(a_only, b_only, None, float(min(p, 1.0)), "exact")
    statistic = max(abs(a_only - b_only) - 1, 0) ** 2 / k
    return McNemarResult(a_only, b_only, float(statistic), float(stats.chi2.sf(statistic, 1)),
                         "chi2")


@dataclass(frozen=True)
class PairedComparison:
    """The result of :func:`compare_predictions` (or :func:`ftlab.analysis.compare_runs`).

    Attributes:
        test: the test that gave the p-values.
        n: number of paired examples.
        metrics: ``{"accuracy": MetricDifference, "macro_f1": ...}`` (McNemar: accuracy only).
        confidence: central mass of the intervals; a p-value below ``1 - confidence`` is
            called significant.
        n_resamples: bootstrap resamples (and permutations) drawn.
        seed: seed of the resampling generator.
        identical: A and B make the same prediction on every example.
        details: test specifics (McNemar counts and statistic).
        runs: ``{"a": path, "b": path}`` when the predictions came from run directories.
        split: the split compared, when known.
    """

    test: TestName
    n: int
    metrics: dict[str, MetricDifference]
    confidence: float
    n_resamples: int
    seed: int
    identical: bool
    details: dict[str, Any] = field(default_factory=dict)
    runs: dict[str, str] | None = None
    split: str | None = None

    @property
    def alpha(self) -> float:
        """Significance level, ``1 - confidence``."""
        return 1.0 - self.confidence

    @property
    def accuracy(self) -> MetricDifference:
        """The accuracy difference (the headline)."""
        return self.metrics["accuracy"]

    @property
    def significant(self) -> bool:
        """Whether the accuracy difference is significant at ``alpha``."""
        return self.accuracy.p_value < self.alpha

    def describe_test(self) -> str:
        """The test in words, e.g. ``"paired bootstrap, 10,000 resamples"``."""
        if self.test == "paired-bootstrap":
            return f"paired bootstrap, {self.n_resamples:,} resamples"
        if self.test == "permutation":
            return f"paired permutation test, {self.n_resamples:,} permutations"
        k = self.details.get("discordant", 0)
        how = ("exact binomial" if self.details.get("method") == "exact"
               else "chi-square with continuity correction")
        return f"McNemar, {how}, {k:,} discordant examples"

    def verdict(self, metric: str = "accuracy") -> str:
        """One line in plain words, e.g. ``"B is better than A on accuracy: +1.2 points
        [0.4, 2.0], p = 0.003 (paired bootstrap, 10,000 resamples)"``.

        Args:
            metric: which metric's difference to state (one of :attr:`metrics`).

        Raises:
            ConfigError: the metric was not compared.
        """
        if metric not in self.metrics:
            raise ConfigError(f"verdict: metric {metric!r} was not compared; choose one of "
                              f"{sorted(self.metrics)}")
        m = self.metrics[metric]
        if self.identical:
            head = "no difference between A and B"
        elif m.p_value < self.alpha and m.difference > 0:
            head = "B is better than A"
        elif m.p_value < self.alpha and m.difference < 0:
            head = "B is worse than A"
        else:
            head = "no significant difference between A and B"
        line = (f"{head} on {metric}: {_points(m.difference):+.1f} points "
                f"[{_points(m.low):.1f}, {_points(m.high):.1f}], {format_p(m.p_value)} "
                f"({self.describe_test()})")
        if self.identical:
            line += f"; they make the same prediction on all {self.n:,} examples"
        return line

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, including the verdict line of each metric."""
        out = asdict(self)
        out["alpha"] = self.alpha
        out["significant"] = self.significant
        out["test_description"] = self.describe_test()
        out["verdicts"] = {k: self.verdict(k) for k in self.metrics}
        return out


def _metric_rows(codes: np.ndarray, c: int, metrics: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Metrics of every row of (B, N) confusion cells ``true * c + pred``, each of shape (B,).

    One ``np.bincount`` gives every row's confusion matrix. Macro-F1 averages over all ``c``
    classes with F1 = 0 for a class absent from both truth and predictions, as scikit-learn's
    ``f1_score(labels=range(c), zero_division=0)``.
    """
    b, n = codes.shape
    offsets = np.arange(b, dtype=np.int64)[:, None] * (c * c)  # row r counts in [r*c*c, ...)
    cm = np.bincount((codes + offsets).ravel(), minlength=b * c * c).reshape(b, c, c)
    tp = np.diagonal(cm, axis1=1, axis2=2).astype(np.float64)  # (B, C)
    out: dict[str, np.ndarray] = {}
    if "accuracy" in metrics:
        out["accuracy"] = tp.sum(axis=1) / n
    if "macro_f1" in metrics:
        denom = (cm.sum(axis=2) + cm.sum(axis=1)).astype(np.float64)  # 2tp + fp + fn, (B, C)
        f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
        out["macro_f1"] = f1.mean(axis=1)
    return out


def point_metrics(labels: np.ndarray, preds: np.ndarray, n_classes: int) -> dict[str, float]:
    """Accuracy and macro-F1 of one set of predictions, from
    :func:`ftlab.evaluation.label_metrics` (the one definition every command reports).

    Args:
        labels: (N,) true class indices.
        preds: (N,) predicted class indices.
        n_classes: number of classes C.
    """
    from ftlab.evaluation import label_metrics

    m = label_metrics(labels, preds, n_classes=n_classes)
    return {k: float(m[k]) for k in PAIRED_METRICS}


def _draws(code_a: np.ndarray, code_b: np.ndarray, c: int, metrics: tuple[str, ...],
           n_draws: int, rng: np.random.Generator, kind: str) -> dict[str, np.ndarray]:
    """Differences B - A under ``n_draws`` bootstrap resamples or random swaps, per metric.

    ``code_a``/``code_b`` are (N,) confusion cells ``true * c + pred`` of A and B.
    """
    n = code_a.size
    chunk = max(1, min(_CHUNK_ELEMENTS // n, _CHUNK_ELEMENTS // (c * c)))

    def differences(ra: np.ndarray, rb: np.ndarray) -> dict[str, np.ndarray]:
        sa, sb = _metric_rows(ra, c, metrics), _metric_rows(rb, c, metrics)
        return {m: sb[m] - sa[m] for m in metrics}

    if kind == "bootstrap":
        return bootstrap_draws(lambda idx: differences(code_a[idx], code_b[idx]), n, n_draws,
                               rng, chunk=chunk)
    out: dict[str, list[np.ndarray]] = {m: [] for m in metrics}
    done = 0
    while done < n_draws:  # permutation: swap A's and B's prediction with probability 1/2
        b = min(chunk, n_draws - done)
        swap = rng.random((b, n)) < 0.5  # (b, N)
        for m, v in differences(np.where(swap, code_b, code_a),
                                np.where(swap, code_a, code_b)).items():
            out[m].append(v)
        done += b
    return {m: np.concatenate(v) for m, v in out.items()}


def _check_inputs(labels: Any, preds_a: Any, preds_b: Any,
                  n_classes: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    arrays = [np.asarray(x) for x in (labels, preds_a, preds_b)]
    shapes = [a.shape for a in arrays]
    if any(a.ndim != 1 for a in arrays) or len(set(shapes)) != 1 or arrays[0].size == 0:
        raise DataError(f"compare_predictions: labels, preds_a and preds_b must be non-empty "
                        f"(N,) arrays of the same length, got shapes {shapes}")
    if any(a.dtype.kind not in "iu" or a.min() < 0 for a in arrays):
        raise DataError("compare_predictions: labels and predictions must be non-negative "
                        f"integer class indices, got dtypes {[str(a.dtype) for a in arrays]}")
    top = max(int(a.max()) for a in arrays) + 1
    c = top if n_classes is None else int(n_classes)
    if top > c:
        raise DataError(f"compare_predictions: class index {top - 1} >= n_classes {c}")
    y, pa, pb = (a.astype(np.int64) for a in arrays)
    return y, pa, pb, c


def compare_predictions(
    labels: Any, preds_a: Any, preds_b: Any, *, test: TestName = "paired-bootstrap",
    n_resamples: int = 10_000, confidence: float = 0.95, seed: int = 0,
    n_classes: int | None = None,
) -> PairedComparison:
    """Test whether B's predictions score differently from A's on the same examples.

    Accuracy is compared by every test; macro-F1 by the bootstrap and permutation tests.
    Intervals are percentile intervals of the paired bootstrap of ``B - A`` in every case.
    Identical predictions give a difference of 0, the interval [0, 0] and p = 1.

    Args:
        labels: (N,) true class indices.
        preds_a: (N,) A's predicted class indices, same examples and order.
        preds_b: (N,) B's predicted class indices.
        test: ``"paired-bootstrap"``, ``"mcnemar"`` or ``"permutation"``.
        n_resamples: bootstrap resamples, and permutations for the permutation test
            (10,000 pin a p-value near 0.05 down to about +-0.002).
        confidence: central mass of the intervals; p below ``1 - confidence`` is significant.
        seed: seed of the resampling generator (same seed, same result).
        n_classes: number of classes C for macro-F1 (default: largest index seen + 1).

    Returns:
        The comparison; ``.verdict()`` states it in one line.

    Raises:
        ConfigError: unknown test, ``n_resamples < 1`` or ``confidence`` outside (0, 1).
        DataError: arrays of different lengths, empty, or not class indices.
    """
    if test not in TESTS:
        raise ConfigError(f"unknown test {test!r}; choose one of {', '.join(TESTS)}")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) \
            or n_resamples < 1:
        raise ConfigError(f"n_resamples must be a positive integer, got {n_resamples!r} "
                          f"(e.g. 10000)")
    if not 0.0 < float(confidence) < 1.0:
        raise ConfigError(f"confidence must lie in (0, 1), got {confidence!r} (e.g. 0.95)")
    y, pa, pb, c = _check_inputs(labels, preds_a, preds_b, n_classes)
    metrics = ("accuracy",) if test == "mcnemar" else PAIRED_METRICS
    rng = np.random.default_rng(seed)
    score_a, score_b = point_metrics(y, pa, c), point_metrics(y, pb, c)
    observed = {m: score_b[m] - score_a[m] for m in metrics}
    code_a, code_b = y * c + pa, y * c + pb  # (N,) confusion cells
    boot = _draws(code_a, code_b, c, metrics, int(n_resamples), rng, "bootstrap")
    p_values: dict[str, float] = {}
    details: dict[str, Any] = {}
    if test == "paired-bootstrap":
        for m in metrics:
            d = abs(observed[m])
            hits = int(np.sum(np.abs(boot[m] - observed[m]) >= d - _TIE))
            p_values[m] = (1 + hits) / (1 + int(n_resamples))
    elif test == "permutation":
        perm = _draws(code_a, code_b, c, metrics, int(n_resamples), rng, "permutation")
        for m in metrics:
            hits = int(np.sum(np.abs(perm[m]) >= abs(observed[m]) - _TIE))
            p_values[m] = (1 + hits) / (1 + int(n_resamples))
    else:
        res = mcnemar_test(y == pa, y == pb)
        p_values["accuracy"] = res.p_value
        details = {**asdict(res), "discordant": res.discordant}
    diffs: dict[str, MetricDifference] = {}
    for m in metrics:
        low, high = percentile_interval(boot[m], confidence)
        diffs[m] = MetricDifference(metric=m, a=score_a[m], b=score_b[m], difference=observed[m],
                                    low=low, high=high, p_value=float(p_values[m]))
    return PairedComparison(test=test, n=int(y.size), metrics=diffs, confidence=float(confidence),
                            n_resamples=int(n_resamples), seed=int(seed),
                            identical=bool(np.array_equal(pa, pb)), details=details)
