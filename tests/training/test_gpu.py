"""CUDA: a run trains and predicts on the GPU (fp32 and bf16). Opt-in marker ``gpu``; skipped
without a CUDA device (``bench/gpu.sh`` runs these on a lent device)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ftlab.config import load_config
from ftlab.runs import load_run_model, predict_file, read_summary, train_run

from _tiny_data import write_sentiment_jsonl

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_bow_run_trains_on_cuda(tmp_path: Path, precision: str):
    data = write_sentiment_jsonl(tmp_path / "d.jsonl", 80)
    cfg = load_config(None, [
        f"output_dir={tmp_path}", f"data.source={data}", "data.split={validation: 0.2, test: 0.2}",
        "model.family=bow", "model.embed_dim=16", "model.hidden_dims=[16]",
        "batching.batch_size=8", "train.epochs=3", "train.lr=0.05", "train.trackers=[]",
        "train.device=cuda", f"train.precision={precision}",
    ])
    train_run(cfg, name="gpu")
    run = tmp_path / "gpu"
    summary = read_summary(run)
    assert summary["status"] == "completed" and summary["best_metric"] > 0.6
    assert json.loads((run / "env.json").read_text())["device"].startswith("cuda")
    _, _, model = load_run_model(run)
    assert next(model.parameters()).device.type == "cuda"
    # the same weights on the CPU predict the same probabilities
    gpu = predict_file(run, input=data, output=tmp_path / "gpu.jsonl")
    assert gpu["rows"] == 80
    probs_gpu = [r["probs"]["pos"] for r in map(json.loads, (tmp_path / "gpu.jsonl").open())]
    cfg_cpu = (run / "config.yaml").read_text().replace("device: cuda", "device: cpu")
    (run / "config.yaml").write_text(cfg_cpu)
    predict_file(run, input=data, output=tmp_path / "cpu.jsonl")
    probs_cpu = [r["probs"]["pos"] for r in map(json.loads, (tmp_path / "cpu.jsonl").open())]
    np.testing.assert_allclose(probs_gpu, probs_cpu, atol=1e-4)
