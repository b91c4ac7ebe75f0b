"""Loading a run's config with every check, including names registered by later stages.

:mod:`ftlab.config` imports no stage; the names it cannot know (transformations, built-in
suites) are checked here, on the raw dict, and listed with the schema's problems.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ftlab import config as _config
from ftlab.config import NameCheck, RunConfig
from ftlab.core import closest_match
from ftlab.errors import ConfigError
from ftlab.robustness import parse_pipeline_spec
from ftlab.robustness.suites import SUITES

__all__ = ["RUN_CHECKS", "registered_names", "load_config", "parse_config"]


def _pipeline_problem(where: str, spec: object) -> list[tuple[str, str]]:
    if not isinstance(spec, str):
        return []  # the schema reports the type
    try:
        parse_pipeline_spec(spec)  # names and rates only: loads no resource (WordNet, GloVe)
    except ConfigError as exc:
        return [(where, str(exc))]
    return []


def _suite_problem(where: str, spec: object) -> list[tuple[str, str]]:
    if not isinstance(spec, str) or not spec.startswith("builtin:"):
        return []
    name = spec.removeprefix("builtin:")
    if name in SUITES:
        return []
    match = closest_match(name, SUITES)
    hint = f"; did you mean 'builtin:{match}'?" if match is not None else ""
    return [(where, f"unknown built-in suite {spec!r}; known: "
                    f"{[f'builtin:{k}' for k in SUITES]}{hint}")]


def _items(section: object, key: str) -> list[Any]:
    value = section.get(key) if isinstance(section, Mapping) else None
    return list(value) if isinstance(value, list) else []


def registered_names(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The :class:`~ftlab.config.NameCheck` of a run: transformation pipelines
    (``robustness.transforms``, ``train.augment[].transform``) and ``builtin:`` suites."""
    problems: list[tuple[str, str]] = []
    robustness, train = raw.get("robustness"), raw.get("train")
    for i, spec in enumerate(_items(robustness, "transforms")):
        problems += _pipeline_problem(f"robustness.transforms.{i}", spec)
    for i, spec in enumerate(_items(robustness, "suites")):
        problems += _suite_problem(f"robustness.suites.{i}", spec)
    for i, item in enumerate(_items(train, "augment")):
        if isinstance(item, Mapping):
            problems += _pipeline_problem(f"train.augment.{i}.transform", item.get("transform"))
    return problems


RUN_CHECKS: Sequence[NameCheck] = (registered_names,)


def load_config(path: str | Path | None, overrides: list[str] | None = None) -> RunConfig:
    """:func:`ftlab.config.load_config` with the run's checks of registered names.

    Raises:
        ConfigError: every problem at once (schema and names), each with its location.
    """
    return _config.load_config(path, overrides, checks=RUN_CHECKS)


def parse_config(raw: dict[str, Any], *, origin: str = "config") -> RunConfig:
    """:func:`ftlab.config.parse_config` with the run's checks of registered names.

    Raises:
        ConfigError: every problem at once (schema and names), each with its location.
    """
    return _config.parse_config(raw, origin=origin, checks=RUN_CHECKS)
