"""``fit``: the training loop, written out top to bottom."""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Literal, cast

import torch
from torch import nn

from ftlab.batching import Batch, BatchSource
from ftlab.errors import ConfigError, TrainingError
from ftlab.core import atomic_write_json
from ftlab.training import _distributed as dist
from ftlab.training._checkpoint import Checkpointer, observer_states
from ftlab.training._guards import check_divergence, check_evaluation
from ftlab.training._restore import load_checkpoint, restore
from ftlab.training._seed import rng_state
from ftlab.training._events import (
    EpochEnd,
    EvalEnd,
    StepEnd,
    StopRequest,
    TrainEnd,
    TrainStart,
    notify,
)
from ftlab.training._state import TrainResult, TrainState

__all__ = ["fit", "Precision"]

log = logging.getLogger("ftlab.training")

Precision = Literal["fp32", "bf16", "fp16"]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def fit(
    model: nn.Module,
    train: BatchSource,
    *,
    loss_fn: LossFn,
    optimizer: torch.optim.Optimizer,
    scheduler: Any = None,
    epochs: int = 1,
    max_steps: int | None = None,
    grad_accum: int = 1,
    clip_norm: float | None = 1.0,
    precision: Precision = "fp32",
    device: str | torch.device = "cpu",
    evaluate: Callable[[nn.Module], Mapping[str, float]] | None = None,
    eval_every: int | None = None,
    eval_each_epoch: bool = True,
    monitor: str | None = "accuracy",
    mode: Literal["max", "min"] = "max",
    restore_best: bool = False,
    observers: Sequence[object] = (),
    checkpointer: Checkpointer | None = None,
    state: TrainState | None = None,
    resume_from: str | Path | None = None,
    run_dir: str | Path | None = None,
    hparams: Mapping[str, Any] | None = None,
    divergence_factor: float | None = None,
) -> TrainResult:
    """Train ``model``: forward, loss, backward, accumulate, clip, step, schedule, emit events.

    Under ``torchrun`` pass the model wrapped in ``DistributedDataParallel``: every rank runs
    this same loop on its shard of the batches; the loss normaliser, the logged loss and the
    example/token counts are summed over ranks (so a step is the exact gradient of the global
    window), gradients are synchronised only on the last micro-batch of a window
    (``model.no_sync()`` before it), and rank 0's stop decisions and validation metrics are
    broadcast so that every rank takes the same steps. Give observers and the checkpointer to
    rank 0 only; every rank resumes from the same ``resume_from``.

    Args:
        model: maps a Batch to logits ``(B, C)``; moved to ``device``. May be a
            ``DistributedDataParallel`` wrapper (checkpoints and ``evaluate`` get the inner
            module).
        train: the resumable batch source; one epoch is ``len(train)`` micro-batches.
        loss_fn: ``loss_fn(logits, labels)`` -> the loss SUMMED over the examples of the batch
            (``fit`` divides by the examples of the whole accumulation window).
        optimizer: built on ``model``'s parameters.
        scheduler: stepped once per optimizer step (build it with the run's total steps).
        epochs: epochs to train.
        max_steps: stop after this many optimizer steps (counting steps done before a resume).
        grad_accum: micro-batches per optimizer step.
        clip_norm: clip the total gradient norm to this value; ``None`` = no clipping (the norm
            is measured and logged either way).
        precision: ``"fp32"``; ``"bf16"`` autocast (CPU or a CUDA device that supports it);
            ``"fp16"`` autocast with a GradScaler (CUDA only).
        device: where to train.
        evaluate: ``evaluate(model) -> metrics``; called in eval mode under ``no_grad``.
        eval_every: evaluate every N optimizer steps.
        eval_each_epoch: evaluate at the end of every epoch.
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
    amp_dtype = _autocast_dtype(precision, device)
    model.to(device)
    ddp = isinstance(model, torch.nn.parallel.DistributedDataParallel)
    core: nn.Module = cast(nn.Module, model.module) if ddp else model  # what checkpoints and evaluate() see
    distributed, world = dist.is_distributed(), dist.world_size()
    params = [p for group in optimizer.param_groups for p in group["params"]]
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
    steps_per_epoch = math.ceil(len(train) / grad_accum)
    total_steps = epochs * steps_per_epoch
    if max_steps is not None:
        total_steps = min(total_steps, max_steps)
    if total_steps > getattr(scheduler, "total_steps", total_steps):
        raise ConfigError(
            f"the scheduler was built for total_steps={scheduler.total_steps} but this run takes "
            f"{total_steps} optimizer steps; build it with total_steps={total_steps}"
        )

    resumed_from: int | None = None
    if resume_from is not None:
        ckpt = load_checkpoint(resume_from)
        if distributed and ckpt.loader_state is not None and "rank" in ckpt.loader_state:
            # rank 0 saved its sampler position; all ranks step in lockstep through equally
            # long shards, so every rank is at that same position of its own shard
            ckpt = dataclasses.replace(
                ckpt, loader_state={**ckpt.loader_state, "rank": dist.rank()})
        per_rank = ckpt.rng.get("ranks") if isinstance(ckpt.rng, dict) else None
        if distributed and per_rank and len(per_rank) == world:
            # each rank continues its own random streams (dropout draws differ across ranks)
            ckpt = dataclasses.replace(ckpt, rng=per_rank[dist.rank()])
        state = restore(ckpt, core, optimizer, scheduler, train, scaler=scaler,
                        observers=observers)
        resumed_from = state.step
        if checkpointer is not None:
            checkpointer.discard_after(state.step)
    state = state if state is not None else TrainState()
    state.stop_reason = ""  # a restored state carries the reason its run stopped
    if run_dir is None and checkpointer is not None:
        run_dir = checkpointer.run_dir
    run_dir = Path(run_dir) if run_dir is not None else None
    best_from_checkpoint = bool(
        checkpointer is not None and checkpointer.monitor == monitor and checkpointer.mode == mode
        and checkpointer.keep_best > 0 and checkpointer.save_on_eval
    )
    best_weights: dict[str, torch.Tensor] | None = None  # in-memory best when not checkpointed
    last_checkpoint = checkpointer.last_path() if checkpointer is not None else None

    stop = notify(observers, TrainStart(total_steps, steps_per_epoch, epochs, resumed_from,
                                        dict(hparams or {})))
    if distributed:
        stop = dist.broadcast_object(stop)
    reason = stop.reason if stop else None
    model.train()
    while reason is None and state.epoch < epochs and state.step < total_steps:
        if state.batches_in_epoch == 0:
            train.set_epoch(state.epoch)  # a fresh epoch; a resumed one keeps the restored position
        n_batches = len(train)  # micro-batches in this epoch (asked once: may be costly)
        batches = iter(train)
        epoch_end = False
        while not epoch_end and reason is None:
            # 1. gather the accumulation window (shorter at the end of an epoch)
            expected = min(grad_accum, n_batches - state.batches_in_epoch)
            window: list[Batch] = list(itertools.islice(batches, expected))
            if len(window) < expected:
                raise TrainingError(
                    f"the batch source yielded {state.batches_in_epoch + len(window)} batches in "
                    f"epoch {state.epoch} but len() says {n_batches}; fix its __len__/__iter__"
                )
            t0 = time.perf_counter()  # the step's own time (with its collectives under DDP)
            n_examples = sum(len(b) for b in window)  # the loss normaliser of the whole window
            n_tokens = sum(b.n_tokens for b in window)
            n_padded = sum(b.n_padded for b in window)
            norm: float = n_examples
            if distributed:  # the window is global: every rank's shard of it counts
                n_examples, n_tokens, n_padded = (
                    int(v) for v in dist.all_reduce_sum([n_examples, n_tokens, n_padded], device))
                # DDP averages gradients over ranks, so world/n_global per rank gives sum/n_global
                norm = n_examples / world
            if n_examples == 0:
                raise TrainingError(
                    f"the accumulation window of step {state.step + 1} (epoch {state.epoch}) holds "
                    "no examples; the batch source yields empty batches; fix the sampler/collate"
                )

            # 2. forward and backward per micro-batch; gradients add up over the window
            loss_sum = torch.zeros((), device=device)
            for i, batch in enumerate(window):
                batch = batch.to(device, non_blocking=True)
                # DDP: all-reduce the gradients once per window, on its last micro-batch
                sync = nullcontext() if not ddp or i == len(window) - 1 else cast(Any, model).no_sync()
                with sync:
                    with torch.autocast(device.type, dtype=amp_dtype, enabled=precision != "fp32"):
                        logits = model(batch)  # (B, C)
                    loss = loss_fn(logits.float(), batch.labels)  # summed over the micro-batch
                    # divide by the WINDOW's examples, so k micro-batches of any sizes give
                    # exactly the gradient of one batch of their union
                    scaler.scale(loss / norm).backward()
                loss_sum += loss.detach()
            state.batches_in_epoch += len(window)
            if distributed:
                loss_sum = torch.tensor(dist.all_reduce_sum([float(loss_sum)], device)[0])

            # 3. unscale and measure the gradient (always, for logging and the guard)
            scaler.unscale_(optimizer)
            grads = [p.grad for p in params if p.grad is not None]
            grad_norm_t = torch.nn.utils.get_total_norm(grads) if grads else torch.zeros(())
            loss_value, grad_norm = float(loss_sum) / n_examples, float(grad_norm_t)
            lr = float(optimizer.param_groups[0]["lr"])

            # 4. non-finite guard BEFORE the step: no update, no checkpoint. With fp16 an
            # inf gradient is an overflow the GradScaler handles (skips the step, lowers scale).
            bad_grad = not math.isfinite(grad_norm) and not scaler.is_enabled()
            if not math.isfinite(loss_value) or bad_grad:
                optimizer.zero_grad(set_to_none=True)
                _fail_non_finite(state, window, loss_value, grad_norm, lr, precision, run_dir,
                                 observers)
            check_divergence(state, loss_value, divergence_factor, lr=lr, run_dir=run_dir,
                             observers=observers, window=window)

            # 5. clip, step, schedule, reset
            if clip_norm is not None and grads:
                torch.nn.utils.clip_grads_with_norm_(params, clip_norm, grad_norm_t)
            scaler.step(optimizer)
            scaler.update()
            if scheduler is not None:
                scheduler.step()
            optimizer.zero_grad(set_to_none=True)

            state.step += 1
            state.examples_seen += n_examples
            state.tokens_seen += n_tokens
            state.record_grad_norm(grad_norm)
            state.last_good_lr = lr
            step_event = StepEnd(
                step=state.step, epoch=state.epoch, loss=loss_value, lr=lr, grad_norm=grad_norm,
                examples=n_examples, tokens=n_tokens,
                padded_tokens=n_padded, seconds=time.perf_counter() - t0,
            )
            stop = notify(observers, step_event)
            if distributed:  # rank 0 decides (it holds the observers)
                stop = _shared_stop(stop, device)

            # 6. evaluate (every N steps and/or at the epoch end), then close the epoch
            epoch_end = state.batches_in_epoch >= n_batches
            metrics: dict[str, float] | None = None
            if evaluate is not None and (
                (eval_every is not None and state.step % eval_every == 0)
                or (eval_each_epoch and epoch_end)
                or (stop is not None and stop.final_eval)
            ):
                metrics = _evaluate(core, evaluate, monitor, checkpointer)
                if distributed:  # every rank gathered the same numbers; rank 0's decide
                    metrics = dist.broadcast_object(metrics)
                check_evaluation(state, metrics, divergence_factor, lr=lr, run_dir=run_dir,
                                 observers=observers)
                state.last_metrics = metrics
                if monitor is not None and _improved(metrics[monitor], state.best_metric, mode):
                    state.best_metric, state.best_step = metrics[monitor], state.step
                    if restore_best and not best_from_checkpoint:
                        best_weights = {k: v.detach().to("cpu", copy=True)
                                        for k, v in core.state_dict().items()}
                stop = _first(stop, notify(observers, EvalEnd(state.step, state.epoch, metrics)))
            if epoch_end:
                stop = _first(stop, notify(observers, EpochEnd(state.epoch, state.step)))
                state.epoch += 1
                state.batches_in_epoch = 0

            # 7. decide whether to stop, then checkpoint at this step boundary
            if stop is not None:
                reason = stop.reason
            elif max_steps is not None and state.step >= max_steps:
                reason = f"max_steps reached ({max_steps})"
            elif state.step >= total_steps:
                reason = f"completed {epochs} epoch{'s' if epochs != 1 else ''}"
            save = checkpointer is not None and (
                reason is not None
                or checkpointer.should_save(step=state.step, epoch_end=epoch_end,
                                            evaluated=metrics is not None)
            )
            rng = None  # captured by the checkpointer in a single process
            if distributed:  # rank 0 decides; a checkpoint holds every rank's RNG streams
                stopping, save = dist.broadcast_flags([reason is not None, save], device)
                if stopping and reason is None:
                    reason = RANK0_STOP
                if save:
                    ranks = dist.gather_objects(rng_state())
                    rng = {**ranks[0], "ranks": ranks}
            if save and checkpointer is not None:
                state.stop_reason = reason or ""
                last_checkpoint = checkpointer.save(
                    step=state.step, model=core, optimizer=optimizer, train_state=state,
                    loader_state=train.state_dict(), scheduler=scheduler, scaler=scaler,
                    metrics=metrics, observers=observer_states(observers), rng=rng,
                )

    if reason is None:  # nothing left to do (e.g. resumed from a finished run)
        reason = (f"completed {epochs} epochs" if state.epoch >= epochs
                  else f"max_steps reached ({max_steps})")
    state.stop_reason = reason
    restored = None
    if restore_best and state.best_step is not None:
        if state.best_step == state.step:
            restored = f"the final weights are the best ({monitor}={state.best_metric:.4g})"
        else:
            restored = _restore_best(core, state, checkpointer if best_from_checkpoint else None,
                                     best_weights, monitor)
        if dist.is_main():  # only rank 0 logs
            log.info(restored)
    notify(observers, TrainEnd(state.step, state.epoch, reason, state.best_metric, state.best_step))
    return TrainResult(state=state, stop_reason=reason, metrics=dict(state.last_metrics),
                       best_metric=state.best_metric, best_step=state.best_step,
                       restored_best=restored, last_checkpoint=last_checkpoint)


def _first(a: StopRequest | None, b: StopRequest | None) -> StopRequest | None:
    return a if a is not None else b


def _improved(value: float, best: float | None, mode: str) -> bool:
    if not math.isfinite(value):
        return False
    return best is None or (value > best if mode == "max" else value < best)


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


def _restore_best(model: nn.Module, state: TrainState, checkpointer: Checkpointer | None,
                  best_weights: dict[str, torch.Tensor] | None, monitor: str | None) -> str:
    what = f"best weights ({monitor}={state.best_metric:.4g} at step {state.best_step})"
    path = checkpointer.best_path() if checkpointer is not None else None
    if path is not None:
        from safetensors.torch import load_model

        device = next((p.device for p in model.parameters()), torch.device("cpu"))
        load_model(model, str(path / "model.safetensors"), strict=True, device=str(device))
        return f"restored {what} from {path}"
    if best_weights is not None:
        model.load_state_dict(best_weights)
        return f"restored {what} from memory"
    return (f"could not restore {what}: not in memory (best predates the resume); the model "
            "holds the last weights")


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
    notify(observers, TrainEnd(state.step, state.epoch, state.stop_reason, state.best_metric,
                               state.best_step))
    raise TrainingError(text)


def _autocast_dtype(precision: str, device: torch.device) -> torch.dtype:
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
    return torch.float32  # unused: autocast disabled


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
