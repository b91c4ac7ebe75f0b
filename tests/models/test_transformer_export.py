"""End to end: ``train_run`` on a tiny LoRA transformer; a merged export loads without ftlab."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ftlab.config import load_config
from ftlab.errors import ConfigError
from ftlab.models import build_model, save_merged
from ftlab.runs import export_merged
from ftlab.runs import load_run_model, read_summary, train_run

from ._tiny_transformers import text_batch, tiny_model_dir

WORDS = {"pos": ["great", "wonderful", "superb", "fine"], "neg": ["awful", "boring", "dull", "bad"]}
TEXTS = ["a great and wonderful film", "boring , dull and bad", "superb acting",
         "an awful plot that is long enough to need truncation " * 3]


def _write_data(path: Path) -> Path:
    rows = [{"text": f"the {w} movie number {i}", "label": label}
            for i in range(12) for label, words in WORDS.items() for w in words[i % 2::2]]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory) -> Path:
    """One tiny LoRA run through the real pipeline (data -> encoder -> model -> fit -> ...)."""
    tmp = tmp_path_factory.mktemp("tf-run")
    data = _write_data(tmp / "reviews.jsonl")
    cfg = load_config(None, [
        f"output_dir={tmp}", f"data.source={data}", "data.split={validation: 0.2, test: 0.2}",
        "model.family=transformer", f"model.name={tiny_model_dir('bert')}",
        "model.lora={r: 4, alpha: 8}", "model.head_lr=0.02", "preprocess.max_length=16",
        "batching.batch_size=8", "train.epochs=2", "train.lr=0.01", "train.warmup=0.1",
        "train.trackers=[]", "train.log_every=1000", "train.device=cpu",
    ])
    train_run(cfg, name="tiny-lora")
    return tmp / "tiny-lora"


def test_train_run_end_to_end(lora_run: Path):
    summary = read_summary(lora_run)
    assert summary["status"] == "completed" and summary["model"] == "transformer"
    assert summary["epoch"] == 2 and summary["step"] > 2
    assert 0 < summary["parameters"]["trainable"] < summary["parameters"]["total"] / 20
    resolved = load_config(lora_run / "config.yaml")
    # the run's tokenizer was implied by the model (and is written into the resolved config)
    assert resolved.preprocess.tokenizer.kind == "pretrained"
    assert resolved.preprocess.tokenizer.name == str(tiny_model_dir("bert"))
    assert (lora_run / "checkpoints" / "best.json").is_file()
    evals = [json.loads(x) for x in (lora_run / "metrics.jsonl").read_text().splitlines()
             if json.loads(x)["kind"] == "eval"]
    assert evals and "accuracy" in evals[-1]["values"]


def test_merged_export_loads_with_plain_transformers(lora_run: Path, tmp_path: Path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    out = export_merged(lora_run, tmp_path / "export")
    assert not any("adapter" in p.name for p in out.iterdir())
    hf = AutoModelForSequenceClassification.from_pretrained(out, local_files_only=True).eval()
    tok = AutoTokenizer.from_pretrained(out, local_files_only=True)
    assert not any("lora" in n for n, _ in hf.named_parameters())
    assert set(hf.config.id2label.values()) == {"neg", "pos"}
    assert tok.model_max_length == 16

    _, encoder, model = load_run_model(lora_run, device=torch.device("cpu"))
    assert model.is_lora
    assert hf.config.id2label == dict(enumerate(encoder.labels.names))
    from ftlab.data import Example

    encoded = encoder.encode([Example(id=str(i), text=t, label=None) for i, t in enumerate(TEXTS)])
    inputs = tok(TEXTS, truncation=True, padding=True, return_tensors="pt")
    for i, e in enumerate(encoded):  # same ids (head truncation) as ftlab's encoder
        assert inputs["input_ids"][i][: len(e.ids)].tolist() == e.ids
    from ftlab.batching import collate

    batch = collate(encoded, pad_id=encoder.pad_id)
    with torch.no_grad():
        ours = model(batch)
        theirs = hf(**inputs).logits
    torch.testing.assert_close(theirs, ours, atol=1e-5, rtol=1e-4)
    assert torch.equal(theirs.argmax(1), ours.argmax(1))
    meta = json.loads((out / "ftlab_export.json").read_text())
    assert meta["merged"] is True and meta["preprocessing"]["max_length"] == 16
    with pytest.raises(ConfigError, match="not an empty directory"):
        export_merged(lora_run, out)


def test_full_finetuned_distilbert_round_trips(tmp_path: Path):
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(0)
    model = build_model("transformer", vocab_size=30522, pad_id=0, num_classes=3,
                        name=str(tiny_model_dir("distilbert"))).eval()
    out = save_merged(model, tmp_path / "distil", label_names=["a", "b", "c"])
    hf = AutoModelForSequenceClassification.from_pretrained(out, local_files_only=True).eval()
    batch = text_batch(types=False)
    with torch.no_grad():
        torch.testing.assert_close(hf(input_ids=batch.ids, attention_mask=batch.mask).logits,
                                   model(batch))
    assert hf.config.label2id == {"a": 0, "b": 1, "c": 2}


def test_only_transformers_export():
    bow = build_model("bow", vocab_size=10, pad_id=0, num_classes=2)
    with pytest.raises(ConfigError, match="only the transformer family"):
        save_merged(bow, "unused", label_names=["a", "b"])


def test_cli_export_without_merge_writes_an_adapter(lora_run: Path, tmp_path: Path):
    from typer.testing import CliRunner

    from ftlab.cli import app

    out = tmp_path / "adapter"
    result = CliRunner().invoke(app, ["export", str(lora_run), "--out", str(out), "--no-merge"])
    assert result.exit_code == 0, result.output
    assert "exported" in result.output
    assert (out / "adapter_config.json").is_file()
    meta = json.loads((out / "ftlab_export.json").read_text())
    assert meta["merged"] is False and meta["labels"] == ["neg", "pos"]
