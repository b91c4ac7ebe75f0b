"""Surface noise: contractions, casing, punctuation, whitespace and sentence order."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import ClassVar, Literal

from ftlab.errors import ConfigError
from ftlab.robustness._base import Change, Transformed, check_rate, finish, pick, sample_count
from ftlab.robustness._text import sentence_spans, tokenize

__all__ = ["Contractions", "CaseNoise", "PunctuationNoise", "WhitespaceNoise", "ShuffleSentences"]

# expanded -> contracted. Both directions keep every negation ("do not" <-> "don't").
_CONTRACT = {
    "do not": "don't", "does not": "doesn't", "did not": "didn't", "is not": "isn't",
    "are not": "aren't", "was not": "wasn't", "were not": "weren't", "have not": "haven't",
    "has not": "hasn't", "had not": "hadn't", "will not": "won't", "would not": "wouldn't",
    "could not": "couldn't", "should not": "shouldn't", "must not": "mustn't",
    "need not": "needn't", "cannot": "can't", "can not": "can't",
    "I am": "I'm", "you are": "you're", "we are": "we're", "they are": "they're",
    "it is": "it's", "that is": "that's", "there is": "there's", "what is": "what's",
    "he is": "he's", "she is": "she's", "let us": "let's",
    "I will": "I'll", "you will": "you'll", "he will": "he'll", "she will": "she'll",
    "we will": "we'll", "they will": "they'll", "it will": "it'll",
}
# contracted -> expanded, unambiguous forms only: "'s" may be "is" or "has" ("it's been") and
# "'d" "would" or "had", so those are never expanded ("let's" is safe).
_EXPAND = {v.lower(): k for k, v in _CONTRACT.items() if k != "can not"}
_EXPAND.update({"can't": "cannot", "i've": "I have", "you've": "you have", "we've": "we have",
                "they've": "they have"})
for _word in ("it's", "that's", "there's", "what's", "he's", "she's"):
    del _EXPAND[_word]


def _phrase_regex(phrases: list[str]) -> re.Pattern[str]:
    alts = sorted(phrases, key=len, reverse=True)
    body = "|".join(re.escape(p).replace(r"\ ", r"[ \t]+").replace("'", "['\u2019]") for p in alts)
    return re.compile(rf"(?<![\w'\u2019])(?:{body})(?![\w'\u2019])", re.IGNORECASE)


_CONTRACT_RE = _phrase_regex(list(_CONTRACT))
_EXPAND_RE = _phrase_regex(list(_EXPAND))
_CONTRACT_KEYS = {k.lower(): v for k, v in _CONTRACT.items()}


def _key(s: str) -> str:
    return " ".join(s.replace("\u2019", "'").lower().split())


def _cased(template: str, out: str) -> str:
    """Carry the casing of the matched phrase over to its replacement."""
    if len(template) > 1 and template.isupper():
        return out.upper()
    if template[:1].isupper():
        return out[:1].upper() + out[1:]
    if template[:1] == "i" and out[:1] == "I":
        return "i" + out[1:]  # keep a writer's lowercase "i'm" as "i am"
    return out


@dataclass(frozen=True)
class Contractions:
    """Contract (``do not`` -> ``don't``) or expand (``don't`` -> ``do not``) phrases.

    Units: contractible or expandable phrases. Label-preserving because both forms mean the
    same and every negation survives in both directions; ambiguous expansions (``it's`` = it
    is / it has, ``he'd`` = he would / he had) are never made.

    Args:
        rate: share of eligible phrases to rewrite.
        mode: ``"contract"``, ``"expand"`` or ``"both"``.
    """

    rate: float = 0.5
    mode: Literal["contract", "expand", "both"] = "both"
    name: ClassVar[str] = "contractions"

    def __post_init__(self) -> None:
        check_rate(self.name, self.rate)
        if self.mode not in ("contract", "expand", "both"):
            raise ConfigError(
                f"contractions: mode must be 'contract', 'expand' or 'both', got {self.mode!r}."
            )

    def __call__(self, text: str, rng: random.Random) -> Transformed:
        units: list[tuple[int, int, str]] = []
        apostrophe = "\u2019" if "\u2019" in text and "'" not in text else "'"
        if self.mode in ("contract", "both"):
            for m in _CONTRACT_RE.finditer(text):
                out = _CONTRACT_KEYS[_key(m.group())].replace("'", apostrophe)
                units.append((m.start(), m.end(), _cased(m.group(), out)))
        if self.mode in ("expand", "both"):
            for m in _EXPAND_RE.finditer(text):
                units.append((m.start(), m.end(), _cased(m.group(), _EXPAND[_key(m.group())])))
        units.sort()
        edits = [Change(s, e, text[s:e], out) for s, e, out in (units[j] for j in pick(rng, units, self.rate))]
        return finish(self.name, text, edits, len(units))


@dataclass(frozen=True)
class CaseNoise:
    """Change a word's casing to lower, UPPER or Title (``great`` -> ``GREAT``).

    Units: words with cased letters. Label-preserving because casing does not change what a
    word means; all-caps may add emphasis but does not flip a sentiment or change a topic.

    Args:
        rate: share of eligible words to re-case.
    """

    rate: float = 0.1
    name: ClassVar[str] = "casing"

    def __post_init__(self) -> None:
        check_rate(self.name, self.rate)

    def __call__(self, text: str, rng: random.Random) -> Transformed:
        units = [t for t in tokenize(text) if t.word.lower() != t.word.upper()]
        edits = []
        for j in pick(rng, units, self.rate):
            w = units[j].word
            options = [v for v in (w.lower(), w.upper(), w[:1].upper() + w[1:].lower()) if v != w]
            if options:
                edits.append(Change(units[j].start, units[j].end, w, rng.choice(sorted(set(options)))))
        return finish(self.name, text, edits, len(units))


_PUNCT = ".,;:!?"
# Emoticons carry sentiment (":)" vs ":("), so their characters are never touched.
_EMOTICON = re.compile(r"[:;=8][\-'^o]?[()\[\]DPp/\\|*3]|[()\[\]][\-'^o]?[:;=]")


@dataclass(frozen=True)
class PunctuationNoise:
    """Drop or double punctuation marks (``great, fun!`` -> ``great fun!!``).

    Units: ``. , ; : ! ?`` outside numbers (``3.5``, ``1,000``) and emoticons. Label-preserving
    because punctuation slips are everywhere in user text and, with emoticons and numbers left
    alone, they change emphasis at most, never polarity or topic.

    Args:
        rate: share of eligible marks to change.
    """

    rate: float = 0.1
    name: ClassVar[str] = "punctuation"

    def __post_init__(self) -> None:
        check_rate(self.name, self.rate)

    def __call__(self, text: str, rng: random.Random) -> Transformed:
        protected = {i for m in _EMOTICON.finditer(text) for i in range(m.start(), m.end())}
        units = [
            i for i, c in enumerate(text)
            if c in _PUNCT and i not in protected
            and not (0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit())
        ]
        edits = []
        for j in pick(rng, units, self.rate):
            c = text[units[j]]
            edits.append(Change(units[j], units[j] + 1, c, rng.choice(("", c + c))))
        return finish(self.name, text, edits, len(units))


@dataclass(frozen=True)
class WhitespaceNoise:
    """Stretch the whitespace between words: an extra space, or a tab or newline instead.

    Units: whitespace runs. Label-preserving because spacing carries no meaning; a model whose
    prediction moves is sensitive to its tokenizer's handling of whitespace, not to content.

    Args:
        rate: share of whitespace runs to change.
    """

    rate: float = 0.1
    name: ClassVar[str] = "whitespace"

    def __post_init__(self) -> None:
        check_rate(self.name, self.rate)

    def __call__(self, text: str, rng: random.Random) -> Transformed:
        units = [m for m in re.finditer(r"\s+", text)]
        edits = []
        for j in pick(rng, units, self.rate):
            m = units[j]
            out = rng.choice((m.group() + " ", "\t", "\n", "  "))
            edits.append(Change(m.start(), m.end(), m.group(), out))
        return finish(self.name, text, edits, len(units))


# A sentence opening with a connective leans on the one before it ("It looked cheap. But it
# was great."); moving it could invert which clause reads as the conclusion, so it stays put.
_CONNECTIVE = re.compile(
    r"[\"'(\[]*(?:but|however|yet|still|so|therefore|thus|although|though|nevertheless|"
    r"nonetheless|instead|otherwise|and|or|then|also|overall|finally|in the end)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ShuffleSentences:
    """Re-order the sentences of a multi-sentence text (whitespace between them stays).

    Units: sentences that do not open with a connective (``But``, ``However``, ``So`` ...),
    which keep their place. Chosen sentences are rotated among their positions, so each of
    them moves; one change per moved position. Label-preserving because a review's or an
    article's sentences carry the same sentiment or topic in any order, and the sentences
    that depend on their predecessor are pinned.

    Args:
        rate: share of eligible sentences to move (fewer than two chosen: no change).
    """

    rate: float = 0.5
    name: ClassVar[str] = "shuffle_sentences"

    def __post_init__(self) -> None:
        check_rate(self.name, self.rate)

    def __call__(self, text: str, rng: random.Random) -> Transformed:
        spans = list(sentence_spans(text))
        units = [sp for sp in spans if not _CONNECTIVE.match(text, sp[0])] if len(spans) > 1 else []
        k = sample_count(rng, self.rate, len(units))
        if k < 2:
            return finish(self.name, text, [], len(units))
        chosen = sorted(rng.sample(range(len(units)), k))
        shift = rng.randrange(1, k)  # a rotation moves every chosen sentence
        edits = []
        for n, j in enumerate(chosen):
            s, e = units[j]
            src_s, src_e = units[chosen[(n + shift) % k]]
            edits.append(Change(s, e, text[s:e], text[src_s:src_e]))
        return finish(self.name, text, edits, len(units))

