
import pytest

from ftlab.batching import Encoded
from ftlab.errors import CheckpointError, ConfigError, DataError, FtlabError
from ftlab.preprocessing import (
    CharTokenizer,
    LabelMap,
    Normalizer,
    TextEncoder,
    WordTokenizer,
)

from ._helpers import ex

TRAIN = [
    ex("The movie was great", "1"),
    ex("The movie was awful", "0"),
    ex("Great <br /> acting", "1"),
]


def word_encoder(**kwargs):
    kwargs.setdefault("normalizer", Normalizer(lowercase=True, strip_html=True))
    return TextEncoder(tokenizer=WordTokenizer(), **kwargs)


def test_fit_and_encode_single_texts():
    enc = word_encoder().fit(TRAIN)
    out = enc.encode([ex("the GREAT movie", "0"), ex("unseen words", None)])
    assert all(isinstance(e, Encoded) for e in out)
    vocab = enc.tokenizer.vocab
    assert out[0].ids == [vocab.index("the"), vocab.index("great"), vocab.index("movie")]
    assert (out[0].index, out[0].label) == (0, 0)
    assert (out[1].index, out[1].label, out[1].ids) == (1, -1, [1, 1])
    assert out[0].pair_ids is None and out[0].token_type_ids is None
    assert enc.num_classes == 2 and enc.pad_id == 0
    assert enc.labels is enc.label_map and enc.labels.names == ["0", "1"]


def test_fit_uses_training_data_only():
    enc = word_encoder().fit(TRAIN)
    vocab_before, labels_before = list(enc.tokenizer.vocab), enc.label_map.names
    valid = [ex("brand new validation words", "1"), ex("more test words", "0")]
    enc.encode(valid)
    assert enc.tokenizer.vocab == vocab_before  # encoding never grows the vocabulary
    assert "validation" not in enc.tokenizer.vocab
    assert enc.encode(valid)[0].ids == [1, 1, 1, 1]  # all unknown
    with pytest.raises(DataError, match="'2'"):
        enc.encode([ex("x", "2")])  # a label seen only outside train is an error
    assert enc.label_map.names == labels_before


def test_unknown_label_error_names_the_example():
    enc = word_encoder().fit(TRAIN)
    bad = ex("hi", "neutral", id_="valid-3", source="valid.csv", line=4)
    with pytest.raises(DataError) as info:
        enc.encode([bad])
    assert "valid.csv:4" in str(info.value) and "valid-3" in str(info.value)


def test_truncation_head_and_tail():
    train = [ex("a b c d e f g h", "0")]
    head = TextEncoder(tokenizer=WordTokenizer(), max_length=3).fit(train)
    tail = TextEncoder(tokenizer=WordTokenizer(), max_length=3, truncation="tail").fit(train)
    full = head.tokenizer.encode("a b c d e f g h")
    assert head.encode(train)[0].ids == full[:3]
    assert tail.encode(train)[0].ids == full[-3:]
    ht = TextEncoder(tokenizer=WordTokenizer(), max_length=4, truncation="head_tail", head=1)
    assert ht.fit(train).encode(train)[0].ids == full[:1] + full[-3:]


def test_empty_text_becomes_unk():
    enc = word_encoder().fit(TRAIN)
    out = enc.encode([ex("", "1"), ex("   <br />  ", "0")])
    assert [e.ids for e in out] == [[1], [1]]


def test_joined_pairs_use_sep_and_budget():
    train = [ex("a b c d e", "0", pair="x y")]
    enc = TextEncoder(tokenizer=WordTokenizer(), max_length=5).fit(train)
    assert "x" in enc.tokenizer.vocab  # both sides feed the vocabulary
    (e,) = enc.encode(train)
    tok = enc.tokenizer
    a, b = tok.encode("a b c d e"), tok.encode("x y")
    assert e.ids == [*a[:2], tok.sep_id, *b]  # budget 5 - 1 sep = 4: 2 + 2
    assert e.pair_ids is None and len(e.ids) <= 5


def test_joined_pair_with_empty_sides_is_never_empty():
    enc = TextEncoder(tokenizer=WordTokenizer(use_sep=False)).fit([ex("a", "0")])
    assert enc.encode([ex("", "0", pair="")])[0].ids == [1]


def test_separate_pairs():
    train = [ex("a b c d", "0", pair="x y z")]
    enc = TextEncoder(tokenizer=WordTokenizer(), max_length=2, pair_mode="separate").fit(train)
    (e,) = enc.encode(train)
    tok = enc.tokenizer
    assert e.ids == tok.encode("a b")[:2] and e.pair_ids == tok.encode("x y")
    assert e.length == 4
    (empty,) = enc.encode([ex("", "0", pair="")])
    assert empty.ids == [1] and empty.pair_ids == [1]


def test_char_tokenizer_encoder():
    enc = TextEncoder(tokenizer=CharTokenizer(), max_length=3).fit([ex("abc", "x")])
    assert enc.encode([ex("abcd", "x")])[0].ids == [3, 4, 5]


def test_count_tokens_is_normalised_and_untruncated():
    enc = word_encoder(max_length=2).fit(TRAIN)
    assert enc.count_tokens("The<br/>movie was GREAT") == 4


def test_save_load_gives_identical_encodings(tmp_path):
    enc = word_encoder(max_length=4, truncation="tail").fit(TRAIN)
    data = [ex("The movie was not great at all", "1"), ex("awful", None, pair="great movie")]
    enc.save(tmp_path / "enc")
    again = TextEncoder.load(tmp_path / "enc")
    assert again.encode(data) == enc.encode(data)
    assert again.label_map == enc.label_map and again.normalizer == enc.normalizer
    assert (again.max_length, again.truncation) == (4, "tail")


def test_load_errors(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        TextEncoder.load(tmp_path)
    (tmp_path / "encoder.json").write_text('{"tokenizer_kind": "bpe"}')
    with pytest.raises(CheckpointError, match="bpe"):
        TextEncoder.load(tmp_path)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_length": 0},
        {"truncation": "middle"},
        {"pair_mode": "siamese"},
        {"pair_truncation": "none"},
        {"head": 300},
        {"normalizer": "lower"},
    ],
)
def test_bad_arguments(kwargs):
    with pytest.raises(ConfigError):
        TextEncoder(tokenizer=WordTokenizer(), **kwargs)


def test_not_a_tokenizer():
    with pytest.raises(ConfigError, match="Tokenizer"):
        TextEncoder(tokenizer="word")  # type: ignore[arg-type]


def test_encode_before_fit_and_non_string_text():
    with pytest.raises(FtlabError, match="fit"):
        word_encoder().encode(TRAIN)
    enc = word_encoder().fit(TRAIN)
    with pytest.raises(DataError, match="string"):
        enc.encode([ex(None, "1")])  # type: ignore[arg-type]


def test_no_max_length_keeps_everything():
    enc = TextEncoder(tokenizer=WordTokenizer(), max_length=None).fit([ex("a " * 600, "0")])
    assert len(enc.encode([ex("a " * 600, "0")])[0].ids) == 600


def test_pretrained_joined_pair(minilm):
    enc = TextEncoder(tokenizer=minilm, max_length=8).fit([ex("hello world", "pos")])
    (e,) = enc.encode([ex("one two three four five", "pos", pair="six seven")])
    assert len(e.ids) == 8 and e.ids[0] == 101 and e.ids.count(102) == 2
    assert e.token_type_ids == [0, 0, 0, 0, 0, 1, 1, 1]
    (empty,) = enc.encode([ex("", "pos")])
    assert empty.ids == [101, 102] and empty.token_type_ids == [0, 0]


def test_pretrained_save_load(minilm, tmp_path):
    enc = TextEncoder(tokenizer=minilm, max_length=6, truncation="head_tail").fit(
        [ex("hello", "a"), ex("bye", "b")]
    )
    data = [ex("a rather long sentence to cut in two places", "b")]
    enc.save(tmp_path)
    assert TextEncoder.load(tmp_path).encode(data) == enc.encode(data)


def test_label_map_is_replaced_on_refit():
    enc = word_encoder().fit(TRAIN)
    enc.fit([ex("x", "a"), ex("y", "b"), ex("z", "c")])
    assert enc.label_map == LabelMap(["a", "b", "c"])


def test_encoding_10k_short_examples_keeps_order_and_indices():
    # speed: bench/ (never a wall-clock limit in a test)
    text = "review {}: the movie wasn't bad, I'd watch it again!"
    data = [ex(text.format(i), "1") for i in range(10_000)]
    enc = word_encoder().fit(data[:200])
    out = enc.encode(data)
    assert len(out) == 10_000 and [o.index for o in out] == list(range(10_000))
    assert out[123].ids == enc.encode([data[123]])[0].ids


def test_max_length_beyond_pretrained_model_limit(minilm):
    with pytest.raises(ConfigError, match="512"):
        TextEncoder(tokenizer=minilm, max_length=1024)
    with pytest.raises(ConfigError, match="512"):
        TextEncoder(tokenizer=minilm, max_length=None)
    assert TextEncoder(tokenizer=minilm, max_length=512).max_length == 512
