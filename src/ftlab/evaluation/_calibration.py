"""Calibration: expected/maximum calibration error, reliability diagram, temperature scaling.

All measures use the *top-label* confidence (the probability of the predicted class) and
whether that prediction is right, as in Guo et al. 2017 ("On Calibration of Modern Neural
Networks"). Temperature scaling fits one scalar ``T`` on validation data; ``T > 1`` softens an
over-confident model, and it never changes the arg-max prediction.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

from ftlab.errors import ConfigError, DataError
from ftlab.evaluation._inputs import check_arrays

__all__ = [
    "BinStrategy",
    "expected_calibration_error",
    "maximum_calibration_error",
    "reliability_diagram",
    "fit_temperature",
    "apply_temperature",
    "negative_log_likelihood",
]

BinStrategy = Literal["uniform", "quantile"]

# log(0) guard for probabilities used as logits; below float32 softmax resolution anyway
_EPS = 1e-12
# search range of T: 1/20 .. 20 covers every sane model; the optimum on the edge means the
# probabilities carry (almost) no ranking information
_LOG_T_BOUNDS = (math.log(0.05), math.log(20.0))


def _check_bins(n_bins: int, strategy: str) -> None:
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ConfigError(f"n_bins must be a positive integer, got {n_bins!r}")
    if strategy not in ("uniform", "quantile"):
        raise ConfigError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}")


def _bins(probs: Any, labels: Any, n_bins: int, strategy: str, where: str) -> dict[str, np.ndarray]:
    """Per non-empty bin: lower/upper edge, mean confidence, accuracy, count."""
    _check_bins(n_bins, strategy)
    y, p = check_arrays(labels, probs, where=where)
    conf = p.max(axis=1)  # (N,) top-label confidence
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
        # bin i holds (edges[i], edges[i+1]]; a confidence of exactly 0 goes to bin 0
        idx = np.searchsorted(edges[1:-1], conf, side="left")
        count = np.bincount(idx, minlength=n_bins)
        lower, upper = edges[:-1], edges[1:]
    else:
        # equal mass: sort by confidence and cut into n_bins nearly equal runs
        order = np.argsort(conf, kind="stable")
        idx = np.empty_like(order)
        idx[order] = np.arange(len(conf)) * n_bins // len(conf)
        count = np.bincount(idx, minlength=n_bins)
        lower = np.array([conf[idx == b].min() if count[b] else np.nan for b in range(n_bins)])
        upper = np.array([conf[idx == b].max() if count[b] else np.nan for b in range(n_bins)])
    safe = np.maximum(count, 1)
    mean_conf = np.bincount(idx, weights=conf, minlength=n_bins) / safe
    accuracy = np.bincount(idx, weights=correct, minlength=n_bins) / safe
    keep = count > 0
    return {"lower": lower[keep], "upper": upper[keep], "confidence": mean_conf[keep],
            "accuracy": accuracy[keep], "count": count[keep], "n": np.array(len(conf))}


def expected_calibration_error(
    probs: Any, labels: Any, *, n_bins: int = 15, strategy: BinStrategy = "uniform",
) -> float:
    """Expected calibration error: ``sum_b (n_b / N) * |accuracy_b - confidence_b|``.

    Args:
        probs: (N, C) class probabilities.
        labels: (N,) true class indices.
        n_bins: number of confidence bins.
        strategy: ``"uniform"`` (equal-width bins on [0, 1]) or ``"quantile"`` (equal-mass bins,
            less sensitive to empty bins when confidences crowd near 1).

    Returns:
        The ECE in [0, 1]; 0 is perfectly calibrated.

    Raises:
        DataError: invalid arrays. ConfigError: invalid ``n_bins`` or ``strategy``.
    """
    b = _bins(probs, labels, n_bins, strategy, "expected_calibration_error")
    gap = np.abs(b["accuracy"] - b["confidence"])
    return float(np.sum(b["count"] * gap) / b["n"])


def maximum_calibration_error(
    probs: Any, labels: Any, *, n_bins: int = 15, strategy: BinStrategy = "uniform",
) -> float:
    """Maximum calibration error: the largest ``|accuracy_b - confidence_b|`` over non-empty bins.

    Args and Raises: as :func:`expected_calibration_error`.

    Returns:
        The MCE in [0, 1].
    """
    b = _bins(probs, labels, n_bins, strategy, "maximum_calibration_error")
    return float(np.max(np.abs(b["accuracy"] - b["confidence"])))


def reliability_diagram(probs: Any, labels: Any, n_bins: int = 15) -> dict[str, list[float]]:
    """Data for a reliability diagram over equal-width confidence bins.

    Args:
        probs: (N, C) class probabilities.
        labels: (N,) true class indices.
        n_bins: number of equal-width bins on [0, 1].

    Returns:
        ``{"bin_lower", "bin_upper", "confidence", "accuracy", "count"}``: parallel lists, one
        entry per *non-empty* bin (empty bins are left out, so no value is ever null).

    Raises:
        DataError: invalid arrays. ConfigError: invalid ``n_bins``.
    """
    b = _bins(probs, labels, n_bins, "uniform", "reliability_diagram")
    return {"bin_lower": [float(v) for v in b["lower"]],
            "bin_upper": [float(v) for v in b["upper"]],
            "confidence": [float(v) for v in b["confidence"]],
            "accuracy": [float(v) for v in b["accuracy"]],
            "count": [int(v) for v in b["count"]]}


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def negative_log_likelihood(probs: Any, labels: Any) -> float:
    """Mean negative log probability of the true class (natural log; log loss).

    Raises:
        DataError: invalid arrays.
    """
    y, p = check_arrays(labels, probs, where="negative_log_likelihood")
    return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], _EPS, 1.0))))


def fit_temperature(probs_or_logits: Any, labels: Any, *, from_probs: bool = True) -> float:
    """Fit one temperature ``T`` that minimises the NLL of ``softmax(logits / T)``.

    Optimises ``log T`` (so ``T > 0``) with bounded Brent search on [0.05, 20]; the NLL is
    convex in ``1 / T``, so the 1-D search finds the global minimum. Fit on validation data
    only, never on the split you report.

    Args:
        probs_or_logits: (N, C) probabilities (``from_probs=True``; ``log(probs)`` are used as
            logits, which softmax maps back to the same probabilities at ``T = 1``) or logits.
        labels: (N,) true class indices.
        from_probs: whether the first argument holds probabilities.

    Returns:
        The temperature; > 1 for an over-confident model, < 1 for an under-confident one.

    Raises:
        DataError: invalid arrays (non-finite logits, labels out of range, no examples).
    """
    from scipy.optimize import minimize_scalar  # scipy ships with scikit-learn

    if from_probs:
        y, p = check_arrays(labels, probs_or_logits, where="fit_temperature")
        logits = np.log(np.clip(p, _EPS, 1.0))
    else:
        logits = np.asarray(probs_or_logits, dtype=np.float64)
        if logits.ndim != 2 or not np.all(np.isfinite(logits)):
            raise DataError(f"fit_temperature: logits must be a finite (N, C) array, got shape "
                            f"{logits.shape}")
        # validate labels against a dummy uniform probability matrix of the same shape
        y, _ = check_arrays(labels, np.full(logits.shape, 1.0 / logits.shape[1]),
                            where="fit_temperature")
    rows = np.arange(len(y))

    def nll(log_t: float) -> float:
        return float(-_log_softmax(logits / math.exp(log_t))[rows, y].mean())

    result = minimize_scalar(nll, bounds=_LOG_T_BOUNDS, method="bounded",
                             options={"xatol": 1e-5})
    return float(math.exp(result.x))


def apply_temperature(probs: Any, temperature: float) -> np.ndarray:
    """Soften (``T > 1``) or sharpen (``T < 1``) probabilities: ``softmax(log(probs) / T)``.

    Args:
        probs: (N, C) class probabilities.
        temperature: a positive, finite temperature (e.g. from :func:`fit_temperature`).

    Returns:
        (N, C) float64 calibrated probabilities, same arg-max as ``probs``.

    Raises:
        ConfigError: a temperature that is not a positive finite number.
        DataError: invalid probabilities.
    """
    if (isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.number))
            or not math.isfinite(float(temperature)) or float(temperature) <= 0):
        raise ConfigError(f"temperature must be a positive finite number, got {temperature!r}; "
                          f"refit it with ftlab calibrate")
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2:
        raise DataError(f"apply_temperature: probs must have shape (N, C), got {p.shape}")
    if p.shape[0] == 0:
        return p.copy()
    _, p = check_arrays(np.zeros(len(p), dtype=np.int64), p, where="apply_temperature")
    return np.exp(_log_softmax(np.log(np.clip(p, _EPS, 1.0)) / float(temperature)))
