"""LoRA / DoRA adapters for the ``transformer`` family, through PEFT (imported lazily)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from torch import nn

from ftlab.core import optional_import
from ftlab.errors import ConfigError
from ftlab.core import closest
from ftlab.models._validate import check_dropout, check_positive_int

__all__ = ["LoraSettings", "lora_settings", "default_lora_targets", "apply_lora"]

# Attention projections adapted by default, per ``config.model_type``: query and value, as in
# the LoRA paper. PEFT's own table (used as a fallback) has no entry for DistilBERT.
_DEFAULT_TARGETS: dict[str, tuple[str, ...]] = {
    "bert": ("query", "value"),
    "roberta": ("query", "value"),
    "xlm-roberta": ("query", "value"),
    "camembert": ("query", "value"),
    "electra": ("query", "value"),
    "albert": ("query", "value"),
    "distilbert": ("q_lin", "v_lin"),
    "deberta-v2": ("query_proj", "value_proj"),
    "deberta": ("in_proj",),
    "mpnet": ("q", "v"),
    "modernbert": ("Wqkv",),
}


@dataclass(frozen=True)
class LoraSettings:
    """LoRA/DoRA hyper-parameters.

    Attributes:
        r: rank of the low-rank update ``B @ A`` (B: (d_out, r), A: (r, d_in)).
        alpha: scaling numerator; the update is multiplied by ``alpha / r``.
        dropout: dropout on the adapter's input.
        target_modules: names (suffixes) of the ``nn.Linear`` modules to adapt; ``None`` uses
            :func:`default_lora_targets` of the architecture.
        use_dora: DoRA (weight-decomposed LoRA: a trained magnitude per output row).
    """

    r: int = 8
    alpha: float = 16.0
    dropout: float = 0.1
    target_modules: tuple[str, ...] | None = None
    use_dora: bool = False


def lora_settings(value: LoraSettings | Mapping[str, Any] | None) -> LoraSettings | None:
    """Validate LoRA options given as a mapping (``{"r": 8, "alpha": 16, ...}``).

    Args:
        value: a :class:`LoraSettings`, a mapping of its fields, or ``None`` (no LoRA).

    Returns:
        The settings, or ``None``.

    Raises:
        ConfigError: unknown key (closest name suggested) or a bad value.
    """
    if value is None or isinstance(value, LoraSettings):
        return value
    if not isinstance(value, Mapping):
        raise ConfigError(f"lora: expected a mapping like {{r: 8, alpha: 16}}, got {value!r}.")
    names = [f.name for f in fields(LoraSettings)]
    for key in value:
        if key not in names:
            raise ConfigError(
                f"lora: unknown option {key!r}; the options are {names}.{closest(str(key), names)}"
            )
    kw = dict(value)
    check_positive_int("lora.r", kw.get("r", 8))
    alpha = kw.get("alpha", 16.0)
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or alpha <= 0:
        raise ConfigError(f"lora.alpha: must be a number > 0, got {alpha!r} (typical: 2 * r).")
    kw["alpha"] = float(alpha)
    kw["dropout"] = check_dropout("lora.dropout", kw.get("dropout", 0.1))
    targets = kw.get("target_modules")
    if targets is not None:
        if isinstance(targets, str) or not all(isinstance(t, str) and t for t in targets):
            raise ConfigError(
                f"lora.target_modules: expected a list of module names like ['query', 'value'], "
                f"got {targets!r}."
            )
        kw["target_modules"] = tuple(targets)
    kw["use_dora"] = bool(kw.get("use_dora", False))
    return LoraSettings(**kw)


def default_lora_targets(model_type: str) -> tuple[str, ...] | None:
    """Default ``target_modules`` for an architecture (query/value projections), or None.

    Args:
        model_type: the Hugging Face ``config.model_type`` (``"bert"``, ``"distilbert"``...).

    Returns:
        Module name suffixes, or ``None`` when neither ftlab nor PEFT knows the architecture.
    """
    if model_type in _DEFAULT_TARGETS:
        return _DEFAULT_TARGETS[model_type]
    constants = optional_import("peft.utils.constants", purpose="LoRA adapters")
    found = constants.TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING.get(model_type)
    return tuple(found) if isinstance(found, list | tuple) else None


def _linear_names(model: nn.Module) -> list[str]:
    linear = (n for n, m in model.named_modules() if isinstance(m, nn.Linear))
    return sorted({n.rsplit(".", 1)[-1] for n in linear})


def apply_lora(model: nn.Module, settings: LoraSettings, *, modules_to_save: Sequence[str]) -> Any:
    """Wrap a transformers classifier in a PEFT LoRA/DoRA model.

    Everything but the adapters is frozen, except ``modules_to_save``: the new classification
    head must be listed there, or PEFT leaves it frozen at its random init (PEFT's SEQ_CLS default
    only knows ``classifier``/``score``, not e.g. DistilBERT's ``pre_classifier``), and it is
    then also missing from a saved adapter.

    Args:
        model: a ``transformers`` ``PreTrainedModel`` for sequence classification.
        settings: the LoRA options.
        modules_to_save: names of the top-level modules trained in full (the head).

    Returns:
        The ``peft.PeftModel``.

    Raises:
        ConfigError: no default targets for this architecture, or targets that match no
            ``nn.Linear`` module.
        MissingDependencyError: peft is not installed.
    """
    peft = optional_import("peft", purpose="LoRA/DoRA adapters (model.lora)")
    model_type = str(getattr(getattr(model, "config", None), "model_type", "?"))
    targets = settings.target_modules or default_lora_targets(model_type)
    linear = _linear_names(model)
    if not targets:
        raise ConfigError(
            f"lora.target_modules: no default for architecture {model_type!r}; set it to the "
            f"attention projections to adapt, e.g. two of {linear[:12]}."
        )
    unknown = [t for t in targets if t not in linear]
    if unknown:
        raise ConfigError(
            f"lora.target_modules: {unknown} match no nn.Linear module of this {model_type!r} "
            f"model; its linear modules are named {linear}."
        )
    config = peft.LoraConfig(
        task_type=peft.TaskType.SEQ_CLS,
        r=settings.r,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=list(targets),
        use_dora=settings.use_dora,
        modules_to_save=list(modules_to_save),
    )
    with warnings.catch_warnings():
        # peft calls a transformers API deprecated in transformers 5: not the user's concern.
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
        return peft.get_peft_model(model, config)
