"""Offset-keeping word tokenizer and the word classes transformations must not touch."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Token", "tokenize", "STOPWORDS", "NEGATIONS", "is_negation"]

# A word: letters/digits of any script, with inner apostrophes ("don't", "O'Brien").
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
# Sentence end: terminal punctuation, optional closing quotes/brackets, then whitespace.
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*$")

NEGATIONS = frozenset({
    "not", "no", "never", "none", "nobody", "nothing", "nowhere", "neither", "nor", "cannot",
    "without", "hardly", "barely", "scarcely", "n't",
})

# Function words (about sklearn's English list, trimmed) plus fillers and intensifiers: they
# carry grammar or degree, not content; a "synonym" for them ("really" -> "always") changes
# the meaning rather than the wording.
STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers herself him himself his how i if in into is it
its itself just me more most my myself of off on once only or other our ours ourselves out
over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself yourselves
really always much well little perhaps maybe something anything everything thing things way
sure bit even still ever quite rather almost enough often again back just like get got
""".split()) | NEGATIONS


@dataclass(frozen=True)
class Token:
    """A word and its offsets in the text: ``text[start:end] == word``."""

    word: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into word tokens with offsets; everything between them is left alone."""
    return [Token(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]


def is_negation(word: str) -> bool:
    """Whether ``word`` negates (``not``, ``never``, ``don't``, ``isn’t`` ...)."""
    low = word.lower().replace("\u2019", "'")
    return low in NEGATIONS or low.endswith("n't")


def is_alpha_word(word: str) -> bool:
    """Letters only (inner apostrophes allowed)."""
    return word.replace("'", "").replace("\u2019", "").isalpha()


def at_sentence_start(text: str, start: int) -> bool:
    """Whether the token at ``start`` opens a sentence (or the text, or a line)."""
    before = text[:start].rstrip(" \t\"'\u201c\u2018([")
    return not before or before.endswith("\n") or bool(_SENTENCE_END.search(before))


def looks_like_entity(text: str, token: Token) -> bool:
    """Heuristic named-entity test: capitalised mid-sentence, or an all-caps acronym.

    ``"I"`` and words at a sentence start are not entities by this rule (a sentence-initial
    ``"Paris"`` is missed: replacing it is the rarer error compared with skipping every
    sentence's first word).
    """
    word = token.word
    if not word[:1].isupper() or word == "I":
        return False
    if len(word) > 1 and word.isupper():
        return True
    return not at_sentence_start(text, token.start)


def match_case(template: str, word: str) -> str:
    """Give ``word`` the casing pattern of ``template`` (lower, Title or UPPER)."""
    if len(template) > 1 and template.isupper():
        return word.upper()
    if template[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def sentence_spans(text: str) -> Iterator[tuple[int, int]]:
    """Spans of sentences: up to terminal punctuation (and closing quotes) before whitespace.

    The whitespace between sentences belongs to no span, so re-ordering spans keeps it.
    """
    pattern = re.compile(r"\S.*?(?:[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s)|$)", re.DOTALL)
    for m in pattern.finditer(text):
        chunk = m.group()
        stripped = chunk.rstrip()
        if stripped:
            yield m.start(), m.start() + len(stripped)
