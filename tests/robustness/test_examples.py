import pytest

from ftlab.data import Example
from ftlab.errors import ConfigError
from ftlab.robustness import apply_changes, build_pipeline, transform_examples

EXAMPLES = [
    Example(str(i), f"I do not like movie number {i}. It is bad, John.", "0", text_pair=f"Is it good {i}?")
    for i in range(6)
]
NOISY = build_pipeline("typos:0.3,contractions:1")


def test_per_example_results_do_not_depend_on_order_or_batch():
    out, changes = transform_examples(EXAMPLES, NOISY, seed=7)
    rev, _ = transform_examples(EXAMPLES[::-1], NOISY, seed=7)
    alone, _ = transform_examples(EXAMPLES[2:3], NOISY, seed=7)
    assert out == rev[::-1] and alone[0] == out[2]
    assert [e.id for e in out] == [e.id for e in EXAMPLES]
    assert all(o.label == e.label and o.text_pair == e.text_pair for o, e in zip(out, EXAMPLES))
    for o, e, c in zip(out, EXAMPLES, changes):
        assert apply_changes(e.text, c.text) == o.text and c.text_pair == ()
    assert transform_examples(EXAMPLES, NOISY, seed=8)[0] != out
    assert EXAMPLES[0].text.startswith("I do not like")  # inputs untouched


def test_pair_sides():
    text_only, _ = transform_examples(EXAMPLES, NOISY, seed=1, sides="text")
    pair_only, pc = transform_examples(EXAMPLES, NOISY, seed=1, sides="pair")
    both, bc = transform_examples(EXAMPLES, NOISY, seed=1, sides="both")
    assert [e.text for e in both] == [e.text for e in text_only]
    assert [e.text_pair for e in both] == [e.text_pair for e in pair_only]
    assert all(e.text == o.text for e, o in zip(pair_only, EXAMPLES))
    assert any(c.text_pair for c in pc) and all(c.changed for c in bc)


def test_bad_sides():
    with pytest.raises(ConfigError, match="sides"):
        transform_examples(EXAMPLES, NOISY, seed=0, sides="left")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="no example has a text_pair"):
        transform_examples([Example("a", "x", "0")], NOISY, seed=0, sides="pair")
