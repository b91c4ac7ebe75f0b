"""Data checks before training: label sanity, leakage, duplicates, lengths, encoding damage."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from ftlab.core import Example
from ftlab.errors import DataError

__all__ = ["Finding", "SplitStats", "DataReport", "check_splits", "clean_splits",
           "format_report", "normalize_text"]

Level = Literal["error", "warning", "info"]
Code = Literal["unknown_label", "missing_label", "leakage", "duplicates", "empty_text",
               "imbalance", "non_utf8", "truncation", "empty_split", "single_class",
               "conflicting_labels", "eval_leakage", "choice_count"]
_PERCENTILES = (50, 90, 95, 99)
_SHOW = 5  # example ids kept per finding
_TRUNCATION_WARN_SHARE = 0.05  # above this share truncation is a warning, below an info

# U+FFFD (replacement char), lone surrogates (surrogateescape'd bytes), C1 controls (bytes
# 0x80-0x9F decoded as latin-1) and classic UTF-8-read-as-cp1252/latin-1 mojibake ("Ã©", "Â£",
# "â€™")
_DAMAGE = re.compile("[\ufffd\ud800-\udfff\x80-\x9f]|[ÃÂ][\x80-\xbf]|â€")
_SPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Return ``text`` stripped, casefolded and with whitespace runs collapsed (for matching)."""
    return _SPACE.sub(" ", text.strip()).casefold()


def _key(ex: Example) -> tuple[str, str | None]:
    if ex.choices is not None:  # a multiple-choice item: the context with all its choices
        return normalize_text(ex.text), "\x1f".join(normalize_text(c) for c in ex.choices)
    return normalize_text(ex.text), None if ex.text_pair is None else normalize_text(ex.text_pair)


def _all_text(ex: Example) -> str:
    """Every text of an example (context, pair, choices) joined, for length and damage checks."""
    return ex.text + (ex.text_pair or "") + "".join(ex.choices or ())


def _choice_counts(splits: Mapping[str, Sequence[Example]], add: Callable[..., None]) -> None:
    """Multiple choice: every example of every split needs the same number of choices."""
    counts: dict[int | None, list[tuple[str, Example]]] = {}
    for name, exs in splits.items():
        for ex in exs:
            counts.setdefault(None if ex.choices is None else len(ex.choices), []).append(
                (name, ex))
    if len(counts) <= 1 or all(k is None for k in counts):
        return
    main = max(counts, key=lambda k: len(counts[k]))
    odd = [(name, ex) for k, hits in counts.items() if k != main for name, ex in hits]
    shown = ", ".join(f"{n} has {'no' if k is None else k} choices"
                      for k, n in ((None if ex.choices is None else len(ex.choices), name)
                                   for name, ex in odd[:3]))
    add("error", "choice_count", None,
        f"{len(odd)} example(s) have a different number of choices than the {len(counts[main])} "
        f"others ({'no' if main is None else main} choices): {shown}.",
        "Every multiple-choice item of a run needs the same number of choices: fix the files "
        "(or point `data.columns.choices` at the same columns for every split).",
        [ex for _, ex in odd])


def _where(ex: Example) -> str:
    """``id (file:line)`` when the reader recorded them, else ``id (line N)`` or the id."""
    meta = ex.meta if isinstance(ex.meta, Mapping) else {}
    line, source = meta.get("line"), meta.get("source")
    if line is not None and source:
        return f"{ex.id} ({source}:{line})"
    if source:
        return f"{ex.id} ({source})"
    return f"{ex.id} (line {line})" if line is not None else ex.id


def _files(examples: Sequence[Example]) -> str:
    """`` (file.jsonl)``: the file(s) a split was read from, when the reader recorded them."""
    seen: list[str] = []
    for ex in examples:
        source = ex.meta.get("source") if isinstance(ex.meta, Mapping) else None
        if source and source not in seen:
            seen.append(str(source))
            if len(seen) > 2:
                break
    if not seen or len(seen) > 2:  # folder datasets: one file per example
        return ""
    return f" ({', '.join(seen)})"


def _conflicts(splits: Mapping[str, Sequence[Example]]) -> list[list[Example]]:
    """Groups of identical texts (normalized; pairs by the pair) carrying different labels,
    across all splits, in first-occurrence order."""
    groups: dict[tuple[str, str | None], list[Example]] = {}
    for exs in splits.values():
        for ex in exs:
            groups.setdefault(_key(ex), []).append(ex)
    return [g for g in groups.values()
            if len({ex.label for ex in g if ex.label is not None}) > 1]


@dataclass
class Finding:
    """One problem (or note) found in the data.

    Attributes:
        level: ``"error"`` blocks training; ``"warning"`` deserves a look; ``"info"`` is a note.
        code: machine-readable kind (``"leakage"``, ``"unknown_label"``, ...).
        split: the split it concerns (None for the whole dataset).
        message: what is wrong, with counts.
        fix: how to fix it.
        count: number of affected examples.
        examples: a few affected example ids (with file lines when known).
    """

    level: Level
    code: Code
    split: str | None
    message: str
    fix: str
    count: int = 0
    examples: list[str] = field(default_factory=list)


@dataclass
class SplitStats:
    """Descriptive statistics of one split (lengths in characters, and tokens when counted)."""

    rows: int
    labels: dict[str, int]
    imbalance_ratio: float | None
    char_length: dict[str, float]
    token_length: dict[str, float] | None = None
    truncated_share: float | None = None
    duplicates: int = 0
    empty: int = 0
    non_utf8: int = 0
    missing_labels: int = 0
    leaked: int = 0


@dataclass
class DataReport:
    """Result of :func:`check_splits`: per-split stats, findings and removals by clean_splits."""

    stats: dict[str, SplitStats]
    findings: list[Finding]
    removed: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        """Findings at level ``"error"``."""
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        """Findings at level ``"warning"``."""
        return [f for f in self.findings if f.level == "warning"]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (stats, findings, removed)."""
        return {"stats": {k: asdict(v) for k, v in self.stats.items()},
                "findings": [asdict(f) for f in self.findings],
                "removed": {k: dict(v) for k, v in self.removed.items()}}

    def raise_for_errors(self) -> None:
        """Raise one DataError listing every error finding (nothing when there are none).

        Raises:
            DataError: when at least one finding has level ``"error"``.
        """
        errs = self.errors
        if errs:
            lines = [f"- [{f.split or '*'}] {f.code}: {f.message} Fix: {f.fix}"
                     + (f" e.g. {', '.join(f.examples)}" if f.examples else "") for f in errs]
            raise DataError(f"the data has {len(errs)} error(s):\n" + "\n".join(lines))


def _lengths(values: Sequence[int]) -> dict[str, float]:
    if not values:
        return {}
    arr = np.asarray(values, dtype=np.float64)
    out = {f"p{q}": float(np.percentile(arr, q)) for q in _PERCENTILES}
    out["max"] = float(arr.max())
    return out


def _duplicate_ids(examples: Sequence[Example]) -> list[Example]:
    """Examples whose (normalised text, pair) already occurred earlier in the same split."""
    seen: set[tuple[str, str | None]] = set()
    dupes = []
    for ex in examples:
        k = _key(ex)
        if k in seen:
            dupes.append(ex)
        seen.add(k)
    return dupes


def _leaked(examples: Sequence[Example], train_keys: set[tuple[str, str | None]]) -> list[Example]:
    return [ex for ex in examples if _key(ex) in train_keys]


_BLANK = re.compile(r"[\s\x00-\x1f\x7f]*")  # whitespace and C0 controls (NUL bytes, ...)


def _blank(text: str) -> bool:
    return _BLANK.fullmatch(text) is not None


def _empty(examples: Sequence[Example]) -> list[Example]:
    # a multiple-choice context may be empty (a WinoGrande blank at the start): the choices
    # carry the text, and the reader refuses empty choices
    return [ex for ex in examples if (ex.choices is None and _blank(ex.text))
            or (ex.text_pair is not None and _blank(ex.text_pair))]


def check_splits(
    splits: Mapping[str, Sequence[Example]],
    *,
    max_length: int | None = None,
    count_tokens: Callable[[str], int] | None = None,
    imbalance_warn_ratio: float = 3.0,
) -> DataReport:
    """Check train/validation/test splits and describe them.

    Args:
        splits: split name -> examples (``train`` is the reference for labels and leakage).
        max_length: the model's token limit; with ``count_tokens`` reports the share truncated.
        count_tokens: text -> number of tokens (e.g. a tokenizer); pairs count both texts,
            multiple-choice items the context and their longest choice.
        imbalance_warn_ratio: warn when the largest class is this many times the smallest.

    Returns:
        A :class:`DataReport`; call ``raise_for_errors()`` to stop on errors.
    """
    findings: list[Finding] = []
    stats: dict[str, SplitStats] = {}

    def add(level: Level, code: Code, split: str | None, message: str, fix: str,
            hits: Sequence[Example] = ()) -> None:
        findings.append(Finding(level, code, split, message, fix, len(hits),
                                [_where(ex) for ex in hits[:_SHOW]]))

    train = splits.get("train", [])
    train_labels = {ex.label for ex in train if ex.label is not None}
    train_keys = {_key(ex) for ex in train}
    for name, exs in splits.items():
        labels = Counter(ex.label for ex in exs if ex.label is not None)
        ratio = max(labels.values()) / min(labels.values()) if labels else None
        st = SplitStats(rows=len(exs), labels=dict(sorted(labels.items())), imbalance_ratio=ratio,
                        char_length=_lengths([len(_all_text(ex)) for ex in exs]))
        stats[name] = st
        if not exs:
            add("error" if name == "train" else "warning", "empty_split", name,
                f"split {name!r} has no examples.",
                "Check the source or the validation/test sizes.")
            continue
        missing = [ex for ex in exs if ex.label is None]
        st.missing_labels = len(missing)
        if missing:
            add("error", "missing_label", name, f"{len(missing)} example(s) have no label.",
                "Fill in the labels or drop those rows (unlabelled data belongs in prediction "
                "input, not in train/validation/test).", missing)
        if name == "train" and len(labels) == 1:
            add("error", "single_class", name, f"train has a single label {next(iter(labels))!r}.",
                "A classifier needs at least two classes: check `label_column`.")
        if ratio is not None and len(labels) > 1 and ratio > imbalance_warn_ratio:
            big, small = labels.most_common()[0], labels.most_common()[-1]
            add("warning", "imbalance", name,
                f"class imbalance {ratio:.1f}:1 (largest {big[0]!r}={big[1]}, smallest "
                f"{small[0]!r}={small[1]}) exceeds {imbalance_warn_ratio:g}:1.",
                "Report macro-F1 rather than accuracy; consider class weights or resampling.")
        if name != "train" and train:
            # a multiple-choice label is a position, valid whenever it is < the choice count
            unknown = [ex for ex in exs if ex.label is not None and ex.choices is None
                       and ex.label not in train_labels]
            if unknown:
                names = sorted({ex.label for ex in unknown if ex.label is not None})
                add("error", "unknown_label", name,
                    f"{len(unknown)} example(s) have label(s) {names} that never occur in train.",
                    "The model cannot predict unseen labels: fix the labels, merge classes, or "
                    "re-split so every label appears in train.", unknown)
        dupes = _duplicate_ids(exs)
        st.duplicates = len(dupes)
        if dupes:
            add("warning", "duplicates", name,
                f"{len(dupes)} example(s) repeat an earlier text in the same split.",
                "Deduplicate (config: data.drop_duplicates: true) so metrics are not "
                "inflated by repeated items.", dupes)
        empty = _empty(exs)
        st.empty = len(empty)
        if empty and len(empty) == len(exs):
            add("error", "empty_text", name, f"all {len(exs)} example(s) of {name!r} have empty, "
                f"whitespace-only or control-character-only text (e.g. NUL bytes): nothing to "
                f"learn or evaluate.", "Check `text_column` and the file's contents.", empty)
        elif empty:
            add("warning", "empty_text", name, f"{len(empty)} example(s) have empty, "
                f"whitespace-only or control-character-only text.", "Drop them (clean_splits "
                "drops them by default) or fix the text column.", empty)
        damaged = [ex for ex in exs if _DAMAGE.search(_all_text(ex))]
        st.non_utf8 = len(damaged)
        if damaged:
            add("warning", "non_utf8", name, f"{len(damaged)} text(s) contain U+FFFD, stray C1 "
                f"control characters or mojibake (UTF-8 read with the wrong encoding).",
                "Read the source with the right `encoding` (e.g. utf-8 vs latin-1/cp1252) or fix "
                "the file.", damaged)
        if name != "train":
            leaked = _leaked(exs, train_keys)
            st.leaked = len(leaked)
            if leaked:
                first: dict[tuple[str, str | None], Example] = {}
                for ex in train:
                    first.setdefault(_key(ex), ex)
                add("warning", "leakage", name, f"{len(leaked)} {name} example(s){_files(exs)} "
                    f"also occur in train{_files(train)} (after stripping, casefolding and "
                    f"collapsing whitespace), e.g. "
                    + "; ".join(f"{_where(ex)} = {_where(first[_key(ex)])}"
                                for ex in leaked[:3]) + ".",
                    f"Remove them from {name} (config: data.drop_leaked: true); for carved "
                    "splits keep data.split.group_duplicates on; otherwise scores are "
                    "optimistic.", leaked)
        if count_tokens is not None:
            tokens = [count_tokens(ex.text) + (count_tokens(ex.text_pair) if ex.text_pair
                                               is not None else 0)
                      + max((count_tokens(c) for c in ex.choices or ()), default=0)
                      for ex in exs]
            st.token_length = _lengths(tokens)
            if max_length is not None:
                cut = [ex for ex, n in zip(exs, tokens, strict=True) if n > max_length]
                st.truncated_share = len(cut) / len(exs)
                if cut:
                    share = st.truncated_share
                    add("warning" if share > _TRUNCATION_WARN_SHARE else "info", "truncation",
                        name, f"{share:.1%} of examples exceed max_length={max_length} tokens and "
                        f"will be truncated (p95 length {st.token_length['p95']:.0f}).",
                        "Raise `max_length` if the model allows, or accept the truncation.", cut)
    _pair_leakage(splits, add)
    _choice_counts(splits, add)
    conflicts = _conflicts(splits)
    if conflicts:
        hits = [ex for g in conflicts for ex in g]
        shown = "; ".join(" vs ".join(f"{_where(ex)}={ex.label!r}" for ex in g[:3])
                          for g in conflicts[:3])
        add("warning", "conflicting_labels", None,
            f"{len(conflicts)} text(s) occur with different labels ({len(hits)} examples), "
            f"e.g. {shown}.",
            "Fix the labels, or drop every copy of such texts (config: "
            "data.drop_conflicting: true); a model cannot get both right.", hits)
    return DataReport(stats=stats, findings=findings)


def _pair_leakage(splits: Mapping[str, Sequence[Example]],
                  add: Callable[..., None]) -> None:
    """Leakage between evaluation splits (e.g. test texts also in validation), per pair; each
    split against train is checked in :func:`check_splits`."""
    names = [n for n in splits if n != "train"]
    for i, a in enumerate(names):
        first: dict[tuple[str, str | None], Example] = {}
        for ex in splits[a]:
            first.setdefault(_key(ex), ex)
        for b in names[i + 1:]:
            hits = [ex for ex in splits[b] if _key(ex) in first]
            if hits:
                add("warning", "eval_leakage", b,
                    f"{len(hits)} {b} example(s){_files(splits[b])} also occur in {a}"
                    f"{_files(splits[a])}, e.g. "
                    + "; ".join(f"{_where(ex)} = {_where(first[_key(ex)])}" for ex in hits[:3])
                    + ".",
                    f"Model selection on {a} has seen these {b} texts: deduplicate the files "
                    f"or, for carved splits, keep data.split.group_duplicates on.", hits)


def clean_splits(
    splits: Mapping[str, Sequence[Example]],
    report: DataReport,
    *,
    drop_empty: bool = True,
    drop_duplicates: bool = False,
    drop_leaked: bool = False,
    drop_conflicting: bool = False,
) -> tuple[dict[str, list[Example]], dict[str, dict[str, int]]]:
    """Remove empty, duplicate or leaked examples, counting every removal.

    Leaked examples are removed from the evaluation splits, never from train. Nothing is removed
    silently: the counts are returned and recorded in ``report.removed``.

    Args:
        splits: split name -> examples (not modified).
        report: the report from :func:`check_splits`; its ``removed`` is updated.
        drop_empty: drop empty / whitespace-only texts.
        drop_duplicates: keep only the first of repeated texts within a split.
        drop_leaked: drop validation/test examples whose text also occurs in train.
        drop_conflicting: drop every copy of a text that occurs with different labels (in
            any split).

    Returns:
        ``(cleaned splits, removed)`` where ``removed[split][reason]`` counts dropped examples
        for each enabled reason (``"empty_text"``, ``"duplicates"``, ``"leakage"``,
        ``"conflicting_labels"``).
    """
    train_keys = {_key(ex) for ex in splits.get("train", [])}
    conflicting = {_key(g[0]) for g in _conflicts(splits)} if drop_conflicting else set()
    cleaned: dict[str, list[Example]] = {}
    removed: dict[str, dict[str, int]] = {}
    for name, exs in splits.items():
        keep = list(exs)
        counts: dict[str, int] = {}
        if drop_conflicting:
            before = len(keep)
            keep = [ex for ex in keep if _key(ex) not in conflicting]
            counts["conflicting_labels"] = before - len(keep)
        if drop_empty:
            gone = {id(ex) for ex in _empty(keep)}
            counts["empty_text"] = len(gone)
            keep = [ex for ex in keep if id(ex) not in gone]
        if drop_duplicates:
            gone = {id(ex) for ex in _duplicate_ids(keep)}
            counts["duplicates"] = len(gone)
            keep = [ex for ex in keep if id(ex) not in gone]
        if drop_leaked and name != "train":
            gone = {id(ex) for ex in _leaked(keep, train_keys)}
            counts["leakage"] = len(gone)
            keep = [ex for ex in keep if id(ex) not in gone]
        cleaned[name], removed[name] = keep, counts
    for name, counts in removed.items():
        merged = report.removed.setdefault(name, {})
        for reason, n in counts.items():
            merged[reason] = merged.get(reason, 0) + n
    return cleaned, removed


def format_report(report: DataReport) -> Any:
    """Render a report for the terminal (``ftlab data inspect``).

    Returns:
        A rich renderable: a stats table, a findings table and removal counts.
    """
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    stats = Table(title="Splits")
    for col in ("split", "rows", "labels", "imbalance", "chars p50/p95/max", "tokens p95/max",
                "truncated"):
        stats.add_column(col, justify="left" if col in ("split", "labels") else "right")
    for name, st in report.stats.items():
        ch, tk = st.char_length, st.token_length
        stats.add_row(
            name, str(st.rows), ", ".join(f"{k}={v}" for k, v in st.labels.items()),
            "-" if st.imbalance_ratio is None else f"{st.imbalance_ratio:.2f}",
            f"{ch['p50']:.0f}/{ch['p95']:.0f}/{ch['max']:.0f}" if ch else "-",
            f"{tk['p95']:.0f}/{tk['max']:.0f}" if tk else "-",
            "-" if st.truncated_share is None else f"{st.truncated_share:.1%}")
    parts: list[Any] = [stats]
    if report.findings:
        # one block per finding: a table squeezes long messages into unreadable columns
        style = {"error": "bold red", "warning": "yellow", "info": "cyan"}
        parts.append(Text("Findings", style="bold"))
        for f in report.findings:
            head = Text(f"{f.level.upper():7} ", style=style[f.level])
            head.append(f"[{f.code}] {f.split or '*'}: ", style="bold")
            head.append(f.message)
            parts.append(head)
            parts.append(Text(f"        fix: {f.fix}"))
            if f.examples:
                parts.append(Text(f"        e.g. {', '.join(f.examples[:5])}", style="dim"))
    else:
        parts.append(Text("No findings: the data looks clean.", style="green"))
    if report.removed:
        parts.append(Text("Removed: " + "; ".join(
            f"{s}: " + ", ".join(f"{r}={n}" for r, n in c.items()) for s, c in
            report.removed.items() if c)))
    return Group(*parts)
