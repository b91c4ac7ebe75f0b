"""Tiny Example builders shared by the preprocessing tests."""

from __future__ import annotations

from ftlab.data import Example


def ex(text: str, label: str | None = "0", pair: str | None = None, id_: str = "x", **meta):
    """An Example with defaults that keep tests short."""
    return Example(id=id_, text=text, label=label, text_pair=pair, meta=meta)
