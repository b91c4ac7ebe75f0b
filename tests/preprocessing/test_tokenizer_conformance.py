"""Every registered tokenizer passes ftlab.testing's conformance check."""

import pytest

from ftlab.preprocessing import TOKENIZERS, PretrainedTokenizer, WordTokenizer
from ftlab.testing import check_tokenizer

TEXTS = [
    "The movie wasn't great, but I'd watch it again.",
    "the plot was great; the acting was not",
    "Émile paid 3.50 for 2 tickets!",
]


@pytest.mark.parametrize("kind", sorted(TOKENIZERS))
def test_registered_tokenizer_conforms(kind, request):
    if kind == "pretrained":
        # The packaged MiniLM (offline); the session instance is reused: loading takes seconds.
        minilm = request.getfixturevalue("minilm")
        assert isinstance(minilm, PretrainedTokenizer)
        check_tokenizer(lambda: minilm, TEXTS)
    else:
        check_tokenizer(TOKENIZERS[kind], TEXTS)


def test_word_without_sep_conforms():
    check_tokenizer(lambda: WordTokenizer(use_sep=False, min_freq=2), TEXTS)


def test_check_catches_a_broken_tokenizer():
    class Mutating(WordTokenizer):
        def build_inputs(self, a, b=None):
            a.append(0)  # mutates its input
            return super().build_inputs(a, b)

    with pytest.raises(AssertionError, match="mutated"):
        check_tokenizer(Mutating, TEXTS)


def test_check_catches_wrong_pad_id():
    with pytest.raises(AssertionError, match="pad_id"):
        check_tokenizer(WordTokenizer, TEXTS, expected_pad_id=3)
