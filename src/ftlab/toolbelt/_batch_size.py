"""``ftlab find-batch-size``: the largest batch (or token budget) whose training step fits.

The worst case is built on purpose: the longest training examples, padded to the longest, one
forward + backward + optimizer step (optimizer state included), and the batch size is searched
by doubling and then bisection. A pluggable ``fits(size) -> (bool, peak_bytes)`` probe does the
measuring (see :mod:`ftlab.toolbelt._memory`), so the search itself is tested with fake memory.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

from ftlab.batching import Batch, Encoded, collate
from ftlab.config import RunConfig
from ftlab.errors import ConfigError, TrainingError
from ftlab.toolbelt._memory import (
    default_cpu_budget, format_bytes, is_out_of_memory, measure_cpu_peak, measure_cuda_peak,
    parse_bytes,
)

__all__ = ["BatchSizeResult", "ProbeRecord", "Probe", "find_batch_size", "largest_fitting",
           "worst_case_batch", "apply_margin", "accumulation_plan", "scale_lr"]

Probe = Callable[[int], tuple[bool, int | None]]


@dataclass(frozen=True)
class ProbeRecord:
    """One trial of the search: ``size`` examples in the worst-case batch."""

    size: int
    fits: bool
    peak_bytes: int | None


def largest_fitting(fits: Probe, *, high: int, low: int = 1,
                    rel_tol: float = 0.0) -> tuple[int, list[ProbeRecord]]:
    """The largest ``n`` in ``[low, high]`` with ``fits(n)`` true, for a monotone ``fits``.

    Doubles from ``low`` until a size fails (or ``high`` fits), then bisects between the last
    size that fit and the first that failed: about ``2 * log2(answer)`` probes.

    Args:
        fits: ``fits(n) -> (fits, peak_bytes)``; must be monotone (fits at n => fits below n).
        high: the largest size worth trying (e.g. the number of training examples).
        low: the smallest size (>= 1).
        rel_tol: stop bisecting once the first failing size is within ``rel_tol`` of the
            largest fitting one (0: exact; the answer then fits but may be up to that share
            below the true limit).

    Returns:
        ``(largest, probes)``; ``largest`` is 0 when even ``low`` does not fit.

    Raises:
        ValueError: ``low < 1`` or ``high < low``.
    """
    if low < 1 or high < low:
        raise ValueError(f"largest_fitting: need 1 <= low <= high, got {low=}, {high=}")
    probes: list[ProbeRecord] = []

    def check(n: int) -> bool:
        ok, peak = fits(n)
        probes.append(ProbeRecord(n, bool(ok), peak))
        return bool(ok)

    if not check(low):
        return 0, probes
    good, bad = low, None
    while good < high:
        nxt = min(good * 2, high)
        if check(nxt):
            good = nxt
        else:
            bad = nxt
            break
    if bad is None:
        return good, probes
    # stop once the bracket is within rel_tol of the answer: on CPU every probe of a large
    # batch costs seconds, and the safety margin dwarfs the last few examples anyway
    while bad - good > max(1, int(rel_tol * good)):
        mid = (good + bad) // 2
        if check(mid):
            good = mid
        else:
            bad = mid
    return good, probes


def worst_case_batch(encoded: Sequence[Encoded], size: int, *, pad_id: int = 0) -> Batch:
    """The ``size`` longest examples (ties: lower index first), padded to the longest.

    Raises:
        ValueError: ``size`` is not in ``[1, len(encoded)]``.
    """
    if not 1 <= size <= len(encoded):
        raise ValueError(f"worst_case_batch: size must be in [1, {len(encoded)}], got {size}")
    order = sorted(range(len(encoded)), key=lambda i: (-encoded[i].length, i))
    return collate([encoded[i] for i in order[:size]], pad_id=pad_id)


def apply_margin(size: int, margin: float) -> int:
    """``size`` less a safety margin (``0.1`` = 10%), rounded down, at least 1.

    Raises:
        ConfigError: ``margin`` not in ``[0, 1)``.
    """
    if not 0 <= margin < 1:
        raise ConfigError(f"--margin must be in [0, 1) (0.1 = 10%), got {margin}")
    return max(1, math.floor(size * (1 - margin)))


def accumulation_plan(per_step_max: int, target: int) -> tuple[int, int]:
    """``(micro, accum)``: the fewest accumulation steps reaching ``target``, micro-batches as
    even as possible (``micro <= per_step_max``, ``micro * accum >= target``, as close as
    rounding allows).

    Raises:
        ConfigError: a non-positive argument.
    """
    if per_step_max < 1 or target < 1:
        raise ConfigError(f"--target-batch and the batch that fits must be >= 1, got "
                          f"target={target}, fits={per_step_max}")
    accum = math.ceil(target / per_step_max)
    return math.ceil(target / accum), accum


def scale_lr(lr: float, old_batch: int, new_batch: int, optimizer: str) -> tuple[float, str]:
    """The learning rate for a new effective batch size, by the usual rule of thumb.

    SGD: linear scaling (Goyal et al. 2017): ``lr * new / old``. Adam-family: square-root
    scaling (Krizhevsky 2014; Malladi et al. 2022): ``lr * sqrt(new / old)``. Both are starting
    points; warmup, weight decay and the schedule are batch-size sensitive too and need retuning.

    Returns:
        ``(new_lr, rule)`` where ``rule`` names the rule and factor.
    """
    ratio = new_batch / old_batch
    if optimizer == "sgd":
        return lr * ratio, f"linear scaling rule (SGD): x{ratio:.4g}"
    factor = math.sqrt(ratio)
    return lr * factor, f"square-root scaling rule ({optimizer}): x{factor:.4g}"


@dataclass(frozen=True)
class BatchSizeResult:
    """What :func:`find_batch_size` found and recommends.

    Attributes:
        mode: ``"batch_size"`` (examples per batch) or ``"max_tokens"`` (token budget).
        found: the largest value that fit (examples, or tokens = examples * longest).
        recommended: ``found`` less the safety margin.
        micro: the per-step value to use (``recommended``, or less to reach ``target`` evenly).
        grad_accum: accumulation steps (the config's, or those reaching ``target``).
        effective: ``micro * grad_accum``.
        peak_bytes: the measured peak at ``found`` (None from a probe that does not measure).
        budget_bytes: the memory budget (None: the device's own limit, CUDA out-of-memory).
        longest: tokens of the longest training example (every probed batch is padded to it).
        capped: ``found`` is the largest size tried (the training split, or ``max_size``): the
            real limit is higher.
        suggested_lr: the config's lr scaled to ``effective`` (None when there is no reference).
    """

    mode: Literal["batch_size", "max_tokens"]
    found: int
    recommended: int
    margin: float
    micro: int
    grad_accum: int
    effective: int
    target: int | None
    peak_bytes: int | None
    budget_bytes: int | None
    device: str
    method: str
    longest: int
    examples: int
    capped: bool
    lr: float
    suggested_lr: float | None
    lr_rule: str | None
    probes: tuple[ProbeRecord, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def config_values(self) -> dict[str, Any]:
        """The ``section.key`` values ``--write`` puts into the config."""
        return {f"batching.{self.mode}": self.micro, "train.grad_accum": self.grad_accum}

    def format(self) -> str:
        """A plain-text report for the terminal."""
        unit = "examples" if self.mode == "batch_size" else "tokens"
        budget = (format_bytes(self.budget_bytes) if self.budget_bytes is not None
                  else "the device's memory (out-of-memory error)")
        tried = ", ".join(f"{p.size}{'+' if p.fits else 'x'}" for p in self.probes)
        lines = [
            f"{self.mode}: largest that fits {self.found} {unit}"
            + (" (the largest size tried: the real limit is higher)" if self.capped else ""),
            f"  worst case: the longest training examples, padded to {self.longest} tokens; "
            f"one forward + backward + optimizer step on {self.device}",
            f"  peak memory at {self.found}: {format_bytes(self.peak_bytes)} "
            f"(limit: {budget}; measured by {self.method})",
            f"  with a {self.margin:.0%} safety margin: {self.recommended} {unit}",
            f"  probes (examples of the longest length; + fits, x does not): {tried}",
        ]
        if self.target is not None:
            lines.append(f"  target effective batch {self.target}: {self.mode} {self.micro} x "
                         f"grad_accum {self.grad_accum} = {self.effective} {unit} per step")
        if self.suggested_lr is not None:
            lines.append(f"  learning rate: {self.lr:.4g} -> consider {self.suggested_lr:.4g} "
                         f"({self.lr_rule})")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def _train_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: Batch,
                loss_fn: Callable[..., torch.Tensor], device: torch.device,
                autocast: torch.dtype | None, clip_norm: float | None) -> None:
    """One training step as ``fit`` takes it (forward, loss, backward, clip, step, zero)."""
    model.train()
    batch = batch.to(device)
    with torch.autocast(device.type, dtype=autocast or torch.float32, enabled=autocast is not None):
        logits = model(batch)  # (B, C)
    loss = loss_fn(logits.float(), batch.labels) / len(batch)
    loss.backward()
    if clip_norm is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def _measuring_probe(pieces: Any, budget: int | None, method: list[str]) -> Probe:
    """A probe that really runs the step; the model is reset to its initial weights after each."""
    model, device = pieces.model, pieces.device
    pristine = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
    clip = pieces.config.train.clip_norm

    def fits(size: int) -> tuple[bool, int | None]:
        batch = worst_case_batch(pieces.train, size, pad_id=pieces.pad_id)
        optimizer = pieces.make_optimizer(model)  # fresh: its state is part of the peak

        def step() -> None:
            # F821: `del optimizer` below runs after step() is done; ruff reads it as unbound
            _train_step(model, optimizer, batch, pieces.loss_fn, device, pieces.autocast, clip)  # noqa: F821

        peak: int | None = None
        oom = False
        try:
            if device.type == "cuda":
                peak = measure_cuda_peak(step, device)
                method[0] = "torch.cuda.max_memory_allocated"
            else:
                peak, method[0] = measure_cpu_peak(step)
        except (RuntimeError, MemoryError) as exc:
            if not is_out_of_memory(exc):
                raise
            oom = True  # recover outside the except block: the traceback pins the tensors
        del optimizer
        model.zero_grad(set_to_none=True)
        model.load_state_dict(pristine)
        if device.type == "cuda":
            torch.cuda.empty_cache()
        if oom:
            return False, None
        return (budget is None or (peak or 0) <= budget), peak

    return fits


def find_batch_size(
    config: RunConfig,
    *,
    tokens: bool = False,
    max_memory: int | str | None = None,
    margin: float = 0.1,
    target_batch: int | None = None,
    device: str | None = None,
    max_size: int | None = None,
    probe: Probe | None = None,
    precision: float = 0.0,
) -> BatchSizeResult:
    """Find the largest batch size (or token budget) whose training step fits in memory.

    Builds the run's data and model as ``ftlab train --dry-run`` does, then searches the number
    ``k`` of longest training examples (padded to the longest) for which one forward + backward
    + optimizer step fits. With ``tokens`` the answer is the token budget ``k * longest``: a
    budget batch of the longest examples is the costliest shape a budget allows. The model,
    optimizer and global RNG state are left as they were (weights reset after every probe).

    Args:
        config: the run config.
        tokens: search ``batching.max_tokens`` instead of ``batching.batch_size``.
        max_memory: memory budget for the step (bytes or ``"8GB"``). CPU default: 50% of the
            memory available now; CUDA default: none (the out-of-memory error is the limit).
        margin: safety margin taken off the size found (0.1 = 10%).
        target_batch: effective batch (examples, or tokens with ``tokens``) to reach by gradient
            accumulation; the learning-rate suggestion is made for it.
        device: ``cpu``/``cuda``; None uses ``train.device``.
        max_size: largest number of examples to try (default: the training split).
        probe: ``probe(k) -> (fits, peak_bytes)`` replacing the measurement (tests, other
            accelerators); ``max_memory`` is then ignored.
        precision: stop the bisection once within this share of the limit (0: exact; the
            CLI uses 0.01).

    Returns:
        A :class:`BatchSizeResult`.

    Raises:
        ConfigError: bad arguments, or ``batching.max_tokens`` set without ``tokens``.
        TrainingError: not even one longest example fits.
    """
    from ftlab.toolbelt._pieces import build_pieces
    from ftlab.training import rng_state, set_rng_state

    if config.batching.max_tokens and not tokens:
        raise ConfigError(f"the config batches by token budget (batching.max_tokens="
                          f"{config.batching.max_tokens}), which overrides batching.batch_size; "
                          f"pass --tokens to find the largest max_tokens, or unset max_tokens")
    if target_batch is not None and target_batch < 1:
        raise ConfigError(f"--target-batch must be >= 1, got {target_batch}")
    apply_margin(1, margin)  # validates the margin before any work
    saved_rng = rng_state()
    pieces = build_pieces(config, device=device)
    n = len(pieces.train)
    high = min(n, max_size) if max_size else n
    longest = max(e.length for e in pieces.train)
    notes: list[str] = []
    method = ["probe"]
    budget: int | None = None
    if probe is None:
        if pieces.device.type not in ("cpu", "cuda"):
            raise ConfigError(f"find-batch-size measures memory on cpu or cuda, not "
                              f"{pieces.device.type}; pass --device cpu or --device cuda")
        if max_memory is not None:
            budget = parse_bytes(max_memory)
        elif pieces.device.type == "cpu":
            budget = default_cpu_budget(0.5)
            notes.append(f"CPU budget: 50% of the memory available now "
                         f"({format_bytes(budget)}); set it with --max-memory")
        probe = _measuring_probe(pieces, budget, method)
    try:
        k, probes = largest_fitting(probe, high=high, rel_tol=precision)
    finally:
        set_rng_state(saved_rng)
    if k == 0:
        raise TrainingError(
            f"not even one example of the longest length ({longest} tokens) fits: "
            f"peak {format_bytes(probes[0].peak_bytes)}, limit "
            f"{format_bytes(budget) if budget else 'device memory'}; lower "
            f"preprocess.max_length, use a smaller model or raise --max-memory")
    peak = next((p.peak_bytes for p in reversed(probes) if p.size == k and p.fits), None)
    found = k * longest if tokens else k
    recommended = apply_margin(found, margin)
    if target_batch is not None:
        micro, accum = accumulation_plan(recommended, target_batch)
    else:
        micro, accum = recommended, config.train.grad_accum
    effective = micro * accum
    t = config.train
    reference = ((config.batching.max_tokens or 0) if tokens
                 else config.batching.batch_size) * t.grad_accum
    suggested_lr: float | None = None
    rule: str | None = None
    if reference:
        suggested_lr, rule = scale_lr(t.lr, reference, effective, t.optimizer)
        rule += f", effective batch {reference} -> {effective}"
        notes.append("batch-size-sensitive hyperparameters (learning rate, warmup, weight "
                      "decay, epochs) need retuning; the scaling rule is only a starting point")
    else:
        notes.append("the config sets no batching.max_tokens to scale the learning rate from; "
                     "tune train.lr for the new budget (ftlab find-lr)")
    if tokens:
        notes.append("token budget probed with batches of the longest examples; batches of "
                     "shorter examples under the same budget hold more, usually cheaper, rows")
    return BatchSizeResult(
        mode="max_tokens" if tokens else "batch_size", found=found, recommended=recommended,
        margin=margin, micro=micro, grad_accum=accum, effective=effective, target=target_batch,
        peak_bytes=peak, budget_bytes=budget, device=str(pieces.device), method=method[0],
        longest=longest, examples=n, capped=k == high, lr=t.lr, suggested_lr=suggested_lr,
        lr_rule=rule, probes=tuple(probes), notes=tuple(notes),
    )
