"""Expected validation performance (Dodge et al. 2019, "Show your work") and seed summaries.

Given N scores ``v`` from N runs (seeds or random-search trials), the expected best score of
``n`` runs drawn with replacement from those N is, with ``v_(1) <= ... <= v_(N)`` sorted,

    E[max of n] = sum_i v_(i) * ((i / N)^n - ((i - 1) / N)^n)

since ``(i / N)^n`` is the probability that all ``n`` draws land at or below position ``i``.
The same weights give ``E[max^2]`` and so the variance. Ties need no special care: the
weights of tied positions add up to the probability of their shared value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ftlab.errors import ConfigError, DataError

__all__ = ["EVPCurve", "SeedSummary", "evp_curve", "expected_max", "expected_max_std",
           "seed_summary"]


def _scores(values: Sequence[float] | np.ndarray, where: str) -> np.ndarray:
    """``values`` as a finite, non-empty float64 vector (N,), in the order given."""
    try:
        v = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{where}: values must be numbers (one score per run), got "
                        f"{values!r} ({exc})") from exc
    if v.ndim != 1 or v.size == 0:
        raise DataError(f"{where}: values must be a non-empty 1-D sequence of scores (one per "
                        f"run), got shape {v.shape}")
    bad = np.flatnonzero(~np.isfinite(v))
    if bad.size:
        raise DataError(f"{where}: value {v[bad[0]]!r} at position {int(bad[0])} is not finite; "
                        f"drop failed runs (NaN/inf scores) before summarising")
    return v


def _check_n(n: Any, where: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"{where}: n (runs drawn) must be a positive integer, got {n!r}")
    return int(n)


def _max_weights(size: int, n: int) -> np.ndarray:
    """P(the max of n draws with replacement is the i-th smallest of ``size``), shape (size,)."""
    cdf = (np.arange(size + 1, dtype=np.float64) / size) ** n  # (size + 1,): P(max <= position)
    return np.diff(cdf)


def _moments(v: np.ndarray, n: int) -> tuple[float, float]:
    """Mean and standard deviation of the max of ``n`` draws from sorted scores ``v``."""
    w = _max_weights(v.size, n)
    mean = float(w @ v)
    # E[max^2] - E[max]^2 loses a little to rounding and may dip below 0 when all draws agree
    var = max(float(w @ (v * v)) - mean * mean, 0.0)
    return mean, math.sqrt(var)


def expected_max(values: Sequence[float] | np.ndarray, n: int) -> float:
    """Expected best score of ``n`` runs drawn with replacement from ``values``.

    The unbiased order-statistics estimator of Dodge et al. (2019):
    ``sum_i v_(i) * ((i/N)^n - ((i-1)/N)^n)`` over the sorted scores. ``n = 1`` gives the
    mean; as ``n`` grows it rises to ``max(values)``. ``n > N`` is allowed but extrapolates
    past the runs you have (it can never exceed the best observed score).

    Args:
        values: N validation scores, higher is better (negate a loss first).
        n: how many runs are drawn (the budget), >= 1.

    Returns:
        The expected maximum.

    Raises:
        DataError: ``values`` is empty, not 1-D or holds NaN/inf.
        ConfigError: ``n`` is not a positive integer.
    """
    return _moments(np.sort(_scores(values, "expected_max")), _check_n(n, "expected_max"))[0]


def expected_max_std(values: Sequence[float] | np.ndarray, n: int) -> float:
    """Standard deviation of the best score of ``n`` runs drawn with replacement from ``values``.

    ``sqrt(E[max^2] - E[max]^2)`` with the weights of :func:`expected_max`; 0 when all draws
    agree (one distinct value), and it shrinks towards 0 as ``n`` grows.

    Args:
        values: N validation scores, higher is better.
        n: how many runs are drawn, >= 1.

    Returns:
        The standard deviation of the maximum.

    Raises:
        DataError: invalid ``values``.
        ConfigError: ``n`` is not a positive integer.
    """
    v = np.sort(_scores(values, "expected_max_std"))
    return _moments(v, _check_n(n, "expected_max_std"))[1]


@dataclass(frozen=True)
class EVPCurve:
    """Expected validation performance for budgets ``n = 1 .. max_n``.

    Attributes:
        n: the budgets (number of runs drawn), ascending.
        mean: expected best score for each budget (non-decreasing).
        std: standard deviation of the best score for each budget.
    """

    n: tuple[int, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]

    def to_dict(self) -> dict[str, list[Any]]:
        """``{"n": [...], "mean": [...], "std": [...]}`` (JSON-ready)."""
        return {"n": list(self.n), "mean": list(self.mean), "std": list(self.std)}


def evp_curve(values: Sequence[float] | np.ndarray, max_n: int | None = None) -> EVPCurve:
    """The expected-validation-performance curve: :func:`expected_max` and its standard
    deviation for every budget ``n = 1 .. max_n``.

    Args:
        values: N validation scores, higher is better.
        max_n: the largest budget (default N, the number of runs you have; larger values
            extrapolate).

    Returns:
        The curve.

    Raises:
        DataError: invalid ``values``.
        ConfigError: ``max_n`` is not a positive integer.
    """
    v = np.sort(_scores(values, "evp_curve"))
    top = v.size if max_n is None else _check_n(max_n, "evp_curve")
    moments = [_moments(v, n) for n in range(1, top + 1)]
    return EVPCurve(n=tuple(range(1, top + 1)), mean=tuple(m for m, _ in moments),
                    std=tuple(s for _, s in moments))


@dataclass(frozen=True)
class SeedSummary:
    """Statistics of one score over several runs (seeds or trials).

    Attributes:
        n: number of runs.
        mean: mean score.
        std: sample standard deviation (``ddof=1``); ``None`` for a single run.
        min: worst score.
        max: best score.
        evp: expected validation performance for budgets ``1 .. n``.
        values: the scores, in the order given.
    """

    n: int
    mean: float
    std: float | None
    min: float
    max: float
    evp: EVPCurve
    values: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``evp`` as ``{"n", "mean", "std"}`` lists)."""
        return {"n": self.n, "mean": self.mean, "std": self.std, "min": self.min,
                "max": self.max, "values": list(self.values), "evp": self.evp.to_dict()}


def seed_summary(values: Sequence[float] | np.ndarray) -> SeedSummary:
    """Mean, standard deviation, range and EVP curve of one score over N runs.

    Meant for seed studies (the same config trained with N seeds): report the mean and
    ``std`` rather than the best seed, and the EVP curve to show what a budget of ``n`` runs
    buys.

    Args:
        values: one score per run (e.g. validation or test accuracy), higher is better.

    Returns:
        The summary; ``std`` is ``None`` when there is only one run.

    Raises:
        DataError: ``values`` is empty, not 1-D or holds NaN/inf.
    """
    v = _scores(values, "seed_summary")
    return SeedSummary(
        n=int(v.size), mean=float(v.mean()),
        std=float(v.std(ddof=1)) if v.size > 1 else None,
        min=float(v.min()), max=float(v.max()), evp=evp_curve(v),
        values=tuple(float(x) for x in v),
    )
