"""Conformance checks for the ``Tokenizer`` extension point (``ftlab.preprocessing``)."""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ftlab.errors import FtlabError

__all__ = ["check_tokenizer"]

_MEMBERS = (
    "pad_id", "unk_id", "vocab_size", "is_fitted", "num_special_tokens", "fit", "tokenize",
    "encode", "encode_batch", "build_inputs", "save", "load",
)


def _fail(name: str, msg: str) -> AssertionError:
    return AssertionError(f"{name}: {msg}")


def check_tokenizer(
    tokenizer_factory: Callable[[], Any],
    texts: Sequence[str],
    *,
    expected_pad_id: int | None = 0,
) -> None:
    """Check that a tokenizer honours the :class:`ftlab.preprocessing.Tokenizer` contract.

    Checks: the protocol members exist; ``fit`` returns self and is deterministic (two fresh
    tokenizers fitted on the same texts encode identically, encoding twice gives the same ids);
    ``pad_id`` is ``expected_pad_id``; every id is in ``[0, vocab_size)``; ``tokenize`` and
    ``encode`` agree in length; ``encode_batch`` equals ``encode`` per text; ``encode`` and
    ``build_inputs`` do not mutate their inputs; ``build_inputs`` adds exactly
    ``num_special_tokens`` ids, keeps the text ids in order and returns segment ids of the same
    length (or None); ``save``/``load`` round-trips to identical encodings; encoding before
    ``fit`` raises :class:`~ftlab.errors.FtlabError` for tokenizers that need fitting.

    Args:
        tokenizer_factory: returns a fresh, unfitted tokenizer on each call.
        texts: a few training texts (at least two, some sharing words).
        expected_pad_id: the pad id the tokenizer must use; 0 for ftlab's own vocabularies,
            None to skip (pretrained tokenizers keep their own, e.g. RoBERTa uses 1).

    Raises:
        AssertionError: naming the first broken rule and the values seen.
    """
    from ftlab.preprocessing import Tokenizer

    texts = list(texts)
    if len(texts) < 2:
        raise ValueError("check_tokenizer needs at least two texts")
    first = tokenizer_factory()
    name = type(first).__name__
    if not isinstance(first, Tokenizer):
        missing = [m for m in _MEMBERS if not hasattr(first, m)]
        raise _fail(name, f"does not implement the Tokenizer protocol; missing {missing}")

    if not first.is_fitted:
        try:
            first.encode(texts[0])
        except FtlabError:
            pass
        else:
            raise _fail(name, "encode() before fit() must raise FtlabError (is_fitted is False)")

    snapshot = copy.deepcopy(texts)
    fitted = first.fit(texts)
    if fitted is not first:
        raise _fail(name, "fit() must return self")
    if texts != snapshot:
        raise _fail(name, "fit() mutated the list of texts it was given")
    if not first.is_fitted:
        raise _fail(name, "is_fitted is False after fit()")
    second = tokenizer_factory().fit(list(texts))

    if expected_pad_id is not None and first.pad_id != expected_pad_id:
        raise _fail(name, f"pad_id must be {expected_pad_id}, got {first.pad_id}")
    vocab_size = first.vocab_size
    for what, value in (("pad_id", first.pad_id), ("unk_id", first.unk_id)):
        if not 0 <= value < vocab_size:
            raise _fail(name, f"{what}={value} is outside [0, vocab_size={vocab_size})")

    probes = [*texts, "", "a completely unseen zyzzyva text!"]
    encoded = [first.encode(t) for t in probes]
    for text, ids in zip(probes, encoded, strict=True):
        if ids != first.encode(text):
            raise _fail(name, f"encode({text!r}) is not deterministic")
        if ids != second.encode(text):
            raise _fail(name, f"two fits on the same texts encode {text!r} differently")
        if not all(isinstance(i, int) and 0 <= i < vocab_size for i in ids):
            raise _fail(name, f"encode({text!r}) = {ids} has ids outside [0, {vocab_size})")
        tokens = first.tokenize(text)
        if not all(isinstance(t, str) for t in tokens) or len(tokens) != len(ids):
            raise _fail(name, f"tokenize({text!r}) = {tokens} does not match encode = {ids}")
    if first.encode_batch(probes) != encoded:
        raise _fail(name, "encode_batch(texts) differs from [encode(t) for t in texts]")
    if first.encode_batch([]) != []:
        raise _fail(name, "encode_batch([]) must return []")
    if probes[: len(texts)] != snapshot:
        raise _fail(name, "encode() mutated its input texts")

    a, b = encoded[0], encoded[1]
    for pair in (False, True):
        a_in, b_in = list(a), (list(b) if pair else None)
        ids, types = first.build_inputs(a_in, b_in)
        if a_in != a or (pair and b_in != b):
            raise _fail(name, "build_inputs() mutated its input id lists")
        n_special = first.num_special_tokens(pair)
        expected = len(a) + (len(b) if pair else 0) + n_special
        if len(ids) != expected:
            raise _fail(
                name,
                f"build_inputs(pair={pair}) gave {len(ids)} ids, expected {expected} "
                f"(text ids + num_special_tokens({pair})={n_special})",
            )
        if types is not None and len(types) != len(ids):
            raise _fail(
                name, f"token_type_ids ({len(types)}) and ids ({len(ids)}) differ in length"
            )
        if not all(0 <= i < vocab_size for i in ids):
            raise _fail(name, f"build_inputs gave ids outside [0, {vocab_size}): {ids}")
        it = iter(ids)  # the text ids must appear in order (a subsequence of the output)
        if not all(any(x == y for y in it) for x in [*a, *(b if pair else [])]):
            raise _fail(name, f"build_inputs dropped or reordered text ids: {ids} from {a}, {b}")

    with tempfile.TemporaryDirectory() as tmp:
        first.save(Path(tmp) / "tok")
        loaded = type(first).load(Path(tmp) / "tok")
    if loaded.vocab_size != vocab_size or loaded.pad_id != first.pad_id:
        raise _fail(name, "load(save()) changed vocab_size or pad_id")
    if [loaded.encode(t) for t in probes] != encoded:
        raise _fail(name, "load(save()) encodes differently from the saved tokenizer")
    if loaded.build_inputs(list(a), list(b)) != first.build_inputs(list(a), list(b)):
        raise _fail(name, "load(save()) builds pair inputs differently")
