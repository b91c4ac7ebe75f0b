"""After a study: is the best value at the edge of its range, and a narrower range around it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ftlab.tuning._space import Param, SearchSpace, log_position

__all__ = ["boundary_warnings", "refine_space"]


def _round(x: float, kind: str) -> float | int:
    if kind == "int":
        return int(round(x))
    return float(f"{x:.3g}")


def _centered(p: Param, best: float, ratio_or_span: float) -> tuple[float, float]:
    """A range of the given width (ratio on a log scale, span on a linear one) centred on best."""
    if p.log:
        half = math.sqrt(ratio_or_span)
        return best / half, best * half
    return best - ratio_or_span / 2, best + ratio_or_span / 2


def boundary_warnings(space: SearchSpace, best: Mapping[str, Any], *,
                      margin: float = 0.1) -> list[str]:
    """Warn for every numeric parameter whose best value lies near the edge of its range.

    "Near" is within ``margin`` of the range on the parameter's own scale (in log space for a
    log-scaled parameter). Each warning suggests a range extended on that side, on the same
    scale: by a decade for a log scale, by half the span for a linear one (a non-negative
    range stays non-negative; no warning when it cannot be extended).

    Args:
        space: the search space that was searched.
        best: the best trial's values, dotted key -> value.
        margin: share of the range that counts as the edge.

    Returns:
        One message per parameter at an edge (empty when none is).
    """
    out: list[str] = []
    for p in space.nuisance:
        if not p.numeric or p.name not in best or best[p.name] is None:
            continue
        v = float(best[p.name])
        pos = log_position(p, v)
        if margin < pos < 1 - margin:
            continue
        lo, hi = float(p.low), float(p.high)  # type: ignore[arg-type]
        edge = "lower" if pos <= margin else "upper"
        # extend the edge side by a decade (log scale) or by half the span (linear scale)
        new_lo, new_hi = lo, hi
        if edge == "lower":
            new_lo = lo / 10 if p.log else lo - (hi - lo) / 2
        else:
            new_hi = hi * 10 if p.log else hi + (hi - lo) / 2
        if not p.log and lo >= 0:
            new_lo = max(new_lo, 0.0)  # a non-negative field stays non-negative
        if (edge == "lower" and new_lo >= lo) or (edge == "upper" and new_hi <= hi):
            continue  # the range cannot be extended on that side
        if p.kind == "int":
            new_lo, new_hi = math.floor(new_lo), math.ceil(new_hi)
        scale = "log" if p.log else "linear"
        out.append(
            f"{p.name}: best value {v:.4g} lies at the {edge} edge of its range [{p.low:g}, "
            f"{p.high:g}] ({scale} scale, {pos:.0%} of the way); extend the range, e.g. "
            f"low: {_round(new_lo, p.kind):g}, high: {_round(new_hi, p.kind):g}")
    return out


def refine_space(space: SearchSpace, best: Mapping[str, Any]) -> SearchSpace:
    """A narrower space around the best values (binary search in exponent space).

    A log-scaled parameter with range ratio ``high / low`` gets the ratio ``sqrt(high / low)``
    centred (geometrically) on the best value: each refinement halves the number of decades
    searched. A linear parameter gets half its span centred on the best value, kept inside the
    old bounds. Categorical, fixed and scientific parameters are unchanged; grid values of a
    refined parameter are dropped (they may lie outside the new range).

    Args:
        space: the space that was searched.
        best: the best trial's values, dotted key -> value.

    Returns:
        The refined :class:`SearchSpace` (``origin`` notes the refinement).
    """
    params: list[Param] = []
    for p in space.params:
        if p.role != "nuisance" or not p.numeric or best.get(p.name) is None:
            params.append(p)
            continue
        v = float(best[p.name])
        lo, hi = float(p.low), float(p.high)  # type: ignore[arg-type]
        if p.log:
            new_lo, new_hi = _centered(p, v, math.sqrt(hi / lo))
        else:
            span = (hi - lo) / 2
            new_lo = min(max(v - span / 2, lo), hi - span)
            new_hi = new_lo + span
        a, b = _round(new_lo, p.kind), _round(new_hi, p.kind)
        if p.kind == "int" and b <= a:
            a, b = int(p.low), int(p.high)  # type: ignore[arg-type]  # too narrow to refine
        params.append(replace(p, low=a, high=b, grid=None))
    return replace(space, params=tuple(params), origin=f"{space.origin} (refined)", warnings=())
