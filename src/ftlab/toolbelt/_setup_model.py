"""The model checks of ``ftlab check-setup``: initial loss, gradient reach, overfitting one
batch, input dependence and whether a batch fits. Each works on its own copy of the model."""

from __future__ import annotations

import copy
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn

from ftlab.batching import Batch, collate
from ftlab.config import RunConfig
from ftlab.toolbelt._setup_data import CheckResult

__all__ = ["Setup", "TrainStep", "OptimizerFactory", "initial_loss_check", "gradients_check",
           "overfit_check", "input_dependence_check", "batch_fits_check"]

TrainStep = Callable[[nn.Module, Batch, torch.optim.Optimizer], float]
OptimizerFactory = Callable[[list[nn.Parameter], float], torch.optim.Optimizer]

_INIT_LOSS_EXAMPLES = 256  # training examples the initial loss is averaged over


@dataclass
class Setup:
    """What the model checks share: the run's data, a pristine model and one batch."""

    config: RunConfig
    encoder: Any
    encoded: dict[str, list[Any]]
    num_classes: int
    model: nn.Module
    batch: Batch
    device: torch.device

    def fresh(self) -> nn.Module:
        """A copy of the untouched model on the device (checks never share state)."""
        return copy.deepcopy(self.model).to(self.device)


def _loss(model: nn.Module, batch: Batch) -> torch.Tensor:
    from ftlab.models import classification_loss

    return classification_loss(model(batch), batch.labels, reduction="mean")


def _sample(items: Sequence[Any], k: int, seed: int) -> list[Any]:
    return list(items) if len(items) <= k else random.Random(seed).sample(list(items), k)


# ---------------------------------------------------------------------------------- checks
def initial_loss_check(s: Setup, *, rtol: float) -> CheckResult:
    """Mean loss of the untrained model on up to 256 training examples vs log(C)."""
    from ftlab.models import classification_loss, probabilities

    model = s.fresh().eval()
    items = _sample(s.encoded["train"], _INIT_LOSS_EXAMPLES, s.config.seed)
    losses, top = [], []
    with torch.no_grad():
        for i in range(0, len(items), 64):
            batch = collate(items[i:i + 64], pad_id=s.encoder.pad_id).to(s.device)
            logits = model(batch)
            losses.append(float(classification_loss(logits, batch.labels, reduction="sum")))
            top += probabilities(logits).max(dim=1).values.tolist()
    measured = sum(losses) / len(items)
    counts = torch.bincount(torch.tensor([e.label for e in items]), minlength=s.num_classes)
    prior = counts[counts > 0].double() / len(items)
    expected = math.log(s.num_classes)
    entropy = float(-(prior * prior.log()).sum())  # a head initialised to the class prior
    details = {"measured": measured, "expected": expected, "prior_entropy": entropy,
               "mean_top_probability": sum(top) / len(top), "examples": len(items), "rtol": rtol}
    low, high = entropy * (1 - rtol), expected * (1 + rtol)
    if not math.isfinite(measured) or measured > high:
        return CheckResult(
            "initial_loss", False,
            f"initial loss {measured:.4g} is far above log({s.num_classes}) = {expected:.4f}, "
            f"the loss of uniform predictions expected at init (mean top probability "
            f"{details['mean_top_probability']:.2f}): the untrained model is confidently wrong. "
            f"Check the output layer's init scale (logits should start near 0), an extra "
            f"temperature/scale on the logits, a pretrained head meant for another task, and "
            f"that the labels match the outputs (label map, num_classes).", details)
    if measured < low:
        return CheckResult(
            "initial_loss", False,
            f"initial loss {measured:.4g} is below what an untrained model can reach "
            f"(log({s.num_classes}) = {expected:.4f} for uniform predictions, "
            f"{entropy:.4f} for predicting the class prior): the model already knows the "
            f"labels. Check for label leakage into the inputs and for weights loaded from a "
            f"model fine-tuned on this data.", details)
    return CheckResult("initial_loss", True,
                       f"initial loss {measured:.4f}, expected about log({s.num_classes}) = "
                       f"{expected:.4f} (within {rtol:.0%})", details)


def gradients_check(s: Setup) -> CheckResult:
    """One backward: every trainable tensor must get a finite, non-zero gradient."""
    model = s.fresh().train()
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if not trainable:
        return CheckResult("gradients", False, "the model has no trainable parameters "
                           "(every requires_grad is False): nothing would be trained")
    loss = _loss(model, s.batch)
    if not loss.requires_grad:
        names = [n for n, _ in trainable]
        more = f" and {len(names) - 10} more" if len(names) > 10 else ""
        return CheckResult(
            "gradients", False,
            f"the loss is detached from all {len(trainable)} trainable parameter tensors "
            f"({', '.join(names[:10])}{more}): it has no grad_fn, so backward cannot reach any "
            f"of them. Look for .detach(), .data, torch.no_grad() or a .item()/numpy round trip "
            f"in the forward pass.", {"grad_none": names, "grad_zero": [],
                                      "trainable": len(trainable)})
    loss.backward()
    none = [n for n, p in trainable if p.grad is None]
    zero = [n for n, p in trainable if p.grad is not None and not bool(p.grad.any())]
    bad = [n for n, p in trainable if p.grad is not None and not bool(p.grad.isfinite().all())]
    details = {"trainable": len(trainable), "grad_none": none, "grad_zero": zero,
               "non_finite": bad}
    if bad:
        return CheckResult("gradients", False, f"non-finite gradients in {', '.join(bad[:10])}: "
                           f"overflow in the forward pass or a log/division of zero", details)
    if none or zero:
        listed = [f"{n} (grad None)" for n in none] + [f"{n} (grad all zero)" for n in zero]
        more = f" and {len(listed) - 10} more" if len(listed) > 10 else ""
        return CheckResult(
            "gradients", False,
            f"{len(listed)} of {len(trainable)} trainable parameter tensors get no gradient "
            f"after one backward: {', '.join(listed[:10])}{more}. They would never train: a "
            f"detached branch (.detach(), .data, torch.no_grad), a submodule whose output is "
            f"not used, or an output multiplied by zero. Freeze them (requires_grad=False) if "
            f"that is intended.", details)
    return CheckResult("gradients", True, f"all {len(trainable)} trainable parameter tensors "
                       f"get a finite, non-zero gradient", details)


def overfit_check(s: Setup, *, steps: int, lr: float, lr_source: str, target: float,
             batch_size: int, train_step: TrainStep,
             optimizer_factory: OptimizerFactory | None) -> CheckResult:
    """A fresh copy (eval mode: dropout off) must memorise one batch in ``steps``."""
    model = s.fresh().eval()  # eval: dropout off, so one batch can be memorised exactly
    params = [p for p in model.parameters() if p.requires_grad]
    if optimizer_factory is None:
        optimizer: torch.optim.Optimizer = torch.optim.Adam(params, lr=lr)
        how = f"Adam at lr={lr:g} ({lr_source})"
    else:
        optimizer = optimizer_factory(params, lr)
        how = f"{type(optimizer).__name__} from the given factory at lr={lr:g}"
    batch = _head(s.batch, batch_size)
    before = [p.detach().clone() for p in params]
    losses: list[float] = []
    for _ in range(steps):
        losses.append(float(train_step(model, batch, optimizer)))
        if losses[-1] <= target or not math.isfinite(losses[-1]):
            break
    with torch.no_grad():
        final = float(_loss(model, batch))
    changed = sum(not torch.equal(b, p.detach()) for b, p in zip(before, params))
    details = {"steps": len(losses), "max_steps": steps, "lr": lr, "optimizer": how,
               "batch_size": len(batch), "first_loss": losses[0], "final_loss": final,
               "target": target, "changed_tensors": changed, "trainable_tensors": len(params),
               "losses": losses}
    head = f"single batch of {len(batch)}, {len(losses)} step(s) of {how}"
    if changed == 0:
        return CheckResult(
            "overfit_batch", False,
            f"{head}: no parameter changed (loss {losses[0]:.4f} -> {final:.4f}). The training "
            f"step does not update the model: optimizer.step() is never called, the loss is "
            f"detached (no gradients), the optimizer holds other parameters than the model's, "
            f"or the learning rate is 0.", details)
    if not math.isfinite(final):
        return CheckResult(
            "overfit_batch", False,
            f"{head}: the loss became {final} (from {losses[0]:.4f}): the learning rate is too "
            f"high for this model, or the forward pass overflows.", details)
    if final > target:
        return CheckResult(
            "overfit_batch", False,
            f"{head}: the loss went from {losses[0]:.4f} to {final:.4f}, not below {target:g}. "
            f"A correct setup memorises one batch easily; check that every parameter gets a "
            f"gradient (see 'gradients'), that the step updates all of them, that the learning "
            f"rate is not far too low or high, and that the batch has no identical texts with "
            f"different labels. {changed} of {len(params)} trainable tensors changed.", details)
    return CheckResult("overfit_batch", True,
                       f"{head}: loss {losses[0]:.4f} -> {final:.4f} (target {target:g})",
                       details)


def _head(batch: Batch, n: int) -> Batch:
    """The first ``n`` rows of a batch (padding columns kept)."""
    return replace(batch, **{k: (v[:n] if isinstance(v, torch.Tensor) else v)
                             for k, v in vars(batch).items()})


def _changed_share(a: torch.Tensor, b: torch.Tensor, atol: float = 1e-6) -> float:
    return float(((a - b).abs().amax(dim=1) > atol).double().mean())


def input_dependence_check(s: Setup) -> CheckResult:
    """Rolled (each row another's input) and zeroed inputs must change the output."""
    from ftlab.models import probabilities

    model = s.fresh().eval()
    batch = s.batch
    if len(batch) < 2:
        return CheckResult("input_dependence", None, "skipped: the first batch has one example")
    shifted = replace(batch, **{k: (torch.roll(v, 1, dims=0) if isinstance(v, torch.Tensor)
                                    and k not in ("labels", "index") else v)
                                for k, v in vars(batch).items()})
    pad = s.encoder.pad_id
    # every real token replaced by the pad id (masks and lengths kept): no token information
    zeroed = replace(batch, ids=torch.where(batch.mask.bool(), torch.full_like(batch.ids, pad),
                                            batch.ids))
    if batch.pair_ids is not None and batch.pair_mask is not None:
        zeroed = replace(zeroed, pair_ids=torch.full_like(batch.pair_ids, pad))
    with torch.no_grad():
        p = probabilities(model(batch))
        p_shifted = probabilities(model(shifted))
        p_zeroed = probabilities(model(zeroed))
    share_shift, share_zero = _changed_share(p, p_shifted), _changed_share(p, p_zeroed)
    details = {"shuffled_changed": share_shift, "zeroed_changed": share_zero,
               "batch_size": len(batch)}
    if share_shift < 0.5 or share_zero < 0.5:
        which = []
        if share_shift < 0.5:
            which.append(f"giving each example another example's input changed the "
                         f"predicted probabilities of only {share_shift:.0%} of the batch")
        if share_zero < 0.5:
            which.append(f"replacing every token by the pad id changed only {share_zero:.0%}")
        return CheckResult(
            "input_dependence", False,
            "the predictions do not depend on the input: " + " and ".join(which) + ". The "
            "model ignores its input (it returns a learned constant such as a bias, reads a "
            "field the batch does not fill, or only uses lengths/masks); check the forward "
            "pass.", details)
    return CheckResult("input_dependence", True,
                       f"shuffled inputs change {share_shift:.0%} and zeroed inputs "
                       f"{share_zero:.0%} of the predictions", details)


def batch_fits_check(s: Setup) -> CheckResult:
    """One forward+backward+step of the longest training examples at the batch size."""
    from ftlab.runs import build_optimization
    from ftlab.training import autocast_dtype

    cfg = s.config
    train = sorted(s.encoded["train"], key=lambda e: e.length, reverse=True)
    longest = train[0].length
    if cfg.batching.max_tokens:
        size, setting = max(1, cfg.batching.max_tokens // longest), \
            f"batching.max_tokens={cfg.batching.max_tokens}"
    else:
        size, setting = cfg.batching.batch_size, f"batching.batch_size={cfg.batching.batch_size}"
    items = train[:size]
    precision = cfg.train.precision
    if s.device.type != "cuda" and precision == "fp16":
        precision = "fp32"  # fp16 autocast needs CUDA; the training loop refuses it elsewhere
    amp = autocast_dtype(precision, s.device)
    model = s.fresh().train()
    optimizer, _ = build_optimization(model, cfg.train, total_steps=1)
    batch = collate(items, pad_id=s.encoder.pad_id).to(s.device)
    cuda = s.device.type == "cuda"
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(s.device)
    start = time.perf_counter()
    try:
        with torch.autocast(s.device.type, dtype=amp, enabled=amp is not None):
            loss = _loss(model, batch)
        loss.backward()
        optimizer.step()
        if cuda:
            torch.cuda.synchronize(s.device)
    except torch.cuda.OutOfMemoryError as exc:
        return _oom(s, setting, len(items), longest, exc)
    except RuntimeError as exc:
        if "out of memory" not in str(exc).lower():
            raise
        return _oom(s, setting, len(items), longest, exc)
    seconds = time.perf_counter() - start
    details = {"batch_size": len(items), "longest": longest, "seconds": seconds,
               "device": str(s.device), "precision": precision}
    peak = ""
    if cuda:
        details["peak_bytes"] = torch.cuda.max_memory_allocated(s.device)
        peak = f", peak {details['peak_bytes'] / 2**30:.2f} GiB"
    return CheckResult("batch_fits", True,
                       f"one forward+backward+step of the {len(items)} longest training examples "
                       f"({longest} tokens) fits on {s.device} ({setting}, {precision}): "
                       f"{seconds:.2f} s{peak}", details)


def _oom(s: Setup, setting: str, n: int, longest: int, exc: BaseException) -> CheckResult:
    if s.device.type == "cuda":
        torch.cuda.empty_cache()
    return CheckResult(
        "batch_fits", False,
        f"out of memory on {s.device} for one step of the {n} longest training examples "
        f"({longest} tokens, {setting}): lower the batch size and raise train.grad_accum to "
        f"keep the effective batch, shorten preprocess.max_length, use batching.max_tokens, "
        f"or train in bf16.", {"batch_size": n, "longest": longest, "error": str(exc)[:500]})
