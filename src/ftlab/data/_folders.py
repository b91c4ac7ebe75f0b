"""Folder-per-class datasets: ``<root>/<label>/*.txt`` or ``<root>/<split>/<label>/*.txt``."""

from __future__ import annotations

import logging
from collections.abc import Collection
from pathlib import Path

from ftlab.core import Example
from ftlab.data._io import check_file, decode
from ftlab.data._splits import canonical_split
from ftlab.errors import DataError

__all__ = ["read_folder"]

logger = logging.getLogger("ftlab.data")

# directories that never hold a class: aclImdb's train/unsup is unlabelled
_SKIP_ALWAYS = frozenset({"unsup", "unsupervised", "unlabeled", "unlabelled"})


def read_folder(
    root: str | Path,
    *,
    encoding: str = "utf-8",
    split: str | None = None,
    labels: Collection[str] | None = None,
    fallback_encoding: str | None = None,
) -> dict[str, list[Example]]:
    """Read a folder-per-class dataset; each ``*.txt`` file is one example.

    Two layouts are detected: ``<root>/<split>/<label>/*.txt`` (aclImdb: ``train/pos``,
    ``test/neg``) and ``<root>/<label>/*.txt`` (BBC News), returned under the key ``"all"``.
    Directories named ``unsup`` (unlabelled) or not in ``labels`` are skipped and logged as a
    warning on the ``ftlab.data`` logger. Files are read in sorted order.

    Args:
        root: the dataset directory.
        encoding: text encoding of the files (BBC News needs ``"latin-1"``).
        split: in the split layout, read only this split; in the label layout, the key to return
            the examples under (default ``"all"``).
        labels: the class directories to read; others are skipped (default: all).
        fallback_encoding: encoding for files that are not valid ``encoding`` (e.g. a corpus of
            UTF-8 files with a few latin-1 ones); the file's ``meta["encoding"]`` records it.

    Returns:
        Split name -> examples; ``id`` is the path relative to ``root`` (``"train/pos/0_9.txt"``),
        ``meta["source"]`` the file path. Split names ``dev``/``val``/``valid`` become
        ``"validation"``.

    Raises:
        DataError: when ``root`` is missing, holds no labelled ``*.txt`` files, a requested split
            is absent, or a file cannot be decoded.
    """
    base = Path(root)
    if not base.is_dir():
        if base.exists():
            raise DataError(f"'{base}' is a file, not a folder; read files with read_file.")
        check_file(base, what="data folder")
    wanted = None if labels is None else {str(x) for x in labels}
    children = _subdirs(base)
    split_layout = any(_has_txt(g) for c in children for g in _subdirs(c))
    out: dict[str, list[Example]] = {}
    skipped: list[str] = []
    if split_layout:
        nested = [c.name for c in children if any(_has_txt(g) for g in _subdirs(c))]
        # a label folder beside split folders (loose files inside a split folder, like
        # aclImdb's train/urls_pos.txt, are fine)
        flat = [c.name for c in children if c.name not in nested and _has_txt(c)]
        if flat:
            raise DataError(
                f"'{base}' mixes two layouts: {', '.join(f'{n}/' for n in flat[:5])} hold *.txt "
                f"files directly (<root>/<label>/*.txt) while "
                f"{', '.join(f'{n}/' for n in nested[:5])} hold label folders "
                f"(<root>/<split>/<label>/*.txt); only one layout would be read. Move the files "
                f"into one layout or point at the subfolder you mean.")
        names = [c.name for c in children]
        if split is not None and split not in names:
            raise DataError(f"split {split!r} not found in '{base}'; split folders there: "
                            f"{', '.join(names)}. Set `split` to one of them or leave it unset.")
        for split_dir in children:
            if split is not None and split_dir.name != split:
                continue
            examples = _read_labels(base, split_dir, (encoding, fallback_encoding), wanted,
                                    skipped)
            if examples:
                out[canonical_split(split_dir.name)] = examples
    else:
        examples = _read_labels(base, base, (encoding, fallback_encoding), wanted, skipped)
        if examples:
            out[split or "all"] = examples
    if skipped:
        logger.warning("read_folder(%s): skipped directories without a (wanted) label: %s",
                       base, ", ".join(skipped))
    if not out:
        raise DataError(
            f"no labelled *.txt files found under '{base}' (skipped: {', '.join(skipped) or '-'}). "
            f"Expected <root>/<label>/*.txt or <root>/<split>/<label>/*.txt; check the path"
            + (f" and `labels` ({sorted(wanted)})" if wanted is not None else "") + "."
        )
    return out


def _listdir(path: Path) -> list[Path]:
    try:
        return list(path.iterdir())
    except OSError as exc:
        raise DataError(f"cannot list the folder '{path}': {exc.strerror or exc}. Check its "
                        f"permissions, or move it out of the dataset folder.") from exc


def _subdirs(path: Path) -> list[Path]:
    return sorted((p for p in _listdir(path) if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: p.name)


def _has_txt(path: Path) -> bool:
    return any(p.suffix == ".txt" and p.is_file() for p in _listdir(path))


def _read_labels(base: Path, parent: Path, encodings: tuple[str, str | None],
                 wanted: set[str] | None,
                 skipped: list[str]) -> list[Example]:
    """Read every ``<parent>/<label>/*.txt``; record skipped directories by relative path."""
    examples: list[Example] = []
    for label_dir in _subdirs(parent):
        rel = label_dir.relative_to(base).as_posix()
        if label_dir.name.lower() in _SKIP_ALWAYS or (
            wanted is not None and label_dir.name not in wanted
        ):
            skipped.append(rel)
            continue
        files = sorted(p for p in _listdir(label_dir) if p.suffix == ".txt" and p.is_file())
        if not files:
            skipped.append(rel)
            continue
        for f in files:
            try:
                data = f.read_bytes()
            except OSError as exc:
                raise DataError(f"cannot read '{f}': {exc.strerror or exc}. Check the file's "
                                f"permissions, or remove it from the dataset folder.") from exc
            encoding, fallback = encodings
            meta = {"source": str(f)}
            try:
                text = decode(data, f, encoding)
            except DataError:
                if fallback is None:
                    raise
                text = decode(data, f, fallback)
                meta["encoding"] = fallback
            examples.append(Example(id=f.relative_to(base).as_posix(), text=text,
                                    label=label_dir.name, meta=meta))
    return examples
