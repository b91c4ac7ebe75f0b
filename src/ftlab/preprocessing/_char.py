"""Character tokenizer with a vocabulary fitted on training texts."""

from __future__ import annotations

from ftlab.preprocessing._vocab import VocabTokenizer

__all__ = ["CharTokenizer"]


class CharTokenizer(VocabTokenizer):
    """Character-level tokenizer: every character (spaces included) is one token.

    The vocabulary comes from the training texts only (``fit``): ``<pad>``=0, ``<unk>``=1,
    ``<sep>``=2, then characters by decreasing frequency, ties by code point (deterministic).
    Characters never seen in training map to ``<unk>``. Normalise first (:class:`Normalizer`)
    to fold case, Unicode variants and whitespace runs.

    Args:
        min_freq: keep characters seen at least this many times in training.
        max_size: keep at most this many regular characters (specials not counted); None = all.
        use_sep: put ``<sep>`` between the two texts of a joined pair.

    Raises:
        ConfigError: for invalid arguments.
    """

    kind = "char"

    def tokenize(self, text: str) -> list[str]:
        """The characters of ``text``."""
        return list(text)
