"""The prompt family's pieces: demonstrations, templates, the generation parser, the
prompt-length budget and scoring with a tiny random causal LM (nothing downloaded)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ftlab.batching import Batch
from ftlab.errors import ConfigError
from ftlab.models import (
    Demonstration,
    PromptTemplate,
    build_model,
    draw_demonstrations,
    parse_generation,
    probabilities,
)

from tests.models._tiny_lm import tiny_causal_lm


@dataclass
class _Ex:
    text: str
    label: str | None
    id: str = ""
    text_pair: str | None = None


# ----------------------------------------------------------------------------- parser
@pytest.mark.parametrize("output, expected", [
    ("positive", (0, "exact")),
    ("  negative\n", (1, "exact")),
    (" Positive.", (0, "normalized")),
    ("NEGATIVE", (1, "normalized")),
    ("I think it is negative, not positive", (1, "first_mention")),
    ("The answer: Positive!", (0, "first_mention")),
    ("positively unclear", (None, "unparseable")),  # whole words only
    ("", (None, "unparseable")),
])
def test_parser_rules_in_order(output, expected):
    assert parse_generation(output, ["positive", "negative"]) == expected


def test_parser_prefers_the_longer_label_at_the_same_position():
    assert parse_generation("very good indeed", ["very", "very good"]) == (1, "first_mention")


@given(st.text(max_size=40), st.sampled_from(["yes", "no", "maybe"]))
@settings(max_examples=60, deadline=None)
def test_parser_finds_a_label_appended_to_label_free_text(noise, label):
    labels = ["yes", "no", "maybe"]
    clean = "".join(c for c in noise if c.isspace() or not c.isalnum())  # no words in it
    cls, rule = parse_generation(f"{clean} {label} {clean}", labels)
    assert cls == labels.index(label) and rule != "unparseable"


# ----------------------------------------------------------------------------- demonstrations
@given(st.lists(st.sampled_from(["a", "b", "c"]), min_size=0, max_size=40),
       st.integers(0, 12), st.integers(0, 2**16))
@settings(max_examples=100, deadline=None)
def test_demonstrations_are_seeded_balanced_and_drawn_from_train(labels, k, seed):
    examples = [_Ex(text=f"t{i}", label=lab, id=str(i)) for i, lab in enumerate(labels)]
    demos = draw_demonstrations(examples, k, seed=seed)
    assert demos == draw_demonstrations(examples, k, seed=seed)  # seeded
    assert len(demos) == min(k, len(examples))
    assert len({d.id for d in demos}) == len(demos)  # no example twice
    have = Counter(labels)
    got = Counter(d.label for d in demos)
    # balanced: a class gets fewer than another only when it ran out of examples
    for c in got:
        for other in have:
            if got[other] < have[other]:
                assert got[c] <= got[other] + 1


def test_demonstrations_round_trip_through_json():
    d = Demonstration(text="x", label="pos", text_pair="y", id="7")
    assert Demonstration.from_dict(d.to_dict()) == d


# ----------------------------------------------------------------------------- template
def test_template_renders_pairs_labels_and_choices():
    t = PromptTemplate("Q: {text}\nP: {text_pair}\nOptions: {labels}\n{choices}\nA:",
                       ["yes", "no"], instruction="Answer {labels}.")
    query = t.render("is it?", "it is")
    assert query == "Q: is it?\nP: it is\nOptions: yes, no\nA. yes\nB. no\nA:"
    assert t.render("q", choices=["red", "blue"]).count("A. red\nB. blue") == 1
    assert t.compose([t.render("d", "e", answer="yes")], query) == (
        "Answer yes, no.\n\nQ: d\nP: e\nOptions: yes, no\nA. yes\nB. no\nA: yes\n\n" + query)
    with pytest.raises(ConfigError, match="unknown field"):
        PromptTemplate("{txt}", ["a", "b"])


# ----------------------------------------------------------------------------- the model
@pytest.fixture(scope="module")
def lm_dir(tmp_path_factory):
    return tiny_causal_lm(tmp_path_factory.mktemp("lm") / "gpt")


def _model(lm_dir, **kw):
    return build_model("prompt", vocab_size=0, pad_id=0, num_classes=2, name=str(lm_dir),
                       label_names=["neg", "pos"], verbalizers={"neg": "awful", "pos": "great"},
                       **kw)


def _batch(model, texts, labels=(0, 1)):
    rows = [model.tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    width = max(len(r) for r in rows)
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r)
        mask[i, :len(r)] = 1
    return Batch(ids=ids, mask=mask, lengths=mask.sum(1), labels=torch.tensor(list(labels)),
                 index=torch.arange(len(rows)))


def test_scoring_gives_label_log_likelihoods_independent_of_batch_padding(lm_dir):
    model = _model(lm_dir)
    assert model.num_classes == model.num_outputs == 2
    assert all(not p.requires_grad for p in model.parameters())
    texts = ["the movie was great", "awful plot and really quite boring story"]
    together = model(_batch(model, texts))
    alone = torch.cat([model(_batch(model, [t], labels=[0])) for t in texts])
    assert together.shape == (2, 2) and (together < 0).all()  # summed log-probabilities
    torch.testing.assert_close(together, alone, atol=1e-4, rtol=1e-4)  # left padding is exact
    probs = probabilities(together)
    torch.testing.assert_close(probs.sum(1), torch.ones(2))


def test_long_prompts_drop_whole_demonstrations_then_truncate_the_query(lm_dir):
    demos = [Demonstration(text=" ".join(["story"] * 20), label=lab) for lab in ("pos", "neg")]
    model = _model(lm_dir, demonstrations=demos, max_prompt_tokens=40)
    model(_batch(model, ["the cast was lovely"], labels=[1]))
    assert model.counts["demonstrations_dropped"] >= 1
    assert model.counts["queries_truncated"] == 0
    model.reset_log()
    model(_batch(model, [" ".join(["plot"] * 60)], labels=[1]))
    assert model.counts["demonstrations_dropped"] == 2 and model.counts["queries_truncated"] == 1
    assert any("lost 2 whole demonstrations" in n for n in model.notes())
    assert any("query text of 1 of 1" in n for n in model.notes())


def test_generate_mode_counts_unparseable_outputs_and_scores_them_wrong(lm_dir):
    model = _model(lm_dir, mode="generate", max_new_tokens=3)
    scores = model(_batch(model, ["the cast was lovely", "awful"], labels=[1, 0]))
    assert len(model.log) == 2
    for i, rec in enumerate(model.log):
        pred = int(scores[i].argmax())
        if rec["rule"] == "unparseable":
            assert pred != [1, 0][i]  # scored as wrong
        else:
            assert model.label_names[pred] == rec["pred"]
    n_bad = sum(r["rule"] == "unparseable" for r in model.log)
    assert model.counts["unparseable"] == n_bad
    assert f"generation: {n_bad} of 2 outputs unparseable" in model.notes()[-1]


def test_bad_prompt_options_fail_with_the_fix(lm_dir):
    with pytest.raises(ConfigError, match="verbalizers: labels \\['postive'\\]"):
        build_model("prompt", vocab_size=0, pad_id=0, num_classes=2, name=str(lm_dir),
                    label_names=["neg", "pos"], verbalizers={"postive": "great"})
    with pytest.raises(ConfigError, match="does not exist"):
        build_model("prompt", vocab_size=0, pad_id=0, num_classes=2,
                    name=str(lm_dir / "missing"), label_names=["neg", "pos"])
