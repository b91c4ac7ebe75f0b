"""Label strings <-> class indices, fitted on training labels only."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

from ftlab.errors import CheckpointError, DataError, FtlabError
from ftlab.preprocessing._jsonio import read_json, write_json

__all__ = ["LabelMap"]

_INT = re.compile(r"[+-]?\d+")
_SHOWN = 20  # known labels listed in an error message


def _order(labels: set[str]) -> list[str]:
    # All-integer label sets ("0", "1", "10") sort numerically so that index == value for the
    # usual 0..C-1 labels; anything else sorts alphabetically (deterministic across runs).
    if labels and all(_INT.fullmatch(x) for x in labels):
        return sorted(labels, key=lambda x: (int(x), x))
    return sorted(labels)


class LabelMap:
    """Maps raw label strings (``"1"``, ``"sport"``) to class indices ``0..C-1`` and back.

    Args:
        names: the labels in index order, for a map known in advance; usually left out and
            learnt with :meth:`fit` from training labels.

    Raises:
        DataError: ``names`` holds duplicates or non-strings.
    """

    def __init__(self, names: Sequence[str] | None = None) -> None:
        self._names: list[str] = []
        self._index: dict[str, int] = {}
        if names is not None:
            self._set(list(names), where="LabelMap(names=...)")

    def _set(self, names: list[str], *, where: str) -> None:
        bad = [n for n in names if not isinstance(n, str)]
        if bad:
            raise DataError(
                f"{where}: labels must be strings, got {bad[0]!r} ({type(bad[0]).__name__}); "
                "convert them with str() in the reader"
            )
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise DataError(f"{where}: duplicate labels {dupes}; each label must appear once")
        self._names = names
        self._index = {n: i for i, n in enumerate(names)}

    def fit(self, labels: Iterable[str | None]) -> Self:
        """Learn the labels from the training split (``None`` entries are skipped).

        Order: numeric when every label is an integer string, else alphabetical.

        Raises:
            DataError: no labels at all, or a label that is not a string.
        """
        seen: set[str] = set()
        for label in labels:
            if label is None:
                continue
            if not isinstance(label, str):
                raise DataError(
                    f"LabelMap.fit: labels must be strings, got {label!r} "
                    f"({type(label).__name__}); convert them with str() in the reader"
                )
            seen.add(label)
        if not seen:
            raise DataError(
                "LabelMap.fit: the training data holds no labels (all None or empty); "
                "check the label column of the training split"
            )
        self._set(_order(seen), where="LabelMap.fit")
        return self

    @property
    def is_fitted(self) -> bool:
        """Whether labels are known."""
        return bool(self._names)

    @property
    def names(self) -> list[str]:
        """Labels in index order (a copy)."""
        return list(self._names)

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return len(self._names)

    def encode(self, label: str, *, where: str = "") -> int:
        """The index of ``label``.

        Args:
            label: a raw label string.
            where: location for the error message, e.g. ``"valid.jsonl:12"``.

        Raises:
            DataError: the label was not in the training labels (or the map is not fitted).
        """
        try:
            return self._index[label]
        except (KeyError, TypeError):
            pass
        loc = f"{where}: " if where else ""
        if not self._names:
            raise FtlabError(f"{loc}the label map is empty: call fit(train_labels) first")
        known = self._names[:_SHOWN] + (["..."] if len(self._names) > _SHOWN else [])
        raise DataError(
            f"{loc}unknown label {label!r}: not among the {len(self._names)} labels seen in "
            f"training {known}; fix the label, or add examples of it to the training split"
        )

    def decode(self, index: int) -> str:
        """The label string of class ``index``.

        Raises:
            DataError: ``index`` is not in ``[0, num_classes)``.
        """
        if isinstance(index, bool) or not isinstance(index, int) or not (
            0 <= index < len(self._names)
        ):
            raise DataError(
                f"class index {index!r} out of range: the label map has {len(self._names)} "
                f"classes (valid indices 0..{len(self._names) - 1})"
            )
        return self._names[index]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form: ``{"names": [...]}``."""
        return {"names": list(self._names)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabelMap:
        """Rebuild from :meth:`to_dict` output.

        Raises:
            DataError: ``names`` missing, not a list, or with duplicates.
        """
        names = data.get("names") if isinstance(data, Mapping) else None
        if not isinstance(names, list):
            raise DataError(f"label map data must be {{'names': [...]}}, got {data!r}")
        return cls(names)

    def save(self, path: Path) -> None:
        """Write the map as JSON to ``path`` (atomic)."""
        write_json(Path(path), self.to_dict())

    @classmethod
    def load(cls, path: Path) -> LabelMap:
        """Read a map written by :meth:`save`.

        Raises:
            CheckpointError: missing or corrupt file.
        """
        data = read_json(Path(path), what="label map")
        try:
            return cls.from_dict(data)
        except DataError as exc:
            raise CheckpointError(f"{path}: {exc}; save the label map again") from exc

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LabelMap) and self._names == other._names

    def __repr__(self) -> str:
        return f"LabelMap({self._names!r})"
