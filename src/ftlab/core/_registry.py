"""One registry type for every extension point (models, tokenizers, transformations, suites,
built-in datasets) and one "did you mean" helper for every message about a misspelt name."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TypeVar

from ftlab.core._errors import ConfigError, FtlabError

__all__ = ["Registry", "closest", "closest_match"]

T = TypeVar("T")


def closest_match(
    value: str, valid: Iterable[str], *, cutoff: float = 0.5, aliases: Iterable[str] = ()
) -> str | None:
    """The valid name ``value`` most likely meant, or None.

    Tries, in order: the same name in another case, the closest spelling (``difflib`` ratio
    >= ``cutoff``), then the first of ``aliases`` (usual synonyms, e.g. ``"sentence"`` for
    ``"text"``) that is valid.
    """
    options = [str(v) for v in valid]
    lowered = {o.lower(): o for o in options}
    text = str(value)
    match = [lowered[text.lower()]] if text.lower() in lowered and text not in options else []
    match = match or difflib.get_close_matches(text, options, n=1, cutoff=cutoff)
    if not match:
        match = [lowered[a.lower()] for a in aliases if a.lower() in lowered][:1]
    return match[0] if match else None


def closest(
    value: str, valid: Iterable[str], *, cutoff: float = 0.5, aliases: Iterable[str] = ()
) -> str:
    """A "did you mean" phrase for ``value`` among ``valid`` (``""`` when nothing is close).

    See :func:`closest_match` for how the name is found.

    Returns:
        ``" Did you mean 'x'?"`` (with a leading space, to append to a sentence) or ``""``.
    """
    match = closest_match(value, valid, cutoff=cutoff, aliases=aliases)
    return f" Did you mean {match!r}?" if match is not None else ""


class Registry(dict[str, T]):
    """Name -> implementation, for an extension point.

    A ``dict`` (``REG[name]``, ``name in REG``, ``sorted(REG)`` work as before) with the two
    operations every registry needs, each with one message convention:
    :meth:`add` (refuses to replace silently) and :meth:`lookup` (unknown name -> the closest).

    Args:
        kind: what an entry is, for messages (``"model family"``).
        entries: initial entries.
    """

    def __init__(self, kind: str, entries: dict[str, T] | None = None) -> None:
        super().__init__(entries or {})
        self.kind = kind

    def add(self, name: str, value: T, *, overwrite: bool = False, caller: str = "register") -> None:
        """Register ``value`` under ``name``.

        Raises:
            ConfigError: ``name`` is taken and ``overwrite`` is false.
        """
        if name in self and not overwrite:
            raise ConfigError(
                f"{caller}: a {self.kind} named {name!r} is already registered; pick another "
                "name or pass overwrite=True."
            )
        self[name] = value

    def lookup(self, name: str, *, error: type[FtlabError] = ConfigError) -> T:
        """The entry for ``name``.

        Raises:
            FtlabError: ``error`` listing the registered names and the closest one.
        """
        if name not in self:
            raise error(
                f"unknown {self.kind} {name!r}; registered: {sorted(self)}.{closest(name, self)}"
            )
        return self[name]
