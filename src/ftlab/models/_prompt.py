"""The ``prompt`` family: a causal language model prompted zero- or k-shot (no training).

``model(batch) -> (B, C)`` like every family, so evaluation, calibration, thresholds, ensembles
and ``compare`` treat a prompted LM as any other run. The batch's token ids (the LM's own
tokenizer) are decoded back to text, placed in the template after the demonstrations, and
either

* ``scoring``: each label's verbalizer is scored by its log-likelihood after the prompt; the
  scores are the logits, so their softmax is a distribution over the labels; or
* ``generate``: greedy decoding, parsed by :func:`~ftlab.models.parse_generation`. A parsed
  answer gets all the probability; an unparseable one is scored as wrong (its probability goes
  to a class other than the gold label, uniform when the label is unknown) and logged.

Prompts longer than ``max_prompt_tokens`` lose whole demonstrations (the last ones first); if
the query alone is still too long its text is truncated. Both are counted
(:meth:`PromptClassifier.notes`), never silent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import nn

from ftlab.core import Batch
from ftlab.errors import ConfigError
from ftlab.models._prompt_text import (
    Demonstration,
    PromptTemplate,
    parse_generation,
)

__all__ = ["PromptClassifier", "build_prompt_model"]

_WRONG_GAP = 20.0  # logit gap of a decided answer: probability ~1 - 2e-9, finite log loss


class PromptClassifier(nn.Module):
    """A frozen causal LM answering a prompt; ``forward(batch) -> (B, C)`` scores.

    Args:
        lm: a transformers causal LM (``AutoModelForCausalLM``).
        tokenizer: its Hugging Face tokenizer (the one that produced the batch's ids).
        template: renders prompts.
        demonstrations: solved examples shown before each query.
        label_names: class names in class-index order (demonstrations name their label).
        mode: ``"scoring"`` or ``"generate"``.
        max_prompt_tokens: longest prompt (without the answer).
        max_new_tokens: tokens generated per example (``generate``).
        length_norm: score by mean instead of summed token log-likelihood.
        chat_template: wrap the prompt as one user message in the tokenizer's chat template.
    """

    def __init__(self, lm: Any, tokenizer: Any, *, template: PromptTemplate,
                 demonstrations: Sequence[Demonstration], label_names: Sequence[str],
                 mode: Literal["scoring", "generate"] = "scoring", max_prompt_tokens: int = 1024,
                 max_new_tokens: int = 8, length_norm: bool = False,
                 chat_template: bool = False) -> None:
        super().__init__()
        if mode not in ("scoring", "generate"):
            raise ConfigError(f"model.mode must be 'scoring' or 'generate', got {mode!r}")
        self.lm: Any = lm  # a transformers PreTrainedModel (registered as a submodule)
        self.tokenizer = tokenizer
        self.template = template
        self.label_names = list(label_names)
        self.num_classes = self.num_outputs = len(self.label_names)
        self.mode = mode
        self.max_prompt_tokens = int(max_prompt_tokens)
        self.max_new_tokens = int(max_new_tokens)
        self.length_norm = bool(length_norm)
        self.chat_template = bool(chat_template)
        unknown = sorted({d.label for d in demonstrations} - set(self.label_names))
        if unknown:
            raise ConfigError(f"demonstrations with labels {unknown} that the run does not have "
                              f"({self.label_names})")
        self.demonstrations = list(demonstrations)
        self._demo_texts = [template.render(d.text, d.text_pair, choices=d.choices,
                                            answer=template.verbalizers[
                                                self.label_names.index(d.label)])
                            for d in self.demonstrations]
        self._lead = self._leading_specials()
        sep = "" if chat_template else template.answer_separator
        self._answers = [self._encode(sep + v) for v in template.verbalizers]
        if any(not a for a in self._answers):
            raise ConfigError("model.verbalizers: a verbalizer encodes to no tokens")
        self.pad_id = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None
                          else (tokenizer.eos_token_id or 0))
        self.reset_log()

    # ------------------------------------------------------------------ bookkeeping
    def reset_log(self) -> None:
        """Forget the counts and generations recorded so far (call before each split)."""
        self.log: list[dict[str, Any]] = []
        self.counts = {"prompts": 0, "demonstrations_dropped": 0,
                       "prompts_with_dropped_demonstrations": 0, "queries_truncated": 0,
                       "unparseable": 0}

    def notes(self) -> list[str]:
        """Plain-language lines on what happened since :meth:`reset_log` (for the report)."""
        c, out = self.counts, []
        if c["prompts_with_dropped_demonstrations"]:
            out.append(f"prompt length: {c['prompts_with_dropped_demonstrations']} of "
                       f"{c['prompts']} prompts exceeded model.max_prompt_tokens="
                       f"{self.max_prompt_tokens} and lost {c['demonstrations_dropped']} whole "
                       f"demonstrations in all")
        if c["queries_truncated"]:
            out.append(f"prompt length: the query text of {c['queries_truncated']} of "
                       f"{c['prompts']} examples was truncated to fit model.max_prompt_tokens="
                       f"{self.max_prompt_tokens}")
        if self.mode == "generate" and c["prompts"]:
            bad = [r for r in self.log if r["rule"] == "unparseable"]
            shown = "; ".join(repr(r["output"][:60]) for r in bad[:3])
            out.append(f"generation: {c['unparseable']} of {c['prompts']} outputs unparseable "
                       f"(scored as wrong)" + (f", e.g. {shown}" if bad else ""))
        return out

    # ------------------------------------------------------------------ prompts
    def _encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _leading_specials(self) -> list[int]:
        """Tokens the tokenizer puts before a text (a BOS), never the ones after it."""
        probe = self._encode("a")
        full = list(self.tokenizer("a", add_special_tokens=True)["input_ids"])
        for i in range(len(full) - len(probe) + 1):
            if full[i:i + len(probe)] == probe:
                return full[:i]
        return []

    def _text_of(self, ids: torch.Tensor, length: int) -> str:
        return str(self.tokenizer.decode(ids[:length].tolist(), skip_special_tokens=True))

    def _prompt_ids(self, text: str, pair: str | None, reserve: int) -> list[int]:
        """The prompt's ids within budget: whole demonstrations go first, then query text."""
        demos = list(self._demo_texts)
        budget = self.max_prompt_tokens - reserve
        truncated = False
        self.counts["prompts"] += 1
        dropped = 0
        while True:
            prompt = self.template.compose(demos, self.template.render(text, pair))
            ids = self._wrap(prompt)
            over = len(ids) - budget
            if over <= 0:
                break
            if demos:
                demos.pop()  # a demonstration is never cut mid-example
                dropped += 1
                continue
            # no demonstrations left: shorten the longer text of the query by `over` tokens
            longer_pair = pair is not None and len(pair) > len(text)
            side = self._encode(pair if longer_pair and pair is not None else text)
            keep = len(side) - over
            if keep <= 0:
                raise ConfigError(
                    f"model.max_prompt_tokens={self.max_prompt_tokens} leaves no room for the "
                    f"example's text after the template and answer; raise it")
            short = str(self.tokenizer.decode(side[:keep]))
            text, pair = (text, short) if longer_pair else (short, pair)
            truncated = True
        if dropped:
            self.counts["demonstrations_dropped"] += dropped
            self.counts["prompts_with_dropped_demonstrations"] += 1
        self.counts["queries_truncated"] += int(truncated)
        return ids

    def _wrap(self, prompt: str) -> list[int]:
        if self.chat_template:
            ids = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=True)
            if isinstance(ids, dict) or hasattr(ids, "keys"):
                ids = ids["input_ids"]
            return list(ids)
        return [*self._lead, *self._encode(prompt)]

    def _queries(self, batch: Batch) -> list[tuple[str, str | None]]:
        out = []
        for i in range(len(batch)):
            text = self._text_of(batch.ids[i], int(batch.lengths[i]))
            pair = None
            if batch.pair_ids is not None and batch.pair_lengths is not None:
                pair = self._text_of(batch.pair_ids[i], int(batch.pair_lengths[i]))
            out.append((text, pair))
        return out

    def _left_pad(self, rows: Sequence[list[int]], device: torch.device
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, width - len(r):] = torch.tensor(r, dtype=torch.long)
            mask[i, width - len(r):] = 1
        positions = (mask.cumsum(1) - 1).clamp(min=0)
        return ids.to(device), mask.to(device), positions.to(device)

    # ------------------------------------------------------------------ forward
    def forward(self, batch: Batch) -> torch.Tensor:
        """(B, C) scores: label log-likelihoods (scoring) or decided answers (generate)."""
        device = next(self.lm.parameters()).device
        if self.mode == "scoring":
            return self._score(batch, device)
        return self._generate(batch, device)

    @torch.no_grad()
    def _score(self, batch: Batch, device: torch.device) -> torch.Tensor:
        reserve = max(len(a) for a in self._answers)
        prompts = [self._prompt_ids(t, p, reserve) for t, p in self._queries(batch)]
        rows = [p + a for p in prompts for a in self._answers]  # (B * C) sequences
        ids, mask, positions = self._left_pad(rows, device)
        keep = reserve + 1  # left padding: every answer ends at the last position
        out = self.lm(input_ids=ids, attention_mask=mask, position_ids=positions,
                      logits_to_keep=keep)
        logp = torch.log_softmax(out.logits[:, -keep:-1].float(), dim=-1)  # (N, reserve, V)
        scores = torch.empty(len(rows), dtype=torch.float32, device=device)
        for n in range(len(rows)):
            answer = self._answers[n % self.num_classes]
            k = len(answer)
            target = torch.tensor(answer, device=device)
            lp = logp[n, reserve - k:].gather(-1, target[:, None]).squeeze(-1)  # (k,)
            scores[n] = lp.mean() if self.length_norm else lp.sum()
        return scores.view(len(prompts), self.num_classes)

    @torch.no_grad()
    def _generate(self, batch: Batch, device: torch.device) -> torch.Tensor:
        from transformers import GenerationConfig

        prompts = [self._prompt_ids(t, p, self.max_new_tokens) for t, p in self._queries(batch)]
        ids, mask, _ = self._left_pad(prompts, device)
        eos = getattr(self.lm.generation_config, "eos_token_id", None)
        config = GenerationConfig(max_new_tokens=self.max_new_tokens, do_sample=False,
                                  pad_token_id=self.pad_id,
                                  eos_token_id=eos if eos is not None
                                  else self.tokenizer.eos_token_id)
        generated = self.lm.generate(input_ids=ids, attention_mask=mask,
                                     generation_config=config)[:, ids.shape[1]:]
        scores = torch.zeros((len(prompts), self.num_classes), dtype=torch.float32)
        for i in range(len(prompts)):
            output = str(self.tokenizer.decode(generated[i].tolist(), skip_special_tokens=True))
            cls, rule = parse_generation(output, self.template.verbalizers)
            gold = int(batch.labels[i])
            if cls is not None:
                scores[i] -= _WRONG_GAP
                scores[i, cls] = 0.0
            elif gold >= 0:  # scored as wrong: another class than the gold one
                self.counts["unparseable"] += 1
                scores[i] -= _WRONG_GAP
                scores[i, (gold + 1) % self.num_classes] = 0.0
            else:
                self.counts["unparseable"] += 1
            self.log.append({"index": int(batch.index[i]), "output": output,
                             "pred": self.label_names[cls] if cls is not None else None,
                             "rule": rule})
        return scores.to(device)

    def extra_repr(self) -> str:
        return (f"mode={self.mode!r}, shots={len(self.demonstrations)}, "
                f"labels={self.template.verbalizers}")


def build_prompt_model(
    *, vocab_size: int, pad_id: int, num_classes: int, binary_mode: str = "softmax",
    init: str = "default", embeddings: torch.Tensor | None = None, name: str,
    label_names: Sequence[str], demonstrations: Sequence[Demonstration] = (),
    mode: Literal["scoring", "generate"] = "scoring",
    template: str = "Text: {text}\nLabel:", instruction: str = "",
    verbalizers: dict[str, str] | None = None, answer_separator: str = " ",
    demo_separator: str = "\n\n", shots: int = 0, max_prompt_tokens: int = 1024,
    max_new_tokens: int = 8, length_norm: bool = False, chat_template: bool = False,
    dtype: str = "float32",
) -> PromptClassifier:
    """Load the causal LM ``name`` and its tokenizer and wrap them as a classifier.

    ``shots`` is informational here (``demonstrations`` are drawn by the caller, who has the
    training data); ``vocab_size``/``pad_id``/``init``/``embeddings`` are the common builder
    arguments and do not apply.

    Raises:
        ConfigError: bad options, verbalizers naming unknown labels, or a model that cannot be
            loaded (with how to point at a local directory).
    """
    from ftlab.models._hf_load import load_causal_lm
    from ftlab.preprocessing import PretrainedTokenizer

    if binary_mode != "softmax":
        raise ConfigError("model.binary_mode: the prompt family scores every label (softmax)")
    names = list(label_names)
    if len(names) != num_classes:
        raise ConfigError(f"prompt model: {len(names)} label names for {num_classes} classes")
    verbalizers = dict(verbalizers or {})
    unknown = sorted(set(verbalizers) - set(names))
    if unknown:
        raise ConfigError(f"model.verbalizers: labels {unknown} are not labels of the data "
                          f"({names}); the keys are label names")
    words = [verbalizers.get(n, n) for n in names]
    template_ = PromptTemplate(template, words, instruction=instruction,
                               answer_separator=answer_separator, demo_separator=demo_separator)
    lm = load_causal_lm(name, dtype=dtype)  # first: its errors name model.name
    tokenizer = PretrainedTokenizer(name).hf_tokenizer
    return PromptClassifier(lm, tokenizer, template=template_, demonstrations=demonstrations,
                            label_names=names, mode=mode, max_prompt_tokens=max_prompt_tokens,
                            max_new_tokens=max_new_tokens, length_norm=length_norm,
                            chat_template=chat_template)
