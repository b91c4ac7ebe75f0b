"""Models: ``Batch -> logits (B, C)``; output/loss helpers, init schemes, GloVe, registry.

Built-in families: ``"bow"`` (:class:`BagOfEmbeddings`) and ``"rnn"`` (:class:`RNNClassifier`);
more are added with :func:`register_model`. Importing this package imports no optional
dependency (GloVe files are read only when :func:`load_glove` is called).
"""

from ftlab.models._bow import BagOfEmbeddings
from ftlab.models._glove import GloveCoverage, load_glove
from ftlab.models._head import MLPHead
from ftlab.models._init import INIT_SCHEMES, init_weights
from ftlab.models._layers import masked_pool
from ftlab.models._output import classification_loss, num_outputs, probabilities
from ftlab.models._registry import (
    MODELS,
    Model,
    ModelBuilder,
    build_model,
    count_parameters,
    register_model,
)
from ftlab.models._rnn import RNNClassifier

__all__ = [
    "BagOfEmbeddings",
    "GloveCoverage",
    "INIT_SCHEMES",
    "MLPHead",
    "MODELS",
    "Model",
    "ModelBuilder",
    "RNNClassifier",
    "build_model",
    "classification_loss",
    "count_parameters",
    "init_weights",
    "load_glove",
    "masked_pool",
    "num_outputs",
    "probabilities",
    "register_model",
]
