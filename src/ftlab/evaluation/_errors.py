"""Error analysis: the model's most confident mistakes, its least confident calls, and metrics
per slice (text length, true label, any meta column) to find where it fails."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ftlab.errors import ConfigError, DataError
from ftlab.evaluation._inputs import check_arrays, check_label_names

if TYPE_CHECKING:
    from ftlab.data import Example

__all__ = ["error_analysis", "slice_metrics", "MAX_TEXT_CHARS"]

MAX_TEXT_CHARS = 1000  # texts in the JSON are cut here: the report shows rows, not documents
_MAX_GROUPS = 20  # a meta column with more distinct values keeps the largest groups + "(other)"
_MISSING = "(missing)"
_OTHER = "(other)"


def _check_examples(examples: Sequence[Example], n: int, where: str) -> None:
    if len(examples) != n:
        raise DataError(f"{where}: {len(examples)} examples but {n} rows of labels/probs; they "
                        f"must be the same examples in the same order")


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 1] + "\u2026"


def _row(ex: Example, y: int, pred: int, prob: float, names: list[str]) -> dict[str, Any]:
    row: dict[str, Any] = {"id": ex.id, "text": _clip(ex.text)}
    if ex.text_pair is not None:
        row["text_pair"] = _clip(ex.text_pair)
    if ex.choices is not None:  # multiple choice: the context and every choice
        row["choices"] = [_clip(c) for c in ex.choices]
    row.update(label=names[y], pred=names[pred], prob=float(prob))
    return row


def error_analysis(
    examples: Sequence[Example], labels: Any, probs: Any, label_names: Sequence[str], *,
    k: int = 10, preds: Any = None,
) -> dict[str, list[dict[str, Any]]]:
    """The ``k`` most confidently wrong predictions and the ``k`` least confident ones.

    Args:
        examples: the evaluated examples, in the order of ``labels``/``probs``.
        labels: (N,) true class indices.
        probs: (N, C) class probabilities.
        label_names: class names in index order.
        k: rows per table.
        preds: (N,) decided class indices (the run's decision rule; default arg-max).

    Returns:
        ``{"most_confident_wrong": [...], "least_confident": [...]}``. Each row holds ``id``,
        ``text`` (``text_pair`` for pairs, ``choices`` for multiple choice), ``label`` (true), ``pred`` and ``prob`` (the
        predicted class's probability); ``least_confident`` rows add ``margin``, the gap between
        the two highest probabilities, and cover right and wrong predictions alike. Ties keep
        the input order.

    Raises:
        DataError: arrays and examples that do not line up.
    """
    names = check_label_names(label_names, where="error_analysis")
    y, p = check_arrays(labels, probs, where="error_analysis", n_classes=len(names))
    _check_examples(examples, len(y), "error_analysis")
    k = max(0, int(k))
    pred = p.argmax(axis=1) if preds is None else np.asarray(preds, dtype=np.int64)
    conf = p[np.arange(len(pred)), pred]  # probability of the decided class
    top2 = np.sort(p, axis=1)[:, -2:]  # (N, 2): second highest, highest
    margin = top2[:, 1] - top2[:, 0]

    wrong = np.flatnonzero(pred != y)
    wrong = wrong[np.argsort(-conf[wrong], kind="stable")][:k].tolist()
    unsure = np.argsort(margin, kind="stable")[:k].tolist()
    return {
        "most_confident_wrong": [_row(examples[i], y[i], pred[i], conf[i], names) for i in wrong],
        "least_confident": [{**_row(examples[i], y[i], pred[i], conf[i], names),
                             "margin": float(margin[i])} for i in unsure],
    }


def _quantile_groups(values: np.ndarray, buckets: int, unit: str) -> tuple[np.ndarray, list[str]]:
    """Bucket integer-like values by quantiles; returns (N,) bucket index and readable names."""
    qs = np.quantile(values, np.linspace(0, 1, buckets + 1)[1:-1])
    edges = np.unique(np.floor(qs))  # upper bounds, inclusive
    edges = edges[edges < values.max()]  # a last bucket above the top edge must be non-empty
    idx = np.searchsorted(edges, values, side="left")  # value <= edges[i] -> bucket i
    suffix = f" {unit}" if unit else ""
    names = []
    for i in range(len(edges) + 1):
        if i == 0:
            if len(edges):
                names.append(f"<= {edges[0]:g}{suffix}")
            else:  # one bucket: every value at or below the top quantile
                lo, hi = values.min(), values.max()
                names.append(f"{lo:g}{suffix}" if lo == hi else f"{lo:g}-{hi:g}{suffix}")
        elif i == len(edges):
            names.append(f"> {edges[-1]:g}{suffix}")
        else:
            lo, hi = edges[i - 1] + 1, edges[i]
            names.append(f"{lo:g}{suffix}" if lo == hi else f"{lo:g}-{hi:g}{suffix}")
    return idx, names


def _slice_row(name: str, mask: np.ndarray, y: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    """n, accuracy and macro-F1 over the classes present (true or predicted) in the slice."""
    from sklearn.metrics import f1_score

    ys, ps = y[mask], pred[mask]
    return {"slice": name, "n": int(mask.sum()), "accuracy": float(np.mean(ys == ps)),
            "macro_f1": float(f1_score(ys, ps, average="macro", zero_division=0.0))}


def _is_numeric_buckets(values: list[Any]) -> bool:
    """Numbers only, with too many distinct values to list one by one."""
    numeric = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return len(numeric) == len(values) and len(set(numeric)) > _MAX_GROUPS


def _column_groups(values: list[Any]) -> tuple[np.ndarray, list[str]]:
    """(N,) group index and group names for one meta column."""
    if _is_numeric_buckets(values):
        arr = np.asarray(values, dtype=np.float64)
        if np.all(arr == np.round(arr)):
            return _quantile_groups(arr, 4, "")
        # non-integer numbers: quartiles named by their value range
        qs = np.quantile(arr, [0.25, 0.5, 0.75])
        idx = np.searchsorted(qs, arr, side="left")
        bounds = [arr.min(), *qs, arr.max()]
        return idx, [f"{bounds[i]:.3g}..{bounds[i + 1]:.3g}" for i in range(4)]
    labels = [_MISSING if v is None else str(v) for v in values]
    uniq, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if len(uniq) > _MAX_GROUPS:
        keep = np.argsort(-counts, kind="stable")[: _MAX_GROUPS - 1]
        remap = np.full(len(uniq), len(keep))
        remap[keep] = np.arange(len(keep))
        return remap[inverse], [str(uniq[i]) for i in keep] + [_OTHER]
    return inverse, [str(u) for u in uniq]


def slice_metrics(
    examples: Sequence[Example], labels: Any, probs: Any, *, label_names: Sequence[str] | None = None,
    length_buckets: int = 4, columns: Sequence[str] = (), preds: Any = None,
) -> dict[str, list[dict[str, Any]]]:
    """Metrics per slice of the data, each slicing a partition of the examples.

    Args:
        examples: the evaluated examples, in the order of ``labels``/``probs``.
        labels: (N,) true class indices.
        probs: (N, C) class probabilities.
        label_names: class names (default ``"0"``, ``"1"``, ...).
        length_buckets: quantile buckets of character length (text + text pair), named like
            ``"<= 60 chars"``, ``"61-120 chars"``, ``"> 240 chars"``; fewer when lengths repeat.
        columns: ``Example.meta`` keys to slice by (missing values form ``"(missing)"``; a
            column with more than 20 values keeps the 19 largest groups and ``"(other)"``;
            many distinct numbers are cut into quartiles).
        preds: (N,) decided class indices (the run's decision rule; default arg-max).

    Returns:
        ``{"length": [...], "label": [...], <column>: [...]}``; each row holds ``slice``, ``n``,
        ``accuracy`` and ``macro_f1`` (over the classes present in the slice). ``"label"`` rows
        hold ``accuracy`` (= recall of the class) and the class's ``precision``/``recall``/``f1``
        over all examples instead of ``macro_f1``, which means nothing inside one true class.

    Raises:
        DataError: arrays and examples that do not line up, or a column no example has.
        ConfigError: ``length_buckets`` below 1.
    """
    from sklearn.metrics import precision_recall_fscore_support

    y, p = check_arrays(labels, probs, where="slice_metrics")
    n_classes = p.shape[1]
    names = (check_label_names(label_names, where="slice_metrics") if label_names is not None
             else [str(i) for i in range(n_classes)])
    if len(names) != n_classes:
        raise DataError(f"slice_metrics: {len(names)} label names for {n_classes} columns")
    _check_examples(examples, len(y), "slice_metrics")
    if isinstance(length_buckets, bool) or not isinstance(length_buckets, int) or length_buckets < 1:
        raise ConfigError(f"slice_metrics: length_buckets must be a positive integer, got "
                        f"{length_buckets!r}")
    pred = p.argmax(axis=1) if preds is None else np.asarray(preds, dtype=np.int64)
    out: dict[str, list[dict[str, Any]]] = {}

    lengths = np.array([len(e.text) + len(e.text_pair or "") + sum(map(len, e.choices or ()))
                        for e in examples], dtype=np.float64)
    idx, bucket_names = _quantile_groups(lengths, length_buckets, "chars")
    out["length"] = [_slice_row(bucket_names[b], idx == b, y, pred)
                     for b in range(len(bucket_names)) if np.any(idx == b)]

    prec, rec, f1, _ = precision_recall_fscore_support(y, pred, labels=list(range(n_classes)),
                                                       zero_division=0.0)
    out["label"] = [{"slice": names[c], "n": int(np.sum(y == c)),
                     "accuracy": float(np.mean(pred[y == c] == c)), "precision": float(prec[c]),
                     "recall": float(rec[c]), "f1": float(f1[c])}
                    for c in range(n_classes) if np.any(y == c)]

    for column in columns:
        if column in ("length", "label"):
            raise DataError(f"slice_metrics: meta column {column!r} clashes with a built-in "
                            f"slicing; rename the column")
        values = [e.meta.get(column) for e in examples]
        if all(v is None for v in values):
            known = sorted({k for e in examples for k in e.meta})
            raise DataError(f"slice_metrics: no example has meta column {column!r}; available "
                            f"columns: {known} (keep it with data.columns.extra)")
        gidx, group_names = _column_groups(values)
        rows = [_slice_row(group_names[g], gidx == g, y, pred) for g in range(len(group_names))
                if np.any(gidx == g)]
        if not _is_numeric_buckets(values):
            # categories: largest first, the catch-all groups last; numeric buckets keep order
            rows.sort(key=lambda r: (r["slice"] in (_MISSING, _OTHER), -r["n"]))
        out[column] = rows
    return out
