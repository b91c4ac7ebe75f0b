"""``ftlab gradcheck``: autograd gradients against central finite differences, per tensor.

For people who write custom modules (a ``torch.autograd.Function`` with its own backward, an
in-place trick, a hand-written layer): a wrong gradient does not crash, it trains slowly or
not at all. The check runs on a float64 copy of the model, so the finite differences are exact
to about 1e-9 and a tolerance of 1e-6 separates rounding noise from a real mistake.

The model must be deterministic: the same batch must give the same loss every time. The copy
is put in eval mode, which turns dropout off in ``nn.Dropout`` and Hugging Face models; a module
that samples in eval mode (or dropout through ``F.dropout(training=True)``) must be made
deterministic first (e.g. ``p=0``), or every comparison would measure the noise.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, is_dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from ftlab.errors import FtlabError

__all__ = ["GradcheckRow", "gradcheck", "gradcheck_target", "format_gradcheck"]

LossFn = Callable[[nn.Module, Any], torch.Tensor]  # (model, batch) -> scalar loss


@dataclass
class GradcheckRow:
    """The finite-difference comparison of one parameter tensor.

    Attributes:
        name: the parameter's name (``model.named_parameters()``).
        shape: its shape.
        sampled: entries compared.
        max_rel_error: the largest ``|autograd - numeric| / max(|autograd|, |numeric|, floor)``
            over the sampled entries.
        passed: ``max_rel_error <= tol``.
        worst_index: the sampled entry (as an index tuple) with the largest error.
        analytic: autograd's gradient at that entry.
        numeric: the central-difference gradient at that entry.
    """

    name: str
    shape: tuple[int, ...]
    sampled: int
    max_rel_error: float
    passed: bool
    worst_index: tuple[int, ...]
    analytic: float
    numeric: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict of the fields."""
        return asdict(self)


def _default_loss(model: nn.Module, batch: Any) -> torch.Tensor:
    from ftlab.models import classification_loss

    return classification_loss(model(batch), batch.labels, reduction="mean")


def _to_double(obj: Any) -> Any:
    """Floating tensors (also inside a dataclass batch, a dict, a list) converted to float64."""
    if isinstance(obj, torch.Tensor):
        return obj.double() if obj.is_floating_point() else obj
    if is_dataclass(obj) and not isinstance(obj, type):
        return replace(obj, **{f.name: _to_double(getattr(obj, f.name)) for f in fields(obj)
                               if f.init})
    if isinstance(obj, dict):
        return {k: _to_double(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_double(v) for v in obj)
    return obj


def _pick(grad: torch.Tensor, n: int, rng: np.random.Generator) -> list[int]:
    """Flat indices to compare: mostly entries with a non-zero gradient, some drawn anywhere.

    Entries where autograd says zero (e.g. embedding rows of tokens not in the batch) are
    usually zero numerically too; drawing only uniformly would mostly compare zeros with zeros
    and miss a wrong backward. The uniform draws still catch a branch autograd misses.
    """
    numel = grad.numel()
    if numel <= n:
        return list(range(numel))
    nonzero = torch.nonzero(grad.reshape(-1)).reshape(-1).cpu().numpy()
    k = min(len(nonzero), n - n // 3 if len(nonzero) < numel else n)
    chosen = set(rng.choice(nonzero, size=k, replace=False).tolist()) if k else set()
    while len(chosen) < n:
        chosen.add(int(rng.integers(numel)))
    return sorted(chosen)


def gradcheck(
    model: nn.Module,
    batch: Any,
    *,
    loss_fn: LossFn | None = None,
    n_samples: int = 5,
    eps: float = 1e-6,
    seed: int = 0,
    tol: float = 1e-6,
    floor: float = 1e-3,
) -> list[GradcheckRow]:
    """Compare autograd gradients with central finite differences, per parameter tensor.

    Works on a float64 deep copy in eval mode (``model`` itself is not touched). For each
    trainable tensor, ``n_samples`` entries are sampled (seeded; mostly where autograd's
    gradient is non-zero) and each gets the numeric gradient
    ``(L(w + h) - L(w - h)) / 2h`` with the relative step ``h = eps * max(1, |w|)``. The error is
    ``|autograd - numeric| / max(|autograd|, |numeric|, floor)``: relative for gradients above
    ``floor``, absolute (in units of ``floor``) below, where the finite difference's rounding
    noise (about 1e-16 * |L| / h) would otherwise dominate a relative error.

    Args:
        model: the model (any ``nn.Module``); it must be deterministic in eval mode.
        batch: its input (a :class:`~ftlab.batching.Batch` for ftlab models); floating tensors
            are converted to float64.
        loss_fn: ``(model, batch) -> scalar`` (default: mean classification loss of
            ``model(batch)`` against ``batch.labels``).
        n_samples: entries compared per tensor.
        eps: relative finite-difference step.
        seed: seeds which entries are sampled.
        tol: the largest error that passes (1e-6 suits float64).
        floor: gradient size below which the error is measured absolutely.

    Returns:
        One :class:`GradcheckRow` per trainable parameter tensor, in ``named_parameters`` order.

    Raises:
        FtlabError: the loss is not a finite scalar, does not depend on the parameters, or
            differs between two identical evaluations (a non-deterministic model).
    """
    loss_fn = loss_fn or _default_loss
    net = copy.deepcopy(model).double().eval()
    data = _to_double(batch)
    params = [(n, p) for n, p in net.named_parameters() if p.requires_grad]
    if not params:
        raise FtlabError("gradcheck: the model has no trainable parameters (requires_grad)")

    def value() -> float:
        with torch.no_grad():
            return float(loss_fn(net, data))

    loss = loss_fn(net, data)
    if loss.dim() != 0 or not torch.isfinite(loss):
        raise FtlabError(f"gradcheck: loss_fn must return a finite scalar, got shape "
                         f"{tuple(loss.shape)} value {loss.detach().flatten()[:3].tolist()}")
    if not loss.requires_grad:
        raise FtlabError("gradcheck: the loss does not depend on any trainable parameter (no "
                         "grad_fn); look for .detach()/.data/torch.no_grad() in the forward pass")
    first, again = float(loss.detach()), value()
    if first != again:
        raise FtlabError(
            f"gradcheck: the model is not deterministic: the same batch gave loss {first!r} and "
            f"then {again!r}. Turn off dropout and any sampling (eval mode, p=0), or finite "
            f"differences measure the noise instead of the gradient.")
    loss.backward()
    rng = np.random.default_rng(seed)
    rows = []
    for name, p in params:
        grad = p.grad if p.grad is not None else torch.zeros_like(p)
        worst: tuple[float, tuple[int, ...], float, float] = (-1.0, (0,), 0.0, 0.0)
        picked = _pick(grad, n_samples, rng)
        for flat in picked:
            idx = tuple(int(i) for i in np.unravel_index(flat, tuple(p.shape)))
            with torch.no_grad():
                w = float(p[idx])
                h = eps * max(1.0, abs(w))
                p[idx] = w + h
                up = value()
                p[idx] = w - h
                down = value()
                p[idx] = w
            numeric = (up - down) / (2 * h)
            analytic = float(grad[idx])
            err = abs(analytic - numeric) / max(abs(analytic), abs(numeric), floor)
            if not math.isfinite(err):
                err = math.inf
            if err > worst[0]:
                worst = (err, idx, analytic, numeric)
        rows.append(GradcheckRow(name=name, shape=tuple(p.shape), sampled=len(picked),
                                 max_rel_error=worst[0], passed=worst[0] <= tol,
                                 worst_index=worst[1], analytic=worst[2], numeric=worst[3]))
    return rows


def format_gradcheck(rows: list[GradcheckRow], *, tol: float) -> Any:
    """A rich table of gradcheck rows (tensor, shape, sampled, max error, status, worst entry)."""
    from rich.table import Table

    table = Table(title=f"ftlab gradcheck (float64, central differences, tolerance {tol:g})")
    for col in ("parameter", "shape", "sampled", "max rel. error", "status",
                "worst entry: autograd vs numeric"):
        table.add_column(col)
    for r in rows:
        status = "[green]pass[/]" if r.passed else "[bold red]FAIL[/]"
        table.add_row(r.name, "x".join(map(str, r.shape)) or "scalar", str(r.sampled),
                      f"{r.max_rel_error:.2e}", status,
                      f"{list(r.worst_index)}: {r.analytic:.6g} vs {r.numeric:.6g}")
    return table


def _import_factory(spec: str) -> Callable[..., Any]:
    import importlib

    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise FtlabError(f"--model must look like 'package.module:Factory', got {spec!r}")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise FtlabError(f"--model {spec!r}: cannot import {module_name!r} ({exc}); is it on "
                         f"PYTHONPATH or installed?") from exc
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise FtlabError(f"--model {spec!r}: {module_name} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise FtlabError(f"--model {spec!r}: {attr} is not callable")
    return obj


def _call_factory(factory: Callable[..., Any], spec: str, **available: Any) -> nn.Module:
    import inspect

    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        params = {}  # type: ignore[assignment]  # no signature: nothing to pass by name
    takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    kwargs = {k: v for k, v in available.items() if takes_all or k in params}
    model = factory(**kwargs)
    if not isinstance(model, nn.Module):
        raise FtlabError(f"--model {spec!r} returned {type(model).__name__}, not a torch.nn.Module")
    return model


def gradcheck_target(
    *,
    config: Any = None,
    model_spec: str | None = None,
    vocab_size: int = 100,
    num_classes: int = 2,
    batch_size: int = 4,
    seed: int = 0,
) -> tuple[nn.Module, Any]:
    """The model and batch ``ftlab gradcheck`` checks.

    With a config, the batch is the first ``batch_size`` training examples of its data and the
    model is the config's (or ``model_spec``'s, built for the config's vocabulary and classes).
    Without one, ``model_spec`` is built for ``vocab_size`` / ``num_classes`` and the batch is
    random token ids (seeded), lengths 3 to 8, pad id 0.

    Args:
        config: a :class:`~ftlab.config.RunConfig`, or None.
        model_spec: ``"package.module:Factory"``; the factory is called with those of
            ``vocab_size``, ``pad_id``, ``num_classes`` it accepts and returns an ``nn.Module``
            mapping a :class:`~ftlab.batching.Batch` to logits ``(B, C)``.
        vocab_size: vocabulary size without a config.
        num_classes: number of classes without a config.
        batch_size: examples in the batch.
        seed: seeds the model's init and the random batch.

    Raises:
        FtlabError: neither a config nor a model, or a model spec that cannot be imported or
            does not build an ``nn.Module``.
    """
    from ftlab.batching import Encoded, collate
    from ftlab.training import seed_everything

    if config is None and model_spec is None:
        raise FtlabError("gradcheck needs --config CONFIG, --model package.module:Factory, or both")
    seed_everything(seed)
    if config is None:
        assert model_spec is not None
        gen = torch.Generator().manual_seed(seed)
        items = [Encoded(index=i, ids=torch.randint(1, vocab_size, (3 + (i * 5) % 6,),
                                                    generator=gen).tolist(),
                         label=i % num_classes) for i in range(batch_size)]
        model = _call_factory(_import_factory(model_spec), model_spec, vocab_size=vocab_size,
                              pad_id=0, num_classes=num_classes)
        return model, collate(items, pad_id=0)
    from ftlab.runs import build_model_for
    from ftlab.runs import prepare_data

    prepared = prepare_data(config)
    encoder = prepared.encoder
    train = prepared.encoded["train"][:batch_size]
    n_classes = encoder.labels.num_classes
    if model_spec is None:
        pairs = any(e.pair_ids is not None for e in train)
        model, _ = build_model_for(config, encoder, n_classes, text_pairs=pairs)
    else:
        model = _call_factory(_import_factory(model_spec), model_spec,
                              vocab_size=encoder.tokenizer.vocab_size, pad_id=encoder.pad_id,
                              num_classes=n_classes)
    return model, collate(train, pad_id=encoder.pad_id)
