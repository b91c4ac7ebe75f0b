"""Regex word tokenizer with a vocabulary fitted on training texts."""

from __future__ import annotations

import re
from ftlab.preprocessing._vocab import VocabTokenizer

__all__ = ["WordTokenizer"]

_AN = r"[^\W_]"  # one letter or digit (Unicode-aware)
_CLITIC = r"(?:s|re|ve|ll|d|m)"
# Alternatives are tried in order at each position; the first that matches wins.
_TOKEN = re.compile(
    rf"""
      \d+(?:[.,:]\d+)+                        # numbers with separators: 3.14 1,000 10:30
    | {_AN}+?(?=n't\b)                        # the stem before n't: do|n't ca|n't is|n't
    | n't\b                                   # the negation clitic itself
    | '{_CLITIC}\b                            # clitics: 's 're 've 'll 'd 'm
    | {_AN}+(?:'(?!{_CLITIC}\b|t\b){_AN}+)*   # words; inner apostrophes kept: o'clock
    | \S                                      # anything else, one character a token
    """,
    re.VERBOSE | re.IGNORECASE,
)


class WordTokenizer(VocabTokenizer):
    """Word-level tokenizer: a compiled regex, then dictionary lookups.

    Tokenisation follows the Penn Treebank convention for English clitics, which is how the
    GloVe vocabulary was built: ``"don't"`` -> ``do n't``, ``"can't"`` -> ``ca n't``,
    ``"it's"`` -> ``it 's``, ``"we'll"`` -> ``we 'll``; other inner apostrophes stay inside the
    word (``o'clock``). Numbers keep their separators (``3.14``, ``1,000``); letters and digits
    together form one word (``2nd``, ``mp3``); every other non-space character (punctuation,
    hyphens, quotes, symbols) is a token of its own. The typographic apostrophe (U+2019) is read
    as ``'``. Case is kept: lower-case with :class:`Normalizer` when the vocabulary is uncased.

    The vocabulary comes from the training texts only (``fit``): ``<pad>``=0, ``<unk>``=1,
    ``<sep>``=2, then tokens by decreasing frequency, ties alphabetically (deterministic).

    Args:
        min_freq: keep tokens seen at least this many times in training.
        max_size: keep at most this many regular tokens (specials not counted); None = all.
        use_sep: put ``<sep>`` between the two texts of a joined pair.

    Raises:
        ConfigError: for invalid arguments.
    """

    kind = "word"

    def tokenize(self, text: str) -> list[str]:
        """Split ``text`` into words, clitics, numbers and punctuation (see the class doc)."""
        return _TOKEN.findall(text.replace("\u2019", "'"))
