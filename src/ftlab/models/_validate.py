"""Argument checks shared by the model components (errors name the parameter and the fix)."""

from __future__ import annotations

from collections.abc import Iterable

from ftlab.core import closest
from ftlab.errors import ConfigError

__all__ = ["check_choice", "check_positive_int", "check_dropout"]


def check_choice(where: str, value: object, valid: Iterable[str]) -> str:
    """Raise :class:`ConfigError` unless ``value`` is one of ``valid``; return it."""
    options = list(valid)
    if value not in options:
        raise ConfigError(
            f"{where}: got {value!r}, expected one of {options}.{closest(str(value), options)}"
        )
    return str(value)


def check_positive_int(where: str, value: object) -> int:
    """Raise :class:`ConfigError` unless ``value`` is an int >= 1; return it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where}: must be an integer >= 1, got {value!r}.")
    return value


def check_dropout(where: str, value: object) -> float:
    """Raise :class:`ConfigError` unless ``0 <= value < 1``; return it as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value < 1.0:
        raise ConfigError(
            f"{where}: dropout probability must satisfy 0 <= p < 1, got {value!r}. "
            "Use 0.0 to disable dropout."
        )
    return float(value)
