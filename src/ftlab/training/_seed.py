"""Seeding and RNG state capture: explicit, saved with every checkpoint."""

from __future__ import annotations

import os
import random
from typing import Any

import numpy as np
import torch

from ftlab.errors import CheckpointError

__all__ = ["seed_everything", "rng_state", "set_rng_state"]


def seed_everything(seed: int, *, deterministic: bool = False) -> None:
    """Seed Python ``random``, NumPy's global RNG and torch (CPU and every CUDA device).

    Args:
        seed: the seed; any non-negative integer below 2**32.
        deterministic: also ask torch for deterministic algorithms (``warn_only`` is off, so an
            op without a deterministic implementation raises) and disable cuDNN autotuning.
            Needed for bit-identical runs on GPU; CPU runs are deterministic without it.

    Raises:
        ValueError: when ``seed`` is negative or too large for NumPy.
    """
    if not 0 <= int(seed) < 2**32:
        raise ValueError(
            f"seed must be in [0, 2**32), got {seed=}; pick a smaller non-negative seed"
        )
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds CUDA devices too
    if deterministic:
        # cuBLAS needs this workspace setting for deterministic matmuls (read at first use)
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True


def rng_state() -> dict[str, Any]:
    """Capture every global RNG state ftlab relies on.

    Returns:
        ``{"python": [...], "numpy": {...}, "torch": ByteTensor, "cuda": [ByteTensor, ...]}``;
        only lists, ints, floats, strings and tensors, so it saves with ``torch.save`` and loads
        with ``torch.load(weights_only=True)``.
    """
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "python": [version, list(internal), gauss],
        "numpy": {
            "kind": str(kind),
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore RNG states captured by :func:`rng_state`.

    Args:
        state: the dict returned by :func:`rng_state` (possibly after a save/load round trip).

    Raises:
        CheckpointError: when a part is missing or malformed.
    """
    try:
        version, internal, gauss = state["python"]
        random.setstate((int(version), tuple(int(v) for v in internal), gauss))
        np_state = state["numpy"]
        keys = np.asarray(np_state["keys"].numpy() if isinstance(np_state["keys"], torch.Tensor)
                          else np_state["keys"], dtype=np.uint32)
        np.random.set_state(
            (np_state["kind"], keys, int(np_state["pos"]), int(np_state["has_gauss"]),
             float(np_state["cached_gaussian"]))
        )
        torch.set_rng_state(state["torch"])
        cuda_states = state.get("cuda") or []
        if cuda_states and torch.cuda.is_available():
            if len(cuda_states) == torch.cuda.device_count():
                torch.cuda.set_rng_state_all(cuda_states)
            else:  # a different GPU count: seed what we can, device 0 at least
                torch.cuda.set_rng_state(cuda_states[0], 0)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(
            f"the saved RNG state is malformed ({type(exc).__name__}: {exc}); it must be the dict "
            "written by ftlab.training.rng_state(); resume from another checkpoint"
        ) from exc
