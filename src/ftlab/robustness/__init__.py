"""Label-preserving text transformations for robustness tests and augmentation.

Each transformation is a pure, seeded function ``(text, rng) -> Transformed`` with a
``rate`` (share of eligible units changed) that records every edit it made::

    import random
    from ftlab.robustness import build_pipeline, transform_examples

    noisy = build_pipeline("typos:0.05,contractions")
    result = noisy("I do not like it.", random.Random(0))
    result.text, result.changes
    new_examples, changes = transform_examples(examples, noisy, seed=0)

Nothing here imports nltk, torch or nlpaug at import time: WordNet is loaded by
:class:`WordNetLexicon`, GloVe by :class:`GloveLexicon`, nlpaug's resource files by the typo
transformations, each on first use.
"""

from ftlab.robustness._augment import AugmentRecord, augment_examples
from ftlab.robustness._base import Change, Transform, Transformed, apply_changes
from ftlab.robustness._compose import Compose
from ftlab.robustness._entities import LOCATIONS, NAMES, LocationSwap, NameSwap, NumberSwap
from ftlab.robustness._examples import ExampleChanges, example_rng, transform_examples
from ftlab.robustness._lexicons import DictLexicon, GloveLexicon, Lexicon, Pos, WordNetLexicon
from ftlab.robustness._registry import (
    TRANSFORMS,
    TransformSpec,
    build_pipeline,
    build_transform,
    parse_pipeline_spec,
    register_transform,
    spec_slug,
)
from ftlab.robustness._surface import (
    CaseNoise,
    Contractions,
    PunctuationNoise,
    ShuffleSentences,
    WhitespaceNoise,
)
from ftlab.robustness._synonyms import SynonymReplace, guess_pos
from ftlab.robustness._text import NEGATIONS, STOPWORDS, Token, tokenize
from ftlab.robustness._typos import CharDrop, CharRepeat, CharSwap, KeyboardTypos, Misspellings

__all__ = [
    "Change",
    "Transformed",
    "Transform",
    "apply_changes",
    "Compose",
    "TRANSFORMS",
    "TransformSpec",
    "register_transform",
    "build_transform",
    "build_pipeline",
    "parse_pipeline_spec",
    "spec_slug",
    "transform_examples",
    "augment_examples",
    "AugmentRecord",
    "ExampleChanges",
    "example_rng",
    "KeyboardTypos",
    "Misspellings",
    "CharSwap",
    "CharDrop",
    "CharRepeat",
    "SynonymReplace",
    "guess_pos",
    "Lexicon",
    "Pos",
    "DictLexicon",
    "WordNetLexicon",
    "GloveLexicon",
    "Contractions",
    "CaseNoise",
    "PunctuationNoise",
    "WhitespaceNoise",
    "ShuffleSentences",
    "NameSwap",
    "LocationSwap",
    "NumberSwap",
    "NAMES",
    "LOCATIONS",
    "Token",
    "tokenize",
    "STOPWORDS",
    "NEGATIONS",
]
