"""Atomic, resumable checkpoints: safetensors weights + JSON state + weights-only tensors."""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from ftlab.core import atomic_write_json, describe_write_error, fsync_dir, fsync_tree
from ftlab.errors import CheckpointError, ConfigError
from ftlab.training._events import observer_keys
from ftlab.training._restore import read_json
from ftlab.training._seed import rng_state
from ftlab.training._state import TrainState

__all__ = ["Checkpointer", "observer_states"]

FORMAT_VERSION = 1


def _step_name(step: int) -> str:
    return f"step-{step:08d}"


def _pointer_step(pointer: Path, data: Mapping[str, Any]) -> int:
    """The step a last.json/best.json entry names; its ``path`` must be that step's folder in
    the same checkpoints directory (a pointer never leads outside the run)."""
    try:
        step = int(data["step"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{pointer}: no valid 'step' field ({exc}); the file is damaged; "
                              "delete it or restore it from a backup") from exc
    path = data.get("path", _step_name(step))
    if path != _step_name(step):
        raise CheckpointError(f"{pointer}: path {path!r} is not the checkpoint folder of step "
                              f"{step} ({_step_name(step)!r} in {pointer.parent}); pointers "
                              "may not lead elsewhere; the file is damaged or was edited")
    return step


def observer_states(observers: Sequence[object]) -> dict[str, Any]:
    """State dicts of the observers that have one, keyed by a stable name (see
    :func:`observer_keys`)."""
    return {
        key: obs.state_dict()  # type: ignore[attr-defined]
        for key, _, obs in observer_keys(observers)
        if callable(getattr(obs, "state_dict", None))
    }


class Checkpointer:
    """Decides when to checkpoint and writes checkpoints atomically under ``directory``.

    Layout: ``directory/step-00000123/`` holds ``model.safetensors``, ``optimizer.pt``,
    ``scheduler.json`` (or ``.pt``), ``scaler.pt``, ``rng.pt``, ``trainer_state.json`` and
    ``artifacts/<name>``; ``directory/last.json`` and ``directory/best.json`` point at the
    latest and best checkpoints. Only the last checkpoint and the ``keep_best`` best ones are kept.

    Args:
        directory: the checkpoints folder, usually ``runs/<name>/checkpoints`` (its parent is
            taken as the run directory).
        monitor: EvalEnd metric ranking checkpoints for best-k, or ``None`` (keep only last).
        mode: ``"max"`` if larger is better for ``monitor``, else ``"min"``.
        keep_best: how many best checkpoints to keep besides the last (>= 0).
        every_n_steps: also save every N optimizer steps.
        every_epoch: save at the end of each epoch.
        save_on_eval: save after each evaluation (so every ranked value has weights).
        artifacts: name -> file or directory copied into each checkpoint (resolved config,
            tokenizer, label map).

    Raises:
        ConfigError: invalid arguments.
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        monitor: str | None = "accuracy",
        mode: Literal["max", "min"] = "max",
        keep_best: int = 1,
        every_n_steps: int | None = None,
        every_epoch: bool = True,
        save_on_eval: bool = True,
        artifacts: Mapping[str, str | Path] | None = None,
    ) -> None:
        if mode not in ("max", "min"):
            raise ConfigError(f"Checkpointer mode must be 'max' or 'min', got {mode!r}")
        if keep_best < 0:
            raise ConfigError(f"Checkpointer keep_best must be >= 0, got {keep_best=}")
        if every_n_steps is not None and every_n_steps < 1:
            raise ConfigError(
                f"Checkpointer every_n_steps must be >= 1 or None, got {every_n_steps=}"
            )
        for name, src in (artifacts or {}).items():
            if not name or "/" in name or "\\" in name or name.startswith("."):
                raise ConfigError(
                    f"artifact name {name!r} must be a plain file name (no '/', no leading '.')"
                )
            if not Path(src).exists():
                raise ConfigError(
                    f"artifact {name!r}: {src} does not exist; pass an existing file or directory"
                )
        self.directory = Path(directory)
        self.monitor = monitor
        self.mode = mode
        self.keep_best = keep_best
        self.every_n_steps = every_n_steps
        self.every_epoch = every_epoch
        self.save_on_eval = save_on_eval
        self.artifacts = {k: Path(v) for k, v in (artifacts or {}).items()}
        self.last_step: int | None = None
        # (value, step) of ranked checkpoints, best first; survives restarts through best.json
        self._ranking: list[tuple[float, int]] = []
        self._read_pointers()

    @property
    def run_dir(self) -> Path:
        """The run directory (parent of the checkpoints folder)."""
        return self.directory.parent

    def path_for(self, step: int) -> Path:
        """Directory of the checkpoint of ``step``."""
        return self.directory / _step_name(step)

    def last_path(self) -> Path | None:
        """The latest checkpoint written (or found on disk), if any."""
        return None if self.last_step is None else self.path_for(self.last_step)

    def best_path(self) -> Path | None:
        """The best checkpoint by ``monitor``, if any evaluated checkpoint exists."""
        return self.path_for(self._ranking[0][1]) if self._ranking else None

    def should_save(self, *, step: int, epoch_end: bool, evaluated: bool) -> bool:
        """Whether the step boundary ``step`` is a checkpoint point by this policy."""
        return bool(
            (self.every_n_steps and step % self.every_n_steps == 0)
            or (self.every_epoch and epoch_end)
            or (self.save_on_eval and evaluated)
        )

    def discard_after(self, step: int) -> None:
        """Forget ranked checkpoints past ``step`` (a resume abandons that future)."""
        self._ranking = [(v, s) for v, s in self._ranking if s <= step]
        self.last_step = step

    def save(
        self,
        *,
        step: int,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        train_state: TrainState,
        loader_state: Mapping[str, Any] | None,
        scheduler: Any = None,
        scaler: torch.amp.GradScaler | None = None,
        metrics: Mapping[str, float] | None = None,
        observers: Mapping[str, Any] | None = None,
        rng: Mapping[str, Any] | None = None,
    ) -> Path:
        """Write the checkpoint of ``step`` atomically, update pointers and prune.

        Args:
            step: the optimizer step (checkpoints are written at step boundaries only).
            model, optimizer, scheduler, scaler: what to save.
            train_state: the run's TrainState.
            loader_state: ``BatchSource.state_dict()``.
            metrics: metrics evaluated at this step (ranked when they hold ``monitor``).
            observers: observer states (see :func:`observer_states`).
            rng: RNG states; captured now when omitted.

        Returns:
            The checkpoint directory.

        Raises:
            CheckpointError: the checkpoint could not be written (the previous one is intact).
        """
        final = self.path_for(step)
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=self.directory))
        try:
            self._write(tmp, step, model, optimizer, train_state, loader_state, scheduler,
                        scaler, metrics, observers, rng)
            fsync_tree(tmp)
            if final.exists():  # re-saving a step abandoned by a resume: swap, then delete
                trash = self.directory / f".old-{final.name}-{uuid.uuid4().hex[:8]}"
                os.replace(final, trash)
                os.replace(tmp, final)
                shutil.rmtree(trash, ignore_errors=True)
            else:
                os.replace(tmp, final)
            fsync_dir(self.directory)
        except BaseException as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(exc, (OSError, RuntimeError, TypeError, ValueError)):
                raise CheckpointError(
                    f"could not write checkpoint {final}: {describe_write_error(exc, tmp)}; "
                    f"{self._intact()}; free space or fix permissions, then resume "
                    f"(ftlab train --resume {self.run_dir})"
                ) from exc
            raise
        previous = self.last_step
        self.last_step = step
        value = (metrics or {}).get(self.monitor) if self.monitor else None
        finite = all(math.isfinite(float(v)) for v in (metrics or {}).values()
                     if isinstance(v, (int, float)))  # a NaN validation loss ranks nothing
        if value is not None and finite and math.isfinite(float(value)) and self.keep_best > 0:
            self._ranking = [(v, s) for v, s in self._ranking if s != step] + [(float(value), step)]
            sign = -1.0 if self.mode == "max" else 1.0
            self._ranking.sort(key=lambda vs: (sign * vs[0], vs[1]))
            del self._ranking[self.keep_best:]
        try:
            self._write_pointers()
        except OSError as exc:
            self.last_step = previous
            raise CheckpointError(
                f"checkpoint {final} was written but its pointer {self.directory / 'last.json'} "
                f"could not be updated: {describe_write_error(exc, self.directory)}; "
                f"{self._intact()} (last.json still names it); free space, then resume "
                f"(ftlab train --resume {self.run_dir})"
            ) from exc
        self._prune()
        return final

    def _intact(self) -> str:
        last = self.last_path()
        return (f"the previous checkpoint {last} is intact" if last is not None
                else "no earlier checkpoint exists")

    def clean_temporary(self) -> list[Path]:
        """Remove half-written checkpoint folders (``.tmp-step-*``, ``.old-step-*``) left by a
        process killed while saving; call it only while holding the run's writer lock."""
        removed = []
        if self.directory.is_dir():
            for path in self.directory.glob(".tmp-step-*"):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
            for path in self.directory.glob(".old-step-*"):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
        return removed

    def _write(self, tmp: Path, step: int, model: nn.Module, optimizer: torch.optim.Optimizer,
               train_state: TrainState, loader_state: Mapping[str, Any] | None, scheduler: Any,
               scaler: torch.amp.GradScaler | None, metrics: Mapping[str, float] | None,
               observers: Mapping[str, Any] | None, rng: Mapping[str, Any] | None) -> None:
        from safetensors.torch import save_model

        save_model(model, str(tmp / "model.safetensors"))  # drops duplicates of tied tensors
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
        if scheduler is not None:
            sched = scheduler.state_dict()
            try:
                (tmp / "scheduler.json").write_text(json.dumps(sched), encoding="utf-8")
            except TypeError:  # holds tensors: weights-only .pt instead
                torch.save(sched, tmp / "scheduler.pt")
        if scaler is not None:
            torch.save(scaler.state_dict(), tmp / "scaler.pt")
        torch.save(dict(rng) if rng is not None else rng_state(), tmp / "rng.pt")
        for name, src in self.artifacts.items():
            (tmp / "artifacts").mkdir(exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, tmp / "artifacts" / name)
            else:
                shutil.copy2(src, tmp / "artifacts" / name)
        trainer = {
            "format_version": FORMAT_VERSION,
            "step": step,
            "train_state": train_state.to_dict(),
            "loader_state": dict(loader_state) if loader_state is not None else None,
            "metrics": dict(metrics or {}),
            "observers": dict(observers or {}),
        }
        (tmp / "trainer_state.json").write_text(json.dumps(trainer, indent=2), encoding="utf-8")

    def _write_pointers(self) -> None:
        if self.last_step is not None:
            atomic_write_json(self.directory / "last.json",
                              {"step": self.last_step, "path": _step_name(self.last_step)})
        if self._ranking:
            atomic_write_json(self.directory / "best.json", {
                "monitor": self.monitor,
                "mode": self.mode,
                "step": self._ranking[0][1],
                "value": self._ranking[0][0],
                "path": _step_name(self._ranking[0][1]),
                "ranking": [
                    {"step": s, "value": v, "path": _step_name(s)} for v, s in self._ranking
                ],
            })
        else:
            (self.directory / "best.json").unlink(missing_ok=True)

    def _read_pointers(self) -> None:
        last = self.directory / "last.json"
        if last.exists():
            self.last_step = _pointer_step(last, read_json(last))
        best = self.directory / "best.json"
        if best.exists():
            data = read_json(best)
            if data.get("monitor") == self.monitor and data.get("mode") == self.mode:
                try:
                    ranking = [(float(r["value"]), _pointer_step(best, r))
                               for r in data.get("ranking", [])]
                except (KeyError, TypeError, ValueError) as exc:
                    raise CheckpointError(f"{best} is damaged ({type(exc).__name__}: {exc}); "
                                          "delete it (the ranking restarts)") from exc
                self._ranking = [(v, s) for v, s in ranking
                                 if math.isfinite(v) and self.path_for(s).is_dir()
                                 ][: self.keep_best]

    def _prune(self) -> None:
        keep = {s for _, s in self._ranking}
        if self.last_step is not None:
            keep.add(self.last_step)
        for path in self.directory.glob("step-*"):
            try:
                step = int(path.name.split("-", 1)[1])
            except ValueError:
                continue
            if step not in keep and path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
