"""Every shipped config validates; config errors list every problem with a fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftlab.config import RunConfig, apply_overrides, dump_config, load_config, parse_config
from ftlab.errors import ConfigError
from ftlab.runs import QUICKSTART_CONFIG

from _system import uses_wordnet, wordnet_missing

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))


def test_there_are_shipped_configs() -> None:
    names = {p.stem for p in CONFIGS}
    assert {"quickstart", "bow-glove", "bilstm", "sst2-file"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_shipped_config_validates_and_round_trips(path: Path) -> None:
    cfg = load_config(path)
    assert isinstance(cfg, RunConfig)
    again = parse_config(__import__("yaml").safe_load(dump_config(cfg)))
    assert again == cfg


def test_quickstart_command_uses_the_shipped_quickstart_config() -> None:
    assert load_config(QUICKSTART_CONFIG) == load_config(ROOT / "configs" / "quickstart.yaml")


def test_all_problems_reported_at_once_with_closest_key() -> None:
    with pytest.raises(ConfigError) as err:
        load_config(None, ["train.lr=-1", "train.epochz=2", "model.family=rnn",
                           "model.hiden_size=8", "batching.balance=sometimes"])
    msg = str(err.value)
    assert "4 problem(s)" in msg
    assert "train.epochz: unknown key; did you mean 'epochs'?" in msg
    assert "model.hiden_size: unknown key; did you mean 'hidden_size'?" in msg
    assert "train.lr" in msg and "greater than 0" in msg
    assert "batching.balance" in msg and "sometimes" in msg


def test_overrides_parse_yaml_values_and_nest() -> None:
    raw = apply_overrides({}, ["train.lr=3e-5", "model.hidden_dims=[64, 32]", "data.source=x.csv"])
    assert raw == {"train": {"lr": 3e-5}, "model": {"hidden_dims": [64, 32]},
                   "data": {"source": "x.csv"}}
    with pytest.raises(ConfigError, match="key.sub=value"):
        apply_overrides({}, ["train.lr"])


def test_cross_field_checks() -> None:
    with pytest.raises(ConfigError, match="nesterov needs optimizer: sgd"):
        load_config(None, ["train.nesterov=true"])
    with pytest.raises(ConfigError, match="head_tokens"):
        load_config(None, ["preprocess.max_length=10", "preprocess.head_tokens=20"])
    with pytest.raises(ConfigError, match="glove"):
        load_config(None, ["model.embeddings=glove", "model.embed_dim=100"])


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  lr: [1\n  epochs: 2\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: YAML syntax error at line \d+"):
        load_config(bad)


def _tiny_sst2_files(tmp: Path, splits=("train", "validation")) -> dict[str, str]:
    """Stand-ins for ../shared/data/sst2 (tests never read ../shared), one per split."""
    import gzip
    import json

    rows = [{"text": f"{w} movie number {i}", "label": int(w == "good")}
            for i in range(60) for w in ("good", "bad")]
    out = {}
    for split in splits:
        path = tmp / f"{split}.jsonl.gz"
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in rows)
        out[split] = str(path)
    return out


def _needs_hub(cfg: RunConfig) -> str | None:
    """Why a config cannot dry-run offline (hub dataset or hub model), else None."""
    if cfg.data.source.startswith("hf:") and not cfg.data.files:
        return f"data.source {cfg.data.source!r} is downloaded from the Hugging Face hub"
    name = getattr(cfg.model, "name", None)
    if cfg.model.family in ("transformer", "prompt") and name is not None:
        if name.lower() not in ("minilm", "all-minilm-l6-v2") and not Path(name).exists():
            return f"model.name {name!r} is downloaded from the Hugging Face hub"
    return None


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_shipped_config_dry_runs(path: Path, tmp_path: Path) -> None:
    """Each config builds data, encoder and model and takes one optimizer step."""
    from ftlab.runs import dry_run

    overrides = ["data.max_examples=120"]
    cfg = load_config(path)
    reason = _needs_hub(cfg)
    if reason:
        pytest.skip(f"offline test machine: {reason} (the config itself validates above)")
    if uses_wordnet(path.read_text(encoding="utf-8")) and (why := wordnet_missing()):
        pytest.skip(why)
    if cfg.data.files:  # local files that live outside the repo: use a tiny stand-in
        files = _tiny_sst2_files(tmp_path, tuple(cfg.data.files))
        overrides += [f"data.files.{k}={v}" for k, v in files.items()]
    info = dry_run(load_config(path, overrides))
    assert info["data_errors"] == 0
    assert info["first_loss"] > 0 and info["parameters"] > 0
    assert sum(info["splits"].values()) > 0


@pytest.mark.parametrize("base", ["sst2-robustness", "imdb-distilbert"])
def test_augmented_twin_differs_only_in_augmentation(base: str) -> None:
    """The comparison is fair only if the augmented config is the same run plus train.augment."""
    plain = load_config(ROOT / "configs" / f"{base}.yaml").model_dump()
    twin = load_config(ROOT / "configs" / f"{base}-augmented.yaml").model_dump()
    assert twin["train"].pop("augment") and not plain["train"].pop("augment")
    assert sum(a["n"] for a in load_config(ROOT / "configs" / f"{base}-augmented.yaml")
               .model_dump()["train"]["augment"]) == 5000
    assert twin.pop("name") == f"{base}-augmented" and plain.pop("name") == base
    assert twin == plain
    assert plain["robustness"]["transforms"]  # both evaluate transformed test sets
