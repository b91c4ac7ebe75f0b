"""A tiny randomly initialised causal LM (GPT-2 shape) and its byte-level BPE tokenizer, built
locally for the prompting tests: nothing is downloaded, about 30k parameters."""

from __future__ import annotations

import functools
from pathlib import Path

import torch

from tests._tiny_data import FILL, NEG, POS

_CORPUS = [" ".join(FILL + POS + NEG), "Text: Label: pos neg yes no Review: Sentiment:",
           "Question: Passage: Answer: true false", "0 1 2 3 4 5 6 7 8 9 the a"]


@functools.cache
def _tokenizer_files(root: Path) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(_CORPUS * 5, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>",
                                   bos_token="<|endoftext|>", unk_token="<|endoftext|>",
                                   model_max_length=256)
    fast.save_pretrained(str(root))
    return root


def tiny_causal_lm(root: Path, *, seed: int = 0) -> Path:
    """Write a 1-layer GPT-2 (embedding 32) and its tokenizer to ``root``; returns ``root``."""
    import transformers

    root.mkdir(parents=True, exist_ok=True)
    _tokenizer_files(root)
    tok = transformers.AutoTokenizer.from_pretrained(str(root))
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        config = transformers.GPT2Config(vocab_size=len(tok), n_positions=256, n_embd=32,
                                         n_layer=1, n_head=2, bos_token_id=tok.eos_token_id,
                                         eos_token_id=tok.eos_token_id)
        model = transformers.GPT2LMHeadModel(config)
    transformers.utils.logging.disable_progress_bar()
    model.save_pretrained(str(root))
    return root
