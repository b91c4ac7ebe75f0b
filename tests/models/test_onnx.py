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
from ftlab.models import (
    Int8Settings,
    OnnxRuntimeModel,
    build_model,
    export_onnx,
    fp32_head_nodes,
    quantize_onnx_int8,
)
from ftlab.runs import load_run_model, onnx_model_for_run, predict_file, train_run

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
    # the default settings keep the pooler and the classifier float32, every other weight int8
    floats, int8 = _weights(tmp_path / "tf.int8.onnx")
    head = {"model.hf_model.bert.pooler.dense.weight", "model.hf_model.classifier.weight"}
    assert head <= floats
    assert int8 and not {w for w in int8 if "pooler" in w or "classifier" in w}
    batch = text_batch(8, 3, seed=3)
    with torch.no_grad():
        ref = torch.softmax(model(batch), 1)
    assert q(batch).shape == ref.shape
    assert float((torch.softmax(q(batch), 1) - ref).abs().max()) < 0.1


def _weights(path: Path) -> tuple[set[str], dict[str, tuple[int, ...]]]:
    """Weights a MatMul/Gemm reads as float32 initializers, and the int8-quantized weights
    (name without ``_quantized``) with the shape of their scale."""
    import onnx
    from onnx import numpy_helper

    g = onnx.load(str(path)).graph
    init = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    floats = {n.input[1] for n in g.node if n.op_type in ("MatMul", "Gemm")
              and n.input[1] in init and init[n.input[1]].dtype == np.float32}
    int8 = {n.input[1].removesuffix("_quantized"): init[n.input[1].replace("_quantized", "_scale")
                                                      ].shape
            for n in g.node if n.op_type == "MatMulInteger" and n.input[1] in init}
    return floats, int8


def _toy_graph(path: Path) -> Path:
    """x (B, T, 4) -> MatMul w1 -> + x -> mean over T -> Gemm w2 -> Tanh -> Gemm w3 -> logits:
    one per-token layer and a two-layer head, with a residual path around w1."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)

    def w(name: str, *shape: int) -> onnx.TensorProto:
        return numpy_helper.from_array(rng.normal(size=shape).astype(np.float32), name)

    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"], name="tok"),
             helper.make_node("Add", ["h", "x"], ["r"], name="res"),
             helper.make_node("ReduceMean", ["r", "axes"], ["m"], keepdims=0, name="pool"),
             helper.make_node("Gemm", ["m", "w2", "b2"], ["p"], name="pooler"),
             helper.make_node("Tanh", ["p"], ["t"], name="tanh"),
             helper.make_node("Gemm", ["t", "w3", "b3"], ["logits"], name="classifier")]
    graph = helper.make_graph(
        nodes, "toy", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", "T", 4])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["B", 2])],
        [w("w1", 4, 4), w("w2", 4, 4), w("b2", 4), w("w3", 4, 2), w("b3", 2),
         numpy_helper.from_array(np.array([1], dtype=np.int64), "axes")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=10)
    onnx.save(model, str(path))
    return path


def test_fp32_head_nodes_counts_linear_layers_back_from_the_output(tmp_path: Path):
    import onnx

    g = onnx.load(str(_toy_graph(tmp_path / "toy.onnx"))).graph
    assert fp32_head_nodes(g, 0) == []
    assert fp32_head_nodes(g, 1) == ["classifier"]
    assert fp32_head_nodes(g, 2) == ["classifier", "pooler"]
    assert fp32_head_nodes(g, 3) == ["classifier", "pooler", "tok"]  # the residual does not count


@pytest.mark.parametrize("settings, head_fp32, scale_shape", [
    (Int8Settings(), {"w2", "w3"}, (4,)),  # the default: per channel, pooler + classifier fp32
    (Int8Settings(fp32_head_layers=1), {"w3"}, (4,)),
    (Int8Settings(per_channel=False, fp32_head_layers=0), set(), ()),  # the old per-tensor file
])
def test_int8_settings_reach_the_quantizer(tmp_path: Path, settings, head_fp32, scale_shape):
    import onnxruntime as ort

    src = _toy_graph(tmp_path / "toy.onnx")
    dst = quantize_onnx_int8(src, tmp_path / "toy.int8.onnx", settings)
    floats, int8 = _weights(dst)
    assert floats == head_fp32
    assert set(int8) == {"w1", "w2", "w3"} - head_fp32
    assert int8["w1"] == scale_shape  # one scale per output channel, or one per tensor
    x = np.random.default_rng(1).normal(size=(3, 5, 4)).astype(np.float32)
    ref, got = (ort.InferenceSession(str(p)).run(["logits"], {"x": x})[0] for p in (src, dst))
    np.testing.assert_allclose(got, ref, atol=0.3)


def test_int8_settings_key_the_run_cache(bow_run: Path, tmp_path: Path):
    """Each Int8Settings gets its own cached file; a cache of the old layout (one per-tensor
    model.int8.onnx, source.json without a cache version) is discarded, never reused."""
    import shutil

    run = Path(shutil.copytree(bow_run, tmp_path / "run"))
    _, _, model = load_run_model(run)
    per_tensor = Int8Settings(per_channel=False, fp32_head_layers=0)
    a = onnx_model_for_run(run, model, quantize="int8", int8=per_tensor, threads=1).path
    b = onnx_model_for_run(run, model, quantize="int8", threads=1).path
    assert a != b and a.is_file() and b.is_file()
    assert _weights(a)[0] == set() and _weights(b)[1] == {}  # bow's two layers are its head
    assert onnx_model_for_run(run, model, quantize="int8", int8=per_tensor).path == a  # reused
    # the layout before the settings were keyed: drop the version, leave a per-tensor file
    source = run / "onnx" / "source.json"
    old = json.loads(source.read_text())
    old.pop("cache_version")
    source.write_text(json.dumps(old))
    shutil.copy(a, run / "onnx" / "model.int8.onnx")
    c = onnx_model_for_run(run, model, quantize="int8", threads=1).path
    assert sorted(p.name for p in (run / "onnx").iterdir()) == sorted(
        ["model.onnx", b.name, "source.json"])  # the old files are gone, b rebuilt
    assert c == b and _weights(c)[1] == {}
    assert json.loads(source.read_text())["cache_version"] >= 2


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
    assert info["int8"] == {"per_channel": True, "reduce_range": False, "fp32_head_layers": 2}
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
    assert len(list((bow_run / "onnx").glob("model.int8-*.onnx"))) == 1
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
