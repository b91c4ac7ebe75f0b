"""run.json has a schema: writes are checked field by field, old run directories still load."""

from __future__ import annotations

import json
import logging

import pytest

from ftlab.runs import RunSummary, collect_runs, load_summary, read_summary, update_summary

# run.json as ftlab wrote it before the schema (first version of runs/_train.py): no seeds,
# no world_size, a "notes" list, dataset "files", plus a key no version of the schema knows
OLD_RUN_JSON = {
    "name": "old", "path": "/somewhere/runs/old", "status": "completed", "pid": 4242,
    "model": "bow", "dataset": "files", "hparams": {"lr": 0.01, "batch_size": 16, "epochs": 2},
    "seed": 13, "parameters": {"total": 1234, "trainable": 1234}, "text_pairs": False,
    "num_classes": 2, "started": "2026-11-20T10:00:00+00:00", "stop_reason": "completed 2 epochs",
    "step": 20, "epoch": 2, "best_metric": 0.8, "best_step": 20, "monitor": "accuracy",
    "duration_s": 3.5, "ended": "2026-11-20T10:00:04+00:00", "restored_best": None,
    "notes": ["best epoch is the last one: train longer"],
    "test": {"test": {"accuracy": 0.75, "macro_f1": 0.74}}, "test_metric": 0.75,
    "legacy_field": {"kept": True},
}


def _write(run_dir, data):
    run_dir.mkdir(parents=True)
    (run_dir / "run.json").write_text(json.dumps(data), encoding="utf-8")
    return run_dir


def test_an_old_run_json_loads_typed_and_keeps_unknown_keys(tmp_path):
    run = _write(tmp_path / "runs" / "old", OLD_RUN_JSON)
    s = load_summary(run)
    assert (s.status, s.step, s.best_metric, s.text_pairs) == ("completed", 20, 0.8, False)
    assert s.seeds == {} and s.world_size is None  # fields the old shape never wrote
    assert s.extra("legacy_field") == {"kept": True}
    assert s.to_dict() == OLD_RUN_JSON  # nothing lost, nothing invented
    rows = collect_runs(tmp_path / "runs")
    assert [(r["name"], r["status"], r["val"], r["test"], r["lr"]) for r in rows] == [
        ("old", "completed", 0.8, 0.75, 0.01)]
    # a later command adds its figures without dropping the legacy key
    out = update_summary(run, eval_test={"accuracy": 0.76})
    assert out["legacy_field"] == {"kept": True} and out["notes"] == OLD_RUN_JSON["notes"]
    assert read_summary(run)["eval_test"] == {"accuracy": 0.76}


def test_a_misspelled_key_fails_before_anything_is_written(tmp_path):
    run = _write(tmp_path / "r", {"name": "r", "status": "running"})
    with pytest.raises(ValueError, match=r"no field 'stauts'\. Did you mean 'status'\?"):
        update_summary(run, stauts="completed")
    with pytest.raises(ValueError, match="status"):
        update_summary(run, status="complete")  # not a status
    with pytest.raises(ValueError, match="best_step"):
        update_summary(run, best_step="twenty")
    assert read_summary(run) == {"name": "r", "status": "running"}  # untouched


def test_per_split_keys_and_types_are_accepted(tmp_path):
    run = tmp_path / "r"
    run.mkdir()
    out = update_summary(run, status="running", robustness_test={"typos:0.1": {"drop": 0.02}},
                         eval_validation={"accuracy": 0.5}, best_metric=1)
    assert out["best_metric"] == 1.0 and isinstance(out["best_metric"], float)
    assert load_summary(run).extra("robustness_test") == {"typos:0.1": {"drop": 0.02}}


def test_a_hand_edited_run_json_still_loads_with_a_warning(tmp_path, caplog):
    run = _write(tmp_path / "r", {"name": "r", "status": "half-done", "step": "x"})
    with caplog.at_level(logging.WARNING, logger="ftlab"):
        s = load_summary(run)
    assert s.name == "r" and s.to_dict() == {"name": "r", "status": "half-done", "step": "x"}
    assert "does not match the RunSummary schema" in caplog.text and "status" in caplog.text
    assert load_summary(tmp_path / "missing").to_dict() == {}  # absent: an empty record


def test_every_update_summary_call_in_src_names_declared_fields():
    # a static check over every call site, also those no test drives (tuning, ray, ensembles)
    import ast
    from pathlib import Path

    import ftlab
    from ftlab.runs._summary import _PER_SPLIT

    seen = set()
    for path in Path(ftlab.__file__).parent.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if "update_summary(" not in text:
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "update_summary":
                seen |= {k.arg for k in node.keywords if k.arg is not None}
    assert {"status", "stop_reason", "best_metric", "test", "tags", "ensemble"} <= seen
    assert sorted(k for k in seen if k not in RunSummary.model_fields and not _PER_SPLIT.match(k)) == []


def test_run_summary_format_is_what_the_cli_prints():
    s = RunSummary(path="runs/a", status="completed", stop_reason="completed 2 epochs", test={
        "test": {"accuracy": 0.8125, "accuracy_ci": [0.75, 0.875], "macro_f1": 0.8,
                 "decision_rule": "threshold 0.400 on p('pos')", "positive_label": "pos",
                 "majority_baseline": 0.5, "tfidf_lr": 0.7}})
    assert s.format().splitlines() == [
        "run directory: runs/a",
        "status: completed  (completed 2 epochs)",
        "test: accuracy 0.8125 [0.7500, 0.8750], macro_f1 0.8000",
        "test decision rule: threshold 0.400 on p('pos'); positive class 'pos'",
        "test baselines: majority-class accuracy 0.5000, TF-IDF + LR accuracy 0.7000",
    ]


def test_seed_study_record_validates_and_formats():
    from ftlab.runs import SeedStudyResult

    data = {"name": "st", "study_dir": "runs/st", "n": 2, "vary": "all", "monitor": "accuracy",
            "mode": "max", "seeds": {"split": 3, "init": None, "order": None},
            "runs": [{"name": "seed-1", "init_seed": 1, "order_seed": 1, "best_metric": 0.7,
                      "test_metric": 0.65},
                     {"name": "seed-2", "init_seed": 2, "order_seed": 2, "best_metric": None,
                      "test_metric": None}],
            "validation": {"n": 1, "mean": 0.7, "std": None, "min": 0.7, "max": 0.7,
                           "values": [0.7], "evp": {"n": [1], "mean": [0.7], "std": [0.0]}},
            "test": None, "excluded": ["seed-2"], "report": "runs/st/seeds.html", "created": "x"}
    rec = SeedStudyResult.model_validate(data)
    assert rec.to_dict() == data
    lines = rec.format().splitlines()
    assert lines[0] == "seed study st (vary all, split seed 3)"
    assert lines[1].split() == ["run", "init", "seed", "order", "seed", "best", "val", "accuracy", "test"]
    assert lines[2].split() == ["seed-1", "1", "1", "0.7", "0.65"]
    assert lines[3].split() == ["seed-2", "2", "2", "-", "-"]
    assert "validation accuracy: mean 0.7000 ± - (min 0.7000, max 0.7000, n=1)" in lines
    assert "expected best validation score of n runs: n=1: 0.7000" in lines
    with pytest.raises(ValueError, match="vary"):
        SeedStudyResult.model_validate({**data, "vary": "everything"})


def test_study_and_check_records_keep_their_file_keys():
    from ftlab.runs import CheckResult
    from ftlab.tuning import StudySummary

    study = {"schema": 1, "study": "s", "study_dir": "runs/s", "monitor": "accuracy",
             "direction": "maximize", "best": None, "trials": [], "warnings": []}
    assert StudySummary.model_validate(study).to_dict() == study  # "schema", not schema_version
    with pytest.raises(ValueError, match="direction"):
        StudySummary.model_validate({**study, "direction": "up"})
    check = {"suite": "sentiment", "source": "builtin:sentiment", "run": "runs/a", "seed": 0,
             "label_names": ["neg", "pos"], "label_map": {}, "temperature": None, "tests": [],
             "summary": {"tests": 0, "cases": 10, "failed_cases": 2, "worst_test": "t",
                         "max_failure_rate": 0.5}}
    rec = CheckResult.model_validate(check)
    assert rec.to_dict() == check
    assert rec.format() == "sentiment: 10 cases, 2 failed; worst: t (50.0%)"
