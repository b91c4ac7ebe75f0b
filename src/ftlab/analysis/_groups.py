"""Groups of seeds: does configuration B beat configuration A beyond seed-to-seed noise?

Each group holds one score per run (the same configuration trained with different seeds).
The difference of the group means is tested by Welch's t-test (unequal variances) and by a
bootstrap of the difference of means (each group resampled on its own). The comparison also
says whether the difference is within seed noise: no larger than the seed standard deviation
of either group, i.e. a single run of A can well beat a single run of B.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ftlab.analysis._evp import SeedSummary, seed_summary
from ftlab.analysis._significance import _TIE, _points, format_p
from ftlab.errors import ConfigError, DataError
from ftlab.evaluation import bootstrap_draws, percentile_interval

__all__ = ["GroupComparison", "compare_groups"]


@dataclass(frozen=True)
class GroupComparison:
    """The result of :func:`compare_groups` (or :func:`ftlab.analysis.compare_run_groups`).

    Attributes:
        metric: the name of the score compared (e.g. ``"accuracy"``).
        a: summary of group A's scores (mean, std, min, max, EVP curve).
        b: summary of group B's scores.
        difference: ``b.mean - a.mean``.
        welch: ``{"statistic", "df", "p_value", "low", "high"}``: Welch's t-test of equal
            means and its confidence interval of the difference.
        bootstrap: ``{"low", "high", "p_value", "n_resamples"}``: percentile interval and
            shifted-null p-value of the difference of means, groups resampled independently.
        confidence: central mass of the intervals; p below ``1 - confidence`` is significant.
        seed: seed of the bootstrap.
        within_seed_noise: ``|difference|`` is no larger than the larger seed standard
            deviation of the two groups.
        notes: caveats (degenerate t-test, different test-set sizes).
        runs: ``{"a": [paths], "b": [paths]}`` when the scores came from run directories.
        split: the split the scores were measured on, when known.
    """

    metric: str
    a: SeedSummary
    b: SeedSummary
    difference: float
    welch: dict[str, float | None]
    bootstrap: dict[str, float]
    confidence: float
    seed: int
    within_seed_noise: bool
    notes: list[str] = field(default_factory=list)
    runs: dict[str, list[str]] | None = None
    split: str | None = None

    @property
    def alpha(self) -> float:
        """Significance level, ``1 - confidence``."""
        return 1.0 - self.confidence

    @property
    def significant(self) -> bool:
        """Whether Welch's t-test rejects equal means at ``alpha``."""
        p = self.welch["p_value"]
        return p is not None and p < self.alpha

    @property
    def seed_std(self) -> float:
        """The larger of the two groups' seed standard deviations."""
        return max(self.a.std or 0.0, self.b.std or 0.0)

    def verdict(self) -> str:
        """One line in plain words: better / worse / no significant difference, the interval,
        the p-value, and whether the difference is within seed noise."""
        w = self.welch
        p = w["p_value"]
        if self.significant and self.difference > 0:
            head = "B is better than A"
        elif self.significant and self.difference < 0:
            head = "B is worse than A"
        else:
            head = "no significant difference between A and B"
        interval = (f" [{_points(w['low']):.1f}, {_points(w['high']):.1f}]"
                    if w["low"] is not None and w["high"] is not None else "")
        p_text = format_p(p) if p is not None else "p undefined"
        line = (f"{head} across seeds on {self.metric}: {_points(self.difference):+.1f} points"
                f"{interval} in the mean, {p_text} (Welch t-test, {self.a.n} vs {self.b.n} runs)")
        noise = (f"seed std {_points(self.a.std or 0.0):.1f} (A) and "
                 f"{_points(self.b.std or 0.0):.1f} (B) points")
        if self.significant and self.within_seed_noise:
            return (line + f"; but the difference is within seed noise ({noise}): a single run "
                           f"of A can beat a single run of B")
        if self.significant:
            return line
        if self.within_seed_noise:
            return line + f"; the difference is within seed noise ({noise})"
        return (line + f"; the difference exceeds the seed noise ({noise}) but {self.a.n} vs "
                       f"{self.b.n} runs are too few to call it: add seeds")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, including the verdict."""
        return {
            "metric": self.metric, "split": self.split, "runs": self.runs,
            "a": self.a.to_dict(), "b": self.b.to_dict(), "difference": self.difference,
            "welch": dict(self.welch), "bootstrap": dict(self.bootstrap),
            "confidence": self.confidence, "alpha": self.alpha, "seed": self.seed,
            "significant": self.significant, "within_seed_noise": self.within_seed_noise,
            "seed_std": self.seed_std, "notes": list(self.notes), "verdict": self.verdict(),
        }


def _welch(a: np.ndarray, b: np.ndarray, confidence: float,
           notes: list[str]) -> dict[str, float | None]:
    from scipy import stats

    diff = float(b.mean() - a.mean())
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        # scipy returns NaN here: with no seed variation at all, equal means cannot be told
        # apart from different ones by a t-test, so state the degenerate answer and say so
        notes.append("no seed-to-seed variation in either group: the t-test is degenerate "
                     "(p = 1 if the means are equal, 0 otherwise)")
        return {"statistic": None, "df": None, "p_value": 1.0 if a[0] == b[0] else 0.0,
                "low": diff, "high": diff}
    with warnings.catch_warnings():
        # one group with the same score for every seed (common on small test sets) is valid
        # input; scipy warns about "catastrophic cancellation" in its variance, which is 0
        warnings.filterwarnings("ignore", "Precision loss", RuntimeWarning)
        res = stats.ttest_ind(b, a, equal_var=False)
    ci = res.confidence_interval(confidence_level=confidence)
    return {"statistic": float(res.statistic), "df": float(res.df), "p_value": float(res.pvalue),
            "low": float(ci.low), "high": float(ci.high)}


def _bootstrap_means(a: np.ndarray, b: np.ndarray, n_resamples: int, confidence: float,
                     seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    mean_a = bootstrap_draws(lambda idx: {"m": a[idx].mean(axis=1)}, a.size, n_resamples, rng,
                             chunk=n_resamples)["m"]  # (R,)
    mean_b = bootstrap_draws(lambda idx: {"m": b[idx].mean(axis=1)}, b.size, n_resamples, rng,
                             chunk=n_resamples)["m"]  # (R,)
    d = mean_b - mean_a
    observed = float(b.mean() - a.mean())
    low, high = percentile_interval(d, confidence)
    hits = int(np.sum(np.abs(d - observed) >= abs(observed) - _TIE))
    return {"low": float(low), "high": float(high),
            "p_value": (1 + hits) / (1 + n_resamples), "n_resamples": int(n_resamples)}


def compare_groups(
    values_a: Sequence[float], values_b: Sequence[float], *, metric: str = "accuracy",
    n_resamples: int = 10_000, confidence: float = 0.95, seed: int = 0,
) -> GroupComparison:
    """Compare the distributions of one score over two groups of runs (seeds).

    Args:
        values_a: one score per run of configuration A (fractions such as accuracy 0.87;
            differences are shown in points, x100).
        values_b: one score per run of configuration B.
        metric: the score's name, used in the verdict.
        n_resamples: bootstrap resamples of the difference of means.
        confidence: central mass of the intervals; p below ``1 - confidence`` is significant.
        seed: seed of the bootstrap.

    Returns:
        The comparison; ``.verdict()`` states it in one line and says when the difference is
        within seed noise.

    Raises:
        DataError: a group has fewer than 2 runs, or a score is NaN/inf.
        ConfigError: ``n_resamples < 1`` or ``confidence`` outside (0, 1).
    """
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) \
            or n_resamples < 1:
        raise ConfigError(f"n_resamples must be a positive integer, got {n_resamples!r}")
    if not 0.0 < float(confidence) < 1.0:
        raise ConfigError(f"confidence must lie in (0, 1), got {confidence!r} (e.g. 0.95)")
    summaries = {"A": seed_summary(values_a), "B": seed_summary(values_b)}
    for name, s in summaries.items():
        if s.n < 2:
            raise DataError(f"group {name} has {s.n} run; comparing seeds needs at least 2 runs "
                            f"per group (3-5 seeds each is a reasonable minimum)")
    a = np.asarray(summaries["A"].values)
    b = np.asarray(summaries["B"].values)
    notes: list[str] = []
    welch = _welch(a, b, float(confidence), notes)
    diff = float(b.mean() - a.mean())
    seed_std = max(summaries["A"].std or 0.0, summaries["B"].std or 0.0)
    return GroupComparison(
        metric=metric, a=summaries["A"], b=summaries["B"], difference=diff, welch=welch,
        bootstrap=_bootstrap_means(a, b, int(n_resamples), float(confidence), int(seed)),
        confidence=float(confidence), seed=int(seed),
        within_seed_noise=bool(abs(diff) <= seed_std + _TIE),
        notes=notes,
    )
