"""File readers: CSV, TSV, JSON Lines (plain or compressed) and Parquet -> list[Example]."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from ftlab.core import Example, optional_import
from ftlab.data._choices import (
    CHOICE_SCHEMAS,
    ChoiceLabel,
    ChoiceSchema,
    ChoiceSpec,
    choice_item,
    choice_spec,
)
from ftlab.data._io import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_FIELD_CHARS,
    check_file,
    closest,
    compression_of,
    decode,
    read_bytes,
)
from ftlab.errors import DataError

__all__ = ["read_file", "detect_format", "normalize_label", "FileFormat", "SUPPORTED_FORMATS"]

FileFormat = Literal["auto", "csv", "tsv", "jsonl", "parquet"]
SUPPORTED_FORMATS: tuple[str, ...] = ("csv", "tsv", "jsonl", "parquet")

_SUFFIX_FORMAT = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_MAX_SHOWN = 5  # row problems listed in one error; the rest are counted


def detect_format(path: str | Path) -> str:
    """Return the format of ``path`` from its suffix, ignoring a ``.gz``/``.bz2``/``.xz`` suffix.

    Args:
        path: the data file.

    Returns:
        One of :data:`SUPPORTED_FORMATS`.

    Raises:
        DataError: when the suffix is not one ftlab reads.
    """
    p = Path(path)
    stem = p.with_suffix("") if compression_of(p) else p
    fmt = _SUFFIX_FORMAT.get(stem.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(_SUFFIX_FORMAT)) + " (optionally + .gz/.bz2/.xz)"
        raise DataError(
            f"cannot tell the format of '{p}' from its suffix {p.suffix!r}; supported: {known}. "
            f"Rename the file or set `format:` to one of {', '.join(SUPPORTED_FORMATS)}."
        )
    return fmt


def read_file(
    path: str | Path,
    *,
    format: FileFormat = "auto",
    text_column: str = "text",
    text_pair_column: str | None = None,
    label_column: str | None = "label",
    id_column: str | None = None,
    extra_columns: Sequence[str] = (),
    encoding: str = "utf-8",
    split: str = "data",
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    max_field_chars: int | None = DEFAULT_MAX_FIELD_CHARS,
    choices: str | Sequence[str] | None = None,
    choice_label: ChoiceLabel = "index",
    preset: ChoiceSchema | None = None,
) -> list[Example]:
    """Read one data file into Examples (texts, text pairs or multiple-choice items).

    Args:
        path: CSV, TSV, JSON Lines (``.jsonl``/``.json``, also a JSON array) or Parquet file;
            text formats may be ``.gz``/``.bz2``/``.xz`` compressed.
        format: ``"auto"`` detects the format from the suffix.
        text_column: column holding the text.
        text_pair_column: column holding the second text of a pair, if any.
        label_column: column holding the label; ``None`` for unlabelled prediction input.
        id_column: column holding a unique id; default ids are ``f"{split}-{row}"``.
        extra_columns: columns copied into ``Example.meta`` (for slicing and analysis).
        encoding: text encoding of CSV/TSV/JSONL files.
        split: split name used in default ids.
        max_bytes: refuse a file whose (decompressed) content is larger (``data.max_input_mb``);
            ``None``: no cap.
        max_field_chars: refuse a text field longer than this (``data.max_field_chars``);
            ``None``: no cap.
        choices: multiple choice: the columns holding the choices (one per choice, in order),
            or one column holding the list of choices; ``text_column`` is then the context.
        choice_label: how the label names the correct choice: ``"index"`` (0-based),
            ``"index_1"`` (1-based) or ``"text"`` (the choice's text). The Example's label is
            always the 0-based index as a string.
        preset: ``"winogrande"`` or ``"copa"``: read that dataset's own columns (they replace
            ``text_column``, ``label_column`` and ``choices``; see :data:`CHOICE_SCHEMAS`).

    Returns:
        The examples in file order. Labels are strings (``1 -> "1"``, ``True -> "true"``,
        ``1.0 -> "1"``); ``meta`` holds the extra columns plus ``"source"`` and ``"line"``
        (1-based file line for text formats, row for Parquet).

    Raises:
        DataError: missing file or column, malformed row, bad encoding, empty file, missing
            label; for multiple choice also a varying choice count, an empty or repeated
            choice, a label out of range. The message names the file, line and field and says
            how to fix it.
    """
    p = Path(path)
    fmt = detect_format(p) if format == "auto" else format
    if fmt not in SUPPORTED_FORMATS:
        raise DataError(
            f"unknown format {format!r} for '{p}'; use one of auto, {', '.join(SUPPORTED_FORMATS)}."
        )
    spec = choice_spec(choices, choice_label=choice_label, schema=preset)
    if preset is not None:
        text_column = CHOICE_SCHEMAS[preset].text
        label_column = None if label_column is None else CHOICE_SCHEMAS[preset].label
    builder = _Builder(p, text_column, text_pair_column, label_column, id_column,
                       tuple(extra_columns), split, max_field_chars, spec)
    if fmt == "parquet":
        if max_bytes is not None and p.is_file() and p.stat().st_size > max_bytes:
            from ftlab.data._io import _too_big

            raise _too_big(p, max_bytes, "data")
        rows, where = _parquet_rows(p, builder), "row"
    else:
        text = decode(read_bytes(p, max_bytes=max_bytes), p, encoding)
        if not text.strip():
            raise DataError(f"'{p}' is empty: it holds no rows. Check that the file was written "
                            f"completely, or point at the right file.")
        if fmt in ("csv", "tsv"):
            rows, where = _csv_rows(text, p, "," if fmt == "csv" else "\t", builder), "line"
        else:
            rows, where = _json_rows(text, p), "line"
    examples = [ex for line, row in rows if (ex := builder.build(row, line, where)) is not None]
    builder.raise_problems()
    if not examples:
        raise DataError(f"'{p}' has no data rows (only a header or blank lines). Point at a "
                        f"file with at least one row.")
    return examples


class _Builder:
    """Turns raw rows into Examples, collecting row problems so all are reported at once."""

    def __init__(self, path: Path, text: str, pair: str | None, label: str | None,
                 id_: str | None, extra: tuple[str, ...], split: str,
                 max_field_chars: int | None = DEFAULT_MAX_FIELD_CHARS,
                 spec: ChoiceSpec | None = None) -> None:
        self.path, self.split = path, split
        self.spec = spec
        self.n_choices: tuple[int, int] | None = None  # (count, line of the first row)
        self.max_field_chars = max_field_chars
        self.text, self.pair, self.label, self.id, self.extra = text, pair, label, id_, extra
        self.problems: list[str] = []
        self.n_problems = 0
        self.seen_ids: dict[str, int] = {}
        self.row = 0

    @property
    def required(self) -> list[tuple[str, str]]:
        """(option name, column) pairs that every row must have."""
        out = [("text_column", self.text)]
        for opt, col in (("text_pair_column", self.pair), ("label_column", self.label),
                         ("id_column", self.id)):
            if col is not None:
                out.append((opt, col))
        out.extend(("extra_columns", c) for c in self.extra)
        if self.spec is not None:
            out.extend(self.spec.required)
        return out

    def check_columns(self, columns: list[str], where: str) -> None:
        """Raise at once when a configured column is absent from the header/schema."""
        for opt, col in self.required:
            if col not in columns:
                raise DataError(
                    f"'{self.path}' {where}: column {col!r} (from `{opt}`) not found. "
                    f"Available columns: {', '.join(map(repr, columns))}."
                    f"{closest(col, columns)} Set `{opt}` to the right column name."
                )

    def problem(self, msg: str) -> None:
        self.n_problems += 1
        if len(self.problems) < _MAX_SHOWN:
            self.problems.append(msg)

    def raise_problems(self) -> None:
        if not self.n_problems:
            return
        if self.n_problems == 1:  # one problem: one line
            raise DataError(f"'{self.path}' {self.problems[0]}")
        more = self.n_problems - len(self.problems)
        tail = f"\n  ... and {more} more" if more else ""
        raise DataError(
            f"'{self.path}': {self.n_problems} bad row(s):\n  " + "\n  ".join(self.problems) + tail
        )

    def build(self, row: Mapping[str, Any], line: int, where: str) -> Example | None:
        """Return the Example for ``row`` (file position ``line``) or None after a problem."""
        here = f"{where} {line}"
        self.row += 1
        missing = [(opt, c) for opt, c in self.required if c not in row]
        if missing:
            keys = list(row)
            opt, col = missing[0]
            self.problem(f"{here}: field {col!r} (from `{opt}`) missing; fields on this {where}: "
                         f"{', '.join(map(repr, keys))}.{closest(col, keys)} "
                         f"Add the field or set `{opt}`.")
            return None
        text = self._text(row[self.text], here, "text_column", self.text)
        pair = None if self.pair is None else self._text(row[self.pair], here,
                                                         "text_pair_column", self.pair)
        label = None
        if self.label is not None:
            label = self._label(row[self.label], here)
            if label is None:
                return None
        ex_id = f"{self.split}-{self.row - 1}"
        if self.id is not None:
            raw = row[self.id]
            ex_id = "" if raw is None else _scalar_str(raw)
            if not ex_id:
                self.problem(f"{here}: id field {self.id!r} is empty. Give every row an id or "
                             f"unset `id_column` to use '<split>-<row>' ids.")
                return None
            if ex_id in self.seen_ids:
                self.problem(f"{here}: id {ex_id!r} (field {self.id!r}) already used on "
                             f"{where} {self.seen_ids[ex_id]}. Ids must be unique in a file.")
                return None
            self.seen_ids[ex_id] = line
        if text is None or (self.pair is not None and pair is None):
            return None
        meta: dict[str, Any] = {c: row[c] for c in self.extra}
        meta["source"], meta["line"] = str(self.path), line
        if self.spec is None:
            return Example(id=ex_id, text=text, label=label, text_pair=pair, meta=meta)
        item = choice_item(self, row, text, label, here, line, where)
        if item is None:
            return None
        context, choices, label = item
        return Example(id=ex_id, text=context, label=label, text_pair=pair, meta=meta,
                       choices=choices)

    def _text(self, value: Any, here: str, opt: str, col: str) -> str | None:
        if isinstance(value, str):
            if self.max_field_chars is not None and len(value) > self.max_field_chars:
                self.problem(f"{here}: field {col!r} holds {len(value):,} characters, more than "
                             f"the cap {self.max_field_chars:,}; raise `data.max_field_chars` "
                             f"if such long texts are meant to be there.")
                return None
            if not _valid_unicode(value):
                self.problem(f"{here}: field {col!r} (from `{opt}`) holds a lone surrogate "
                             f"(e.g. a JSON escape like \\ud800 without its pair), which is "
                             f"not valid Unicode text; fix the escape or re-encode the file.")
                return None
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, float) and math.isfinite(value):
            return str(value)
        self.problem(f"{here}: field {col!r} (from `{opt}`) must be a string, got "
                     f"{_show(value)}. Fix the value or choose another column.")
        return None

    def _label(self, value: Any, here: str) -> str | None:
        if isinstance(value, float) and math.isinf(value):
            self.problem(f"{here}: label field {self.label!r} is {value!r}, not a class name. "
                         f"Fix the label (a JSON Infinity is not a label).")
            return None
        if isinstance(value, str) and not _valid_unicode(value):
            self.problem(f"{here}: label field {self.label!r} holds a lone surrogate (an "
                         f"unpaired \\udXXX escape or undecodable bytes); fix the label.")
            return None
        label = normalize_label(value)
        if label is None:
            kind = ("empty" if isinstance(value, str) else "missing"
                    if value is None or isinstance(value, float) else "not a single value")
            self.problem(
                f"{here}: label field {self.label!r} is {kind} (got {_show(value)}). Fill in the "
                f"label, drop the row, or set `label_column: null` for unlabelled prediction input."
            )
        return label


def normalize_label(value: Any) -> str | None:
    """Return ``value`` as a label string, or None when it is missing or empty.

    ``1 -> "1"``, ``True -> "true"``, ``1.0 -> "1"``, ``" pos " -> "pos"``; NaN, None and blank
    strings are missing. Lists and dicts are missing too (a label is one scalar).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (int, str)):
        return str(value).strip() or None
    return None


def _valid_unicode(text: str) -> bool:
    """False for text holding lone surrogates (it cannot be written as UTF-8 later)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _scalar_str(value: Any) -> str:
    return normalize_label(value) or ""


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _csv_rows(text: str, path: Path, delimiter: str,
              builder: _Builder) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (first line of the record, row dict); ragged rows raise with their line."""
    limit = builder.max_field_chars
    csv.field_size_limit(sys.maxsize if limit is None else max(limit, 1))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    name = "CSV" if delimiter == "," else "TSV"
    try:
        header = next(reader)
    except csv.Error as exc:
        raise DataError(f"'{path}' line 1: malformed {name} header ({exc}).") from exc
    try:
        builder.check_columns(header, "header (line 1)")
    except DataError as exc:
        other = [d for d in ("\t", ";", "|", ",") if d != delimiter and d in "".join(header)]
        if len(header) == 1 and other:
            fix = "set `format: tsv`" if other[0] == "\t" else "convert it to CSV or TSV"
            raise DataError(f"{exc} The header is one field {header[0]!r}: the file seems to be "
                            f"separated by {other[0]!r}, not {delimiter!r}; {fix}.") from None
        raise
    prev = reader.line_num
    while True:
        start = prev + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise DataError(
                    f"'{path}' line {start}: a field is longer than {limit:,} characters, the "
                    f"cap `data.max_field_chars`; raise it if such long texts are meant to be "
                    f"there (a quote left open also swallows the rest of the file into one "
                    f"field: check quoting)."
                ) from exc
            raise DataError(
                f"'{path}' line {start}: malformed {name} ({exc}). Check quoting: a field with "
                f"a quote, delimiter or newline must be wrapped in double quotes, and quotes "
                f"inside it doubled."
            ) from exc
        prev = reader.line_num
        if not fields:  # blank line
            continue
        if len(fields) != len(header):
            hint = (" A text field probably contains an unquoted delimiter: quote it, or if "
                    "the file is tab-separated use `format: tsv`." if len(fields) > len(header)
                    else " A field may contain an unquoted line break or the row is cut short.")
            if delimiter == "," and "\t" in "".join(fields) and len(fields) < len(header):
                hint += " The row contains tabs: is this a TSV file (`format: tsv`)?"
            raise DataError(
                f"'{path}' line {start}: expected {len(header)} fields (as in the header), got "
                f"{len(fields)}.{hint} Row starts: {_show(delimiter.join(fields))}"
            )
        yield start, dict(zip(header, fields, strict=True))


def _json_rows(text: str, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line, object) for JSON Lines (or items of a top-level JSON array)."""
    if text.lstrip().startswith("["):
        yield from _json_array(text, path)
        return
    # split on "\n" only: str.splitlines would also split on U+2028 inside JSON strings
    for i, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (RecursionError, ValueError) as exc:
            if not isinstance(exc, json.JSONDecodeError):
                raise _json_limit(path, f"line {i}", exc) from None
            raise DataError(
                f"'{path}' line {i}, column {exc.colno}: invalid JSON ({exc.msg}). Line starts: "
                f"{_show(line)}. Each line must be one complete JSON object, e.g. "
                f'{{"text": "...", "label": "pos"}}; check for unescaped quotes or a '
                f"pretty-printed (multi-line) object."
            ) from exc
        if not isinstance(obj, dict):
            raise DataError(
                f"'{path}' line {i}: expected a JSON object like "
                f'{{"text": ..., "label": ...}}, got {type(obj).__name__} {_show(obj)}. '
                f"Write one object per line."
            )
        yield i, obj


def _json_array(text: str, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"'{path}' line {exc.lineno}, column {exc.colno}: invalid JSON "
                        f"({exc.msg}). Fix the file or write it as JSON Lines.") from exc
    except (RecursionError, ValueError) as exc:
        raise _json_limit(path, "the JSON array", exc) from None
    if not isinstance(items, list):
        raise DataError(f"'{path}': expected a JSON array of objects or JSON Lines, got "
                        f"{type(items).__name__}.")
    for i, obj in enumerate(items, start=1):
        if not isinstance(obj, dict):
            raise DataError(f"'{path}' item {i}: expected a JSON object, got "
                            f"{type(obj).__name__} {_show(obj)}.")
        yield i, obj


def _json_limit(path: Path, where: str, exc: BaseException) -> DataError:
    if isinstance(exc, RecursionError):
        return DataError(f"'{path}' {where}: the JSON is nested too deeply to read. A row is one "
                         f"flat object like {{\"text\": ..., \"label\": ...}}; fix the file.")
    return DataError(f"'{path}' {where}: a value cannot be read ({str(exc)[:160]}); numbers have "
                     f"at most 4300 digits: fix the value (quote it to keep it as text).")


def _parquet_rows(path: Path, builder: _Builder) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (1-based row, row dict) from a Parquet file, checking the schema first."""
    check_file(path)
    pq = optional_import("pyarrow.parquet", purpose="reading Parquet files")
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for non-Parquet bytes
        raise DataError(f"'{path}' is not a readable Parquet file ({type(exc).__name__}: {exc}). "
                        f"Check the file, or set `format:` if the suffix is misleading.") from exc
    columns = list(pf.schema_arrow.names)
    builder.check_columns(columns, "schema")
    if pf.metadata.num_rows == 0:
        raise DataError(f"'{path}' is empty: the Parquet file has 0 rows.")
    wanted = list(dict.fromkeys(col for _, col in builder.required))
    row = 0
    batches = pf.iter_batches(columns=wanted, batch_size=65536)
    while True:
        try:  # a corrupt body only shows while reading the rows
            batch = next(batches)
            records = batch.to_pylist()
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001 - pyarrow raises ArrowInvalid/OSError/...
            raise DataError(
                f"'{path}' row {row + 1} onwards: the Parquet data cannot be read "
                f"({type(exc).__name__}: {str(exc)[:200]}); the file is truncated or corrupted: "
                f"write it again.") from exc
        for record in records:
            row += 1
            yield row, record
