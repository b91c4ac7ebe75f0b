
import pytest

from ftlab.errors import CheckpointError, ConfigError, FtlabError
from ftlab.preprocessing import WordTokenizer


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("I don't know", ["I", "do", "n't", "know"]),
        ("can't won't", ["ca", "n't", "wo", "n't"]),
        ("it's we'll they're", ["it", "'s", "we", "'ll", "they", "'re"]),
        ("o'clock rock'n'roll", ["o'clock", "rock'n'roll"]),
        ("pi is 3.14, not 1,000!", ["pi", "is", "3.14", ",", "not", "1,000", "!"]),
        ("the 2nd mp3", ["the", "2nd", "mp3"]),
        ("well-known 'quote'", ["well", "-", "known", "'", "quote", "'"]),
        ("it\u2019s", ["it", "'s"]),
        ("", []),
    ],
)
def test_tokenize(text, tokens):
    assert WordTokenizer().tokenize(text) == tokens


def test_vocab_order_frequency_then_alphabetical():
    tok = WordTokenizer().fit(["b a c", "a b", "a"])
    assert tok.vocab == ["<pad>", "<unk>", "<sep>", "a", "b", "c"]
    assert (tok.pad_id, tok.unk_id, tok.sep_id) == (0, 1, 2)
    # the order does not depend on the order of the texts
    assert WordTokenizer().fit(["a", "a b", "b a c"]).vocab == tok.vocab


def test_min_freq_and_max_size():
    texts = ["a a a b b c", "d"]
    assert WordTokenizer(min_freq=2).fit(texts).vocab[3:] == ["a", "b"]
    assert WordTokenizer(max_size=1).fit(texts).vocab[3:] == ["a"]
    assert WordTokenizer(max_size=0).fit(texts).vocab_size == 3


def test_unknown_words_map_to_unk():
    tok = WordTokenizer().fit(["hello world"])
    assert tok.encode("hello there") == [tok.vocab.index("hello"), 1]


def test_special_strings_in_text_are_not_specials():
    tok = WordTokenizer().fit(["<pad> <sep>"])
    assert tok.vocab.count("<pad>") == 1 and tok.vocab.count("<sep>") == 1
    assert 0 not in tok.encode("<pad>")


def test_build_inputs_with_and_without_sep():
    tok = WordTokenizer().fit(["a b"])
    assert tok.build_inputs([3], [4]) == ([3, 2, 4], None)
    assert tok.build_inputs([3], None) == ([3], None)
    assert tok.num_special_tokens(True) == 1 and tok.num_special_tokens(False) == 0
    nosep = WordTokenizer(use_sep=False).fit(["a b"])
    assert nosep.build_inputs([3], [4]) == ([3, 4], None)
    assert nosep.num_special_tokens(True) == 0


def test_encode_before_fit_raises():
    with pytest.raises(FtlabError, match="fit"):
        WordTokenizer().encode("x")


@pytest.mark.parametrize(
    "kwargs", [{"min_freq": 0}, {"max_size": -1}, {"use_sep": "yes"}, {"min_freq": 1.5}]
)
def test_bad_arguments(kwargs):
    with pytest.raises(ConfigError):
        WordTokenizer(**kwargs)


def test_save_load_round_trip(tmp_path):
    tok = WordTokenizer(min_freq=1, use_sep=False).fit(["the cat", "the dog"])
    tok.save(tmp_path)
    again = WordTokenizer.load(tmp_path)
    assert again.vocab == tok.vocab and again.use_sep is False
    assert again.encode("the cat and dog") == tok.encode("the cat and dog")


def test_load_corrupt_or_other_kind(tmp_path):
    (tmp_path / "ftlab_tokenizer.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        WordTokenizer.load(tmp_path)
    from ftlab.preprocessing import CharTokenizer

    CharTokenizer().fit(["ab"]).save(tmp_path)
    with pytest.raises(CheckpointError, match="'char'"):
        WordTokenizer.load(tmp_path)
    with pytest.raises(CheckpointError, match="not found"):
        WordTokenizer.load(tmp_path / "missing")


def test_encoding_10k_short_texts_in_a_batch_equals_one_by_one():
    # speed: bench/ (never a wall-clock limit in a test)
    texts = [f"this movie number {i} was great, wasn't it? I'd say so!" for i in range(10_000)]
    tok = WordTokenizer().fit(texts[:100])
    out = tok.encode_batch(texts)
    assert len(out) == 10_000 and out[0][:2] == tok.encode("this movie")
    assert all(out[i] == tok.encode(texts[i]) for i in range(0, 10_000, 997))
