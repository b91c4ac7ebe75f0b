"""Reading checkpoints back: validation, weights-only loading, restoring live objects."""

from __future__ import annotations

import pickle
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ftlab.core import BatchSource
from ftlab.core import read_json as _read_json
from ftlab.errors import CheckpointError
from ftlab.training._events import observer_keys
from ftlab.training._seed import set_rng_state
from ftlab.training._state import TrainState

__all__ = [
    "LoadedCheckpoint", "load_checkpoint", "restore", "find_resume_checkpoint", "read_json",
    "checkpoint_name", "retune_optimizer",
]

REQUIRED_FILES = ("model.safetensors", "optimizer.pt", "rng.pt", "trainer_state.json")


def read_json(path: Path) -> dict[str, Any]:
    """Read a checkpoint's JSON object (:func:`ftlab.core.read_json`'s convention).

    Raises:
        CheckpointError: naming the file (and line) when it is missing or bad.
    """
    return _read_json(path, what="checkpoint file", error=CheckpointError,
                      fix="resume from another checkpoint")


REFUSED = "refused: this file would execute code when loaded"

# pickle opcodes that import or call Python objects: a pickle holding them runs code on load
_CODE_OPS = frozenset({"GLOBAL", "STACK_GLOBAL", "REDUCE", "INST", "OBJ", "NEWOBJ", "NEWOBJ_EX",
                       "BUILD", "EXT1", "EXT2", "EXT4"})


def code_in_pickle(path: Path) -> str | None:
    """What in ``path`` would run code if unpickled (a global's name, ``"TorchScript code"``),
    found by reading the opcodes without executing them; ``None`` when nothing is found."""
    import io
    import pickletools
    import zipfile

    try:
        payloads: list[bytes] = []
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
                if any(n.endswith(("/code/", ".py")) or "/code/" in n for n in names):
                    return "TorchScript code"
                payloads = [zf.read(n) for n in names if n.endswith(".pkl")][:4]
        else:
            payloads = [path.read_bytes()[: 64 * 2**20]]
        for data in payloads:
            last_str, found = "", None
            # the whole stream must parse as a pickle (to STOP): random bytes are corruption
            for op, arg, _ in pickletools.genops(io.BytesIO(data)):
                if isinstance(arg, str):
                    last_str = arg
                if found is None and op.name in ("GLOBAL", "INST"):
                    found = str(arg).replace(" ", ".")
                elif found is None and op.name == "STACK_GLOBAL":
                    found = f"a global ({last_str or '?'})"
                elif found is None and op.name in _CODE_OPS and op.name != "BUILD":
                    found = f"opcode {op.name}"
            if found is not None:
                return found
    except Exception:  # noqa: BLE001 - unreadable as a pickle: the caller reports corruption
        return None
    return None


def _refused(path: Path, what: str) -> CheckpointError:
    return CheckpointError(
        f"{path}: {REFUSED} ({what}); ftlab never loads code from checkpoints. Do not use "
        "this file; resume from a checkpoint written by ftlab")


def _load_pt(path: Path) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"GLOBAL\s+(\S+)", str(exc))
        if found is None and "global" not in str(exc).lower():  # not a code object: garbage?
            code = code_in_pickle(path)  # e.g. protocol 4/5 pickles torch's reader rejects
            if code is not None:
                raise _refused(path, f"it references {code}") from exc
            lines = [ln for ln in str(exc).splitlines() if ln.strip()]
            detail = next((ln for ln in lines if "Unsupported" in ln), lines[-1] if lines else "")
            raise CheckpointError(
                f"{path} is truncated or corrupted (not a torch file: {detail.strip()}); resume "
                "from another checkpoint"
            ) from exc
        what = f" ({found.group(1)})" if found else ""
        raise _refused(path, f"it references a Python callable{what}; refusing to unpickle it"
                       ) from exc
    except FileNotFoundError as exc:
        raise CheckpointError(f"{path} is missing; the checkpoint is incomplete") from exc
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, IndexError, TypeError,
            AttributeError, MemoryError) as exc:
        if "TorchScript" in str(exc):
            raise _refused(path, "it is a TorchScript archive, which holds code") from exc
        code = code_in_pickle(path)
        if code is not None:
            raise _refused(path, f"it references {code}") from exc
        raise CheckpointError(
            f"{path} is truncated or corrupted ({type(exc).__name__}: {str(exc)[:200]}); "
            "resume from another checkpoint"
        ) from exc


@dataclass
class LoadedCheckpoint:
    """A validated checkpoint read from disk (weights stay in the file until :func:`restore`).

    Attributes:
        path: the checkpoint directory.
        step: its optimizer step.
        train_state: the saved TrainState.
        loader_state: the BatchSource state (``None`` if not saved).
        metrics: metrics evaluated at that step.
        observer_states: observer states keyed ``"<position>:<ClassName>"``.
        optimizer_state / scheduler_state / scaler_state / rng: loaded weights-only.
        model_keys: tensor names in ``model.safetensors``.
        artifacts: name -> path of the copied artifacts.
    """

    path: Path
    step: int
    train_state: TrainState
    loader_state: dict[str, Any] | None
    metrics: dict[str, float]
    observer_states: dict[str, Any]
    optimizer_state: dict[str, Any]
    scheduler_state: dict[str, Any] | None
    scaler_state: dict[str, Any] | None
    rng: dict[str, Any]
    model_keys: list[str] = field(default_factory=list)
    artifacts: dict[str, Path] = field(default_factory=dict)

    @property
    def model_file(self) -> Path:
        """Path of the safetensors weights."""
        return self.path / "model.safetensors"


def load_checkpoint(path: str | Path) -> LoadedCheckpoint:
    """Read and validate a checkpoint directory written by :class:`Checkpointer`.

    Args:
        path: a ``step-XXXXXXXX`` directory.

    Returns:
        The LoadedCheckpoint.

    Raises:
        CheckpointError: missing directory or file, corrupted/truncated JSON, safetensors or
            ``.pt`` file, or a ``.pt`` holding a pickle that would run code.
    """
    from safetensors import safe_open

    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(
            f"checkpoint directory {path} does not exist; pass a 'step-XXXXXXXX' directory, or "
            "use find_resume_checkpoint(run_dir) to locate the last one"
        )
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise CheckpointError(
            f"checkpoint {path} is incomplete: missing {', '.join(missing)}; it was not written "
            "by ftlab or was damaged; resume from another checkpoint"
        )
    trainer = read_json(path / "trainer_state.json")
    source = str(path / "trainer_state.json")
    try:
        with safe_open(str(path / "model.safetensors"), framework="pt") as fh:
            keys = list(fh.keys())
    except Exception as exc:  # SafetensorError has no importable base class
        raise CheckpointError(
            f"{path / 'model.safetensors'} is truncated or corrupted ({exc}); resume from "
            "another checkpoint"
        ) from exc
    sched: dict[str, Any] | None = None
    if (path / "scheduler.json").is_file():
        sched = read_json(path / "scheduler.json")
    elif (path / "scheduler.pt").is_file():
        sched = _load_pt(path / "scheduler.pt")
    try:
        train_state = TrainState.from_dict(dict(trainer["train_state"]), source=source)
        step = int(trainer["step"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(
            f"{source}: missing or malformed field {exc}; the file is damaged"
        ) from exc
    art_dir = path / "artifacts"
    return LoadedCheckpoint(
        path=path,
        step=step,
        train_state=train_state,
        loader_state=trainer.get("loader_state"),
        metrics=dict(trainer.get("metrics") or {}),
        observer_states=dict(trainer.get("observers") or {}),
        optimizer_state=_load_pt(path / "optimizer.pt"),
        scheduler_state=sched,
        scaler_state=_load_pt(path / "scaler.pt") if (path / "scaler.pt").is_file() else None,
        rng=_load_pt(path / "rng.pt"),
        model_keys=keys,
        artifacts={p.name: p for p in sorted(art_dir.iterdir())} if art_dir.is_dir() else {},
    )


def restore(
    ckpt: LoadedCheckpoint,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any = None,
    train_source: BatchSource | None = None,
    *,
    scaler: torch.amp.GradScaler | None = None,
    observers: Sequence[object] = (),
    restore_rng: bool = True,
) -> TrainState:
    """Put a checkpoint back into live objects: weights, optimizer, scheduler, scaler, loader
    position, observer states and (by default) RNG states.

    Args:
        ckpt: from :func:`load_checkpoint`.
        model: the model, already on its device (weights load onto that device).
        optimizer, scheduler, train_source, scaler: restored when given.
        observers: observers with ``load_state_dict`` get their saved state, matched by the
            stable name :func:`ftlab.training.observer_states` saves them under (checkpoints of
            earlier versions, keyed ``"<position>:<ClassName>"``, are matched by position); an
            observer without a saved state keeps its own.
        restore_rng: also restore Python/NumPy/torch RNG states (needed for exact resume).

    Returns:
        A copy of the saved TrainState to continue from.

    Raises:
        CheckpointError: weights or states do not fit the given objects (names, shapes, groups).
    """
    from safetensors.torch import load_model

    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    try:
        load_model(model, str(ckpt.model_file), strict=True, device=str(device))
    except Exception as exc:
        raise CheckpointError(
            f"{ckpt.model_file} does not fit the model ({type(exc).__name__}: {str(exc)[:500]}); "
            "build the model with the same architecture/config as the run that wrote it"
        ) from exc
    parts: list[tuple[str, Any, Any]] = [
        ("optimizer.pt", optimizer, ckpt.optimizer_state),
        ("scheduler state", scheduler, ckpt.scheduler_state),
        ("scaler.pt", scaler, ckpt.scaler_state),
        ("loader_state in trainer_state.json", train_source, ckpt.loader_state),
    ]
    for name, target, saved in parts:
        if target is None or saved is None:
            continue
        try:
            target.load_state_dict(saved)
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise CheckpointError(
                f"{ckpt.path}: {name} does not fit the {type(target).__name__} given "
                f"({type(exc).__name__}: {exc}); build it with the same settings as the saved run"
            ) from exc
    for key, position_key, obs in observer_keys(observers):
        saved = ckpt.observer_states.get(key, ckpt.observer_states.get(position_key))
        if saved is not None and callable(getattr(obs, "load_state_dict", None)):
            obs.load_state_dict(saved)  # type: ignore[attr-defined]
    if restore_rng:
        set_rng_state(ckpt.rng)
    return TrainState.from_dict(ckpt.train_state.to_dict())


def retune_optimizer(optimizer: torch.optim.Optimizer, scheduler: Any,
                     groups: Sequence[Mapping[str, Any]]) -> None:
    """Set new hyperparameters on a restored optimizer; the scheduler continues from them.

    Restoring an optimizer brings its saved hyperparameters back; a retuned resume (PBT's
    exploit step) replaces them with ``groups``, one mapping per parameter group (``lr``,
    ``initial_lr``, ``max_lr``, ``min_lr``, ``weight_decay``, ``momentum``). With a scheduler
    the learning rate becomes the schedule's value at the restored step from the new peak.

    Raises:
        ConfigError: the number of parameter groups differs.
    """
    import warnings

    from ftlab.errors import ConfigError

    live = optimizer.param_groups
    if len(live) != len(groups):
        raise ConfigError(f"the restored optimizer has {len(live)} parameter groups but the "
                          f"rebuilt one {len(groups)}; only the optimizer's hyperparameters may "
                          "change when resuming")
    for group, new in zip(live, groups, strict=True):
        group.update({k: v for k, v in new.items() if k != "lr"})
    if scheduler is None:
        for group, new in zip(live, groups, strict=True):
            group["lr"] = new["lr"]
        return
    if hasattr(scheduler, "base_lrs"):
        scheduler.base_lrs = [g.get("initial_lr", g["lr"]) for g in live]
    with warnings.catch_warnings():  # get_lr() outside step() warns; here it is meant
        warnings.simplefilter("ignore")
        lrs = scheduler.get_lr()  # the schedule's value at the restored step
    for group, lr in zip(live, lrs, strict=True):
        group["lr"] = lr
    scheduler._last_lr = [float(g["lr"]) for g in live]


def checkpoint_name(pointer: Path, name: Any) -> str:
    """A checkpoint folder name read from a pointer file (last.json, best.json), checked to be a
    plain ``step-N`` name: pointers never lead outside the run's checkpoints folder."""
    if not isinstance(name, str) or not re.fullmatch(r"step-\d+", name):
        raise CheckpointError(
            f"{pointer}: 'path' must name a checkpoint folder next to it (step-00000123), got "
            f"{name!r}; the file is damaged or was edited: delete it or restore it")
    return name


def find_resume_checkpoint(run_dir: str | Path) -> Path | None:
    """The checkpoint named by ``last.json`` of a run (or of a checkpoints folder).

    Args:
        run_dir: ``runs/<name>`` (looks in ``checkpoints/``) or the checkpoints folder itself.

    Returns:
        The checkpoint directory, or ``None`` when the run has no checkpoint yet.

    Raises:
        CheckpointError: ``last.json`` is corrupted or names a missing checkpoint.
    """
    run_dir = Path(run_dir)
    pointer = run_dir / "checkpoints" / "last.json"
    if not pointer.exists():
        pointer = run_dir / "last.json"
        if not pointer.exists():
            return None
    data = read_json(pointer)
    try:
        target = pointer.parent / checkpoint_name(pointer, data["path"])
    except KeyError as exc:
        raise CheckpointError(f"{pointer}: no 'path' field; the file is damaged") from exc
    if not target.is_dir():
        raise CheckpointError(
            f"{pointer} names {target}, which does not exist; resume from another "
            f"checkpoint in {pointer.parent}"
        )
    return target
