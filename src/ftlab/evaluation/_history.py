"""A training history read back from ``metrics.jsonl`` (the records JsonlTracker writes).

Each line of the file is ``{"kind", "step", "epoch", "values", "time"}`` with ``kind`` one of
``"start"``, ``"step"``, ``"eval"``, ``"epoch"``, ``"end"`` (see
:class:`ftlab.training.JsonlTracker`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

from ftlab.errors import DataError

__all__ = ["StepRecord", "EvalRecord", "History", "load_history", "finite", "is_finite_number",
           "head_tail_means", "grad_spikes", "interval_train_loss", "rising_window",
           "moving_average"]

_CHUNK = 20_000  # steps per block in grad_spikes
# older or hand-written files may use the event names instead of the tracker's short kinds
_KIND_ALIASES = {"train_start": "start", "train_end": "end", "epoch_end": "epoch"}


def _float(value: Any) -> float:
    """A number from a record; missing or non-numeric values become NaN."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return float("nan")
    return float(value)


@dataclass(frozen=True)
class StepRecord:
    """One optimizer step: ``step`` (1-based), ``epoch`` (0-based), loss, lr, grad norm."""

    step: int
    epoch: int
    loss: float
    lr: float
    grad_norm: float


@dataclass(frozen=True)
class EvalRecord:
    """One validation pass at ``step`` during ``epoch`` (0-based) with its metrics."""

    step: int
    epoch: int
    metrics: Mapping[str, float]


@dataclass(frozen=True)
class History:
    """What a run logged, in step order (a resumed run's records merged, the last copy kept).

    Attributes:
        steps: the optimizer steps.
        evals: the validation passes.
        epochs_completed: 0-based epochs whose end was logged.
        start: the values of the last ``start`` record (``total_steps``, ``steps_per_epoch``,
            ``epochs``, ...), or ``None``.
        end: the values of the ``end`` record (``reason``, ``best_metric``, ``best_step``), or
            ``None`` when the run did not finish.
        end_step: the step of the ``end`` record, or ``None``.
        skipped_lines: lines dropped (a last line cut by a crash).
    """

    steps: tuple[StepRecord, ...] = ()
    evals: tuple[EvalRecord, ...] = ()
    epochs_completed: tuple[int, ...] = ()
    start: Mapping[str, Any] | None = None
    end: Mapping[str, Any] | None = None
    end_step: int | None = None
    skipped_lines: int = 0
    source: str = field(default="<records>", compare=False)

    @property
    def train_loss(self) -> np.ndarray:
        """Training loss per step, shape ``(S,)`` (NaN where not logged)."""
        return np.array([s.loss for s in self.steps], dtype=np.float64)

    @property
    def grad_norm(self) -> np.ndarray:
        """Gradient norm per step, shape ``(S,)``."""
        return np.array([s.grad_norm for s in self.steps], dtype=np.float64)

    def eval_series(self, name: str) -> np.ndarray:
        """Metric ``name`` of every evaluation, shape ``(E,)`` (NaN where absent)."""
        return np.array([_float(e.metrics.get(name)) for e in self.evals], dtype=np.float64)

    @property
    def epochs_requested(self) -> int | None:
        """Epochs the run asked for (from the start record), or ``None``."""
        value = (self.start or {}).get("epochs")
        return int(value) if isinstance(value, int) and not isinstance(value, bool) else None

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]], *, source: str = "<records>",
                     skipped_lines: int = 0) -> History:
        """Build a history from parsed ``metrics.jsonl`` records (unknown kinds are ignored).

        Args:
            records: dicts ``{"kind", "step", "epoch", "values", ...}`` in file order.
            source: where they came from (for messages).
            skipped_lines: lines already dropped by the reader.

        Returns:
            The history; a step or evaluation logged twice (a resume) keeps its last copy.
        """
        steps: dict[int, StepRecord] = {}
        evals: dict[int, EvalRecord] = {}
        epochs: set[int] = set()
        start: Mapping[str, Any] | None = None
        end: Mapping[str, Any] | None = None
        end_step: int | None = None
        for rec in records:
            kind = _KIND_ALIASES.get(str(rec.get("kind")), str(rec.get("kind")))
            values = rec.get("values") or {}
            step, epoch = rec.get("step"), rec.get("epoch")
            step_i = int(step) if isinstance(step, (int, float)) else None
            epoch_i = int(epoch) if isinstance(epoch, (int, float)) else 0
            if kind == "step" and step_i is not None:
                steps[step_i] = StepRecord(step_i, epoch_i, _float(values.get("loss")),
                                           _float(values.get("lr")),
                                           _float(values.get("grad_norm")))
            elif kind == "eval" and step_i is not None:
                metrics = {str(k): _float(v) for k, v in values.items()}
                evals[step_i] = EvalRecord(step_i, epoch_i, metrics)
            elif kind == "epoch":
                epochs.add(epoch_i)
            elif kind == "start":
                start, end, end_step = dict(values), None, None  # a resume reopens the run
            elif kind == "end":
                end, end_step = dict(values), step_i
        return cls(
            steps=tuple(steps[k] for k in sorted(steps)),
            evals=tuple(evals[k] for k in sorted(evals)),
            epochs_completed=tuple(sorted(epochs)),
            start=start, end=end, end_step=end_step,
            skipped_lines=skipped_lines, source=source,
        )


def load_history(path: str | Path) -> History:
    """Read ``metrics.jsonl`` as written by :class:`ftlab.training.JsonlTracker`.

    A last line cut short by a crash is skipped (``History.skipped_lines`` counts it); blank
    lines are ignored.

    Args:
        path: the metrics file (``runs/<name>/metrics.jsonl``).

    Returns:
        The parsed history.

    Raises:
        DataError: the file is missing or unreadable, or a line other than the last is not a
            JSON object.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise DataError(f"training history not found: {path} (a training run writes "
                        "metrics.jsonl into its run directory; pass that file)") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read training history {path}: {exc}") from exc
    numbered = [(i, line) for i, line in enumerate(lines, start=1) if line.strip()]
    records: list[Mapping[str, Any]] = []
    skipped = 0
    for pos, (lineno, line) in enumerate(numbered):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            if pos == len(numbered) - 1:  # the last line, cut by a crash mid-write
                skipped += 1
                continue
            raise DataError(
                f"{path}:{lineno}: not valid JSON ({exc.msg}); got {line[:80]!r}. Every line "
                "of metrics.jsonl must be one JSON object; remove or fix that line"
            ) from exc
        if not isinstance(rec, dict):
            raise DataError(f"{path}:{lineno}: expected a JSON object with 'kind' and "
                            f"'values', got {type(rec).__name__} {line[:80]!r}")
        records.append(rec)
    return History.from_records(records, source=str(path), skipped_lines=skipped)


def finite(values: np.ndarray) -> np.ndarray:
    """The finite entries of ``values`` (shape ``(K,)``, K <= len(values))."""
    return values[np.isfinite(values)]


def is_finite_number(value: Any) -> TypeGuard[int | float]:
    """True for an int or float that is neither NaN nor infinite."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# --- curve helpers (the doctor's thresholds are passed in by its rules) ---------------------------
def head_tail_means(loss: np.ndarray, *, min_steps: int, head_fraction: float,
                    tail_fraction: float) -> tuple[float, float] | None:
    """Mean of the first ``head_fraction`` and last ``tail_fraction`` of the finite losses.

    Returns ``None`` with fewer than ``min_steps`` finite values.
    """
    x = finite(loss)
    if x.size < min_steps:
        return None
    head = x[: max(1, math.ceil(head_fraction * x.size))]
    tail = x[-max(1, math.ceil(tail_fraction * x.size)):]
    return float(head.mean()), float(tail.mean())


def moving_average(x: np.ndarray, window: int) -> np.ndarray:
    """Means of each ``window`` consecutive values, shape ``(len(x) - window + 1,)``; O(len(x))."""
    c = np.concatenate([[0.0], np.cumsum(x, dtype=np.float64)])
    return (c[window:] - c[:-window]) / window


def grad_spikes(grad: np.ndarray, *, factor: float, window: int,
                min_history: int) -> list[tuple[int, float, float]]:
    """(index, grad norm, running median) of each step whose norm exceeds ``factor`` x the
    median of the previous ``window`` finite norms (a non-finite norm always counts)."""
    g = np.asarray(grad, dtype=np.float64)
    clean = np.where(np.isfinite(g), g, np.nan)
    padded = np.concatenate([np.full(window, np.nan), clean])
    spikes: list[tuple[int, float, float]] = []
    for lo in range(0, g.size, _CHUNK):  # chunks bound the (rows, window) view's median copy
        hi = min(g.size, lo + _CHUNK)
        prev = np.lib.stride_tricks.sliding_window_view(padded[lo:hi + window - 1], window)
        prev = prev[: hi - lo]  # (rows, window): row r holds the norms before step lo + r
        enough = np.sum(~np.isnan(prev), axis=1) >= min_history
        median = np.full(hi - lo, np.nan)
        if enough.any():
            median[enough] = np.nanmedian(prev[enough], axis=1)
        cur = g[lo:hi]
        with np.errstate(invalid="ignore"):
            hit = enough & (median > 0) & (~np.isfinite(cur) | (cur > factor * median))
        spikes += [(lo + int(r), float(cur[r]), float(median[r])) for r in np.flatnonzero(hit)]
    return spikes


def interval_train_loss(history: History) -> np.ndarray:
    """Mean training loss of the steps since the previous evaluation, per evaluation (E,)."""
    steps = np.array([s.step for s in history.steps], dtype=np.int64)  # sorted
    loss = history.train_loss
    ends = np.searchsorted(steps, [e.step for e in history.evals], side="right")
    out, start = [], 0
    for end in ends:
        xs = finite(loss[start:end])
        out.append(float(xs.mean()) if xs.size else math.nan)
        start = int(end)
    return np.array(out, dtype=np.float64)


def rising_window(v: np.ndarray, *, min_rises: int, min_rise: float) -> tuple[int, int] | None:
    """The last run ``(start, end)`` of >= ``min_rises`` consecutive rises of ``v`` whose total
    rise is >= ``min_rise`` x ``|v[start]|``, or ``None``."""
    best, i = None, 0
    while i < v.size - 1:
        j = i
        while j + 1 < v.size and np.isfinite(v[j]) and np.isfinite(v[j + 1]) and v[j + 1] > v[j]:
            j += 1
        if j - i >= min_rises and v[j] - v[i] >= min_rise * abs(v[i]):
            best = (i, j)
        i = max(j, i + 1)
    return best
