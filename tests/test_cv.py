"""K-fold cross-validation: stratified folds, ``cross_validate``, ``ftlab train`` with cv_folds."""

from __future__ import annotations

import json
import random
import statistics
from collections import Counter
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ftlab.cli import app
from ftlab.config import parse_config
from ftlab.data import Example, fold_splits, kfold_examples
from ftlab.errors import ConfigError
from ftlab.runs import cross_validate
from ftlab.runs._builders import build_run_splits

POS = ["great", "wonderful", "superb", "lovely", "brilliant"]
NEG = ["awful", "terrible", "boring", "dreadful", "weak"]
FILL = ["the", "movie", "story", "cast", "was", "and", "really", "quite", "plot", "film"]


def _pool(counts: dict[str, int]) -> list[Example]:
    return [Example(id=f"{label}-{i}", text=f"text {label} {i}", label=label)
            for label, n in counts.items() for i in range(n)]


def _raw(tmp: Path, n: int = 90) -> dict:
    rng = random.Random(0)
    rows = []
    for i in range(n):
        label = i % 3 != 0  # imbalanced: 1/3 neg
        words = rng.sample(FILL, 4) + rng.sample(POS if label else NEG, 2)
        rows.append({"text": " ".join(words) + f" {i}", "label": "pos" if label else "neg"})
    path = tmp / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return {
        "seed": 3, "output_dir": str(tmp / "runs"),
        "data": {"source": str(path), "split": {"validation": 0.2, "test": 0.2}},
        "preprocess": {"max_length": 16}, "batching": {"batch_size": 8},
        "model": {"family": "bow", "embed_dim": 8, "hidden_dims": [8]},
        "train": {"lr": 0.05, "epochs": 1, "trackers": [], "log_every": 100},
        "eval": {"cv_folds": 2},
    }


def test_folds_are_disjoint_cover_the_pool_stratified_and_seeded():
    pool = _pool({"a": 23, "b": 10, "c": 7})
    folds = kfold_examples(pool, 4, seed=1)
    ids = [ex.id for f in folds for ex in f]
    assert len(ids) == len(set(ids)) == len(pool)  # disjoint and covering
    sizes = [len(f) for f in folds]
    assert max(sizes) - min(sizes) <= 1
    for label in "abc":
        per_fold = [sum(ex.label == label for ex in f) for f in folds]
        assert max(per_fold) - min(per_fold) <= 1, (label, per_fold)
    same = kfold_examples(pool, 4, seed=1)
    assert [[e.id for e in f] for f in same] == [[e.id for e in f] for f in folds]
    other = kfold_examples(pool, 4, seed=2)
    assert [[e.id for e in f] for f in other] != [[e.id for e in f] for f in folds]


def test_too_many_folds_for_the_smallest_class_is_a_clear_error():
    with pytest.raises(ConfigError, match=r"smallest class 'c' \(3 examples.*at most 3"):
        kfold_examples(_pool({"a": 20, "c": 3}), 5, seed=0)
    with pytest.raises(ConfigError, match="cv_folds"):
        kfold_examples(_pool({"a": 20}), 1, seed=0)


def test_fold_splits_pool_train_and_validation_and_hold_out_test():
    splits = {"train": _pool({"a": 12, "b": 6}), "test": _pool({"t": 4}),
              "validation": [Example(id="a-0", text="clash", label="a")]}
    out = [fold_splits(splits, k=3, fold=i, seed=0) for i in range(3)]
    assert all(o["test"] == splits["test"] for o in out)
    vals = [ex.id for o in out for ex in o["validation"]]
    assert sorted(vals) == sorted([e.id for e in splits["train"]] + ["validation/a-0"])
    for o in out:
        assert len(o["train"]) + len(o["validation"]) == 19
        assert not {e.id for e in o["train"]} & {e.id for e in o["validation"]}
    with pytest.raises(ConfigError, match="cv_fold"):
        fold_splits(splits, k=3, fold=3, seed=0)


def test_fold_config_validation():
    with pytest.raises(ConfigError, match="cv_fold"):
        parse_config({"eval": {"cv_fold": 1}})
    with pytest.raises(ConfigError, match="cv_folds"):
        parse_config({"eval": {"cv_folds": 1}})


def test_cross_validate_trains_each_fold_and_summarises(tmp_path):
    cfg = parse_config(_raw(tmp_path))
    result = cross_validate(cfg, name="cv")
    assert result["monitor"] == "accuracy" and result["k"] == 2
    best = [f["best_metric"] for f in result["folds"]]
    assert [f["fold"] for f in result["folds"]] == [0, 1]
    assert result["mean"] == pytest.approx(statistics.fmean(best))
    assert result["std"] == pytest.approx(statistics.stdev(best))
    assert (result["min"], result["max"]) == (min(best), max(best))
    assert json.loads((tmp_path / "runs" / "cv" / "cv.json").read_text()) == result
    # each fold run validates on its own fold; together they cover train+validation
    splits = [build_run_splits(parse_config(yaml.safe_load(
        (Path(f["run_dir"]) / "config.yaml").read_text()))) for f in result["folds"]]
    v0, v1 = ({e.id for e in s["validation"]} for s in splits)
    assert not v0 & v1
    plain = build_run_splits(parse_config({**_raw(tmp_path), "eval": {}}))
    assert v0 | v1 == {e.id for e in plain["train"] + plain["validation"]}
    assert [e.id for e in splits[0]["test"]] == [e.id for e in plain["test"]]
    labels = [Counter(e.label for e in s["validation"]) for s in splits]
    assert all(abs(labels[0][k] - labels[1][k]) <= 1 for k in ("pos", "neg"))
    run = json.loads((Path(result["folds"][1]["run_dir"]) / "run.json").read_text())
    assert run["tags"] == {"study": "cv", "cv": True, "fold": 1}


def test_ftlab_train_with_cv_folds_runs_the_cross_validation(tmp_path):
    path = tmp_path / "cv.yaml"
    path.write_text(yaml.safe_dump(_raw(tmp_path)), encoding="utf-8")
    res = CliRunner().invoke(app, ["train", str(path), "--name", "cli-cv"])
    assert res.exit_code == 0, res.output
    assert "cross-validation cli-cv: 2 folds" in res.output
    assert "validation accuracy: mean" in res.output
    saved = json.loads((tmp_path / "runs" / "cli-cv" / "cv.json").read_text())
    assert len(saved["folds"]) == 2 and saved["folds"][0]["run_dir"] in res.output
