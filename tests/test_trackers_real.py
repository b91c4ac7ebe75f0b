"""The real trackers, offline: MLflow with a SQLite store and a local artifact store, W&B in
offline mode, TensorBoard; read back with each library's own API (MlflowClient, the offline run
file decoded with wandb's protobuf schema, tensorboard's EventAccumulator).

Two tiny bag-of-words runs of one study (trials 0 and 1): the first with all three trackers,
augmentation and a transformed test set, so every kind of value is logged; the second with
MLflow only, to show both nest under one study parent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ftlab.runs import parse_config, train_run

from _tiny_data import write_sentiment_jsonl
from _wandb_offline import read_offline_run

pytest.importorskip("mlflow", reason="the tracking extra (pip install 'ftlab[tracking]') is "
                                     "installed by `make test`")
pytest.importorskip("wandb", reason="the tracking extra is installed by `make test`")


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("trackers")
    data = write_sentiment_jsonl(tmp / "d.jsonl", 80)
    raw = {
        "seed": 3, "output_dir": str(tmp / "runs"),
        "data": {"source": str(data), "split": {"validation": 0.25, "test": 0.25}},
        "preprocess": {"max_length": 12}, "batching": {"batch_size": 16},
        "model": {"family": "bow", "embed_dim": 8, "hidden_dims": [8]},
        "train": {"lr": 0.05, "epochs": 2, "log_every": 100,
                  "trackers": ["tensorboard", "mlflow", "wandb"],
                  "augment": [{"transform": "char_swap:0.3", "n": 8}],
                  "tracking": {"mlflow_uri": f"sqlite:///{tmp / 'mlflow.db'}",
                               "mlflow_artifacts": (tmp / "mlartifacts").as_uri(),
                               "experiment": "tiny"}},
        "robustness": {"transforms": ["char_drop:0.5"]},
    }
    env = {k: str(tmp / "wandb-home" / k) for k in
           ("WANDB_CACHE_DIR", "WANDB_CONFIG_DIR", "WANDB_DATA_DIR", "WANDB_ARTIFACT_DIR")}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        mp.setenv("WANDB_SILENT", "true")
        mp.delenv("WANDB_API_KEY", raising=False)
        first = Path(train_run(parse_config(raw), name="t0",
                               tags={"study": "lr-sweep", "trial": 0})["path"])
        # the second trial (MLflow only, no extras: cheaper) joins the same study parent
        raw["train"]["trackers"], raw["train"]["augment"] = ["mlflow"], []
        raw["robustness"] = {}
        second = Path(train_run(parse_config(raw), name="t1",
                                tags={"study": "lr-sweep", "trial": 1})["path"])
    return tmp, [first, second]


def test_mlflow_store_holds_params_metrics_tags_artifacts_and_the_study_parent(study):
    import mlflow

    tmp, runs = study
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}")
    exp = client.get_experiment_by_name("tiny")
    assert exp.artifact_location == (tmp / "mlartifacts").as_uri()
    found = client.search_runs([exp.experiment_id], "tags.`ftlab.role` = 'run'",
                               order_by=["attributes.run_name ASC"])
    assert [r.info.run_name for r in found] == ["t0", "t1"]
    (parent,) = client.search_runs([exp.experiment_id], "tags.`ftlab.role` = 'study'")
    assert parent.info.run_name == "lr-sweep"
    for i, listed in enumerate(found):
        run = client.get_run(listed.info.run_id)
        params, metrics, tags = run.data.params, run.data.metrics, run.data.tags
        assert run.info.status == "FINISHED"
        assert tags["mlflow.parentRunId"] == parent.info.run_id  # nested under the study
        # the resolved config, flattened
        assert params["train.lr"] == "0.05" and params["model.family"] == "bow"
        assert params["batching.batch_size"] == "16" and params["seed"] == "3"
        assert tags["model"] == "bow" and tags["augment"] == ("char_swap:0.3x8", "none")[i]
        assert tags["study"] == "lr-sweep" and tags["trial"] == str(i) and tags["seed"] == "3"
        assert tags["dataset"].endswith("d.jsonl")
        # step, eval, best, test and transformed-set metrics
        steps = client.get_metric_history(run.info.run_id, "train/loss")
        assert len(steps) >= 2 and [m.step for m in steps] == sorted(m.step for m in steps)
        evals = client.get_metric_history(run.info.run_id, "eval/accuracy")
        assert len(evals) == 2  # one per epoch
        assert "eval/n" not in metrics  # a count, not a metric
        assert metrics["best/accuracy"] == pytest.approx(max(m.value for m in evals))
        summary = __import__("json").loads((runs[i] / "run.json").read_text())
        assert metrics["test/accuracy"] == pytest.approx(summary["test"]["test"]["accuracy"])
        # the report and the predictions as artifacts, in the artifact store
        top = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"report.html", "config.yaml", "run.json", "predictions"} <= top
        preds = {a.path for a in client.list_artifacts(run.info.run_id, "predictions")}
        if i == 1:
            assert preds == {"predictions/test.jsonl"}
            continue
        assert metrics["transformed/char_drop:0.5/accuracy"] == pytest.approx(
            summary["robustness_test"]["char_drop:0.5"]["accuracy"])
        assert "robustness/char_drop:0.5/drop" in metrics
        assert preds == {"predictions/test.jsonl", "predictions/test@char_drop-0.5.jsonl"}
        assert any((tmp / "mlartifacts").rglob("report.html"))


def test_wandb_offline_run_holds_config_history_summary_group_tags_and_files(study):
    _tmp, runs = study
    assert not (runs[1] / "wandb").exists()  # the second trial tracks to MLflow only
    for i, run_dir in enumerate(runs[:1]):
        (offline,) = (run_dir / "wandb").glob("offline-run-*")  # what `wandb sync` uploads
        run = read_offline_run(offline)
        assert run.name == f"t{i}" and run.group == "lr-sweep"
        assert {"model:bow", "study:lr-sweep", f"trial:{i}", "augment:char_swap:0.3x8"} <= \
            set(run.tags)
        assert run.config["train"]["lr"] == 0.05 and run.config["model"]["family"] == "bow"
        logged = {k for row in run.history for k in row}
        assert {"train/loss", "train/lr", "eval/accuracy"} <= logged and "eval/n" not in logged
        assert [row["_step"] for row in run.history if "eval/accuracy" in row] == \
            sorted(row["_step"] for row in run.history if "eval/accuracy" in row)
        assert {"best/accuracy", "test/accuracy", "transformed/char_drop:0.5/accuracy",
                "robustness/char_drop:0.5/drop"} <= set(run.summary)
        assert run.summary["status"] == "completed"
        assert {"report.html", "config.yaml", "predictions/test.jsonl"} <= set(run.files)


def test_tensorboard_has_one_entry_per_run_with_best_test_and_transformed_metrics(study):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _tmp, runs = study
    for run_dir in runs[:1]:
        assert not (run_dir / "tb" / "hparams").exists()
        assert len(list((run_dir / "tb").glob("events.out.tfevents.*"))) == 1
        acc = EventAccumulator(str(run_dir / "tb"))
        acc.Reload()
        scalars = set(acc.Tags()["scalars"])
        assert {"hparam/best_metric", "hparam/accuracy", "hparam/test/accuracy",
                "hparam/transformed/char_drop:0.5/accuracy"} <= scalars
        assert "eval/n" not in scalars and "hparam/n" not in scalars
        evals = [e.value for e in acc.Scalars("eval/accuracy")]
        assert acc.Scalars("hparam/best_metric")[-1].value == pytest.approx(max(evals))
        assert "config/text_summary" in acc.Tags()["tensors"]
        text = acc.Tensors("config/text_summary")[-1].tensor_proto.string_val[0].decode()
        assert "family: bow" in text
        # the HParams plugin's session record: augment and the study tags are hparams
        from tensorboard.plugins.hparams import plugin_data_pb2

        content = acc.SummaryMetadata("_hparams_/session_start_info").plugin_data.content
        info = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
        hp = {k: (v.string_value or v.number_value) for k, v in info.hparams.items()}
        assert hp["augment"] == "char_swap:0.3x8" and hp["study"] == "lr-sweep"
        assert hp["model"] == "bow" and hp["lr"] == pytest.approx(0.05)


def test_readme_says_how_to_see_the_runs():
    text = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert "mlflow ui --backend-store-uri" in text and "wandb sync" in text
    assert os.path.exists(Path(__file__).parents[1] / "configs" / "tracking.yaml")
