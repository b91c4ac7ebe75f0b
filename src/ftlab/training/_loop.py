"""``fit``: the training loop, written out top to bottom."""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, Literal, cast

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ftlab.batching import Batch, BatchSource
from ftlab.errors import ConfigError, TrainingError
from ftlab.core import atomic_write_json
from ftlab.training import _distributed as dist
from ftlab.training._best import BestWeights
from ftlab.training._checkpoint import Checkpointer, observer_states
from ftlab.training._guards import check_divergence, check_evaluation
from ftlab.training._events import (
    EpochEnd,
    EvalEnd,
    StepEnd,
    StopRequest,
    TrainEnd,
    TrainStart,
    notify,
)
from ftlab.training._restore import load_checkpoint, restore, retune_optimizer
from ftlab.training._seed import rng_state
from ftlab.training._state import TrainResult, TrainState
from ftlab.training._steps import StepPlan, plan_steps

__all__ = ["fit", "Precision", "autocast_dtype"]

Precision = Literal["fp32", "bf16", "fp16"]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def fit(
    model: nn.Module, train: BatchSource, *, loss_fn: LossFn, optimizer: torch.optim.Optimizer,
    scheduler: Any = None, epochs: int = 1, max_steps: int | None = None, grad_accum: int = 1,
    clip_norm: float | None = 1.0, precision: Precision = "fp32",
    device: str | torch.device = "cpu",
    evaluate: Callable[[nn.Module], Mapping[str, float]] | None = None,
    eval_every: int | None = None, eval_each_epoch: bool = True,
    monitor: str | None = "accuracy", mode: Literal["max", "min"] = "max",
    restore_best: bool = False, observers: Sequence[object] = (),
    checkpointer: Checkpointer | None = None, state: TrainState | None = None,
    resume_from: str | Path | None = None, run_dir: str | Path | None = None,
    hparams: Mapping[str, Any] | None = None, divergence_factor: float | None = None,
    retune: Sequence[Mapping[str, Any]] | None = None,
) -> TrainResult:
    """Train ``model``: forward, loss, backward, accumulate, clip, step, schedule, emit events.

    Under ``torchrun`` pass the model wrapped in ``DistributedDataParallel``: every rank runs
    this loop on its shard; window sizes and losses are summed over ranks (a step is the exact
    gradient of the global window), gradients sync on a window's last micro-batch only, and
    rank 0's stop decisions and metrics are broadcast. In one process the distributed helpers
    are no-ops. Give observers and the checkpointer to rank 0 only.

    Args:
        model: maps a Batch to logits ``(B, C)``; moved to ``device``. May be a DDP wrapper
            (checkpoints and ``evaluate`` get the inner module).
        train: the resumable batch source; one epoch is ``len(train)`` micro-batches.
        loss_fn: ``loss_fn(logits, labels)`` -> the loss SUMMED over the examples of the batch
            (``fit`` divides by the examples of the whole accumulation window).
        optimizer: built on ``model``'s parameters.
        scheduler: stepped once per optimizer step; build it with ``plan_steps(train,
            epochs=..., grad_accum=..., max_steps=...).total_steps``, the plan ``fit`` executes.
        epochs: epochs to train; max_steps: stop after this many optimizer steps (counting
            steps done before a resume). The steps are planned up front by ``plan_steps``.
        grad_accum: micro-batches per optimizer step.
        clip_norm: clip the total gradient norm to this value; ``None`` = no clipping (the norm
            is measured and logged either way).
        precision: ``"fp32"``; ``"bf16"`` autocast (CPU or a CUDA device that supports it);
            ``"fp16"`` autocast with a GradScaler (CUDA only).
        device: where to train.
        evaluate: ``evaluate(model) -> metrics``; called in eval mode under ``no_grad``.
        eval_every: evaluate every N optimizer steps; eval_each_epoch: at every epoch end.
        monitor: metric tracked as best (``None`` = none); mode: ``"max"`` or ``"min"``.
        restore_best: load the best weights at the end (from the best checkpoint when the
            checkpointer ranks by the same metric, else from an in-memory copy).
        observers: receive typed events; may ask to stop.
        checkpointer: writes checkpoints at step boundaries (and a final one when stopping).
        state: a TrainState to continue from (exclusive with ``resume_from``).
        resume_from: a checkpoint directory: restores weights, optimizer, scheduler, scaler,
            loader position, observer states and RNG states right before the loop.
        run_dir: where ``diagnosis.json`` goes on a non-finite loss (default: the
            checkpointer's run directory).
        hparams: hyperparameters passed on in TrainStart for trackers.
        divergence_factor: stop when a training or validation loss exceeds this many times the
            first step's loss (``None``: no check). A validation metric that is not finite
            always stops the run (it is never ranked best).
        retune: with ``resume_from``: new hyperparameters for the restored optimizer's groups
            (one mapping per group: ``lr``, ``initial_lr``, ``weight_decay``, ...), applied
            after the restore (:func:`ftlab.training.retune_optimizer`; PBT's exploit step).

    Returns:
        TrainResult with the final state, the stop reason and metrics.

    Raises:
        ConfigError: invalid arguments, or ``evaluate`` does not return the monitored metric.
        TrainingError: a non-finite loss or gradient norm, a diverged loss, or a non-finite
            validation result (the diagnosis is in the message and in ``diagnosis.json``), or
            a batch source that yields fewer batches than its len().
        CheckpointError: ``resume_from`` is missing, corrupted or does not fit.
    """
    _check_args(train, epochs, max_steps, grad_accum, clip_norm, precision, eval_every, mode,
                state, resume_from)
    device = torch.device(device)
    amp_dtype = autocast_dtype(precision, device)
    model.to(device)
    core = _inner(model)  # what checkpoints and evaluate() see
    params = [p for group in optimizer.param_groups for p in group["params"]]
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
    plan = plan_steps(train, epochs=epochs, grad_accum=grad_accum, max_steps=max_steps)
    _check_scheduler(scheduler, plan)

    state, resumed_from = _initial_state(state, resume_from, core, optimizer, scheduler, train,
                                         scaler, observers, checkpointer, retune)
    run_dir = Path(run_dir) if run_dir is not None else getattr(checkpointer, "run_dir", None)
    best = BestWeights(core, checkpointer, monitor=monitor, mode=mode, restore=restore_best)
    last_checkpoint = checkpointer.last_path() if checkpointer is not None else None

    stop = dist.broadcast_object(notify(observers, TrainStart(
        plan.total_steps, plan.steps_per_epoch[0], epochs, resumed_from, dict(hparams or {}))))
    reason = stop.reason if stop else None
    model.train()
    while reason is None and not plan.done(state.step, state.epoch):
        n_batches, batches = _start_epoch(train, state, plan)
        epoch_end = False
        while not epoch_end and reason is None:
            # 1. gather the accumulation window (shorter at the end of an epoch); its sizes are
            # global under DDP: every rank's shard of the window counts
            window = _next_window(batches, state, n_batches, grad_accum)
            t0 = time.perf_counter()  # the step's own time (with its collectives under DDP)
            n_examples, n_tokens, n_padded = _window_sizes(window, state, device)

            # 2. forward and backward per micro-batch; gradients add up over the window
            loss_value = _forward_backward(model, window, loss_fn, scaler, amp_dtype,
                                           n_examples, device)
            state.batches_in_epoch += len(window)

            # 3. unscale and measure the gradient (always, for logging and the guard)
            scaler.unscale_(optimizer)
            grad_norm_t = _total_norm(params)
            grad_norm, lr = float(grad_norm_t), float(optimizer.param_groups[0]["lr"])

            # 4. non-finite guard BEFORE the step: no update, no checkpoint
            _check_finite(state, window, loss_value, grad_norm, lr, precision, scaler,
                          optimizer, run_dir, observers)
            check_divergence(state, loss_value, divergence_factor, lr=lr, run_dir=run_dir,
                             observers=observers, window=window)

            # 5. clip, step, schedule, reset
            _update(optimizer, scheduler, scaler, params, clip_norm, grad_norm_t)
            state.record_step(examples=n_examples, tokens=n_tokens, grad_norm=grad_norm, lr=lr)
            stop = _shared_stop(notify(observers, StepEnd(
                step=state.step, epoch=state.epoch, loss=loss_value, lr=lr, grad_norm=grad_norm,
                examples=n_examples, tokens=n_tokens, padded_tokens=n_padded,
                seconds=time.perf_counter() - t0)), device)  # rank 0 decides (its observers)

            # 6. evaluate (every N steps and/or at the epoch end), then close the epoch
            epoch_end = state.batches_in_epoch >= n_batches
            metrics: dict[str, float] | None = None
            if evaluate is not None and _eval_due(state.step, epoch_end, stop, eval_every,
                                                  eval_each_epoch):
                metrics = _evaluate(core, evaluate, monitor, checkpointer)
                check_evaluation(state, metrics, divergence_factor, lr=lr, run_dir=run_dir,
                                 observers=observers)
                best.record(state, metrics)
                stop = _first(stop, notify(observers, EvalEnd(state.step, state.epoch, metrics)))
            if epoch_end:
                stop = _first(stop, notify(observers, EpochEnd(state.epoch, state.step)))
                state.epoch, state.batches_in_epoch = state.epoch + 1, 0

            # 7. decide whether to stop, then checkpoint at this step boundary
            reason, save = _shared_decision(stop, plan, checkpointer, state, epoch_end,
                                            metrics is not None, device)
            if save:  # every rank joins (the RNG gather is a collective); rank 0 writes
                last_checkpoint = _save(checkpointer, state, reason, core, optimizer, scheduler,
                                        scaler, train, metrics, observers) or last_checkpoint

    state.stop_reason = reason or plan.finished_reason()  # None: resumed from a finished run
    restored = best.restore(state)
    notify(observers, _train_end(state))
    return _result(state, restored, last_checkpoint)


def _check_scheduler(scheduler: Any, plan: StepPlan) -> None:
    """The scheduler must be sized for at least the planned steps (else its decay ends early)."""
    total = plan.total_steps
    if total > getattr(scheduler, "total_steps", total):
        raise ConfigError(
            f"the scheduler was built for total_steps={scheduler.total_steps} but this run takes "
            f"{total} optimizer steps; build it with total_steps={total} (ftlab.training."
            "plan_steps gives the run's plan)"
        )


def _inner(model: nn.Module) -> nn.Module:
    """The inner module of a DDP wrapper (the model itself otherwise)."""
    return cast(nn.Module, model.module) if isinstance(model, DistributedDataParallel) else model


def _initial_state(state: TrainState | None, resume_from: str | Path | None, core: nn.Module,
                   optimizer: torch.optim.Optimizer, scheduler: Any, train: BatchSource,
                   scaler: torch.amp.GradScaler, observers: Sequence[object],
                   checkpointer: Checkpointer | None,
                   retune: Sequence[Mapping[str, Any]] | None) -> tuple[TrainState, int | None]:
    """The state the loop starts from (restored from ``resume_from``, the given one, or a fresh
    one) and the step resumed from (``None`` when not resuming)."""
    resumed_from = None
    if resume_from is not None:
        state = _resume(resume_from, core, optimizer, scheduler, train, scaler, observers,
                        checkpointer, retune)
        resumed_from = state.step
    state = state if state is not None else TrainState()
    state.stop_reason = ""  # a restored state carries the reason its run stopped
    return state, resumed_from


def _resume(resume_from: str | Path, core: nn.Module, optimizer: torch.optim.Optimizer,
            scheduler: Any, train: BatchSource, scaler: torch.amp.GradScaler,
            observers: Sequence[object], checkpointer: Checkpointer | None,
            retune: Sequence[Mapping[str, Any]] | None) -> TrainState:
    """Restore a checkpoint into the live objects (under DDP each rank takes its own share),
    drop later checkpoints, and put retuned hyperparameters over the restored ones."""
    ckpt = load_checkpoint(resume_from)
    if ckpt.loader_state is not None and "rank" in ckpt.loader_state:
        # rank 0 saved its sampler position; all ranks step in lockstep through equally
        # long shards, so every rank is at that same position of its own shard
        ckpt = dataclasses.replace(ckpt, loader_state={**ckpt.loader_state, "rank": dist.rank()})
    per_rank = ckpt.rng.get("ranks") if isinstance(ckpt.rng, dict) else None
    if per_rank and len(per_rank) == dist.world_size():
        # each rank continues its own random streams (dropout draws differ across ranks)
        ckpt = dataclasses.replace(ckpt, rng=per_rank[dist.rank()])
    state = restore(ckpt, core, optimizer, scheduler, train, scaler=scaler, observers=observers)
    if checkpointer is not None:
        checkpointer.discard_after(state.step)
    if retune is not None:  # new hyperparameters over the restored optimizer's old ones
        retune_optimizer(optimizer, scheduler, retune)
    return state


def _forward_backward(model: nn.Module, window: list[Batch], loss_fn: LossFn,
                      scaler: torch.amp.GradScaler, amp_dtype: torch.dtype | None,
                      n_examples: int, device: torch.device) -> float:
    """Forward and backward over the window's micro-batches; the mean loss of the window."""
    loss_sum = torch.zeros((), device=device)
    for i, batch in enumerate(window):
        batch = batch.to(device, non_blocking=True)
        with _grad_sync(model, last=i == len(window) - 1):
            with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                logits = model(batch)  # (B, C)
            loss = loss_fn(logits.float(), batch.labels)  # summed over the micro-batch
            # divide by the WINDOW's examples, so k micro-batches of any sizes give exactly the
            # gradient of one batch of their union; DDP averages gradients over ranks, so
            # n_global/world per rank gives sum/n_global
            scaler.scale(loss / (n_examples / dist.world_size())).backward()
        loss_sum += loss.detach()
    return dist.all_reduce_sum([float(loss_sum)], device)[0] / n_examples


def _total_norm(params: list[torch.Tensor]) -> torch.Tensor:
    """The total L2 norm of the gradients (0 when none has one)."""
    grads = [p.grad for p in params if p.grad is not None]
    return torch.nn.utils.get_total_norm(grads) if grads else torch.zeros(())


def _update(optimizer: torch.optim.Optimizer, scheduler: Any, scaler: torch.amp.GradScaler,
            params: list[torch.Tensor], clip_norm: float | None,
            grad_norm: torch.Tensor) -> None:
    """Clip (by the measured norm), step the optimizer and the schedule, reset the gradients."""
    if clip_norm is not None and any(p.grad is not None for p in params):
        torch.nn.utils.clip_grads_with_norm_(params, clip_norm, grad_norm)
    scaler.step(optimizer)
    scaler.update()
    if scheduler is not None:
        scheduler.step()
    optimizer.zero_grad(set_to_none=True)


def _eval_due(step: int, epoch_end: bool, stop: StopRequest | None, eval_every: int | None,
              eval_each_epoch: bool) -> bool:
    """Evaluate every ``eval_every`` steps, at the epoch end, and before a stop that asks for it."""
    return ((eval_every is not None and step % eval_every == 0) or (eval_each_epoch and epoch_end)
            or (stop is not None and stop.final_eval))


def _train_end(state: TrainState) -> TrainEnd:
    return TrainEnd(state.step, state.epoch, state.stop_reason, state.best_metric, state.best_step)


def _result(state: TrainState, restored: str | None, last_checkpoint: Path | None) -> TrainResult:
    return TrainResult(state=state, stop_reason=state.stop_reason,
                       metrics=dict(state.last_metrics), best_metric=state.best_metric,
                       best_step=state.best_step, restored_best=restored,
                       last_checkpoint=last_checkpoint)


def _start_epoch(train: BatchSource, state: TrainState,
                 plan: StepPlan) -> tuple[int, Iterator[Batch]]:
    """Select the epoch (a resumed one keeps its restored position); its micro-batch count and
    its batches."""
    if state.batches_in_epoch == 0:
        train.set_epoch(state.epoch)
    n_batches = len(train)  # asked once per epoch: may be costly
    if n_batches != plan.batches_in(state.epoch):
        raise TrainingError(
            f"the batch source has {n_batches} batches in epoch {state.epoch} but planned "
            f"{plan.batches_in(state.epoch)} before training; a source whose batch count changes "
            "per epoch must give it ahead through epoch_length(epoch)"
        )
    return n_batches, iter(train)


def _next_window(batches: Iterator[Batch], state: TrainState, n_batches: int,
                 grad_accum: int) -> list[Batch]:
    """The next accumulation window: ``grad_accum`` micro-batches, fewer at the epoch end."""
    expected = min(grad_accum, n_batches - state.batches_in_epoch)
    window = list(itertools.islice(batches, expected))
    if len(window) < expected:
        raise TrainingError(
            f"the batch source yielded {state.batches_in_epoch + len(window)} batches in "
            f"epoch {state.epoch} but len() says {n_batches}; fix its __len__/__iter__"
        )
    return window


def _window_sizes(window: list[Batch], state: TrainState,
                  device: torch.device) -> tuple[int, int, int]:
    """Examples, real tokens and token slots of the window, summed over ranks."""
    local = [sum(len(b) for b in window), sum(b.n_tokens for b in window),
             sum(b.n_padded for b in window)]
    n_examples, n_tokens, n_padded = (int(v) for v in dist.all_reduce_sum(local, device))
    if n_examples == 0:
        raise TrainingError(
            f"the accumulation window of step {state.step + 1} (epoch {state.epoch}) holds "
            "no examples; the batch source yields empty batches; fix the sampler/collate"
        )
    return n_examples, n_tokens, n_padded


def _check_finite(state: TrainState, window: list[Batch], loss: float, grad_norm: float,
                  lr: float, precision: str, scaler: torch.amp.GradScaler,
                  optimizer: torch.optim.Optimizer, run_dir: Path | None,
                  observers: Sequence[object]) -> None:
    """Stop with a diagnosis on a non-finite loss or gradient norm, before any update. With
    fp16 an inf gradient is an overflow the GradScaler handles (skips the step, lowers scale)."""
    bad_grad = not math.isfinite(grad_norm) and not scaler.is_enabled()
    if not math.isfinite(loss) or bad_grad:
        optimizer.zero_grad(set_to_none=True)
        _fail_non_finite(state, window, loss, grad_norm, lr, precision, run_dir, observers)


def _save(checkpointer: Checkpointer | None, state: TrainState, reason: str | None,
          model: nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any,
          scaler: torch.amp.GradScaler, train: BatchSource, metrics: dict[str, float] | None,
          observers: Sequence[object]) -> Path | None:
    """Checkpoint this step boundary (rank 0, which holds the checkpointer); its path."""
    rng = _rank_rng_states()  # a collective under DDP: every rank calls _save
    if checkpointer is None:
        return None
    state.stop_reason = reason or ""
    return checkpointer.save(
        step=state.step, model=model, optimizer=optimizer, train_state=state,
        loader_state=train.state_dict(), scheduler=scheduler, scaler=scaler, metrics=metrics,
        observers=observer_states(observers), rng=rng,
    )


def _grad_sync(model: nn.Module, *, last: bool) -> AbstractContextManager[Any]:
    """DDP all-reduces the gradients once per window, on its last micro-batch."""
    if last or not isinstance(model, DistributedDataParallel):
        return nullcontext()
    return model.no_sync()


def _shared_decision(stop: StopRequest | None, plan: StepPlan, checkpointer: Checkpointer | None,
                     state: TrainState, epoch_end: bool, evaluated: bool,
                     device: torch.device) -> tuple[str | None, bool]:
    """Whether to stop (an observer asked, or the plan is done) and whether to checkpoint now:
    rank 0's decision on every rank."""
    reason = stop.reason if stop is not None else (
        plan.finished_reason() if state.step >= plan.total_steps else None)
    save = checkpointer is not None and (
        reason is not None
        or checkpointer.should_save(step=state.step, epoch_end=epoch_end, evaluated=evaluated))
    stopping, save = dist.broadcast_flags([reason is not None, save], device)
    if stopping and reason is None:
        reason = RANK0_STOP
    return reason, save


def _rank_rng_states() -> dict[str, Any] | None:
    """Every rank's RNG streams for a checkpoint (a collective); ``None`` in one process, where
    the checkpointer captures them itself."""
    if dist.world_size() == 1:
        return None
    ranks = dist.gather_objects(rng_state())
    return {**ranks[0], "ranks": ranks}


def _first(a: StopRequest | None, b: StopRequest | None) -> StopRequest | None:
    return a if a is not None else b


RANK0_STOP = "stopped by rank 0"  # the reason other ranks record (rank 0 has the real one)


def _shared_stop(stop: StopRequest | None, device: torch.device) -> StopRequest | None:
    """Rank 0's stop request on every rank, as two flags (whether, and whether to evaluate)."""
    stopping, final_eval = dist.broadcast_flags(
        [stop is not None, bool(stop is not None and stop.final_eval)], device)
    if dist.is_main() or not stopping:
        return stop if stopping else None
    return StopRequest(RANK0_STOP, final_eval=final_eval)


def _evaluate(model: nn.Module, evaluate: Callable[[nn.Module], Mapping[str, float]],
              monitor: str | None, checkpointer: Checkpointer | None) -> dict[str, float]:
    """``evaluate(model)`` in eval mode under ``no_grad``; every rank gets rank 0's numbers."""
    return dist.broadcast_object(_evaluate_here(model, evaluate, monitor, checkpointer))


def _evaluate_here(model: nn.Module, evaluate: Callable[[nn.Module], Mapping[str, float]],
                   monitor: str | None, checkpointer: Checkpointer | None) -> dict[str, float]:
    model.eval()
    with torch.no_grad():
        metrics = {str(k): float(v) for k, v in evaluate(model).items()}
    model.train()
    ckpt_monitor = checkpointer.monitor if checkpointer else None
    for who, name in (("fit(monitor=...)", monitor), ("Checkpointer(monitor=...)", ckpt_monitor)):
        if name is not None and name not in metrics:
            raise ConfigError(
                f"{who} is {name!r} but evaluate() returned only {sorted(metrics)}; monitor one "
                "of those, or pass monitor=None"
            )
    return metrics


def _fail_non_finite(state: TrainState, window: list[Batch], loss: float, grad_norm: float,
                     lr: float, precision: str, run_dir: Path | None,
                     observers: Sequence[object]) -> None:
    what = "loss" if not math.isfinite(loss) else "gradient norm"
    step = state.step + 1
    diagnosis: dict[str, Any] = {
        "problem": f"non-finite {what}",
        "step": step,
        "epoch": state.epoch,
        "loss": repr(loss),
        "grad_norm": repr(grad_norm),
        "lr": lr,
        "last_good_lr": state.last_good_lr,
        "grad_norm_history": state.grad_norm_history[-20:],
        "example_indices": [int(i) for b in window for i in b.index.tolist()],
        "precision": precision,
        "fixes": "lower the learning rate or lengthen warmup, keep clip_norm set, use fp32/bf16 "
                 "instead of fp16, and inspect the listed examples",
    }
    text = (
        f"non-finite {what} at step {step} (epoch {state.epoch}): loss={loss!r}, "
        f"grad_norm={grad_norm!r}, lr={lr:.3g}, last good lr={state.last_good_lr}, recent grad "
        f"norms={[round(g, 4) for g in state.grad_norm_history[-10:]]}, examples (split index) "
        f"{diagnosis['example_indices'][:20]}; the optimizer step was NOT taken and no checkpoint "
        f"was written; fix: {diagnosis['fixes']}"
    )
    if run_dir is not None:
        atomic_write_json(run_dir / "diagnosis.json", diagnosis)
        text += f"; diagnosis written to {run_dir / 'diagnosis.json'}"
    state.stop_reason = f"non-finite {what} at step {step}"
    notify(observers, _train_end(state))
    raise TrainingError(text)


def autocast_dtype(precision: str, device: torch.device | str) -> torch.dtype | None:
    """The autocast dtype of a training precision: ``None`` for ``"fp32"`` (no autocast).

    Raises:
        ConfigError: ``fp16`` off CUDA, ``bf16`` on a GPU without bf16 or on another device.
    """
    device = torch.device(device)
    if precision == "fp16":
        if device.type != "cuda":
            raise ConfigError(
                f"precision='fp16' needs a CUDA device, got device={str(device)!r}; use 'bf16' "
                "or 'fp32'"
            )
        return torch.float16
    if precision == "bf16":
        if device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise ConfigError("precision='bf16' is not supported by this GPU; use 'fp16' or 'fp32'")
        if device.type not in ("cpu", "cuda"):
            raise ConfigError(f"precision='bf16' supports cpu/cuda, got device={str(device)!r}")
        return torch.bfloat16
    return None



def _check_args(train: BatchSource, epochs: int, max_steps: int | None, grad_accum: int,
                clip_norm: float | None, precision: str, eval_every: int | None, mode: str,
                state: TrainState | None, resume_from: str | Path | None) -> None:
    problems = []
    if epochs < 1:
        problems.append(f"epochs must be >= 1, got {epochs=}")
    if max_steps is not None and max_steps < 1:
        problems.append(f"max_steps must be >= 1 or None, got {max_steps=}")
    if grad_accum < 1:
        problems.append(f"grad_accum must be >= 1, got {grad_accum=}")
    if clip_norm is not None and not clip_norm > 0:
        problems.append(f"clip_norm must be > 0 or None, got {clip_norm=}")
    if precision not in ("fp32", "bf16", "fp16"):
        problems.append(f"precision must be 'fp32', 'bf16' or 'fp16', got {precision!r}")
    if eval_every is not None and eval_every < 1:
        problems.append(f"eval_every must be >= 1 or None, got {eval_every=}")
    if mode not in ("max", "min"):
        problems.append(f"mode must be 'max' or 'min', got {mode!r}")
    if state is not None and resume_from is not None:
        problems.append("pass either state or resume_from, not both")
    if len(train) < 1:
        problems.append("the training batch source is empty (len 0); check the training data")
    if problems:
        raise ConfigError("invalid fit() arguments: " + "; ".join(problems))
