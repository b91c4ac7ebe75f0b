"""Data sources, splits and checks.

Readers turn files, folders, Hugging Face datasets and built-in offline datasets into
:class:`Example` lists; :func:`load_dataset` does it in one call and completes the
train/validation/test splits; :func:`check_splits` reports problems before any training. Data resources live here too:
:func:`load_glove` (pretrained GloVe vectors for embedding layers and synonym neighbours).
"""

from ftlab.data._builtin import BuiltinInfo, list_builtin, load_builtin, register_builtin
from ftlab.data._choices import CHOICE_SCHEMAS, ChoiceLabel, ChoiceSchema, ChoiceSpec, choice_spec
from ftlab.data._checks import (
    DataReport,
    Finding,
    SplitStats,
    check_splits,
    clean_splits,
    format_report,
    normalize_text,
)
from ftlab.core import Example
from ftlab.data._folders import read_folder
from ftlab.data._glove import GloveCoverage, glove_table, load_glove
from ftlab.data._hf import examples_from_hf, load_hf, parse_hf_name, read_rows
from ftlab.data._load import load_dataset
from ftlab.data._readers import (
    SUPPORTED_FORMATS,
    FileFormat,
    detect_format,
    normalize_label,
    read_file,
)
from ftlab.data._folds import fold_splits, kfold_examples
from ftlab.data._splits import (
    canonical_split,
    complete_splits,
    duplicate_groups,
    split_examples,
    subsample_examples,
)

__all__ = [
    "Example",
    "GloveCoverage",
    "glove_table",
    "load_glove",
    "read_file",
    "read_rows",
    "ChoiceSpec",
    "ChoiceLabel",
    "ChoiceSchema",
    "CHOICE_SCHEMAS",
    "choice_spec",
    "detect_format",
    "normalize_label",
    "FileFormat",
    "SUPPORTED_FORMATS",
    "read_folder",
    "load_hf",
    "examples_from_hf",
    "parse_hf_name",
    "BuiltinInfo",
    "list_builtin",
    "load_builtin",
    "register_builtin",
    "split_examples",
    "duplicate_groups",
    "complete_splits",
    "subsample_examples",
    "kfold_examples",
    "fold_splits",
    "canonical_split",
    "check_splits",
    "clean_splits",
    "format_report",
    "normalize_text",
    "DataReport",
    "Finding",
    "SplitStats",
    "load_dataset",
]
