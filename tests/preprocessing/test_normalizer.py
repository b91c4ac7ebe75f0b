import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ftlab.errors import ConfigError
from ftlab.preprocessing import Normalizer


def test_default_only_collapses_whitespace():
    assert Normalizer()("  Hello \n\t World  ") == "Hello World"


def test_strip_html_removes_tags_and_unescapes_entities():
    norm = Normalizer(strip_html=True)
    assert norm("Great film.<br /><br />Loved it &amp; more") == "Great film. Loved it & more"
    assert norm("a<b>bold</b>c") == "a bold c"


def test_strip_html_keeps_comparisons_and_escaped_tags():
    norm = Normalizer(strip_html=True)
    assert norm("1 < 2 and 3 > 2") == "1 < 2 and 3 > 2"
    # an escaped tag is visible text: it is unescaped, not removed
    assert norm("use &lt;b&gt; for bold") == "use <b> for bold"


def test_lowercase_and_nfkc():
    assert Normalizer(lowercase=True)("ÉTÉ Fun") == "été fun"
    assert Normalizer(nfkc=True)("ｆｕｌｌ\ufb01") == "fullfi"
    assert Normalizer(nfkc=False)("ｆｕｌｌ") == "ｆｕｌｌ"


def test_no_collapse_keeps_text():
    assert Normalizer(collapse_whitespace=False)(" a  b ") == " a  b "


def test_round_trip_through_json():
    norm = Normalizer(lowercase=True, strip_html=True, nfkc=True, collapse_whitespace=False)
    again = Normalizer.from_dict(json.loads(json.dumps(norm.to_dict())))
    assert again == norm
    assert again("A<br/>B") == norm("A<br/>B")


def test_from_dict_unknown_key_suggests_closest():
    with pytest.raises(ConfigError, match="lowercase"):
        Normalizer.from_dict({"lowercse": True})


def test_non_bool_setting_rejected():
    with pytest.raises(ConfigError, match="lowercase"):
        Normalizer(lowercase="yes")  # type: ignore[arg-type]


@given(st.text())
def test_idempotent(text):
    norm = Normalizer(lowercase=True, nfkc=True)
    once = norm(text)
    assert norm(once) == once
    assert once == once.strip()
