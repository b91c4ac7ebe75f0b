"""Suites by name (the registry) and from YAML files, with errors that name file, test, field."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ftlab.core import Registry, closest, closest_match, parse_yaml
from ftlab.errors import ConfigError
from ftlab.robustness.suites._spec import KINDS, Perturbation, Suite, _View, cross_problems

__all__ = ["SUITES", "register_suite", "load_suite", "parse_suite"]

_HERE = Path(__file__).resolve().parent

SuiteSource = Path | Callable[[], Suite]

# name -> YAML file or a factory returning a Suite; ``builtin:NAME`` in configs and the CLI.
SUITES: Registry[SuiteSource] = Registry("suite", {
    "sentiment": _HERE / "sentiment_en.yaml",
})

_DOC = "(the format is described in the ftlab.robustness.suites docstring and the README)"


def register_suite(name: str, source: SuiteSource, *, overwrite: bool = False) -> None:
    """Add a suite to :data:`SUITES`, loadable as ``builtin:<name>``.

    Args:
        name: registry key; no ``:``, ``/`` or spaces.
        source: a YAML file, or a function returning a :class:`Suite`.
        overwrite: replace an existing entry of the same name.

    Raises:
        ConfigError: malformed or taken name (without ``overwrite``), or a bad source.
    """
    if not name or any(c in name for c in ":/\\ "):
        raise ConfigError(f"register_suite: name {name!r} must be non-empty, without ':', '/' "
                          f"or spaces.")
    if not (isinstance(source, Path) or callable(source)):
        raise ConfigError(f"register_suite({name!r}): source must be a Path to a YAML file or a "
                          f"function returning a Suite, got {source!r}.")
    SUITES.add(name, source, overwrite=overwrite, caller="register_suite")


def load_suite(spec: str | Path | Suite) -> Suite:
    """Load a suite: ``builtin:NAME`` (see :data:`SUITES`), a YAML file, or a Suite.

    Args:
        spec: ``"builtin:sentiment"``, a path to a YAML file, or an already built suite. A
            bare registered name (``"sentiment"``) works too when no such file exists.

    Returns:
        The validated suite, ``source`` set to the spec.

    Raises:
        ConfigError: unknown built-in name or missing file (with the closest name), YAML
            syntax error (with line), or every problem in the suite at once, each naming
            the file, the test and the field.
    """
    if isinstance(spec, Suite):
        return spec
    text = str(spec)
    name = text.removeprefix("builtin:")
    if text.startswith("builtin:") or (name in SUITES and not Path(text).exists()):
        if name not in SUITES:
            known = sorted(f"builtin:{k}" for k in SUITES)
            raise ConfigError(f"unknown built-in suite {text!r}; registered: {known}."
                              f"{closest(text, known)}")
        source = SUITES[name]
        if isinstance(source, Path):
            return _load_file(source, origin=f"builtin:{name}", default_name=name)
        suite = source()
        return suite if suite.source else suite.model_copy(update={"source": f"builtin:{name}"})
    path = Path(text)
    if not path.is_file():
        raise ConfigError(f"suite file not found: {path}; pass a YAML file or a built-in suite "
                          f"({', '.join(sorted('builtin:' + k for k in SUITES))})")
    return _load_file(path, origin=str(path), default_name=path.stem)


def _load_file(path: Path, *, origin: str, default_name: str) -> Suite:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the suite file ({exc})") from None
    raw = parse_yaml(text, origin=path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a suite file is a mapping with labels and tests, got "
                          f"{type(raw).__name__} {_DOC}")
    raw.setdefault("name", default_name)
    return parse_suite(raw, origin=origin, where=str(path), lines=_test_lines(text))


def _test_lines(text: str) -> list[int]:
    """The 1-based YAML line where each entry of ``tests`` starts."""
    node = yaml.compose(text)
    tests = next((v for k, v in getattr(node, "value", []) if getattr(k, "value", None) == "tests"), None)
    return [item.start_mark.line + 1 for item in tests.value] if isinstance(tests, yaml.SequenceNode) else []


def parse_suite(raw: Mapping[str, Any], *, origin: str = "", where: str = "suite",
                lines: Sequence[int] = ()) -> Suite:
    """Validate a suite given as a dict (what a YAML file holds).

    Args:
        raw: the suite mapping.
        origin: stored as ``Suite.source``.
        where: names the suite in errors (its file).
        lines: the YAML line of each test, named in errors when given.

    Raises:
        ConfigError: every problem at once, each naming the test and field.
    """
    try:
        return Suite.model_validate({**raw, "source": origin})
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, raw, where, lines)) from None


def _owner(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model that holds the last key of ``loc``."""
    cls: type[BaseModel] = Suite
    for part in loc:
        if isinstance(part, int):
            continue
        if part in KINDS:
            cls = KINDS[part]
        elif part == "perturb":
            cls = Perturbation
        elif part in ("tests",):
            continue
        else:
            return None
    return cls


def _test_label(raw: Mapping[str, Any], index: int, lines: Sequence[int] = ()) -> str:
    tests = raw.get("tests")
    test = tests[index] if isinstance(tests, list) and 0 <= index < len(tests) else None
    name = test.get("name") if isinstance(test, Mapping) else None
    kind = test.get("kind") if isinstance(test, Mapping) else None
    notes = [str(kind)] if kind else []
    notes += [f"line {lines[index]}"] if index < len(lines) else []
    return f"tests[{index}]" + (f" {name!r}" if name else "") + (f" ({', '.join(notes)})" if notes else "")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def _raw_view(test: Any) -> _View | None:
    if not isinstance(test, Mapping) or str(test.get("kind", "")).upper() not in KINDS:
        return None
    kind = str(test["kind"]).upper()
    field = "expect" if kind == "MFT" else "label"
    label = test.get(field)
    fillers = test.get("fillers")
    perturb = test.get("perturb")
    clauses = [perturb.get(k) for k in ("append", "prepend")] if isinstance(perturb, Mapping) else []
    templates = _strings([test.get("template"), test.get("templates"), test.get("pairs"), clauses])
    return _View(str(test.get("name", "")), kind, field, label if isinstance(label, str) else None,
                 fillers if isinstance(fillers, Mapping) else {}, templates)


def _raw_cross_problems(raw: Mapping[str, Any], lines: Sequence[int]) -> list[str]:
    labels, aliases, fillers = raw.get("labels"), raw.get("aliases"), raw.get("fillers")
    tests = raw.get("tests")
    if not isinstance(labels, list) or not isinstance(tests, list):
        return []
    return cross_problems([str(x) for x in labels], aliases if isinstance(aliases, Mapping) else {},
                          fillers if isinstance(fillers, Mapping) else {},
                          [_raw_view(t) for t in tests],
                          describe=lambda i: _test_label(raw, i, lines))


def _format_errors(exc: ValidationError, raw: Mapping[str, Any], where: str,
                   test_lines: Sequence[int]) -> str:
    lines: list[str] = []
    # the suite-level (cross-field) checks run again on the raw mapping, with line numbers,
    # also when a field failed and pydantic skipped them: every problem at once
    cross = _raw_cross_problems(raw, test_lines)
    for err in exc.errors():
        loc = tuple(err["loc"])
        if not loc and cross:
            continue
        prefix = ""
        if len(loc) >= 2 and loc[0] == "tests" and isinstance(loc[1], int):
            prefix = _test_label(raw, loc[1], test_lines) + ": "
            loc = loc[2:]
            if loc and loc[0] in KINDS:
                loc = loc[1:]
        field = ".".join(str(p) for p in loc)
        if err["type"] == "extra_forbidden":
            owner = _owner(tuple(err["loc"])[:-1])
            valid = sorted(owner.model_fields) if owner else []
            match = closest_match(str(loc[-1]), valid, cutoff=0.6)
            hint = f"did you mean {match!r}?" if match else f"valid keys: {', '.join(valid)}"
            lines.append(f"{prefix}{field}: unknown key; {hint}")
        elif err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            kind = err.get("input", {}).get("kind") if isinstance(err.get("input"), dict) else None
            got = f"unknown kind {kind!r}" if kind is not None else "no kind"
            lines.append(f"{prefix}kind: {got}; use one of MFT, INV, DIR.{closest(str(kind), KINDS)}")
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
            got = err.get("input")
            shown = "" if err["type"] in ("value_error", "missing") or isinstance(got, dict) \
                else f" (got {got!r})"
            for i, line in enumerate(msg.splitlines()):
                lines.append(f"{prefix}{field + ': ' if field and i == 0 else ''}{line}{shown}")
    lines += cross
    head = f"{where}: invalid suite, {len(lines)} problem(s) {_DOC}:"
    return "\n".join([head, *(f"  - {line}" for line in lines)])
