import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ftlab.robustness import (
    TRANSFORMS,
    CaseNoise,
    CharDrop,
    Contractions,
    NameSwap,
    NumberSwap,
    ShuffleSentences,
    SynonymReplace,
    apply_changes,
    tokenize,
)
from ftlab.testing import check_transform, check_transformed

from ._helpers import NAMES, build

REVIEW = (
    "I do not like this movie. The plot was terrible, but John said it isn't bad! "
    "We saw it in Paris in 1998, paid 12 dollars and I rate it 8/10."
)
# Text made of words (so word-level transforms have something to do) plus arbitrary Unicode.
WORDY = st.lists(
    st.one_of(
        st.sampled_from(REVIEW.split() + ["don't", "can't", "I'm", "Mary", "London", "3.5", ":)", "\n"]),
        st.text(max_size=6),
    ),
    max_size=25,
).map(" ".join)


def test_registry_has_the_issue_transforms():
    assert {
        "typos", "misspellings", "char_swap", "char_drop", "char_repeat", "synonyms",
        "embedding_synonyms", "contractions", "casing", "punctuation", "whitespace", "names",
        "numbers", "locations", "shuffle_sentences",
    } <= set(TRANSFORMS)


@pytest.mark.parametrize("name", NAMES)
def test_conformance_over_the_registry(name):
    for rate in (0.1, 0.5, 1.0):
        check_transform(build(name, rate))


@pytest.mark.parametrize("name", NAMES)
@given(text=st.one_of(st.text(), WORDY), seed=st.integers(0, 2**32), rate=st.floats(0, 1))
def test_properties_on_arbitrary_text(name, text, seed, rate):
    t = build(name, rate)
    first = t(text, random.Random(seed))  # never raises
    check_transformed(first, text, rate=rate)  # records rebuild the output; <= ceil(rate*eligible)
    assert t(text, random.Random(seed)) == first  # deterministic for a seed


@pytest.mark.parametrize("name", NAMES)
@given(text=st.one_of(st.text(), WORDY), seed=st.integers(0, 2**32))
def test_rate_zero_leaves_text_untouched(name, text, seed):
    r = build(name, 0.0)(text, random.Random(seed))
    assert r.text == text and r.changes == ()


@pytest.mark.parametrize("name", NAMES)
def test_rate_one_changes_something_in_a_review(name):
    r = build(name, 1.0)(REVIEW, random.Random(0))
    assert r.changed, name
    assert len(r.changes) <= math.ceil(1.0 * r.eligible)


@given(text=WORDY)
def test_tokenizer_keeps_offsets(text):
    for tok in tokenize(text):
        assert text[tok.start:tok.end] == tok.word


def test_synonyms_skip_stopwords_negations_and_entities():
    lexicon = {w: ["X" + w] for w in ("not", "the", "never", "don't", "movie", "john", "nasa", "paris")}
    t = SynonymReplace(lexicon, rate=1.0)
    r = t("The movie was never good, I don't think John or NASA liked it in Paris.", random.Random(0))
    assert [c.before for c in r.changes] == ["movie"]
    assert r.text.startswith("The Xmovie was never")


def test_synonyms_keep_case_and_use_pos_guess():
    seen = {}

    class Spy:
        def synonyms(self, word, pos):
            seen[word] = pos
            return ["quick"] if word.lower() == "rapid" else []

    r = SynonymReplace(Spy(), rate=1.0)("Rapid growth. They will run happily.", random.Random(0))
    assert r.text == "Quick growth. They will run happily."
    assert seen["happily"] == "r" and seen["run"] == "v"


def test_char_drop_keeps_a_letter_per_word():
    r = CharDrop(rate=1.0)("ab cd e", random.Random(0))
    assert [len(w) for w in r.text.split()] == [1, 1, 1]


def test_contractions_both_directions_keep_negation():
    assert Contractions(1.0, "contract")("I do not know, it is fine", random.Random(0)).text == "I don't know, it's fine"
    assert Contractions(1.0, "expand")("I don't know, I'm fine", random.Random(0)).text == "I do not know, I am fine"
    # ambiguous "it's" (is / has) is never expanded
    assert Contractions(1.0, "expand")("it's been fine", random.Random(0)).text == "it's been fine"
    assert Contractions(1.0, "contract")("DO NOT go", random.Random(0)).text == "DON'T go"


def test_numbers_never_touch_ratings():
    text = "I rate it 8/10, 4 out of 5, 3 stars, 90% fun, rated 9. It took 2 hours in 1998."
    r = NumberSwap(rate=1.0)(text, random.Random(0))
    assert [c.before for c in r.changes] == ["2", "1998"]
    year = r.changes[1].after
    assert len(year) == 4 and year.startswith("19") and year != "1998"


def test_names_are_swapped_consistently_within_gender():
    r = NameSwap(rate=1.0)("Mary met John. Mary laughed.", random.Random(0))
    first, second = r.text.split()[0], r.text.split()[3]
    assert first == second != "Mary"
    assert all(c.before != c.after for c in r.changes)


def test_shuffle_moves_sentences_and_pins_connectives():
    text = "One is here. Two is there. Three is far. But four stays."
    r = ShuffleSentences(rate=1.0)(text, random.Random(1))
    assert sorted(r.text.split(". ")) != r.text.split(". ") or r.text != text
    assert r.text.endswith("But four stays.")
    assert sorted(s.rstrip(".") for s in r.text.split(". ")) == sorted(s.rstrip(".") for s in text.split(". "))


def test_casing_records_words():
    r = CaseNoise(rate=1.0)("good film", random.Random(0))
    assert {c.before for c in r.changes} == {"good", "film"}
    assert apply_changes("good film", r.changes) == r.text
