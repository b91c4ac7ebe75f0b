"""Multiple choice: how the predicted answer positions compare with the correct ones."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["choice_position_bias"]


def choice_position_bias(labels: Any, preds: Any, num_choices: int) -> dict[str, Any]:
    """Position bias of a multiple-choice model: how often each choice position is predicted
    versus how often it is the correct answer.

    A model with no position preference predicts each position about as often as it is
    correct; one that favours "the first option" shows a predicted share above the correct
    share there. The chi-square test compares the predicted positions with the correct
    positions' distribution (``p_value`` small: the predicted positions are skewed).

    Args:
        labels: (N,) correct choice positions.
        preds: (N,) predicted choice positions.
        num_choices: N choices per item.

    Returns:
        ``{"num_choices", "chance", "positions": [{"position", "predicted", "correct",
        "accuracy"}...], "max_gap", "chi2", "p_value"}``; shares are fractions of the items,
        ``accuracy`` is the accuracy on items whose answer is at that position (``None`` when
        none is), ``max_gap`` the largest ``predicted - correct`` in absolute value.
    """
    from scipy.stats import chisquare

    y = np.asarray(labels, dtype=np.int64)
    p = np.asarray(preds, dtype=np.int64)
    n = max(len(y), 1)
    true_counts = np.bincount(y, minlength=num_choices)[:num_choices]
    pred_counts = np.bincount(p, minlength=num_choices)[:num_choices]
    rows: list[dict[str, Any]] = []
    for k in range(num_choices):
        here = y == k
        rows.append({"position": k, "predicted": float(pred_counts[k] / n),
                     "correct": float(true_counts[k] / n),
                     "accuracy": float(np.mean(p[here] == k)) if here.any() else None})
    chi2 = p_value = None
    expected = true_counts.astype(np.float64)
    if len(y) and (expected > 0).all():
        res = chisquare(pred_counts, f_exp=expected * pred_counts.sum() / expected.sum())
        chi2, p_value = float(res.statistic), float(res.pvalue)
    gap = max((abs(float(r["predicted"]) - float(r["correct"])) for r in rows), default=0.0)
    return {"num_choices": int(num_choices), "chance": 1.0 / num_choices, "positions": rows,
            "max_gap": float(gap), "chi2": chi2, "p_value": p_value}
