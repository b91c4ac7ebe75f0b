"""Conformance check for HTML reports: parseable, self-contained, every section, real images."""

from __future__ import annotations

import base64
import binascii
import io
import re
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

from ftlab.report._plots import PNG_SIGNATURE

__all__ = ["check_report"]

_PNG_PREFIX = "data:image/png;base64,"
_MIN_PNG_BYTES = 1024
# elements without an end tag (HTML void elements)
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}
_URL_ATTRS = {"src", "href", "srcset", "data", "action", "poster", "background"}
_EXTERNAL = ("http://", "https://", "//")
_CSS_EXTERNAL = re.compile(r"url\(\s*['\"]?\s*(https?:)?//|@import", re.IGNORECASE)


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, tuple[int, int]]] = []
        self.problems: list[str] = []
        self.section_ids: list[str] = []
        self.all_ids: list[str] = []
        self.images: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        where = self.getpos()
        for name, value in attrs:
            v = (value or "").strip().lower()
            if name in _URL_ATTRS and v.startswith(_EXTERNAL):
                self.problems.append(f"line {where[0]}: <{tag} {name}=...> points to an "
                                     f"external URL {v[:80]!r}; the report must be "
                                     f"self-contained")
            if name == "id" and value:
                self.all_ids.append(value)
        a = dict(attrs)
        if tag == "section" and a.get("id"):
            self.section_ids.append(str(a["id"]))
        if tag == "img":
            self.images.append(a.get("src") or "")
        if tag == "script" and a.get("src"):
            self.problems.append(f"line {where[0]}: <script src=...> loads code from a file")
        self._in_style = tag == "style"
        if tag not in _VOID:
            self.stack.append((tag, where))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False
        if tag in _VOID:
            return
        if not self.stack or self.stack[-1][0] != tag:
            open_tag = self.stack[-1] if self.stack else None
            self.problems.append(
                f"line {self.getpos()[0]}: </{tag}> does not close the open element "
                + (f"<{open_tag[0]}> from line {open_tag[1][0]}" if open_tag else "(none open)"))
            if any(t == tag for t, _ in self.stack):  # recover: unwind to the matching tag
                while self.stack and self.stack.pop()[0] != tag:
                    pass
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self._in_style and _CSS_EXTERNAL.search(data):
            self.problems.append("inline CSS loads an external url(...) or @import")


def _check_png(src: str, index: int) -> None:
    from matplotlib.image import imread

    if not src.startswith(_PNG_PREFIX):
        raise AssertionError(f"image {index}: src must be a {_PNG_PREFIX}... URI, got "
                             f"{src[:60]!r}")
    try:
        png = base64.b64decode(src[len(_PNG_PREFIX):], validate=True)
    except binascii.Error as exc:
        raise AssertionError(f"image {index}: the base64 payload does not decode ({exc})") from exc
    if not png.startswith(PNG_SIGNATURE):
        raise AssertionError(f"image {index}: decoded bytes do not start with the PNG signature")
    if len(png) <= _MIN_PNG_BYTES:
        raise AssertionError(f"image {index}: only {len(png)} bytes; expected a real figure "
                             f"(> {_MIN_PNG_BYTES} bytes)")
    try:
        pixels = imread(io.BytesIO(png), format="png")
    except (ValueError, OSError, SyntaxError) as exc:  # PIL raises SyntaxError on broken files
        raise AssertionError(f"image {index}: not a readable PNG ({exc})") from exc
    if float(pixels.std()) == 0.0:
        raise AssertionError(f"image {index}: every pixel has the same colour (blank figure)")


def check_report(html: str | Path, *, section_ids: Sequence[str] = ()) -> int:
    """Check an HTML report: it parses with balanced tags, holds each wanted ``<section id>``
    once, loads nothing from outside (no http(s) ``src``/``href``, no script files), and every
    ``<img>`` is a non-blank PNG data URI larger than 1 KB.

    Args:
        html: the page, or the path of the HTML file.
        section_ids: ids of ``<section>`` elements that must be present.

    Returns:
        The number of images checked.

    Raises:
        AssertionError: the first problem found, with the line and what to fix.
    """
    text = html.read_text(encoding="utf-8") if isinstance(html, Path) else html
    checker = _Checker()
    checker.feed(text)
    checker.close()
    if checker.problems:
        raise AssertionError("report is not well-formed or not self-contained:\n  "
                             + "\n  ".join(checker.problems[:10]))
    if checker.stack:
        tags = ", ".join(f"<{t}> (line {pos[0]})" for t, pos in checker.stack[:5])
        raise AssertionError(f"report leaves elements unclosed: {tags}")
    duplicated = sorted({i for i in checker.all_ids if checker.all_ids.count(i) > 1})
    if duplicated:
        raise AssertionError(f"report repeats element ids {duplicated}; ids must be unique")
    missing = [s for s in section_ids if s not in checker.section_ids]
    if missing:
        raise AssertionError(f"report lacks <section id=...> for {missing}; it has "
                             f"{checker.section_ids}")
    for i, src in enumerate(checker.images):
        _check_png(src, i)
    return len(checker.images)
