"""Shared file helpers for readers: existence checks, decompression, decoding with context."""

from __future__ import annotations

import bz2
import difflib
import gzip
import lzma
import os
from pathlib import Path

from ftlab.core import closest as _closest
from ftlab.errors import DataError

__all__: list[str] = []  # private helpers

# compression suffix -> file opener (streamed, so the size cap holds before memory is spent)
_DECOMPRESS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}

DEFAULT_MAX_BYTES = 1024 * 2**20  # data.max_input_mb: 1 GiB of (decompressed) input per file
DEFAULT_MAX_FIELD_CHARS = 10_000_000  # data.max_field_chars: one text field of 10M characters


def compression_of(path: Path) -> str | None:
    """Return the compression suffix of ``path`` (``".gz"``, ``".bz2"``, ``".xz"``) or None."""
    suffix = path.suffix.lower()
    return suffix if suffix in _DECOMPRESS else None


def check_file(path: Path, *, what: str = "data file") -> None:
    """Raise a DataError naming similar files when ``path`` is missing or not a file."""
    if path.is_file():
        return
    if path.is_dir():
        raise DataError(
            f"{what} '{path}' is a directory, not a file. For a folder-per-class layout "
            f"(<root>/<label>/*.txt or <root>/<split>/<label>/*.txt) pass the directory as the "
            f"data source (it is read with read_folder); otherwise point at a file inside it."
        )
    parent = path.parent
    if not parent.is_dir():
        raise DataError(
            f"{what} '{path}' not found: the directory '{parent}' does not exist "
            f"(working directory: {os.getcwd()}). Fix the path or use an absolute path."
        )
    names = sorted(p.name for p in parent.iterdir())
    close = difflib.get_close_matches(path.name, names, n=3, cutoff=0.5)
    hint = f" Similar files there: {', '.join(close)}." if close else ""
    raise DataError(f"{what} '{path}' not found.{hint} Fix the path (relative to {os.getcwd()}).")


def _too_big(path: Path, limit: int, what: str) -> DataError:
    return DataError(
        f"'{path}' holds more than {limit / 2**20:g} MiB of {what}, the input size cap: raise "
        f"`data.max_input_mb` (read_file(max_bytes=...)) if the file is meant to be this big, "
        f"or split it (a small compressed file that expands this much may be a decompression "
        f"bomb).")


def read_bytes(path: Path, *, max_bytes: int | None = DEFAULT_MAX_BYTES) -> bytes:
    """Read ``path`` whole, decompressing ``.gz``/``.bz2``/``.xz``; DataError on failure.

    Args:
        path: the file.
        max_bytes: refuse files whose (decompressed) content exceeds this; ``None``: no cap.
    """
    check_file(path)
    comp = compression_of(path)
    limit = -1 if max_bytes is None else max_bytes + 1
    try:
        if comp is None:
            with path.open("rb") as fh:
                raw = fh.read(limit)
        else:
            with _DECOMPRESS[comp](path, "rb") as fh:  # type: ignore[operator]
                raw = fh.read(limit)
    except (EOFError, ValueError, lzma.LZMAError) as exc:
        raise DataError(
            f"'{path}' ends in {comp} but could not be decompressed ({type(exc).__name__}: "
            f"{exc}). The file is truncated or not {comp}-compressed: re-download it or "
            f"remove the {comp} suffix if it is plain text."
        ) from exc
    except OSError as exc:
        if comp is not None and not isinstance(exc, (PermissionError, FileNotFoundError)):
            raise DataError(
                f"'{path}' ends in {comp} but could not be decompressed ({type(exc).__name__}: "
                f"{exc}). The file is truncated or not {comp}-compressed: re-download it or "
                f"remove the {comp} suffix if it is plain text."
            ) from exc
        raise DataError(f"cannot read '{path}': {exc.strerror or exc}. Check the file "
                        f"permissions.") from exc
    if max_bytes is not None and len(raw) > max_bytes:
        raise _too_big(path, max_bytes, "decompressed data" if comp else "data")
    return raw


def decode(data: bytes, path: Path, encoding: str) -> str:
    """Decode ``data`` strictly; a bad byte raises a DataError with its line and offset.

    A leading UTF-8 byte-order mark is dropped so the first column name stays clean.
    """
    try:
        text = data.decode(encoding)
    except LookupError as exc:
        raise DataError(
            f"unknown encoding {encoding!r} for '{path}'. Use a Python codec name such as "
            f"'utf-8', 'latin-1' or 'cp1252'."
        ) from exc
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        bad = data[exc.start : exc.end]
        raise DataError(
            f"'{path}' line {line}, column {col} (byte offset {exc.start}): bytes {bad!r} are "
            f"not valid {encoding} ({exc.reason}). The file is probably in another encoding: "
            f"set `encoding: latin-1` (or 'cp1252') in the data config, i.e. "
            f"read_file(..., encoding='latin-1'), or re-save the file as UTF-8."
        ) from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


# usual names of the text / label columns, for suggestions that spelling cannot find
_SYNONYMS = {
    "text": ("sentence", "review", "content", "document", "body", "comment", "tweet",
             "sentence1", "question", "premise"),
    "label": ("labels", "category", "class", "target", "sentiment", "y", "gold_label"),
}


def closest(name: str, options: list[str]) -> str:
    """Return `` Did you mean 'x'?`` for the closest column, or an empty string (also the usual
    synonyms of ``text`` and ``label``, which spelling cannot find)."""
    return _closest(name, options, cutoff=0.6, aliases=_SYNONYMS.get(name.lower(), ()))
