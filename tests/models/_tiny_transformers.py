"""Tiny random BERT / DistilBERT checkpoints for the transformer tests (nothing downloaded).

Each is a base encoder (no head, like a hub checkpoint) saved with ``save_pretrained`` next to
the packaged MiniLM tokenizer (bert-base-uncased WordPiece, 30522 ids): hidden size 32, 2
layers, about 1M parameters, almost all of them in the 30522-row embedding table.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path
from typing import Literal

import torch

from ftlab.batching import Batch

MAX_POSITIONS = 64
_ROOT = Path(tempfile.mkdtemp(prefix="ftlab-tiny-hf-"))
atexit.register(shutil.rmtree, _ROOT, True)


@functools.cache
def tiny_model_dir(kind: Literal["bert", "distilbert"] = "bert") -> Path:
    """A directory holding a tiny random ``kind`` encoder and the MiniLM tokenizer (cached)."""
    import transformers
    from ftlab.preprocessing import resolve_pretrained_name

    tok = transformers.AutoTokenizer.from_pretrained(resolve_pretrained_name("minilm"))
    tok.model_max_length = MAX_POSITIONS
    gen = torch.random.fork_rng()  # do not disturb the tests' global RNG
    with gen:
        torch.manual_seed(0)
        if kind == "bert":
            config = transformers.BertConfig(
                vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=2,
                num_attention_heads=2, intermediate_size=64, max_position_embeddings=MAX_POSITIONS,
            )
            model = transformers.BertModel(config)
        else:
            config = transformers.DistilBertConfig(
                vocab_size=tok.vocab_size, dim=32, n_layers=2, n_heads=2, hidden_dim=64,
                max_position_embeddings=MAX_POSITIONS,
            )
            model = transformers.DistilBertModel(config)
    out = _ROOT / kind
    transformers.utils.logging.disable_progress_bar()
    model.save_pretrained(str(out))
    tok.save_pretrained(str(out))
    return out


def text_batch(n: int = 8, num_classes: int = 3, *, seed: int = 0, types: bool = True) -> Batch:
    """``[CLS] ... [SEP]`` rows of random WordPiece ids (lengths 3..12), right-padded with 0."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(3, 13, (n,), generator=g).tolist()
    lengths[0] = 12
    width = max(lengths)
    ids = torch.zeros((n, width), dtype=torch.long)
    mask = torch.zeros((n, width), dtype=torch.long)
    for i, k in enumerate(lengths):
        body = torch.randint(1999, 5000, (k - 2,), generator=g)  # ordinary word pieces
        ids[i, :k] = torch.cat([torch.tensor([101]), body, torch.tensor([102])])  # CLS .. SEP
        mask[i, :k] = 1
    labels = torch.arange(n) % num_classes
    return Batch(
        ids=ids, mask=mask, lengths=mask.sum(1), labels=labels, index=torch.arange(n),
        token_type_ids=torch.zeros_like(ids) if types else None,
    )
