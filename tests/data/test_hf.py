"""Hugging Face adapter: conversion from in-memory datasets, name parsing, offline errors."""

from __future__ import annotations

import logging

import pytest

datasets = pytest.importorskip("datasets")

from ftlab.data import examples_from_hf, load_hf, parse_hf_name  # noqa: E402
from ftlab.errors import DataError  # noqa: E402


def _ds(texts, labels, names=("neg", "pos")):
    features = datasets.Features({"text": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=list(names))})
    return datasets.Dataset.from_dict({"text": texts, "label": labels}, features=features)


def test_classlabel_becomes_names_and_unlabelled_test_is_dropped(caplog):
    dd = datasets.DatasetDict({
        "train": _ds(["good", "bad"], [1, 0]),
        "validation": _ds(["fine"], [1]),
        "test": _ds(["x", "y"], [-1, -1]),  # GLUE-style hidden test labels
    })
    with caplog.at_level(logging.WARNING, logger="ftlab.data"):
        out = examples_from_hf(dd, source="hf:toy")
    assert set(out) == {"train", "validation"}
    assert [(e.id, e.text, e.label) for e in out["train"]] == [("train-0", "good", "pos"),
                                                               ("train-1", "bad", "neg")]
    assert out["validation"][0].meta == {"source": "hf:toy", "line": 1}
    assert "'test' has no labels" in caplog.text


def test_single_dataset_pairs_ids_and_plain_int_labels():
    ds = datasets.Dataset.from_dict({"q": ["a", "b"], "p": ["c", "d"], "y": [0, 1],
                                     "idx": [7, 8]})
    out = examples_from_hf(ds, text_column="q", text_pair_column="p", label_column="y",
                           id_column="idx", split="dev")
    assert list(out) == ["validation"]
    assert [(e.id, e.text_pair, e.label) for e in out["validation"]] == [("7", "c", "0"),
                                                                         ("8", "d", "1")]


def test_missing_column_suggests_closest():
    ds = datasets.Dataset.from_dict({"sentence": ["a"], "label": [0]})
    with pytest.raises(DataError) as info:
        examples_from_hf(ds)
    assert "'text'" in str(info.value) and "Did you mean 'sentence'" in str(info.value)


def test_parse_hf_name():
    assert parse_hf_name("glue/sst2") == ("glue", "sst2")
    assert parse_hf_name("imdb") == ("imdb", None)
    assert parse_hf_name("stanfordnlp/imdb") == ("stanfordnlp/imdb", None)
    assert parse_hf_name("nyu-mll/glue/sst2") == ("nyu-mll/glue", "sst2")
    assert parse_hf_name("org/x", "cfg") == ("org/x", "cfg")


def test_load_hf_passes_path_and_config(monkeypatch):
    calls = []

    def fake(path, name=None, revision=None):
        calls.append((path, name, revision))
        return datasets.DatasetDict({"train": _ds(["a", "b"], [0, 1])})

    monkeypatch.setattr(datasets, "load_dataset", fake)
    out = load_hf("glue/sst2", revision="abc")
    assert calls == [("glue", "sst2", "abc")]
    assert out["train"][0].meta["source"] == "hf:glue/sst2"


def test_load_hf_offline_error_points_to_local_source(monkeypatch):
    calls = []

    def offline(*args, **kwargs):
        calls.append(args)
        raise ConnectionError("Couldn't reach 'imdb' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(DataError) as info:
        load_hf("imdb")
    msg = str(info.value)
    assert "'imdb'" in msg and "unreachable" in msg and "data.source" in msg
    assert "Couldn't reach" in msg
    assert len(calls) == 1  # no retry loop


def test_load_hf_reads_winogrande_and_copa_schemas(monkeypatch, caplog):
    wino = {"sentence": ["Ann hugged Sue because _ was sad.", "Ann hugged Sue because _ was kind.",
                         "Tom met Bob when _ arrived."],
            "option1": ["Ann", "Ann", "Tom"], "option2": ["Sue", "Sue", "Bob"],
            "answer": ["2", "1", ""]}

    def fake(path, cfg, revision=None):
        assert (path, cfg) == ("allenai/winogrande", "winogrande_xl")
        return datasets.DatasetDict({
            "train": datasets.Dataset.from_dict({k: v[:2] for k, v in wino.items()}),
            "test": datasets.Dataset.from_dict({k: v[2:] for k, v in wino.items()})})

    monkeypatch.setattr(datasets, "load_dataset", fake)
    with caplog.at_level("WARNING", logger="ftlab.data"):
        out = load_hf("allenai/winogrande/winogrande_xl", preset="winogrande")
    assert list(out) == ["train"] and "no labels" in caplog.text  # answers "" in test
    first = out["train"][0]
    assert (first.text, first.choices, first.label) == (
        "Ann hugged Sue because", ("Ann was sad.", "Sue was sad."), "1")

    copa = {"premise": ["The man broke his toe.", "It rained."], "choice1": ["He fell.", "a"],
            "choice2": ["He sang.", "b"], "question": ["cause", "effect"], "idx": [0, 1],
            "label": [0, -1]}

    def fake_copa(path, cfg, revision=None):
        return datasets.DatasetDict({
            "validation": datasets.Dataset.from_dict({k: v[:1] for k, v in copa.items()}),
            "test": datasets.Dataset.from_dict({k: v[1:] for k, v in copa.items()})})

    monkeypatch.setattr(datasets, "load_dataset", fake_copa)
    out = load_hf("aps/super_glue/copa", preset="copa")
    assert list(out) == ["validation"]
    assert out["validation"][0].text == "The man broke his toe because"
