"""Transformations of multiple-choice items: the context, the choices, or both, each choice
with its own seeded generator; augmentation of choices."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftlab.data import Example
from ftlab.errors import ConfigError
from ftlab.robustness import augment_examples, build_pipeline, transform_examples

_word = st.text(alphabet="abcdefghij", min_size=3, max_size=8)


@settings(max_examples=30, deadline=None)
@given(context=st.lists(_word, min_size=2, max_size=5).map(" ".join),
       choices=st.lists(_word, min_size=2, max_size=4), seed=st.integers(0, 99))
def test_sides_of_a_choice_item(context: str, choices: list[str], seed: int) -> None:
    ex = Example(id="q1", text=context, label="0", choices=tuple(choices))
    t = build_pipeline("char_swap:0.5")
    (ctx_only,), (c1,) = transform_examples([ex], t, seed, "text")
    (ch_only,), (c2,) = transform_examples([ex], t, seed, "choices")
    (both,), (c3,) = transform_examples([ex], t, seed, "both")
    assert ctx_only.choices == ex.choices and c1.choices == ()
    assert ch_only.text == ex.text and not c2.text and len(c2.choices) == len(choices)
    # "both" = the context as with "text" and the choices as with "choices"
    assert (both.text, both.choices) == (ctx_only.text, ch_only.choices)
    assert c3.changed == (c1.changed or c2.changed)
    # a choice's edits depend on (seed, id, position) only, not on the other choices
    (alone,), _ = transform_examples(
        [Example(id="q1", text=context, label="0", choices=(choices[0], "zzzz"))], t, seed,
        "choices")
    assert alone.choices is not None and alone.choices[0] == (ch_only.choices or ())[0]
    assert both.label == ex.label


def test_choice_sides_need_choice_items_and_augment_records_them() -> None:
    plain = [Example(id="a", text="some text here", label="x")]
    with pytest.raises(ConfigError, match="sides='choices'"):
        transform_examples(plain, build_pipeline("typos"), 0, "choices")
    train = [Example(id=f"q{i}", text="pick a fruit", label=str(i % 2),
                     choices=(f"banana{i}", f"hammer{i}")) for i in range(6)]
    added, records, _ = augment_examples(train, build_pipeline("char_swap:0.5"), 4, seed=1,
                                         sides="choices")
    assert len(added) == 4 and all(a.text == "pick a fruit" for a in added)
    assert all(a.choices != train[int(a.id.split("~")[0][1:])].choices for a in added)
    assert all("choice_changes" in r.to_dict() for r in records)
