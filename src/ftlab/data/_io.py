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

# compression suffix -> opener of the whole payload as bytes
_DECOMPRESS = {".gz": gzip.decompress, ".bz2": bz2.decompress, ".xz": lzma.decompress}


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


def read_bytes(path: Path) -> bytes:
    """Read ``path`` whole, decompressing ``.gz``/``.bz2``/``.xz``; DataError on failure."""
    check_file(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read '{path}': {exc}. Check the file permissions.") from exc
    comp = compression_of(path)
    if comp is None:
        return raw
    try:
        return _DECOMPRESS[comp](raw)
    except (OSError, EOFError, ValueError, lzma.LZMAError) as exc:
        raise DataError(
            f"'{path}' ends in {comp} but could not be decompressed ({type(exc).__name__}: "
            f"{exc}). The file is truncated or not {comp}-compressed: re-download it or "
            f"remove the {comp} suffix if it is plain text."
        ) from exc


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
