"""Leakage per split pair with file and line, conflicting labels, and reported removals."""

from __future__ import annotations

from ftlab.data import Example, check_splits, clean_splits


def _ex(i: str, text: str, label: str, source: str, line: int) -> Example:
    return Example(i, text, label, meta={"source": source, "line": line})


def _splits() -> dict[str, list[Example]]:
    train = [_ex(f"t{i}", f"train text {i}", "ab"[i % 2], "train.jsonl", i + 1)
             for i in range(10)]
    train.append(_ex("t10", "Same words", "a", "train.jsonl", 11))
    validation = [_ex("v0", "val only", "a", "dev.jsonl", 1),
                  _ex("v1", "shared by val and test", "b", "dev.jsonl", 2)]
    test = [_ex("x0", "same  WORDS", "b", "test.jsonl", 1),  # leaked from train, other label
            _ex("x1", "shared by val and test", "b", "test.jsonl", 2),
            _ex("x2", "test only", "a", "test.jsonl", 3)]
    return {"train": train, "validation": validation, "test": test}


def test_leakage_is_reported_per_split_pair_with_file_and_line():
    report = check_splits(_splits())
    leaks = [f for f in report.findings if f.code in ("leakage", "eval_leakage")]
    vs_train = next(f for f in leaks if "also occur in train" in f.message)
    assert vs_train.split == "test" and vs_train.count == 1
    assert "x0 (test.jsonl:1) = t10 (train.jsonl:11)" in vs_train.message
    assert vs_train.examples == ["x0 (test.jsonl:1)"]
    vs_val = next(f for f in leaks if "also occur in validation" in f.message)
    assert vs_val.split == "test" and vs_val.count == 1 and vs_val.code == "eval_leakage"
    assert "x1 (test.jsonl:2) = v1 (dev.jsonl:2)" in vs_val.message


def test_conflicting_labels_are_a_finding_and_can_be_dropped():
    splits = _splits()
    report = check_splits(splits)
    conflict = next(f for f in report.findings if f.code == "conflicting_labels")
    assert conflict.count == 2 and "1 text(s) occur with different labels" in conflict.message
    assert "t10 (train.jsonl:11)='a' vs x0 (test.jsonl:1)='b'" in conflict.message
    cleaned, removed = clean_splits(splits, report, drop_conflicting=True)
    assert removed["train"]["conflicting_labels"] == 1
    assert removed["test"]["conflicting_labels"] == 1
    assert "x0" not in {e.id for e in cleaned["test"]}
    assert report.removed["test"]["conflicting_labels"] == 1


def test_train_log_lines_name_the_split_and_what_was_removed():
    from ftlab.runs import data_warning_lines

    splits = _splits()
    report = check_splits(splits)
    clean_splits(splits, report, drop_leaked=True)
    lines = data_warning_lines(report)
    leak = next(x for x in lines if "also occur in train" in x)
    assert leak.startswith("data warning [test] leakage: 1 test example(s) (test.jsonl)")
    assert leak.endswith("-> removed 1 (data.drop_leaked)")
    assert "data: removed from test: 1 leakage" in lines
    between = next(x for x in lines if "also occur in validation" in x)
    assert "removed" not in between  # drop_leaked removes copies of train texts only
