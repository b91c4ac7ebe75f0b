"""seed_everything, rng_state / set_rng_state."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from ftlab.errors import CheckpointError
from ftlab.training import rng_state, seed_everything, set_rng_state


def _draw():
    return random.random(), float(np.random.rand()), float(torch.rand(()))


def test_seed_everything_is_reproducible():
    seed_everything(5)
    a = _draw()
    seed_everything(5)
    assert _draw() == a
    seed_everything(6)
    assert _draw() != a
    with pytest.raises(ValueError, match="seed must be in"):
        seed_everything(-1)


def test_rng_state_survives_a_weights_only_round_trip(tmp_path):
    seed_everything(1)
    random.gauss(0, 1)  # put a cached gaussian into Python's state
    state = rng_state()
    expected = _draw()
    torch.save(state, tmp_path / "rng.pt")
    _draw()
    set_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True))
    assert _draw() == expected


def test_malformed_state_raises_checkpoint_error():
    with pytest.raises(CheckpointError, match="RNG state is malformed"):
        set_rng_state({"python": [3, [1, 2], None]})


def test_deterministic_flag_sets_torch_mode():
    before = torch.are_deterministic_algorithms_enabled()
    try:
        seed_everything(0, deterministic=True)
        assert torch.are_deterministic_algorithms_enabled()
    finally:
        torch.use_deterministic_algorithms(before)
