"""Typed result records: one convention for every file ftlab writes and every text it prints.

Each result file (``run.json``, ``evaluation/<split>.json``, ``checks/<suite>.json``,
``study.json``, ``seeds.json``) has a pydantic model derived from :class:`Record`, written from
that model in one place:

- ``Model.model_validate(data)`` checks the fields when the file is written (a misspelled key or
  a wrong type fails in the tests, not in a user's run directory);
- :meth:`Record.from_dict` reads it back tolerantly (keys of other ftlab versions are kept as
  extra fields; a file that does not match is read as it is, with a warning);
- :meth:`Record.to_dict` is the file's content (the fields that were set, extras included);
- :meth:`Record.format` (and ``str(record)``) is the plain text the CLI prints; numbers go
  through :func:`fmt_value`.
"""

from __future__ import annotations

import logging
from typing import Any, Self, cast

from pydantic import BaseModel, ConfigDict, ValidationError

__all__ = ["Record", "fmt_value"]

log = logging.getLogger("ftlab")


def fmt_value(value: object, digits: int = 4) -> str:
    """One cell of printed output: ``-`` for None, floats to ``digits`` significant digits."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


class Record(BaseModel):
    """A result file's typed content: known fields validated, unknown ones kept."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def to_dict(self) -> dict[str, Any]:
        """The content written to disk: the fields that were set (declared ones first, then
        extras), values as given (JSON-ready)."""
        return self.model_dump(exclude_unset=True, by_alias=True, warnings=False)

    def extra(self, key: str, default: Any = None) -> Any:
        """A key the model does not declare (per-split keys, or a key of another version)."""
        return (self.__pydantic_extra__ or {}).get(key, default)

    def format(self) -> str:
        """The plain text the CLI prints for this result (each record type writes its own)."""
        return "\n".join(f"{k}: {fmt_value(v)}" for k, v in self.to_dict().items())

    def __str__(self) -> str:
        return self.format()

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "") -> Self:
        """A record read from disk: validated, else (a hand-edited or foreign file) kept as it
        is with a warning naming ``source``, so reading never fails."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            log.warning("%s does not match the %s schema (%s); read as it is",
                        source or "a file", cls.__name__,
                        "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                  for e in exc.errors()[:3]))
            return cast(Self, cls.model_construct(**data))
