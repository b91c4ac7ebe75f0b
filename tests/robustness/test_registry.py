import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ftlab.errors import ConfigError
from ftlab.robustness import (
    TRANSFORMS,
    Compose,
    Contractions,
    KeyboardTypos,
    apply_changes,
    build_pipeline,
    build_transform,
    register_transform,
)
from ftlab.testing import check_transform, check_transformed

from ._helpers import NAMES, spec


def test_spec_forms():
    assert build_transform("typos") == KeyboardTypos()
    assert build_transform("typos:0.2") == KeyboardTypos(rate=0.2)
    assert build_transform({"name": "contractions", "rate": 1, "mode": "expand"}) == Contractions(1.0, "expand")
    t = KeyboardTypos(0.3)
    assert build_transform(t) is t


def test_unknown_name_names_the_closest():
    with pytest.raises(ConfigError, match=r"unknown transformation 'tpyos'.*Did you mean 'typos'"):
        build_transform("tpyos")
    with pytest.raises(ConfigError, match=r"Did you mean 'synonyms'"):
        build_pipeline("typos,synonym")


def test_bad_options_and_rates():
    with pytest.raises(ConfigError, match=r"no option 'mdoe'.*Did you mean 'mode'"):
        build_transform({"name": "contractions", "mdoe": "expand"})
    with pytest.raises(ConfigError, match=r"0 <= rate <= 1"):
        build_transform("typos:1.5")
    with pytest.raises(ConfigError, match=r"after ':' must be a rate"):
        build_transform("typos:lots")
    with pytest.raises(ConfigError, match="needs a 'name'"):
        build_transform({"rate": 0.1})
    with pytest.raises(ConfigError, match="empty"):
        build_pipeline(" , ")
    with pytest.raises(ConfigError, match="mode"):
        Contractions(0.5, "sideways")  # type: ignore[arg-type]


def test_register_transform():
    register_transform("shout_test", lambda rate=1.0: Contractions(rate))
    try:
        assert isinstance(build_transform("shout_test:0.5"), Contractions)
        with pytest.raises(ConfigError, match="already registered"):
            register_transform("shout_test", Contractions)
    finally:
        TRANSFORMS.pop("shout_test")


def test_pipeline_builds_compose_in_order():
    p = build_pipeline("typos:0.1, contractions")
    assert isinstance(p, Compose) and p.name == "typos+contractions"
    assert build_pipeline(["typos"]) == KeyboardTypos()
    check_transform(p)


@given(
    names=st.lists(st.sampled_from(NAMES), min_size=2, max_size=4),
    text=st.text(alphabet=st.sampled_from(list("abc xyz.!,'I'mdon'tJohn 8/10 1998 ")), max_size=60),
    seed=st.integers(0, 1000),
    rate=st.floats(0, 1),
)
def test_compose_records_are_rebased_onto_the_original(names, text, seed, rate):
    p = Compose([build_transform(spec(n, rate)) for n in names])
    r = p(text, random.Random(seed))
    check_transformed(r, text)  # also checks each step against its own input
    assert apply_changes(text, r.changes) == r.text
    assert r.steps[-1].text == r.text and p(text, random.Random(seed)) == r


def test_compose_rejects_empty():
    with pytest.raises(ConfigError):
        Compose([])
