"""The ``transformer`` family: a Hugging Face sequence classifier behind ftlab's Model contract.

Any ``AutoModelForSequenceClassification`` checkpoint (hub name, local directory or the
packaged ``minilm``) is wrapped so that ``model(batch) -> logits (B, num_outputs)``. Options:
freezing, layer-wise learning-rate decay and a separate head learning rate (as explicit
optimizer param groups, see :meth:`TransformerClassifier.optimizer_groups`), classifier dropout,
the encoder's own attention and hidden dropout, and LoRA/DoRA adapters through PEFT.

Checkpoints hold the FULL ``state_dict`` (with LoRA: frozen base weights, adapters and the
head), so ``ftlab.training`` saves and resumes them unchanged and exactly, without the base
model being reachable at resume time. The price is checkpoint size (a full copy of the model).
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ftlab.core import Batch
from ftlab.errors import ConfigError, DataError
from ftlab.models._hf_load import AttnImplementation, load_model_config, load_sequence_classifier
from ftlab.models._init import init_weights
from ftlab.models._lora import LoraSettings, apply_lora, lora_settings
from ftlab.models._output import BinaryMode, num_outputs
from ftlab.models._validate import check_choice, check_dropout

__all__ = ["TransformerClassifier", "build_transformer"]


def _head_names(core: Any) -> list[str]:
    """Top-level children of a transformers classifier, besides its encoder, with parameters."""
    base = getattr(core, core.base_model_prefix)
    return [
        n for n, m in core.named_children()
        if m is not base and any(True for _ in m.parameters())
    ]


class TransformerClassifier(nn.Module):
    """A transformers sequence classifier (optionally PEFT-wrapped) taking an ftlab ``Batch``.

    The new head is every top-level child of the transformers model other than its base encoder
    (``bert``, ``distilbert``...) that has parameters: ``classifier`` for BERT,
    ``pre_classifier`` + ``classifier`` for DistilBERT, ``pooler`` + ``classifier`` for DeBERTa.

    Args:
        hf_model: a ``transformers`` ``PreTrainedModel`` for sequence classification, or a
            ``peft.PeftModel`` wrapping one.
        num_classes: number of classes.
        num_outputs: logits per example (``num_classes``, or 1 for a sigmoid binary head).
        name: the model source, for display.
        layer_decay: layer-wise lr decay factor in (0, 1] used by :meth:`optimizer_groups`.
        head_lr: learning rate of the head used by :meth:`optimizer_groups`.
        multiple_choice: ``hf_model`` is an ``AutoModelForMultipleChoice`` model: batches are
            (B, N, T) and the logits (B, N) are the N choices' scores.

    Raises:
        ConfigError: the head's width is not ``num_outputs``.
    """

    def __init__(
        self,
        hf_model: nn.Module,
        *,
        num_classes: int,
        num_outputs: int,
        name: str = "",
        layer_decay: float | None = None,
        head_lr: float | None = None,
        multiple_choice: bool = False,
    ) -> None:
        super().__init__()
        self.multiple_choice = bool(multiple_choice)
        self.hf_model = hf_model
        self.num_classes = num_classes
        self.num_outputs = num_outputs
        self.name = name
        self.layer_decay = layer_decay
        self.head_lr = head_lr
        config = self.core.config
        if not self.multiple_choice and int(getattr(config, "num_labels", num_outputs)) != num_outputs:
            raise ConfigError(
                f"TransformerClassifier: the model's head has {config.num_labels} outputs, "
                f"expected num_outputs={num_outputs}; load it with num_labels={num_outputs}."
            )
        accepts = inspect.signature(self.core.forward).parameters
        # RoBERTa-style models have one segment type: segment ids 1 would index out of range.
        self.uses_token_type_ids = (
            "token_type_ids" in accepts and int(getattr(config, "type_vocab_size", 2)) > 1
        )

    # -- structure -----------------------------------------------------------------------------
    @property
    def is_lora(self) -> bool:
        """Whether the model carries PEFT adapters."""
        return hasattr(self.hf_model, "peft_config")

    @property
    def core(self) -> Any:
        """The transformers model (under the PEFT wrapper, if any)."""
        get_base = getattr(self.hf_model, "get_base_model", None)
        return get_base() if callable(get_base) and self.is_lora else self.hf_model

    def _base(self) -> Any:
        core = self.core
        return getattr(core, core.base_model_prefix)

    def head_names(self) -> list[str]:
        """Names of the head modules: top-level children of :attr:`core` besides the encoder."""
        return _head_names(self.core)

    def embeddings_module(self) -> nn.Module | None:
        """The encoder's embedding block (owner of the word embeddings), if found."""
        base = self._base()
        words = base.get_input_embeddings()
        for name, module in base.named_modules():
            if module is words:
                parent = name.rpartition(".")[0]
                return base.get_submodule(parent) if parent else words
        return None

    def encoder_layers(self) -> nn.ModuleList | None:
        """The stack of transformer layers (the longest ``nn.ModuleList`` of the encoder)."""
        lists = [m for m in self._base().modules() if isinstance(m, nn.ModuleList)]
        return max(lists, key=len) if lists else None

    def freeze(self, *, embeddings: bool = False, layers: int = 0) -> None:
        """Stop training the embedding block and/or the first ``layers`` encoder layers.

        Raises:
            ConfigError: ``layers`` exceeds the number of encoder layers, or a part is not found.
        """
        if embeddings:
            emb = self.embeddings_module()
            if emb is None:
                raise ConfigError("freeze_embeddings: cannot find this model's embedding block.")
            emb.requires_grad_(False)
        if layers:
            stack = self.encoder_layers()
            n = len(stack) if stack is not None else 0
            if layers > n:
                raise ConfigError(
                    f"freeze_layers={layers} exceeds the {n} encoder layers of {self.name!r}; "
                    f"use 0..{n}."
                )
            for layer in list(stack)[:layers]:  # type: ignore[arg-type]
                layer.requires_grad_(False)

    # -- forward -------------------------------------------------------------------------------
    def forward(self, batch: Batch) -> torch.Tensor:
        """Logits (B, num_outputs) from ``batch.ids`` (B, T), ``batch.mask`` and segment ids."""
        if batch.pair_ids is not None:
            raise DataError(
                "the transformer family reads a pair as one sequence ([CLS] a [SEP] b [SEP]); "
                "set preprocess.pair_mode: joined."
            )
        if (batch.num_choices is not None) != self.multiple_choice:
            raise ConfigError(
                "the transformer was built "
                + ("for multiple choice but the batch holds plain texts" if self.multiple_choice
                   else "for classification but the batch holds multiple-choice items")
                + "; build it with multiple_choice matching the data.")
        # multiple choice: (B, N, T) inputs, which AutoModelForMultipleChoice flattens itself
        inputs = {"input_ids": batch.ids, "attention_mask": batch.mask}
        if self.uses_token_type_ids and batch.token_type_ids is not None:
            inputs["token_type_ids"] = batch.token_type_ids
        return self.hf_model(**inputs).logits  # (B, num_outputs); multiple choice (B, N)

    # -- optimization --------------------------------------------------------------------------
    def optimizer_groups(self, lr: float) -> list[dict[str, Any]] | None:
        """Param groups with layer-wise decayed learning rates and the head's own rate.

        Depths follow BEiT/ELECTRA: embeddings 0, encoder layer ``i`` is ``i + 1``, anything
        above the stack (BERT's pooler, final norms) ``L + 1``; a parameter at depth ``d`` gets
        ``lr * layer_decay ** (L + 1 - d)``. The head gets ``head_lr`` (else ``lr``). Groups hold
        ``(name, parameter)`` pairs so :func:`ftlab.training.build_optimizer` still splits them
        into decayed and non-decayed parts. Frozen parameters are left out.

        Args:
            lr: the base (peak) learning rate.

        Returns:
            The groups (each with ``"params"``, ``"lr"`` and ``"layer"``), or ``None`` when
            neither ``layer_decay`` nor ``head_lr`` is set (one learning rate for all).
        """
        if self.layer_decay is None and self.head_lr is None:
            return None
        stack = self.encoder_layers()
        n_layers = len(stack) if stack is not None else 0
        depth: dict[int, int] = {}
        emb = self.embeddings_module()
        if emb is not None:
            depth.update({id(p): 0 for p in emb.parameters()})
        for i, layer in enumerate(stack or []):
            depth.update({id(p): i + 1 for p in layer.parameters()})
        head = {id(p) for n in self.head_names() for p in getattr(self.core, n).parameters()}
        decay = 1.0 if self.layer_decay is None else self.layer_decay
        groups: dict[str, dict[str, Any]] = {}
        for pname, p in self.named_parameters():
            if not p.requires_grad:
                continue
            if id(p) in head:
                key, rate = "head", (self.head_lr if self.head_lr is not None else lr)
            else:
                d = depth.get(id(p), n_layers + 1)
                key = "embeddings" if d == 0 else (f"layer.{d - 1}" if d <= n_layers else "top")
                rate = lr * decay ** (n_layers + 1 - d)
            groups.setdefault(key, {"params": [], "lr": rate, "layer": key})["params"].append(
                (pname, p)
            )
        return list(groups.values())

    # -- export --------------------------------------------------------------------------------
    def merged_hf_model(self) -> nn.Module:
        """A plain transformers model: a copy, with LoRA merged into the weights if any.

        The trained head copies (``modules_to_save``) replace the original head.
        """
        hf: Any = copy.deepcopy(self.hf_model)
        if self.is_lora:
            hf = hf.merge_and_unload()
        return hf.eval()

    def extra_repr(self) -> str:
        return f"name={self.name!r}, num_outputs={self.num_outputs}, lora={self.is_lora}"


def _set_classifier_dropout(model: nn.Module, base: nn.Module, p: float) -> None:
    """Set the dropout before the classifier (BERT ``dropout``, DistilBERT ``seq_classif``...)."""
    for child in model.children():
        if child is base:
            continue
        for module in child.modules():
            if isinstance(module, nn.Dropout):
                module.p = p
    for attr in ("classifier_dropout", "seq_classif_dropout"):  # so save_pretrained records it
        if hasattr(model.config, attr):
            setattr(model.config, attr, p)


# The encoder's dropout settings and the config fields that hold them, first match wins:
# BERT/MiniLM/RoBERTa/ELECTRA/DeBERTa/ALBERT name them like BERT, DistilBERT has its own names.
_ENCODER_DROPOUT_FIELDS: dict[str, tuple[str, ...]] = {
    "attention_dropout": ("attention_probs_dropout_prob", "attention_dropout"),
    "hidden_dropout": ("hidden_dropout_prob", "dropout"),
}


def _is_probability_field(config: Any, field: str) -> bool:
    value = getattr(config, field, None)
    return isinstance(value, int | float) and not isinstance(value, bool)


def _encoder_dropout_overrides(name: str, **requested: float | None) -> dict[str, float]:
    """The model-config fields that carry the requested encoder dropout (unset ones left out).

    Reads the model's config (``config.json`` only) to find the field each setting has in this
    architecture.

    Raises:
        ConfigError: a value outside [0, 1), or the model's config has no field for a setting.
    """
    wanted = {k: check_dropout(k, v) for k, v in requested.items() if v is not None}
    if not wanted:
        return {}
    config = load_model_config(name)
    overrides: dict[str, float] = {}
    for key, p in wanted.items():
        fields = _ENCODER_DROPOUT_FIELDS[key]
        field = next((f for f in fields if _is_probability_field(config, f)), None)
        if field is None:
            raise ConfigError(
                f"model.{key}: the config of model {name!r} (model_type "
                f"{getattr(config, 'model_type', '?')!r}) has no field {' or '.join(fields)} "
                f"to set; this architecture names its dropout otherwise: unset model.{key}."
            )
        overrides[field] = p
    return overrides


def build_transformer(
    *,
    vocab_size: int,
    pad_id: int,
    num_classes: int,
    binary_mode: BinaryMode = "softmax",
    init: str = "default",
    embeddings: torch.Tensor | None = None,
    text_pairs: bool = False,
    name: str = "minilm",
    freeze_embeddings: bool = False,
    freeze_layers: int = 0,
    layer_decay: float | None = None,
    head_lr: float | None = None,
    classifier_dropout: float | None = None,
    attention_dropout: float | None = None,
    hidden_dropout: float | None = None,
    lora: LoraSettings | Mapping[str, Any] | None = None,
    attn_implementation: AttnImplementation = "sdpa",
    multiple_choice: bool = False,
) -> TransformerClassifier:
    """Build the ``transformer`` family (the builder :func:`ftlab.models.build_model` calls).

    Args:
        vocab_size: the tokenizer's vocabulary size; must fit the model's embedding table.
        pad_id: the tokenizer's pad id (< the table's rows).
        num_classes: number of classes.
        binary_mode: ``"softmax"`` (num_classes logits) or ``"sigmoid"`` (one logit).
        init: init scheme applied to the NEW head only (``"default"``: transformers'
            ``N(0, initializer_range)``); pretrained weights are never re-initialised.
        embeddings: must be None (a transformer brings its own embeddings).
        text_pairs: must be False: pairs are read as one joined sequence.
        name: hub name, local directory or ``"minilm"`` (the packaged all-MiniLM-L6-v2).
        freeze_embeddings: freeze the embedding block.
        freeze_layers: freeze the first n encoder layers.
        layer_decay: layer-wise learning-rate decay factor in (0, 1] (e.g. 0.9).
        head_lr: learning rate of the new head (e.g. 10x the base rate).
        classifier_dropout: dropout before the head (None: the checkpoint's own setting).
        attention_dropout: dropout on the encoder's attention probabilities (BERT
            ``attention_probs_dropout_prob``, DistilBERT ``attention_dropout``; None: the
            checkpoint's own). 0 lets SDPA use its fused CPU kernel in training instead of the
            math path with a random mask over B x heads x T x T scores: the main cost of a
            512-token training step on CPU.
        hidden_dropout: dropout on the encoder's embeddings and layer outputs (BERT
            ``hidden_dropout_prob``, DistilBERT ``dropout``; None: the checkpoint's own). BERT-
            style heads also use it before the classifier unless ``classifier_dropout`` is set.
        lora: LoRA/DoRA options ``{r, alpha, dropout, target_modules, use_dora}`` or None.
        attn_implementation: ``"sdpa"`` (falls back to eager where unsupported) or ``"eager"``.
        multiple_choice: load ``AutoModelForMultipleChoice`` (``num_classes`` = the number of
            choices; each joined ``(context, choice)`` sequence gets one score).

    Returns:
        The :class:`TransformerClassifier`.

    Raises:
        ConfigError: bad option, unreachable or unreadable model (with the fix), or a
            tokenizer vocabulary that does not fit the embedding table.
    """
    if embeddings is not None:
        raise ConfigError(
            "model.embeddings: a transformer brings its own pretrained embeddings; pretrained "
            "vectors (GloVe) are for the bow/rnn families."
        )
    if text_pairs:
        raise ConfigError(
            "the transformer family reads a pair as one sequence ([CLS] a [SEP] b [SEP]); set "
            "preprocess.pair_mode: joined."
        )
    if isinstance(freeze_layers, bool) or not isinstance(freeze_layers, int) or freeze_layers < 0:
        raise ConfigError(f"freeze_layers: must be an integer >= 0, got {freeze_layers!r}.")
    decay_ok = isinstance(layer_decay, int | float) and 0 < layer_decay <= 1
    if layer_decay is not None and not decay_ok:
        raise ConfigError(f"layer_decay: must lie in (0, 1] (e.g. 0.9), got {layer_decay!r}.")
    if head_lr is not None and not (isinstance(head_lr, int | float) and head_lr > 0):
        raise ConfigError(f"head_lr: must be > 0 (e.g. 1e-3), got {head_lr!r}.")
    if classifier_dropout is not None:
        classifier_dropout = check_dropout("classifier_dropout", classifier_dropout)
    check_choice("attn_implementation", attn_implementation, ("sdpa", "eager"))
    settings = lora_settings(lora)
    n_out = num_outputs(num_classes, binary_mode)
    if multiple_choice and binary_mode != "softmax":
        raise ConfigError("multiple choice scores every choice and takes a softmax over them; "
                          "set model.binary_mode: softmax.")

    overrides = _encoder_dropout_overrides(name, attention_dropout=attention_dropout,
                                           hidden_dropout=hidden_dropout)
    hf, new_keys = load_sequence_classifier(
        name, num_labels=n_out, attn_implementation=attn_implementation,
        multiple_choice=multiple_choice, config_overrides=overrides,
    )
    rows = int(hf.get_input_embeddings().num_embeddings)
    if vocab_size > rows or not 0 <= pad_id < rows:
        raise ConfigError(
            f"the tokenizer (vocab_size={vocab_size}, pad_id={pad_id}) does not fit the "
            f"embedding table of model {name!r} ({rows} rows): ids >= {rows} would index out of "
            "range. Use the model's own tokenizer (preprocess.tokenizer.name = model.name)."
        )
    base = getattr(hf, hf.base_model_prefix)
    head = _head_names(hf)
    for module_name in head:
        if any(k.startswith(f"{module_name}.") for k in new_keys):
            init_weights(getattr(hf, module_name), init)
    if classifier_dropout is not None:
        _set_classifier_dropout(hf, base, classifier_dropout)
    if settings is not None:
        hf = apply_lora(hf, settings, modules_to_save=head)
    model = TransformerClassifier(
        hf, num_classes=num_classes, num_outputs=n_out, name=name,
        layer_decay=None if layer_decay is None else float(layer_decay),
        head_lr=None if head_lr is None else float(head_lr),
        multiple_choice=multiple_choice,
    )
    model.freeze(embeddings=freeze_embeddings, layers=freeze_layers)
    if layer_decay is not None and model.encoder_layers() is None:
        raise ConfigError(f"layer_decay: cannot find the encoder layers of {name!r}; unset it.")
    return model
