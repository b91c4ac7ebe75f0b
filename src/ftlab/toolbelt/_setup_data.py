"""Data-side sanity checks of ``ftlab check-setup``: the data checks and label leakage."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["CheckResult", "data_check", "leakage_check"]

_MAX_LEAK_EXAMPLES = 5000  # training examples tokenised by the leakage check (seeded sample)
_MIN_CLASS_SIZE = 5  # a class this small is too small for a "every example has token t" rule


@dataclass
class CheckResult:
    """The outcome of one sanity check.

    Attributes:
        name: the check's name (``"overfit_batch"``, ``"label_leakage"``, ...).
        passed: True (passed), False (failed) or None (skipped, the message says why).
        message: what was measured, and on failure what is wrong, why it matters and what to
            check.
        details: measured values (JSON-serialisable) for reports and tests.
        warn: passed, but with something worth a look (e.g. data-check warnings).
    """

    name: str
    passed: bool | None
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    warn: bool = False

    @property
    def status(self) -> str:
        """``"pass"``, ``"warn"``, ``"FAIL"`` or ``"skip"``."""
        if self.passed is None:
            return "skip"
        if not self.passed:
            return "FAIL"
        return "warn" if self.warn else "pass"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict of the fields plus ``status``."""
        return {**asdict(self), "status": self.status}


def data_check(report: Any) -> CheckResult:
    """``check_splits``' findings as a check: errors fail it, warnings pass with ``warn``.

    Args:
        report: a :class:`ftlab.data.DataReport` of the run's splits (before cleaning).
    """
    errors, warnings = report.errors, report.warnings
    listed = {"errors": [f"[{f.split or '*'}] {f.code}: {f.message} Fix: {f.fix}" for f in errors],
              "warnings": [f"[{f.split or '*'}] {f.code}: {f.message}" for f in warnings]}
    if errors:
        return CheckResult(
            "data", False,
            f"{len(errors)} data error(s), which stop training: " + "; ".join(listed["errors"])
            + " (details: ftlab data inspect CONFIG)", listed)
    if warnings:
        return CheckResult(
            "data", True,
            f"no data errors; {len(warnings)} warning(s) worth a look: "
            + "; ".join(listed["warnings"]), listed, warn=True)
    return CheckResult("data", True, "no data errors or warnings (check_splits)", listed)


def _norm(value: Any) -> str:
    return " ".join(str(value).split()).casefold()


def _token_rules(texts: Sequence[str], labels: Sequence[str], tokenize: Any,
                 threshold: float) -> list[dict[str, Any]]:
    """Tokens whose presence alone tells one class from the others on ``threshold`` of train."""
    n = len(texts)
    class_size = Counter(labels)
    df: Counter[str] = Counter()  # token -> examples containing it
    df_class: dict[str, Counter[str]] = defaultdict(Counter)  # class -> token -> examples
    for text, label in zip(texts, labels):
        tokens = {t.casefold() for t in tokenize(text)}
        df.update(tokens)
        df_class[label].update(tokens)
    rules = []
    for label, n_c in class_size.items():
        if n_c < _MIN_CLASS_SIZE:
            continue
        for token, in_class in df_class[label].items():
            if in_class < threshold * n_c:
                continue
            in_other = df[token] - in_class
            # the rule "token present -> this class, else another class", one class vs the rest
            accuracy = (in_class + (n - n_c - in_other)) / n
            precision = in_class / df[token]
            if precision >= threshold and accuracy >= threshold:
                rules.append({"token": token, "label": label, "in_class": in_class / n_c,
                              "in_others": in_other / max(n - n_c, 1), "accuracy": accuracy,
                              "is_label_name": token == _norm(label)})
    return sorted(rules, key=lambda r: (-r["accuracy"], r["label"], r["token"]))


def _column_rules(examples: Sequence[Any], labels: Sequence[str], columns: Sequence[str],
                  threshold: float) -> list[dict[str, Any]]:
    """Columns (the text pair, extra columns) that copy or determine the label on train."""
    n = len(examples)
    found = []
    candidates: list[tuple[str, list[Any]]] = []
    if any(ex.text_pair is not None for ex in examples):
        candidates.append(("text_pair", [ex.text_pair for ex in examples]))
    for col in columns:
        candidates.append((col, [ex.meta.get(col) for ex in examples]))
    for col, values in candidates:
        same = sum(v is not None and _norm(v) == _norm(lab) for v, lab in zip(values, labels))
        by_value: dict[str, Counter[str]] = defaultdict(Counter)
        for v, lab in zip(values, labels):
            by_value[_norm(v)][lab] += 1
        # a value -> majority-label lookup; an id-like column (nearly unique values) would fit
        # train trivially and say nothing, so it must repeat its values (<= n/5 distinct)
        mapped = sum(c.most_common(1)[0][1] for c in by_value.values()) / n
        identical = same / n >= threshold
        if identical or (len(by_value) <= n / 5 and mapped >= threshold):
            found.append({"column": col, "identical_share": same / n, "lookup_accuracy": mapped,
                          "distinct_values": len(by_value), "model_input": col == "text_pair"})
    return found


def leakage_check(train: Sequence[Any], *, tokenize: Any, normalize: Any = None,
                  extra_columns: Sequence[str] = (), threshold: float = 0.99,
                  seed: int = 0) -> CheckResult:
    """Look for the label written into the inputs of the training split.

    Two simple tests, both fitted and scored on train (a leak shows up there): a one-token rule
    (some token occurs in at least ``threshold`` of one class's texts and, with the same
    precision, almost nowhere else, so its presence predicts the class with at least
    ``threshold`` accuracy), and a column test (the text pair or an extra column equals the
    label, or a value -> label lookup predicts it with at least ``threshold`` accuracy).

    Args:
        train: the training examples (:class:`ftlab.data.Example`).
        tokenize: ``str -> list[str]``, the run's tokenizer (token strings).
        normalize: the run's text normalizer (``str -> str``), applied before tokenizing.
        extra_columns: the ``data.columns.extra`` names (kept in ``Example.meta``).
        threshold: the accuracy (and precision) from which a rule counts as a leak.
        seed: seeds the sample of at most 5000 examples that are tokenised.

    Returns:
        A failed check listing the leaking tokens/columns, a passed one, or a skipped one when
        train is too small to tell.
    """
    labelled = [ex for ex in train if ex.label is not None]
    if len(labelled) < 2 * _MIN_CLASS_SIZE or len({ex.label for ex in labelled}) < 2:
        return CheckResult("label_leakage", None, f"skipped: {len(labelled)} labelled training "
                           f"examples are too few (or one class) for a leakage test")
    if len(labelled) > _MAX_LEAK_EXAMPLES:
        labelled = random.Random(seed).sample(labelled, _MAX_LEAK_EXAMPLES)
    norm = normalize or (lambda s: s)
    labels = [str(ex.label) for ex in labelled]
    texts = [norm(ex.text) + ("" if ex.text_pair is None else " " + norm(ex.text_pair))
             for ex in labelled]
    tokens = _token_rules(texts, labels, tokenize, threshold)
    columns = _column_rules(labelled, labels, extra_columns, threshold)
    details = {"examples": len(labelled), "threshold": threshold, "tokens": tokens[:20],
               "columns": columns}
    if not tokens and not columns:
        return CheckResult("label_leakage", True,
                           f"no single token or column predicts the label with >= "
                           f"{threshold:.0%} accuracy on {len(labelled)} training examples",
                           details)
    parts = []
    for r in tokens[:5]:
        name = " (the label's own name)" if r["is_label_name"] else ""
        parts.append(f"token {r['token']!r}{name} is in {r['in_class']:.0%} of class "
                     f"{r['label']!r} and {r['in_others']:.0%} of the other classes (one-token "
                     f"rule accuracy {r['accuracy']:.1%})")
    for c in columns:
        how = (f"equals the label in {c['identical_share']:.0%} of examples"
               if c["identical_share"] >= threshold else
               f"predicts the label with {c['lookup_accuracy']:.1%} accuracy through a "
               f"{c['distinct_values']}-value lookup")
        where = ("and is fed to the model" if c["model_input"] else
                 "(an extra column: not fed to ftlab's models, but any feature or custom model "
                 "reading it sees the answer)")
        parts.append(f"column {c['column']!r} {how} {where}")
    return CheckResult(
        "label_leakage", False,
        "the label leaks into the inputs: " + "; ".join(parts) + ". A model learns this "
        "shortcut instead of the task and fails on real inputs, where it is absent. Check how "
        "the texts were built (a template or concatenation that writes the label in, a label "
        "column among the input columns) and remove it.", details)
