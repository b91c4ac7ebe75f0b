"""Search spaces: file format, validation (all problems at once), log defaults, conditions."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftlab.config import load_config
from ftlab.errors import ConfigError
from ftlab.tuning import (
    boundary_warnings,
    dump_space,
    load_space,
    parse_space,
    refine_space,
)

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_space_files_validate():
    quick = load_config(ROOT / "configs" / "quickstart.yaml")
    space = load_space(ROOT / "configs" / "spaces" / "bow-lr-dropout.yaml", config=quick)
    assert space["train.lr"].log and not space["model.dropout"].log
    assert space.grid() == {"train.lr": [3e-4, 3e-3, 3e-2], "model.dropout": [0.0, 0.3, 0.6]}
    sci = load_space(ROOT / "configs" / "spaces" / "scientific-optimizer.yaml", config=quick)
    assert [p.name for p in sci.scientific] == ["train.optimizer"]
    assert [p.name for p in sci.nuisance] == ["train.lr", "train.weight_decay", "train.momentum"]
    assert sci.fixed == {"train.schedule": "cosine"}
    assert sci["train.weight_decay"].log  # weight decay: log by default


def test_round_trip(tmp_path):
    src = {"params": {
        "train.lr": {"low": "1e-4", "high": 0.1},  # YAML 1.1 reads 1e-4 as a string
        "train.epochs": {"type": "int", "low": 1, "high": 4, "grid": [1, 2]},
        "model.hidden_dims": {"choices": [[8], [16, 8]]},
        "train.optimizer": {"choices": ["adam", "sgd"], "role": "scientific"},
        "train.momentum": {"low": 0.0, "high": 0.9, "when": {"train.optimizer": "sgd"}},
        "train.schedule": {"role": "fixed", "value": "cosine"},
    }}
    space = parse_space(src)
    assert space["train.lr"].low == 1e-4 and space["train.epochs"].kind == "int"
    again = load_space(dump_space(space, tmp_path / "s.yaml"))
    assert again == space


def test_all_problems_at_once_with_file_and_parameter(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "params:\n"
        "  train.lrr: {low: 1.0e-3, high: 1.0e-2}\n"
        "  model.dropout: {low: 0.5, high: 0.1, grdi: [0.2]}\n"
        "  train.weight_decay: {low: 0.0, high: 0.1}\n"
        "  train.clip_norm: {low: -1.0, high: 1.0, log: true}\n"
        "  train.epochs: {type: int, low: 1, high: 5, grid: [2.5, 9]}\n"
        "  train.optimizer: {choices: [adam, rmsprop]}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_space(path)
    msg = str(info.value)
    assert str(path) in msg and "8 problem(s)" in msg
    assert "unknown config field 'train.lrr'; did you mean 'train.lr'?" in msg
    assert "params.model.dropout.grdi: unknown key; did you mean 'grid'?" in msg
    assert "params.model.dropout: `low < high` must hold, but got (low=0.5, high=0.1)" in msg
    assert "params.train.weight_decay: a log scale needs low > 0" in msg
    assert "params.train.clip_norm: a log scale needs low > 0" in msg
    assert "value 2.5 is not an integer" in msg and "value 9 lies outside" in msg
    assert "params.train.optimizer: value 'rmsprop'" in msg


def test_value_refused_by_config_and_scientific_needs_values():
    with pytest.raises(ConfigError) as info:
        parse_space({"params": {"model.dropout": {"low": 0.0, "high": 1.0},
                                "train.lr": {"low": 1e-4, "high": 1e-2, "role": "scientific"}}})
    msg = str(info.value)
    assert "params.model.dropout: value 1.0 is not valid" in msg
    assert "params.train.lr: a scientific parameter" in msg


def test_log_default_and_linear_lr_warning():
    space = parse_space({"params": {"train.lr": {"low": 1e-4, "high": 1e-1},
                                    "model.dropout": {"low": 0.0, "high": 0.5}}})
    assert space["train.lr"].log and not space["model.dropout"].log and not space.warnings
    linear = parse_space({"params": {"train.lr": {"low": 1e-4, "high": 1e-1, "log": False}}})
    assert not linear["train.lr"].log
    assert len(linear.warnings) == 1 and "linearly spaced learning rates" in linear.warnings[0]


def test_conditional_params_only_sampled_when_condition_holds():
    optuna = pytest.importorskip("optuna")
    space = parse_space({"params": {
        "train.optimizer": {"choices": ["adam", "sgd"]},
        "train.momentum": {"low": 0.0, "high": 0.9, "when": {"train.optimizer": "sgd"}},
        "model.lora.r": {"type": "int", "low": 2, "high": 8, "when": {"model.family": "transformer"}},
    }})
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = []
    for _ in range(12):
        trial = study.ask()
        values = space.sample(trial, base={"model": {"family": "bow"}})
        seen.append(values)
        study.tell(trial, 0.0)
    assert {v["train.optimizer"] for v in seen} == {"adam", "sgd"}
    for v in seen:
        assert ("train.momentum" in v) == (v["train.optimizer"] == "sgd")
        assert "model.lora.r" not in v  # the base config is not a transformer


def test_boundary_warning_at_edge_not_in_middle():
    space = parse_space({"params": {"train.lr": {"low": 1e-4, "high": 1e-1},
                                    "model.dropout": {"low": 0.1, "high": 0.5}}})
    assert boundary_warnings(space, {"train.lr": 3e-3, "model.dropout": 0.3}) == []
    assert boundary_warnings(space, {"train.lr": 2e-4, "model.dropout": 0.3}) == []  # 10% in log
    warns = boundary_warnings(space, {"train.lr": 0.09, "model.dropout": 0.3})
    assert len(warns) == 1 and warns[0].startswith("train.lr") and "upper edge" in warns[0]
    assert "extend the range" in warns[0] and "log scale" in warns[0]
    assert "low: 0.0001, high: 1" in warns[0]  # a decade more on the log scale
    low = boundary_warnings(space, {"train.lr": 3e-3, "model.dropout": 0.11})
    assert len(low) == 1 and "lower edge" in low[0] and "low: 0, high: 0.5" in low[0]


def test_refine_narrows_log_range_around_best():
    space = parse_space({"params": {"train.lr": {"low": 1e-4, "high": 1e-1, "grid": [1e-3]},
                                    "train.optimizer": {"choices": ["adam", "sgd"]}}})
    refined = refine_space(space, {"train.lr": 3e-3, "train.optimizer": "adam"})
    lr = refined["train.lr"]
    assert lr.log and lr.grid is None
    assert lr.low < 3e-3 < lr.high
    assert lr.high / lr.low == pytest.approx((1e-1 / 1e-4) ** 0.5, rel=0.02)  # half the decades
    assert refined["train.optimizer"] == space["train.optimizer"]
    twice = refine_space(refined, {"train.lr": 3e-3})
    assert twice["train.lr"].high / twice["train.lr"].low < lr.high / lr.low
