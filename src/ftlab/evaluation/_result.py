"""``evaluation/<split>.json``: the typed record of one evaluation (:class:`EvaluationResult`)."""

from __future__ import annotations

from typing import Any

from ftlab.core import Record

__all__ = ["EvaluationResult", "HEADLINE_METRICS"]

# the figures every command prints first (with their bootstrap intervals)
HEADLINE_METRICS = ("accuracy", "macro_f1", "macro_f1_present", "positive_precision",
                    "positive_recall", "positive_f1")


class EvaluationResult(Record):
    """What :func:`ftlab.evaluation.evaluate_predictions` returns and ``ftlab evaluate`` writes
    to ``evaluation/<split>.json`` (fields in :data:`REPORT_KEYS` order; the nested parts are
    described in the evaluation docs). Fields a caller adds (e.g. ``transform``) are kept."""

    split: str | None = None
    n: int = 0
    label_names: list[str] = []
    decision_rule: dict[str, Any] = {}
    classes: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    argmax: dict[str, Any] | None = None
    per_class: dict[str, Any] = {}
    averages: dict[str, Any] = {}
    roc_auc: Any = None
    pr_auc: Any = None
    curves: dict[str, Any] = {}
    confusion: dict[str, Any] = {}
    calibration: dict[str, Any] | None = None
    threshold: dict[str, Any] | None = None
    bootstrap: dict[str, Any] | None = None
    baselines: dict[str, Any] | None = None
    errors: Any = None
    slices: Any = None
    choices: dict[str, Any] | None = None  # multiple choice: the answer-position bias
    warnings: list[str] = []

    def format(self) -> str:
        """The headline metrics with their bootstrap intervals, the arg-max figures beside
        thresholded ones, the baselines and the warnings, as ``ftlab evaluate`` prints them."""
        m, boot, base = self.metrics, self.bootstrap or {}, self.baselines or {}
        lines = [f"{self.split} (n={self.n}, decision rule: "
                 f"{self.decision_rule.get('rule', 'argmax')})"]
        if self.classes.get("positive") is not None:
            lines.append(f"  positive class: {self.classes['positive']!r} "
                         f"({self.classes.get('positive_source', '')})")
        for key in HEADLINE_METRICS:
            if m.get(key) is None:
                continue
            ci = boot.get(key) or {}
            interval = f"  [{ci['low']:.4f}, {ci['high']:.4f}]" if "low" in ci else ""
            lines.append(f"  {key:<18} {m[key]:.4f}{interval}")
        for key, value in (self.argmax or {}).items():
            if isinstance(value, float):
                lines.append(f"  {key + ' (argmax)':<27} {value:.4f}")
        for key in ("log_loss", "roc_auc", "pr_auc", "ece"):
            if m.get(key) is not None:
                lines.append(f"  {key:<18} {m[key]:.4f}")
        maj, tfidf = base.get("majority") or {}, base.get("tfidf_lr") or {}
        if maj:
            lines.append(f"  majority-class accuracy {maj.get('accuracy', 0):.4f}")
        if tfidf:
            lines.append(f"  TF-IDF + LR accuracy    {tfidf.get('accuracy', 0):.4f}, macro_f1 "
                         f"{tfidf.get('macro_f1', 0):.4f}")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)
