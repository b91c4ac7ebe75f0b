"""Models: ``Batch -> logits (B, C)``; output/loss helpers, init schemes, GloVe, registry.

Built-in families: ``"bow"`` (:class:`BagOfEmbeddings`), ``"rnn"`` (:class:`RNNClassifier`) and
``"transformer"`` (:class:`TransformerClassifier`: any Hugging Face sequence classifier, LoRA/DoRA
through PEFT) and ``"prompt"`` (:class:`PromptClassifier`: a causal LM prompted zero- or k-shot,
no training); more are added with :func:`register_model`. Importing this package imports no
optional dependency (GloVe files are read only when :func:`load_glove` is called; transformers and
peft only when a transformer is built or exported).
"""

from ftlab.models._bow import BagOfEmbeddings
from ftlab.models._export import check_export_target, save_merged
from ftlab.data import GloveCoverage, load_glove  # re-exported: the loader lives in data
from ftlab.models._head import MLPHead
from ftlab.models._init import INIT_SCHEMES, init_weights
from ftlab.models._layers import masked_pool
from ftlab.models._lora import LoraSettings, default_lora_targets
from ftlab.models._onnx import (
    Int8Settings,
    OnnxRuntimeModel,
    export_onnx,
    fp32_head_nodes,
    onnx_input_names,
    quantize_onnx_int8,
)
from ftlab.models._output import classification_loss, num_outputs, probabilities
from ftlab.models._registry import (
    MODELS,
    Model,
    ModelBuilder,
    build_model,
    count_parameters,
    register_model,
)
from ftlab.models._prompt import PromptClassifier, build_prompt_model
from ftlab.models._prompt_text import (
    Demonstration,
    PromptTemplate,
    draw_demonstrations,
    parse_generation,
)
from ftlab.models._rnn import RNNClassifier
from ftlab.models._transformer import TransformerClassifier, build_transformer

__all__ = [
    "BagOfEmbeddings",
    "Demonstration",
    "PromptClassifier",
    "PromptTemplate",
    "build_prompt_model",
    "draw_demonstrations",
    "parse_generation",
    "GloveCoverage",
    "INIT_SCHEMES",
    "LoraSettings",
    "MLPHead",
    "Int8Settings",
    "OnnxRuntimeModel",
    "MODELS",
    "Model",
    "ModelBuilder",
    "RNNClassifier",
    "TransformerClassifier",
    "build_model",
    "export_onnx",
    "fp32_head_nodes",
    "onnx_input_names",
    "quantize_onnx_int8",
    "build_transformer",
    "classification_loss",
    "count_parameters",
    "default_lora_targets",
    "check_export_target",
    "init_weights",
    "load_glove",
    "masked_pool",
    "num_outputs",
    "probabilities",
    "register_model",
    "save_merged",
]
