"""Model families by name: the registry, the builder and a parameter count."""

from __future__ import annotations

import inspect
from typing import Any, Protocol, cast, runtime_checkable

import torch
from torch import nn

from ftlab.core import Batch, Registry, closest
from ftlab.errors import ConfigError
from ftlab.models._bow import BagOfEmbeddings
from ftlab.models._init import INIT_SCHEMES, init_weights
from ftlab.models._output import BinaryMode, num_outputs
from ftlab.models._prompt import build_prompt_model
from ftlab.models._rnn import RNNClassifier
from ftlab.models._transformer import build_transformer

__all__ = ["Model", "ModelBuilder", "MODELS", "register_model", "build_model", "count_parameters"]

# Arguments every builder receives from build_model (family kwargs must not reuse them).
_COMMON = ("vocab_size", "pad_id", "num_classes", "binary_mode", "init", "embeddings")


@runtime_checkable
class Model(Protocol):
    """What the training loop needs from a classifier: ``model(batch) -> (B, num_outputs)``."""

    num_classes: int
    num_outputs: int

    def __call__(self, batch: Batch) -> torch.Tensor: ...


class ModelBuilder(Protocol):
    """A family's builder: keyword arguments in, an initialised ``nn.Module`` out.

    It receives ``vocab_size, pad_id, num_classes, binary_mode, init, embeddings`` and the
    family's own keyword arguments, and applies ``init`` itself (a pretrained family may apply
    it to its new head only).
    """

    def __call__(
        self,
        *,
        vocab_size: int,
        pad_id: int,
        num_classes: int,
        binary_mode: BinaryMode,
        init: str,
        embeddings: torch.Tensor | None,
        **family_kwargs: Any,
    ) -> nn.Module: ...


def _build_bow(*, init: str, **kwargs: Any) -> nn.Module:
    return init_weights(BagOfEmbeddings(**kwargs), init)


def _build_rnn(*, init: str, **kwargs: Any) -> nn.Module:
    return init_weights(RNNClassifier(**kwargs), init)


# Signatures used to validate family kwargs before building (a builder taking **kwargs itself
# is checked against the class it builds).
_SIGNATURE_OF: dict[str, Any] = {"bow": BagOfEmbeddings, "rnn": RNNClassifier}

# "transformer" and "prompt" load transformers/peft lazily, inside their builders.
MODELS: Registry[ModelBuilder] = Registry("model family", {
    # build_transformer names its family keywords instead of taking **family_kwargs
    "bow": _build_bow, "rnn": _build_rnn, "transformer": cast(ModelBuilder, build_transformer),
    "prompt": cast(ModelBuilder, build_prompt_model),
})


def register_model(name: str, builder: ModelBuilder, *, overwrite: bool = False) -> None:
    """Add a model family to :data:`MODELS` (e.g. ``"transformer"``).

    Args:
        name: the family name used in configs.
        builder: a callable following :class:`ModelBuilder`. Its keyword parameters are the
            family's options; a ``**kwargs`` builder accepts anything.
        overwrite: replace an existing family of the same name.

    Raises:
        ConfigError: ``name`` is taken and ``overwrite`` is false, or ``builder`` is not callable.
    """
    if not callable(builder):
        raise ConfigError(f"register_model({name!r}): builder must be callable, got {builder!r}.")
    MODELS.add(name, builder, overwrite=overwrite, caller="register_model")
    _SIGNATURE_OF.pop(name, None)


def _family_options(family: str) -> list[str] | None:
    """Keyword options a family accepts beyond the common ones, or None when open-ended."""
    target = _SIGNATURE_OF.get(family, MODELS[family])
    params = inspect.signature(target).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params) and family not in _SIGNATURE_OF:
        return None
    return [
        p.name for p in params
        if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        and p.name not in _COMMON
    ]


def build_model(
    family: str,
    *,
    vocab_size: int,
    pad_id: int,
    num_classes: int,
    binary_mode: BinaryMode = "softmax",
    init: str = "xavier_uniform",
    embeddings: torch.Tensor | None = None,
    **family_kwargs: Any,
) -> nn.Module:
    """Build and initialise a classifier of the given family.

    Args:
        family: a key of :data:`MODELS` (built in: ``"bow"``, ``"rnn"``, ``"transformer"``).
        vocab_size: number of token ids.
        pad_id: the padding token id.
        num_classes: number of classes (>= 2).
        binary_mode: ``"softmax"`` or ``"sigmoid"`` (one logit, binary problems only).
        init: weight init scheme (see :func:`ftlab.models.init_weights`).
        embeddings: optional pretrained vectors (vocab_size, dim), e.g. from
            :func:`ftlab.models.load_glove`.
        **family_kwargs: the family's own options (e.g. ``pooling="max"``, ``cell="gru"``).

    Returns:
        The model, with ``num_classes`` and ``num_outputs`` attributes.

    Raises:
        ConfigError: unknown family, unknown option (with the closest valid name) or bad value.
    """
    if family not in MODELS:
        raise ConfigError(
            f"model family: unknown {family!r}; registered families are {sorted(MODELS)}."
            f"{closest(family, MODELS)}"
        )
    if init not in INIT_SCHEMES:
        init_weights(nn.Module(), init)  # raises the scheme's own explanation
    num_outputs(num_classes, binary_mode)  # fail on a bad class count before building anything
    options = _family_options(family)
    if options is not None:
        for key in family_kwargs:
            if key not in options:
                raise ConfigError(
                    f"model option {key!r} is not accepted by family {family!r}; its options "
                    f"are {sorted(options)}.{closest(key, options)}"
                )
    model = MODELS[family](
        vocab_size=vocab_size,
        pad_id=pad_id,
        num_classes=num_classes,
        binary_mode=binary_mode,
        init=init,
        embeddings=embeddings,
        **family_kwargs,
    )
    for attr in ("num_classes", "num_outputs"):
        if not isinstance(getattr(model, attr, None), int):
            raise ConfigError(
                f"model family {family!r} built a {type(model).__name__} without an integer "
                f"{attr!r} attribute; its builder must set num_classes and num_outputs."
            )
    return model


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """Count parameters (shared tensors once).

    Args:
        model: any module.

    Returns:
        ``(total, trainable)`` element counts.
    """
    seen: set[int] = set()
    total = trainable = 0
    for p in model.parameters():  # parameters() already yields a shared tensor once
        if id(p) in seen:
            continue
        seen.add(id(p))
        total += p.numel()
        if p.requires_grad:
            trainable += p.numel()
    return total, trainable
