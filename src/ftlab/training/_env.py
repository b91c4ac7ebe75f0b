"""env.json: what a run ran on."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ftlab.core import atomic_write_json

__all__ = ["write_env_json", "collect_env"]

_PACKAGES = ("torch", "numpy", "transformers", "scikit-learn", "safetensors", "ftlab")


def _git_commit(cwd: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def collect_env(
    *, seed: int | None, device: str, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Versions, platform, CPU count, device, git commit of the cwd and the seed.

    Args:
        seed: the run's seed.
        device: the training device (``"cpu"``, ``"cuda:0"``).
        extra: more JSON-serialisable entries to record.

    Returns:
        The environment description (package versions are ``None`` when not installed).
    """
    versions: dict[str, str | None] = {"python": sys.version.split()[0]}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)  # no import: stays cheap
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    env: dict[str, Any] = {
        "versions": versions,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "device": str(device),
        "git_commit": _git_commit(Path.cwd()),
        "seed": seed,
    }
    if "torch" in sys.modules:  # only when already imported: CUDA details
        torch = sys.modules["torch"]
        env["cuda_available"] = bool(torch.cuda.is_available())
        if env["cuda_available"]:
            env["cuda_device_name"] = torch.cuda.get_device_name(0)
            env["cuda_version"] = torch.version.cuda
    env.update(dict(extra or {}))
    return env


def write_env_json(
    path: str | Path, *, seed: int | None, device: str, extra: Mapping[str, Any] | None = None
) -> Path:
    """Write :func:`collect_env` to ``path`` atomically (usually ``runs/<name>/env.json``).

    Args:
        path: destination file.
        seed: the run's seed.
        device: the training device.
        extra: more entries to record.

    Returns:
        The written path.
    """
    return atomic_write_json(path, collect_env(seed=seed, device=device, extra=extra))
