"""Preprocessing: normalise, tokenize, truncate and map labels (Example -> Encoded).

Everything that learns from data (tokenizer vocabulary, label map) is fitted on the training
split only, by :meth:`TextEncoder.fit`, and saved with :meth:`TextEncoder.save` so that new data
is encoded without refitting.
"""

from ftlab.preprocessing._char import CharTokenizer
from ftlab.preprocessing._encoder import PairMode, TextEncoder
from ftlab.preprocessing._labels import LabelMap
from ftlab.preprocessing._normalizer import Normalizer
from ftlab.preprocessing._pretrained import (
    PretrainedTokenizer,
    hub_reachable,
    looks_like_path,
    resolve_pretrained_name,
)
from ftlab.preprocessing._protocol import Tokenizer
from ftlab.preprocessing._registry import TOKENIZERS, build_tokenizer, tokenizer_kind
from ftlab.preprocessing._truncation import (
    PairTruncationStrategy,
    TruncationStrategy,
    truncate,
    truncate_pair,
)
from ftlab.preprocessing._vocab import PAD, SEP, UNK
from ftlab.preprocessing._word import WordTokenizer

__all__ = [
    "Normalizer",
    "Tokenizer",
    "WordTokenizer",
    "CharTokenizer",
    "PretrainedTokenizer",
    "resolve_pretrained_name",
    "looks_like_path",
    "hub_reachable",
    "TOKENIZERS",
    "build_tokenizer",
    "tokenizer_kind",
    "truncate",
    "truncate_pair",
    "TruncationStrategy",
    "PairTruncationStrategy",
    "LabelMap",
    "TextEncoder",
    "PairMode",
    "PAD",
    "UNK",
    "SEP",
]
