"""Data checks: each finding code triggers on a tiny constructed split; clean data is quiet."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from ftlab.data import Example, check_splits, clean_splits, format_report, normalize_text
from ftlab.errors import DataError


def ex(i: str, text: str, label: str | None = "a", pair: str | None = None) -> Example:
    return Example(i, text, label, pair, meta={"line": int(i[1:]) + 1 if i[1:].isdigit() else 0})


def clean() -> dict[str, list[Example]]:
    return {
        "train": [ex("t0", "the cat sat", "a"), ex("t1", "a dog ran", "b"),
                  ex("t2", "birds fly high", "a"), ex("t3", "fish swim deep", "b")],
        "validation": [ex("v0", "cows moo", "a"), ex("v1", "owls hoot", "b")],
        "test": [ex("s0", "frogs croak", "a"), ex("s1", "bees buzz", "b")],
    }


def codes(report) -> set[tuple[str, str | None]]:
    return {(f.code, f.split) for f in report.findings}


def test_clean_data_has_no_findings_and_stats():
    report = check_splits(clean(), count_tokens=lambda s: len(s.split()), max_length=16)
    assert report.findings == []
    st = report.stats["train"]
    assert st.rows == 4 and st.labels == {"a": 2, "b": 2} and st.imbalance_ratio == 1.0
    assert st.char_length["max"] == 14 and st.token_length["p50"] == 3.0
    assert st.truncated_share == 0.0
    report.raise_for_errors()  # no error -> no exception


def test_unknown_and_missing_labels_are_errors_listed_at_once():
    s = clean()
    s["test"] = [ex("s0", "frogs croak", "c"), ex("s1", "bees buzz", None)]
    report = check_splits(s)
    assert {("unknown_label", "test"), ("missing_label", "test")} <= codes(report)
    assert {f.code for f in report.errors} == {"unknown_label", "missing_label"}
    with pytest.raises(DataError) as info:
        report.raise_for_errors()
    msg = str(info.value)
    assert "2 error(s)" in msg and "['c']" in msg and "s1 (line 2)" in msg


def test_leakage_uses_normalised_text():
    s = clean()
    s["validation"].append(ex("v2", "  The   CAT sat\n", "a"))
    report = check_splits(s)
    leak = [f for f in report.findings if f.code == "leakage"]
    assert len(leak) == 1 and leak[0].split == "validation" and leak[0].count == 1
    assert leak[0].level == "warning" and leak[0].examples == ["v2 (line 3)"]
    assert normalize_text("  The   CAT sat\n") == "the cat sat"


def test_duplicates_empty_nonutf8_imbalance():
    s = clean()
    s["train"] += [ex("t4", "the cat sat", "a"), ex("t5", "   ", "a"), ex("t6", "caf\ufffd", "a"),
                   ex("t7", "cafÃ©", "a"), ex("t8", "x", "a"), ex("t9", "y", "a")]
    report = check_splits(s, imbalance_warn_ratio=3.0)
    found = {f.code: f for f in report.findings if f.split == "train"}
    assert found["duplicates"].count == 1
    assert found["empty_text"].count == 1
    assert found["non_utf8"].count == 2
    assert found["imbalance"].level == "warning" and "4.0:1" in found["imbalance"].message
    assert report.stats["train"].duplicates == 1
    assert report.errors == []


def test_pair_duplicates_consider_both_texts():
    s = clean()
    s["train"] += [ex("t4", "q", "a", "p1"), ex("t5", "q", "b", "p2")]
    assert ("duplicates", "train") not in codes(check_splits(s))


def test_truncation_and_empty_split_and_single_class():
    s = clean()
    s["validation"].append(ex("v2", "one two three four five six", "a"))
    report = check_splits(s, max_length=4, count_tokens=lambda t: len(t.split()))
    trunc = [f for f in report.findings if f.code == "truncation"]
    assert trunc[0].split == "validation" and trunc[0].level == "warning"
    assert report.stats["validation"].truncated_share == pytest.approx(1 / 3)
    one = {"train": [ex("t0", "a", "a"), ex("t1", "b", "a")], "validation": []}
    assert {("single_class", "train"), ("empty_split", "validation")} <= codes(check_splits(one))


def test_to_dict_is_json_serialisable():
    s = clean()
    s["test"].append(ex("s2", "the cat sat", "a"))
    data = check_splits(s).to_dict()
    again = json.loads(json.dumps(data))
    assert again["findings"][0]["code"] == "leakage"
    assert again["stats"]["train"]["rows"] == 4


def test_clean_splits_counts_every_removal():
    s = clean()
    s["train"] += [ex("t4", "the cat sat", "a"), ex("t5", "", "b")]
    s["test"] += [ex("s2", "The cat sat", "a"), ex("s3", "frogs croak", "a")]
    report = check_splits(s)
    out, removed = clean_splits(s, report, drop_duplicates=True, drop_leaked=True)
    assert removed["train"] == {"empty_text": 1, "duplicates": 1}
    assert removed["test"] == {"empty_text": 0, "duplicates": 1, "leakage": 1}
    assert [e.id for e in out["test"]] == ["s0", "s1"]
    assert len(out["train"]) == 4 and len(s["train"]) == 6  # input untouched
    assert report.removed["test"]["leakage"] == 1
    _, removed2 = clean_splits(s, report)
    assert removed2["train"] == {"empty_text": 1}
    assert report.removed["train"]["empty_text"] == 2  # accumulated across calls


def test_format_report_renders_tables():
    s = clean()
    s["test"].append(ex("s2", "the cat sat", "a"))
    report = check_splits(s)
    console = Console(record=True, width=200)
    console.print(format_report(report))
    text = console.export_text()
    assert "Splits" in text and "leakage" in text and "train" in text
    console.print(format_report(check_splits(clean())))
    assert "No findings" in console.export_text()
