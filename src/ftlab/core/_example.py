"""The unit every reader produces."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Example"]


@dataclass(frozen=True)
class Example:
    """One labelled text, text pair, or multiple-choice item.

    Attributes:
        id: stable identifier, unique within its split (source-provided or ``"<split>-<row>"``).
        text: the (first) text.
        label: the raw label as a string (``"1"``, ``"sport"``); ``None`` only for unlabelled
            prediction inputs. The label map (fitted on train) turns it into an int.
        text_pair: the second text of a pair (question + passage), else ``None``.
        choices: for multiple-choice items, the candidate answers (``text`` is the context, the
            label is the index ``"0"``..``"N-1"`` of the correct choice), else ``None``.
        meta: extra columns kept for slicing/analysis (never fed to the model), plus
            ``"source"`` (file) and ``"line"`` (1-based line/row in that file) when known.
    """

    id: str
    text: str
    label: str | None
    text_pair: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    choices: tuple[str, ...] | None = None
