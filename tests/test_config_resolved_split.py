"""The resolved config shows a split size only when it carves something (issue 18)."""

from __future__ import annotations

import yaml

from ftlab.config import dump_config, parse_config


def test_split_sizes_of_given_files_are_not_shown():
    given = parse_config({"data": {"files": {"train": "a.jsonl", "test": "b.jsonl"}}})
    split = yaml.safe_load(dump_config(given))["data"]["split"]
    assert "test" not in split and split["validation"] == 0.1  # validation is carved
    assert split["group_duplicates"] is True
    assert parse_config(yaml.safe_load(dump_config(given))) == given  # still round-trips
    carved = yaml.safe_load(dump_config(parse_config({})))["data"]["split"]
    assert carved["test"] == 0.1 and carved["validation"] == 0.1
