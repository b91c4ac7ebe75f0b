"""Text normalisation applied before tokenisation (same on train, validation and test)."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from ftlab.core import closest_match
from ftlab.errors import ConfigError

__all__ = ["Normalizer"]

# A tag starts with a letter, "/" or "!" right after "<" (optionally after spaces), so that
# "1 < 2 and 3 > 2" is left alone while "<br />", "</p>", "<a href=...>" and "<!-- -->" go.
_TAG = re.compile(r"<\s*[/!]?\s*[A-Za-z!][^<>]*>")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, kw_only=True)
class Normalizer:
    """Stateless ``str -> str`` cleaning, JSON-serialisable.

    Steps, in this order: ``strip_html`` (tags -> one space, then entities unescaped, so
    ``"a<br />b &amp; c"`` -> ``"a b & c"``), ``nfkc`` (Unicode NFKC: full-width letters,
    ligatures, non-breaking spaces), ``lowercase``, ``collapse_whitespace`` (runs of whitespace
    -> one space, ends stripped). Tags are removed before entities are unescaped, so an escaped
    ``&lt;b&gt;`` stays as the visible text ``<b>``.

    Args:
        lowercase: lower-case the text (use it with uncased vocabularies such as GloVe).
        strip_html: remove HTML tags and unescape entities (IMDB reviews hold ``<br />``).
        nfkc: apply Unicode NFKC normalisation.
        collapse_whitespace: collapse whitespace runs and strip both ends.
    """

    lowercase: bool = False
    strip_html: bool = False
    nfkc: bool = False
    collapse_whitespace: bool = True

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, bool):
                raise ConfigError(
                    f"Normalizer.{f.name} must be a bool, got {value!r} "
                    f"({type(value).__name__}); use true or false"
                )

    def __call__(self, text: str) -> str:
        """Return the normalised ``text``."""
        if self.strip_html:
            text = html.unescape(_TAG.sub(" ", text))
        if self.nfkc:
            text = unicodedata.normalize("NFKC", text)
        if self.lowercase:
            text = text.lower()
        if self.collapse_whitespace:
            text = _SPACE.sub(" ", text).strip()
        return text

    def to_dict(self) -> dict[str, bool]:
        """Return the settings as a JSON-serialisable dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Normalizer:
        """Build a normalizer from :meth:`to_dict` output.

        Raises:
            ConfigError: unknown keys (the closest valid key is suggested) or non-bool values.
        """
        known = [f.name for f in fields(cls)]
        unknown = [k for k in data if k not in known]
        if unknown:
            hints = []
            for key in unknown:
                close = closest_match(str(key), known, cutoff=0.6)
                hints.append(f"{key!r}" + (f" (did you mean {close!r}?)" if close else ""))
            raise ConfigError(
                f"unknown Normalizer setting(s): {', '.join(hints)}; valid keys: {known}"
            )
        return cls(**dict(data))
