"""ONNX export (bow, transformer) and the ONNX Runtime backend of ``ftlab predict``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from ftlab.cli import app
from ftlab.config import load_config
from ftlab.errors import ConfigError
from ftlab.models import OnnxRuntimeModel, build_model, export_onnx, quantize_onnx_int8
from ftlab.runs import load_run_model, predict_file, train_run

from _tiny_data import write_sentiment_jsonl

from runs._faults import cli

from ._tiny_transformers import text_batch, tiny_model_dir

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")


@pytest.fixture(scope="module")
def bow_run(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("onnx-bow")
    data = write_sentiment_jsonl(tmp / "d.jsonl", 80)
    cfg = load_config(None, [
        f"output_dir={tmp}", f"data.source={data}", "data.split={validation: 0.2, test: 0.2}",
        "model.family=bow", "model.embed_dim=8", "model.hidden_dims=[8]",
        "preprocess.max_length=12", "batching.batch_size=8", "train.epochs=2", "train.lr=0.05",
        "train.trackers=[]", "train.log_every=1000", "train.device=cpu",
    ])
    train_run(cfg, name="bow")
    return tmp / "bow"


@pytest.fixture()
def texts(tmp_path: Path) -> Path:
    rows = ["great wonderful film", "awful boring plot and weak cast", "the movie",
            "superb lovely brilliant story really quite great and the cast was fine too"]
    path = tmp_path / "texts.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in rows), encoding="utf-8")
    return path


def _read(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def test_tiny_transformer_agrees_with_torch_on_other_shapes(tmp_path: Path):
    torch.manual_seed(0)
    model = build_model("transformer", vocab_size=30522, pad_id=0, num_classes=3,
                        name=str(tiny_model_dir("bert"))).eval()
    path = export_onnx(model, tmp_path / "tf.onnx")
    ort_model = OnnxRuntimeModel(path, threads=1)
    for n, seed in ((5, 1), (1, 2)):  # batch sizes and lengths unlike the export's example
        batch = text_batch(n, 3, seed=seed)
        with torch.no_grad():
            ref = model(batch)
        torch.testing.assert_close(ort_model(batch), ref, atol=1e-4, rtol=1e-4)
    q = OnnxRuntimeModel(quantize_onnx_int8(path, tmp_path / "tf.int8.onnx"), threads=1)
    batch = text_batch(8, 3, seed=3)
    with torch.no_grad():
        ref = torch.softmax(model(batch), 1)
    assert q(batch).shape == ref.shape
    assert float((torch.softmax(q(batch), 1) - ref).abs().max()) < 0.1


def test_rnn_export_is_refused_with_the_reason(tmp_path: Path):
    rnn = build_model("rnn", vocab_size=20, pad_id=0, num_classes=2)
    with pytest.raises(ConfigError, match="bow and transformer.*pack_padded_sequence"):
        export_onnx(rnn, tmp_path / "rnn.onnx")
    assert not list(tmp_path.iterdir())


def test_cli_export_and_predict_with_onnxruntime(bow_run: Path, texts: Path, tmp_path: Path):
    """One export (CLI, int8 too) and the ONNX Runtime predictions, against torch."""
    res = CliRunner().invoke(app, ["export", str(bow_run), "--format", "onnx", "--quantize",
                                   "int8", "--out", str(tmp_path / "export")])
    assert res.exit_code == 0, res.output
    assert "model.int8.onnx, model.onnx" in " ".join(res.output.split())
    assert "WARNING" not in res.output  # the exporter's and quantizer's advice stays quiet
    out = tmp_path / "export"
    info = json.loads((out / "ftlab_export.json").read_text())
    assert info["format"] == "onnx" and info["inputs"] == ["ids", "mask"]
    assert info["files"] == ["model.int8.onnx", "model.onnx"]
    assert (out / "encoder" / "encoder.json").is_file()

    # the exported file alone (ONNX Runtime + ftlab's encoder) gives the run's logits
    _, encoder, model = load_run_model(bow_run)
    from ftlab.batching import collate
    from ftlab.data import Example

    rows = [json.loads(x)["text"] for x in texts.read_text().splitlines()]
    batch = collate(encoder.encode([Example(id=str(i), text=t, label=None)
                                    for i, t in enumerate(rows)]), pad_id=encoder.pad_id)
    with torch.no_grad():
        torch.testing.assert_close(OnnxRuntimeModel(out / "model.onnx")(batch), model(batch),
                                   atol=1e-5, rtol=1e-4)

    ref = predict_file(bow_run, input=texts, output=tmp_path / "torch.jsonl")
    got = predict_file(bow_run, input=texts, output=tmp_path / "ort.jsonl", backend="onnxruntime")
    assert got["backend"] == "onnxruntime" and got["rows"] == ref["rows"] == 4
    a, b = _read(tmp_path / "torch.jsonl"), _read(tmp_path / "ort.jsonl")
    assert [set(r) for r in a] == [set(r) for r in b]  # same fields, same order of rows
    assert [(r["id"], r["text"], r["pred"]) for r in a] == [(r["id"], r["text"], r["pred"]) for r in b]
    for ra, rb in zip(a, b):
        assert ra["probs"].keys() == rb["probs"].keys()
        np.testing.assert_allclose(list(ra["probs"].values()), list(rb["probs"].values()),
                                   atol=1e-5)
    cached = sorted(p.name for p in (bow_run / "onnx").iterdir())
    assert cached == ["model.onnx", "source.json"]

    # int8 from the cached fp32 file (no new export); the CLI prints the backend
    res = CliRunner().invoke(app, ["predict", str(bow_run), "-i", str(texts), "-o",
                                   str(tmp_path / "int8.jsonl"), "--backend", "onnxruntime",
                                   "--quantize", "int8"])
    assert res.exit_code == 0, res.output
    assert "backend=onnxruntime, quantize=int8" in " ".join(res.output.split())
    assert (bow_run / "onnx" / "model.int8.onnx").is_file()
    for ra, rq in zip(a, _read(tmp_path / "int8.jsonl")):
        assert abs(ra["probs"]["pos"] - rq["probs"]["pos"]) < 0.1


@pytest.mark.parametrize("args, message", [
    (["export", "{missing}", "--format", "onnx", "--out", "{out}"], "not a run directory"),
    (["export", "{run}", "--format", "tflite", "--out", "{out}"], "--format must be hf or onnx"),
    (["export", "{run}", "--format", "hf", "--out", "{out}"], "only transformer runs"),
    (["export", "{run}", "--quantize", "int4", "--format", "onnx", "--out", "{out}"],
     "--quantize must be none or int8"),
    (["predict", "{run}", "-i", "{texts}", "-o", "{out}", "--backend", "tensorrt"],
     "--backend must be torch or onnxruntime"),
])
def test_bad_input_is_one_message_and_exit_2(bow_run, texts, tmp_path, args, message):
    values = {"missing": str(tmp_path / "nope"), "out": str(tmp_path / "o"), "run": str(bow_run),
              "texts": str(texts)}
    code, output = cli(*[a.format(**values) for a in args])  # the real entry point
    assert code == 2, output
    assert message in " ".join(output.split()) and "Traceback" not in output
