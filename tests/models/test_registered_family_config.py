"""A family registered with the public ``register_model`` is chosen from YAML."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from ftlab.config import RegisteredModelConfig, load_config
from ftlab.errors import ConfigError
from ftlab.models import MODELS, register_model
from ftlab.runs import dry_run


class _MeanEmbed(nn.Module):
    """Mean of the token embeddings -> linear."""

    def __init__(self, *, vocab_size: int, pad_id: int, num_classes: int, width: int) -> None:
        super().__init__()
        self.num_classes = self.num_outputs = num_classes
        self.width = width
        self.emb = nn.Embedding(vocab_size, width, padding_idx=pad_id)
        self.out = nn.Linear(width, num_classes)

    def forward(self, batch):  # (B, T) -> (B, C)
        mask = batch.mask.unsqueeze(-1).float()
        return self.out((self.emb(batch.ids) * mask).sum(1) / mask.sum(1).clamp(min=1))


def _build(*, vocab_size, pad_id, num_classes, binary_mode, init, embeddings, width: int = 4):
    return _MeanEmbed(vocab_size=vocab_size, pad_id=pad_id, num_classes=num_classes, width=width)


@pytest.fixture
def mean_embed():
    register_model("mean_embed", _build)
    yield
    MODELS.pop("mean_embed")


def _config(tmp_path: Path, model: str):
    path = tmp_path / "c.yaml"
    path.write_text(f"output_dir: {tmp_path}\ndata: {{source: 'builtin:anagram', options: "
                    f"{{size: 60}}}}\npreprocess: {{tokenizer: {{kind: char}}}}\n"
                    f"model: {model}\ntrain: {{epochs: 1, trackers: []}}\n", encoding="utf-8")
    return load_config(path)


def test_a_registered_family_is_built_from_yaml(tmp_path, mean_embed):
    cfg = _config(tmp_path, "{family: mean_embed, width: 6}")
    assert isinstance(cfg.model, RegisteredModelConfig) and cfg.model.options == {"width": 6}
    info = dry_run(cfg)
    # 6-wide embeddings over the char vocabulary + a 6 -> 2 head
    assert info["parameters"] == info["vocab_size"] * 6 + 6 * 2 + 2
    assert torch.isfinite(torch.tensor(info["first_loss"]))


def test_an_unknown_option_or_family_is_refused_with_the_closest_name(
        tmp_path, mean_embed):
    with pytest.raises(ConfigError, match="widht.*width"):
        dry_run(_config(tmp_path, "{family: mean_embed, widht: 6}"))
    with pytest.raises(ConfigError, match="(?i)did you mean 'mean_embed'"):
        dry_run(_config(tmp_path, "{family: mean_embd}"))
