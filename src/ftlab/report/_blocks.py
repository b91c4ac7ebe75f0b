"""Building blocks of report sections: tolerant accessors, cell formatting and block dicts.

A block is a dict whose ``kind`` the template knows: ``kv`` (rows of key/value), ``table``
(headers, rows, caption), ``img`` (PNG data URI), ``pre``, ``list``, ``findings``, ``h3``,
``ok``, ``note`` and ``missing``. Cells are formatted here, so the template never does arithmetic on
user data.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

__all__ = ["Block", "Section", "as_dict", "as_list", "fmt", "kv", "table", "note", "missing", "h3",
           "link", "marked", "pct", "score",
           "png_block"]

Block = dict[str, Any]
Section = dict[str, Any]


def as_dict(x: Any) -> dict[str, Any]:
    return x if isinstance(x, dict) else {}


def as_list(x: Any) -> list[Any]:
    return x if isinstance(x, list) else []


def fmt(value: Any) -> str:
    """Format one table cell.

    Args:
        value: any JSON value.

    Returns:
        ``-`` for ``None``, whole floats without decimals, 4 decimals for other floats (3
        significant digits below 0.01), lists joined by commas, anything else as ``str``.
    """
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value == int(value) and abs(value) < 1e9:
            return str(int(value))
        # 3 significant digits for small values (learning rates: 0.001, 3e-05), else 4 decimals
        return f"{value:.3g}" if (abs(value) < 0.01 or abs(value) >= 1e5) else f"{value:.4f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt(v) for v in value)
    return str(value)


def kv(rows: Iterable[tuple[str, Any]]) -> Block:
    return {"kind": "kv", "rows": [(k, fmt(v)) for k, v in rows if v is not None]}


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], caption: str | None = None
           ) -> Block:
    return {"kind": "table", "headers": list(headers), "caption": caption,
            "rows": [[c if isinstance(c, dict) and "parts" in c else fmt(c) for c in row]
                     for row in rows]}


def marked(parts: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """A table cell of text pieces, each ``(text, mark)``: mark ``""`` (plain), ``"ins"``
    (inserted or changed text, green) or ``"del"`` (removed text, red, struck through)."""
    return {"parts": [(str(t), m) for t, m in parts if t]}


def link(text: Any, href: str | None) -> Any:
    """A table cell that links to ``href`` (a relative path, e.g. a run's ``report.html``);
    plain text when ``href`` is ``None``."""
    if href is None:
        return text
    return {"parts": [(fmt(text), "")], "href": href}


def pct(value: Any, decimals: int = 1) -> str:
    """A share or rate in [0, 1] as a percentage (``0.0913`` -> ``9.1%``), as the terminal
    prints it; ``-`` when missing."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return "-"
    return f"{100 * value:.{decimals}f}%"


def score(value: Any) -> str:
    """A metric in [0, 1] with 4 decimals, also when it is whole (``1.0000``, not ``1``)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return "-" if value is None else fmt(value)
    return f"{value:.4f}"


def note(text: str) -> Block:
    return {"kind": "note", "text": text}


def missing(text: str) -> Block:
    return {"kind": "missing", "text": text}


def h3(text: str) -> Block:
    return {"kind": "h3", "text": text}


def png_block(draw: Callable[..., bytes], *args: Any, alt: str, **kwargs: Any) -> Block:
    """Run a plot helper and wrap its PNG as an ``img`` block (a ``note`` if the data is bad).

    Args:
        draw: a function of :mod:`ftlab.report._plots`.
        *args: passed to ``draw``.
        alt: the image's alt text, also used in the note.
        **kwargs: passed to ``draw``.

    Returns:
        The block.
    """
    try:
        png = draw(*args, **kwargs)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        # a malformed field costs one figure, and the page says which and why
        return note(f"could not draw {alt}: {exc}")
    return {"kind": "img", "alt": alt,
            "src": "data:image/png;base64," + base64.b64encode(png).decode("ascii")}

