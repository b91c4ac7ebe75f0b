"""Search spaces: a YAML file of dotted config keys -> distributions, validated like the config.

File format (``configs/spaces/*.yaml``)::

    params:
      train.lr: {type: float, low: 1.0e-4, high: 1.0e-1}     # lr-like keys: log scale by default
      model.dropout: {type: float, low: 0.0, high: 0.5, grid: [0.0, 0.25, 0.5]}
      model.hidden_dims: {type: categorical, choices: [[64], [128, 64]]}
      train.optimizer: {type: categorical, choices: [adam, sgd], role: scientific}
      train.momentum: {type: float, low: 0.0, high: 0.95, when: {train.optimizer: sgd}}
      train.schedule: {role: fixed, value: cosine}

Per parameter: ``type`` (float | int | categorical; inferred from ``choices`` or the bounds when
left out), ``low``/``high``, ``log`` (default true for keys ending in ``lr`` or containing
``learning_rate``/``weight_decay``), ``step``, ``choices``, ``grid`` (values for the grid
sampler), ``role`` (scientific | nuisance | fixed; default nuisance), ``value`` (fixed) and
``when`` (``{param: value or [values]}``: sampled only when the condition holds; the condition
names an earlier parameter of the space, or a config field of the base config).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import yaml
from pydantic import BaseModel

from ftlab.config import (
    BowConfig,
    RnnConfig,
    RunConfig,
    TransformerConfig,
    parse_config,
    set_dotted,
)
from ftlab.core import closest_match
from ftlab.errors import ConfigError

__all__ = ["Param", "SearchSpace", "load_space", "parse_space", "dump_space", "is_lr_like"]

Kind = Literal["float", "int", "categorical"]
Role = Literal["scientific", "nuisance", "fixed"]
_KINDS = ("float", "int", "categorical")
_ROLES = ("scientific", "nuisance", "fixed")
_PARAM_KEYS = ("type", "low", "high", "log", "step", "choices", "grid", "role", "value", "when")
_TOP_KEYS = ("params",)
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_FAMILIES = (BowConfig, RnnConfig, TransformerConfig)


def is_lr_like(name: str) -> bool:
    """Whether a dotted key is a learning rate or weight decay (log scale by default)."""
    last = name.rsplit(".", 1)[-1].lower()
    return last.endswith("lr") or "learning_rate" in last or "weight_decay" in last


@dataclass(frozen=True)
class Param:
    """One parameter of a search space (a dotted config key and how it is chosen).

    Attributes:
        name: dotted config key, e.g. ``"train.lr"``.
        kind: ``"float"``, ``"int"`` or ``"categorical"``.
        low, high: bounds of a numeric parameter (inclusive).
        log: sample on a log scale.
        step: discretisation step of a numeric parameter (None: continuous / 1 for int).
        choices: the values of a categorical parameter.
        grid: values used by the grid sampler (None: the choices of a categorical).
        role: ``"scientific"``, ``"nuisance"`` or ``"fixed"``.
        value: the value of a fixed parameter.
        when: conditions ``{param: allowed values}``; the parameter is sampled only when all hold.
    """

    name: str
    kind: Kind = "float"
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: float | int | None = None
    choices: tuple[Any, ...] | None = None
    grid: tuple[Any, ...] | None = None
    role: Role = "nuisance"
    value: Any = None
    when: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)

    @property
    def numeric(self) -> bool:
        """True for float and int parameters."""
        return self.kind in ("float", "int")

    def grid_values(self) -> list[Any] | None:
        """The grid sampler's values: ``grid``, else a categorical's choices, else None."""
        if self.grid is not None:
            return list(self.grid)
        if self.kind == "categorical" and self.choices is not None:
            return list(self.choices)
        return None

    def suggest(self, trial: Any) -> Any:
        """Ask an Optuna trial for a value of this parameter."""
        if self.kind == "categorical":
            choices = [_hashable(c) for c in self.choices or ()]
            picked = trial.suggest_categorical(self.name, choices)
            return _unhashable(picked)
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high),  # type: ignore[arg-type]
                                     step=int(self.step or 1), log=self.log)
        return trial.suggest_float(self.name, float(self.low), float(self.high),  # type: ignore[arg-type]
                                   step=self.step, log=self.log)

    def active(self, context: Mapping[str, Any], base: Mapping[str, Any]) -> bool:
        """Whether every ``when`` condition holds for the values chosen so far (or the base config)."""
        for key, allowed in self.when.items():
            have = context[key] if key in context else _lookup(base, key)
            if have not in allowed:
                return False
        return True

    def to_dict(self) -> dict[str, Any]:
        """The YAML form of this parameter (only what is set)."""
        if self.role == "fixed":
            return {"role": "fixed", "value": self.value}
        out: dict[str, Any] = {"type": self.kind}
        if self.numeric:
            out.update(low=self.low, high=self.high, log=self.log)
            if self.step is not None:
                out["step"] = self.step
        else:
            out["choices"] = list(self.choices or ())
        if self.grid is not None:
            out["grid"] = list(self.grid)
        if self.role != "nuisance":
            out["role"] = self.role
        if self.when:
            out["when"] = {k: (v[0] if len(v) == 1 else list(v)) for k, v in self.when.items()}
        return out


@dataclass(frozen=True)
class SearchSpace:
    """A validated search space.

    Attributes:
        params: the parameters, in file order (conditions refer to earlier ones).
        origin: where it came from (file path or ``"space"``), for messages.
        warnings: advice found while validating (e.g. a linearly spaced learning rate).
    """

    params: tuple[Param, ...]
    origin: str = field(default="space", compare=False)
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def __getitem__(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def scientific(self) -> tuple[Param, ...]:
        """Parameters whose effect the study measures (each value gets its own tuning budget)."""
        return tuple(p for p in self.params if p.role == "scientific")

    @property
    def nuisance(self) -> tuple[Param, ...]:
        """Parameters tuned by the sampler."""
        return tuple(p for p in self.params if p.role == "nuisance")

    @property
    def fixed(self) -> dict[str, Any]:
        """Fixed parameters: dotted key -> value (applied like ``--set``)."""
        return {p.name: p.value for p in self.params if p.role == "fixed"}

    def sample(self, trial: Any, *, context: Mapping[str, Any] | None = None,
               base: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Sample the nuisance parameters whose conditions hold.

        Args:
            trial: an Optuna trial.
            context: values already set (fixed and scientific), dotted key -> value.
            base: the base config as a plain dict (for conditions on config fields).

        Returns:
            The sampled values, dotted key -> value (inactive parameters are left out).
        """
        chosen: dict[str, Any] = dict(context or {})
        out: dict[str, Any] = {}
        for p in self.nuisance:
            if p.active(chosen, base or {}):
                out[p.name] = chosen[p.name] = p.suggest(trial)
        return out

    def grid(self) -> dict[str, list[Any]]:
        """The grid sampler's search space over the nuisance parameters.

        Raises:
            ConfigError: a numeric nuisance parameter without ``grid`` values.
        """
        missing = [p.name for p in self.nuisance if p.grid_values() is None]
        if missing:
            raise ConfigError(f"{self.origin}: --sampler grid needs `grid: [...]` values for every "
                              f"tuned numeric parameter; missing for {', '.join(missing)}")
        return {p.name: [_hashable(v) for v in p.grid_values() or []] for p in self.nuisance}

    def to_dict(self) -> dict[str, Any]:
        """The YAML form (``{"params": {...}}``); :func:`parse_space` reads it back."""
        return {"params": {p.name: p.to_dict() for p in self.params}}


def _hashable(value: Any) -> Any:
    # Optuna's categorical choices must be None/bool/int/float/str: lists travel as YAML text
    if isinstance(value, (list, dict, tuple)):
        return yaml.safe_dump(value, default_flow_style=True).strip()
    return value


def _unhashable(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        return yaml.safe_load(value)
    return value


def _lookup(raw: Mapping[str, Any], dotted: str) -> Any:
    from ftlab.config import get_dotted

    return get_dotted(raw, dotted)


def _num(value: Any) -> Any:
    """YAML 1.1 reads ``1e-4`` as a string: turn such strings into floats."""
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return float(value)
    return value


def _is_num(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ----------------------------------------------------------------------------- loading
def load_space(path: str | Path, *, config: RunConfig | None = None) -> SearchSpace:
    """Read and validate a search-space YAML file.

    Args:
        path: the space file.
        config: the base config the space applies to (default: ftlab's default config); every
            key must be a field of it and every bound/choice a valid value.

    Returns:
        The validated :class:`SearchSpace`.

    Raises:
        ConfigError: unreadable file, YAML error, or every problem of the space at once.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"search space file not found: {p} (see configs/spaces/ for examples)")
    from ftlab.core import read_yaml

    return parse_space(read_yaml(p, what="search space"), origin=str(p), config=config)


def dump_space(space: SearchSpace, path: str | Path) -> Path:
    """Write ``space`` as YAML to ``path`` (readable by :func:`load_space`)."""
    p = Path(path)
    p.write_text(yaml.safe_dump(space.to_dict(), sort_keys=False), encoding="utf-8")
    return p


def parse_space(raw: Any, *, origin: str = "space", config: RunConfig | None = None) -> SearchSpace:
    """Validate a plain dict (``{"params": {...}}``) into a :class:`SearchSpace`.

    Raises:
        ConfigError: listing every problem at once, each with the parameter and the fix.
    """
    base = config or RunConfig()
    problems: list[str] = []
    warns: list[str] = []
    if not isinstance(raw, dict) or not isinstance(raw.get("params"), dict) or not raw["params"]:
        raise ConfigError(f"{origin}: a search space is a mapping with a non-empty `params:` "
                          f"mapping of dotted config keys, e.g. params: {{train.lr: {{type: float, "
                          f"low: 1.0e-4, high: 1.0e-2}}}}")
    for key in raw:
        if key not in _TOP_KEYS:
            problems.append(f"{key}: unknown top-level key; {_hint(key, _TOP_KEYS)}")
    params: list[Param] = []
    for name, spec in raw["params"].items():
        param = _parse_param(str(name), spec, problems, warns, [q.name for q in params], base)
        if param is not None:
            params.append(param)
    if problems:
        raise ConfigError(f"invalid search space ({origin}): {len(problems)} problem(s)\n"
                          + "\n".join(f"  - {p}" for p in problems))
    return SearchSpace(tuple(params), origin=origin, warnings=tuple(warns))


def _hint(key: str, valid: Sequence[str]) -> str:
    close = closest_match(key, valid, cutoff=0.6)
    return f"did you mean '{close}'?" if close else f"valid keys: {', '.join(valid)}"


def _parse_param(name: str, spec: Any, problems: list[str], warns: list[str],
                 earlier: list[str], base: RunConfig) -> Param | None:
    where = f"params.{name}"
    n_before = len(problems)
    if not isinstance(spec, dict):
        problems.append(f"{where}: expected a mapping like {{type: float, low: 0.0, high: 0.5}}, "
                        f"got {spec!r}")
        return None
    for key in spec:
        if key not in _PARAM_KEYS:
            problems.append(f"{where}.{key}: unknown key; {_hint(str(key), _PARAM_KEYS)}")
    field_problem = _check_field(name, base)
    if field_problem:
        problems.append(f"{where}: {field_problem}")
    role = spec.get("role", "nuisance")
    if role not in _ROLES:
        problems.append(f"{where}.role: must be one of {', '.join(_ROLES)}, got {role!r}")
        role = "nuisance"
    if role == "fixed":
        if "value" not in spec:
            problems.append(f"{where}: role fixed needs `value:` (the value to set)")
        extra = [k for k in spec if k not in ("role", "value")]
        if extra:
            problems.append(f"{where}: a fixed parameter takes only `value:`; remove {extra}")
        param = Param(name, kind="categorical", role="fixed", value=spec.get("value"))
        if len(problems) == n_before and not field_problem:
            _check_values(param, [param.value], problems, base)
        return param
    if "value" in spec:
        problems.append(f"{where}.value: only fixed parameters take a value; add `role: fixed` "
                        f"or use choices/low/high")
    choices = spec.get("choices")
    kind = spec.get("type")
    low, high, step = _num(spec.get("low")), _num(spec.get("high")), _num(spec.get("step"))
    if kind is None:
        kind = "categorical" if choices is not None else (
            "int" if isinstance(low, int) and isinstance(high, int)
            and not isinstance(low, bool) and not isinstance(high, bool) else "float")
    if kind not in _KINDS:
        problems.append(f"{where}.type: must be one of {', '.join(_KINDS)}, got {kind!r}")
        return None
    explicit_log = spec.get("log")
    if explicit_log is not None and not isinstance(explicit_log, bool):
        problems.append(f"{where}.log: must be true or false, got {explicit_log!r}")
        explicit_log = None
    grid_raw = spec.get("grid")
    grid: tuple[Any, ...] | None = None
    if grid_raw is not None:
        if not isinstance(grid_raw, list) or not grid_raw:
            problems.append(f"{where}.grid: must be a non-empty list of values, got {grid_raw!r}")
        else:
            grid = tuple(_num(v) for v in grid_raw)
    when = _parse_when(where, spec.get("when"), problems, earlier, base)
    log = False
    if kind == "categorical":
        for key in ("low", "high", "log", "step"):
            if key in spec:
                problems.append(f"{where}.{key}: a categorical parameter takes `choices:`, not "
                                f"{key}")
        if not isinstance(choices, list) or not choices:
            problems.append(f"{where}.choices: a categorical parameter needs a non-empty list of "
                            f"choices, got {choices!r}")
            choices = []
        choices = [_num(c) for c in choices]
        for v in grid or ():
            if v not in choices:
                problems.append(f"{where}.grid: value {v!r} is not one of the choices {choices}")
    else:
        if choices is not None:
            problems.append(f"{where}.choices: a {kind} parameter takes low/high; use "
                            f"type: categorical for a list of choices")
        ok = True
        for key, v in (("low", low), ("high", high)):
            if v is None:
                problems.append(f"{where}.{key}: a {kind} parameter needs `{key}:`")
                ok = False
            elif not _is_num(v) or (kind == "int" and not float(v).is_integer()):
                problems.append(f"{where}.{key}: must be a{'n integer' if kind == 'int' else ' number'}"
                                f", got {v!r}")
                ok = False
        lr_like = is_lr_like(name)
        log = explicit_log if explicit_log is not None else lr_like
        if ok and not low < high:
            problems.append(f"{where}: `low < high` must hold, but got (low={low!r}, high={high!r})")
        if ok and log and low <= 0:
            why = " (lr-like keys default to log scale)" if explicit_log is None else ""
            problems.append(f"{where}: a log scale needs low > 0, got low={low!r}{why}; set low to "
                            f"a small positive value (e.g. 1.0e-6) or log: false")
        if step is not None and (not _is_num(step) or step <= 0):
            problems.append(f"{where}.step: must be a positive number, got {step!r}")
        elif step is not None and log:
            problems.append(f"{where}: step and log cannot be combined; drop one of them")
        if explicit_log is False and lr_like:
            warns.append(f"{where}: linearly spaced learning rates/weight decays put almost all "
                         f"trials in the top decade of the range; log scale (the default for "
                         f"this key) explores {low!r}..{high!r} evenly per decade")
        if ok and kind == "int":
            low, high = int(low), int(high)
            step = int(step) if _is_num(step) else step
        for v in grid or ():
            if not _is_num(v) or (kind == "int" and not float(v).is_integer()):
                problems.append(f"{where}.grid: value {v!r} is not a{'n integer' if kind == 'int' else ' number'}")
            elif ok and not low <= v <= high:
                problems.append(f"{where}.grid: value {v!r} lies outside [low, high] = "
                                f"[{low!r}, {high!r}]")
        if grid is not None and kind == "int":
            grid = tuple(int(v) if _is_num(v) else v for v in grid)
    if role == "scientific" and kind != "categorical" and grid is None:
        problems.append(f"{where}: a scientific parameter is compared value by value; make it "
                        f"categorical or give it `grid: [...]` values")
    param = Param(name, kind=cast(Kind, kind), low=low if kind != "categorical" else None,
                  high=high if kind != "categorical" else None, log=bool(log),
                  step=step if kind != "categorical" else None,
                  choices=tuple(choices or ()) if kind == "categorical" else None, grid=grid,
                  role=role, when=when)
    if len(problems) == n_before and not field_problem:
        values = list(param.choices or ()) if kind == "categorical" else [param.low, param.high]
        _check_values(param, values + list(grid or ()), problems, base)
    return param


def _parse_when(where: str, when: Any, problems: list[str], earlier: list[str],
                base: RunConfig) -> dict[str, tuple[Any, ...]]:
    if when is None:
        return {}
    if not isinstance(when, dict) or not when:
        problems.append(f"{where}.when: must be a mapping {{param: value}}, got {when!r}")
        return {}
    out: dict[str, tuple[Any, ...]] = {}
    for key, allowed in when.items():
        key = str(key)
        if key not in earlier and _check_field(key, base):
            problems.append(f"{where}.when: condition on {key!r}, which is neither an earlier "
                            f"parameter of the space nor a config field; list the parameter "
                            f"before {where.split('.', 1)[1]!r}")
        out[key] = tuple(_num(a) for a in allowed) if isinstance(allowed, list) else (_num(allowed),)
    return out


def _check_field(dotted: str, base: RunConfig) -> str | None:
    """None if ``dotted`` names a config field (of the base config, or of any model family)."""
    parts = dotted.split(".")
    node: Any = base
    for i, part in enumerate(parts):
        if isinstance(node, dict):
            return None  # free-form mapping (e.g. data.options)
        classes: tuple[type[BaseModel], ...]
        if isinstance(node, BaseModel):
            classes = (type(node),)
            if i > 0 and parts[i - 1] == "model" and len(parts) > 1:
                classes = (type(node), *_FAMILIES)
        elif isinstance(node, tuple) and node and all(isinstance(c, type) for c in node):
            classes = node
        else:
            return f"{'.'.join(parts[:i])!r} is a value, not a section; {dotted!r} is not a config field"
        owners = [c for c in classes if part in c.model_fields]
        if not owners:
            valid = sorted({f for c in classes for f in c.model_fields})
            close = closest_match(part, valid, cutoff=0.6)
            prefix = ".".join(parts[:i])
            hint = (f"did you mean '{prefix + '.' if prefix else ''}{close}'?" if close
                    else f"fields there: {', '.join(valid)}")
            return f"unknown config field {dotted!r}; {hint}"
        if isinstance(node, BaseModel) and part in type(node).model_fields:
            value = getattr(node, part)
            if value is None or not isinstance(value, (BaseModel, dict)):
                value = _section_classes(type(node).model_fields[part].annotation) or value
            node = value
        else:
            node = _section_classes(owners[0].model_fields[part].annotation) or object()
    return None


def _section_classes(ann: Any) -> tuple[type[BaseModel], ...] | None:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return (ann,)
    found = [c for a in getattr(ann, "__args__", ()) or () for c in (_section_classes(a) or ())]
    return tuple(found) or None


def _check_values(param: Param, values: list[Any], problems: list[str], base: RunConfig) -> None:
    """Apply each value to the base config: a value the config refuses is a problem now."""
    raw0 = base.model_dump(mode="json")
    for value in values:
        raw = base.model_dump(mode="json")
        set_dotted(raw, param.name, value)
        try:
            parse_config(raw)
        except ConfigError as exc:
            if isinstance(_lookup(raw0, param.name.rsplit(".", 1)[0]), dict) or "." not in param.name:
                lines = [ln.strip(" -") for ln in str(exc).splitlines()[1:]]
                problems.append(f"params.{param.name}: value {value!r} is not valid for the config: "
                                + "; ".join(lines))
                return


def log_position(param: Param, value: float) -> float:
    """Where ``value`` lies in [low, high] on the parameter's own scale (0 = low, 1 = high)."""
    lo, hi, v = float(param.low), float(param.high), float(value)  # type: ignore[arg-type]
    if param.log:
        lo, hi, v = math.log(lo), math.log(hi), math.log(max(v, 1e-300))
    return (v - lo) / (hi - lo)
