"""``ftlab check-setup``: fast sanity checks of a config's data, model and training step.

Each check answers one question a long job would otherwise answer hours later, and fails with
what was measured, why it matters and what to look at. The model, the optimizer and the
training step can be injected, so the checks can be tested on planted bugs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from torch import nn

from ftlab.batching import Batch
from ftlab.config import RunConfig
from ftlab.errors import ConfigError
from ftlab.toolbelt._setup_data import CheckResult, data_check, leakage_check
from ftlab.toolbelt._setup_model import (
    OptimizerFactory,
    Setup,
    TrainStep,
    batch_fits_check,
    gradients_check,
    initial_loss_check,
    input_dependence_check,
    overfit_check,
)

__all__ = ["CHECKS", "CheckResult", "check_setup", "default_train_step", "format_checks"]

CHECKS = ("data", "label_leakage", "initial_loss", "gradients", "overfit_batch",
          "input_dependence", "batch_fits")

ModelFactory = Callable[[Any, int], nn.Module]  # (fitted TextEncoder, num_classes) -> model


def default_train_step(model: nn.Module, batch: Batch, optimizer: torch.optim.Optimizer) -> float:
    """One plain step: zero_grad, forward, mean classification loss, backward, step.

    Returns:
        The loss before the step.
    """
    from ftlab.models import classification_loss

    optimizer.zero_grad(set_to_none=True)
    loss = classification_loss(model(batch), batch.labels, reduction="mean")
    loss.backward()
    optimizer.step()
    return float(loss.detach())


# ---------------------------------------------------------------------------- orchestration
def check_setup(
    config: RunConfig,
    *,
    model: nn.Module | ModelFactory | None = None,
    optimizer_factory: OptimizerFactory | None = None,
    train_step: TrainStep | None = None,
    checks: Iterable[str] | None = None,
    device: str | None = None,
    overfit_steps: int | None = None,
    overfit_lr: float | None = None,
    overfit_target: float = 0.05,
    overfit_batch_size: int | None = None,
    init_loss_rtol: float = 0.25,
    leak_threshold: float = 0.99,
) -> list[CheckResult]:
    """Run fast sanity checks of a run config before a long job; writes nothing.

    The checks, in order: ``data`` (``check_splits`` errors fail, warnings warn),
    ``label_leakage`` (a single token or a column predicts the label on train),
    ``initial_loss`` (close to ``log(num_classes)`` at init), ``gradients`` (every trainable
    tensor gets a non-zero gradient from one backward), ``overfit_batch`` (a fresh copy of
    the model memorises one batch), ``input_dependence`` (shuffled or zeroed inputs change the
    predictions) and ``batch_fits`` (one step at the configured batch size on the longest
    training examples). Data errors skip the model checks. Every model check works on its own
    copy of the model (built from the config, seeded with ``config.seed``).

    The overfit check runs with dropout off (eval mode) and, by default, Adam at the config's
    learning rate raised to at least 1e-3 (1e-4 for the transformer family): a short memorising
    run needs a sane, not a tuned, rate, and Adam removes the dependence on the gradient scale.
    Transformers use a smaller batch (8) and fewer steps (30) so the check stays near a minute
    on CPU.

    Args:
        config: the run config (its data, preprocessing, model and train sections are used).
        model: a model to check instead of the config's, or a factory
            ``(encoder, num_classes) -> nn.Module`` called with the fitted encoder.
        optimizer_factory: ``(params, lr) -> Optimizer`` for the overfit check (default Adam).
        train_step: ``(model, batch, optimizer) -> loss`` for the overfit check (default
            :func:`default_train_step`).
        checks: names from :data:`CHECKS` to run (default: all).
        device: ``"cpu"``, ``"cuda"``, ... (default: the config's ``train.device``).
        overfit_steps: most steps of the overfit check (default 100; 30 for transformers).
        overfit_lr: learning rate of the overfit check (default: see above).
        overfit_target: the mean loss the overfit check must reach.
        overfit_batch_size: examples of the first batch that are memorised (default: the
            batch, at most 32; 8 for transformers).
        init_loss_rtol: relative tolerance of the initial-loss check.
        leak_threshold: accuracy from which a one-token or column rule counts as leakage.

    Returns:
        One :class:`CheckResult` per selected check, in the order above.

    Raises:
        ConfigError: an unknown check name.
    """
    from ftlab.data import check_splits, clean_splits
    from ftlab.runs import (
        build_encoder, build_model_for, build_run_splits, build_train_loader, resolve_device,
    )
    from ftlab.runs import augment_train
    from ftlab.runs import token_counter as _count_tokens
    from ftlab.training import seed_everything

    selected = list(CHECKS if checks is None else checks)
    unknown = [c for c in selected if c not in CHECKS]
    if unknown:
        raise ConfigError(f"check_setup: unknown check(s) {unknown}; choose from {list(CHECKS)}")
    results: dict[str, CheckResult] = {}
    seed_everything(config.seed)
    splits = build_run_splits(config)
    encoder = build_encoder(config.preprocess)
    report = check_splits(splits, max_length=config.preprocess.max_length,
                          count_tokens=_count_tokens(encoder),
                          imbalance_warn_ratio=config.data.imbalance_warn_ratio)
    results["data"] = data_check(report)
    if report.errors:
        reason = "skipped: fix the data errors first (see 'data')"
        return [results.get(c) or CheckResult(c, None, reason) for c in selected]
    d = config.data
    splits, _ = clean_splits(splits, report, drop_empty=d.drop_empty,
                             drop_duplicates=d.drop_duplicates, drop_leaked=d.drop_leaked)
    splits["train"], _, _ = augment_train(config, splits["train"])
    encoder.fit(splits["train"])
    if "label_leakage" in selected:
        results["label_leakage"] = _guard("label_leakage", lambda: leakage_check(
            splits["train"], tokenize=encoder.tokenizer.tokenize, normalize=encoder.normalizer,
            extra_columns=d.columns.extra, threshold=leak_threshold, seed=config.seed))
    model_checks = [c for c in selected if c not in ("data", "label_leakage")]
    if model_checks:
        encoded = {"train": encoder.encode(splits["train"])}  # the checks use train only
        num_classes = encoder.labels.num_classes
        dev = resolve_device(device or config.train.device)
        text_pairs = any(e.pair_ids is not None for e in encoded["train"])
        seed_everything(config.seed_for("init"))
        if model is None:
            net, _ = build_model_for(config, encoder, num_classes, text_pairs=text_pairs)
        elif isinstance(model, nn.Module):
            net = model
        else:
            net = model(encoder, num_classes)
        loader = build_train_loader(encoded["train"], config.batching,
                                    seed=config.seed_for("order"), pad_id=encoder.pad_id)
        setup = Setup(config, encoder, encoded, num_classes, net,
                       next(iter(loader)).to(dev), dev)
        transformer = config.model.family == "transformer"
        floor = 1e-4 if transformer else 1e-3
        lr = overfit_lr if overfit_lr is not None else max(config.train.lr, floor)
        lr_source = ("given" if overfit_lr is not None else "the config's train.lr"
                     if config.train.lr >= floor else f"the config's {config.train.lr:g} "
                     f"raised to {floor:g} for a short run")
        runners: dict[str, Callable[[], CheckResult]] = {
            "initial_loss": lambda: initial_loss_check(setup, rtol=init_loss_rtol),
            "gradients": lambda: gradients_check(setup),
            "overfit_batch": lambda: overfit_check(
                setup, steps=overfit_steps or (30 if transformer else 100), lr=lr,
                lr_source=lr_source, target=overfit_target,
                batch_size=overfit_batch_size or (8 if transformer else 32),
                train_step=train_step or default_train_step,
                optimizer_factory=optimizer_factory),
            "input_dependence": lambda: input_dependence_check(setup),
            "batch_fits": lambda: batch_fits_check(setup),
        }
        for name in model_checks:
            seed_everything(config.seed)
            results[name] = _guard(name, runners[name])
    return [results[c] for c in CHECKS if c in selected]


def _guard(name: str, run: Callable[[], CheckResult]) -> CheckResult:
    """Run one check; an exception fails that check (with its message), not the others."""
    try:
        return run()
    except Exception as exc:  # noqa: BLE001 - reported as the failing check, with the error
        hint = ""
        if "does not require grad" in str(exc):
            hint = (" The loss is detached from the parameters (.detach(), .data, "
                    "torch.no_grad() or a .item() round trip), so backward cannot train them.")
        return CheckResult(name, False, f"the check raised {type(exc).__name__}: {exc}.{hint}",
                           {"exception": type(exc).__name__, "error": str(exc)[:1000]})


def format_checks(results: Sequence[CheckResult]) -> Any:
    """A rich table of check results (check, status, message)."""
    from rich.table import Table

    table = Table(title="ftlab check-setup")
    table.add_column("check")
    table.add_column("status")
    table.add_column("message", overflow="fold")
    style = {"pass": "green", "warn": "yellow", "FAIL": "bold red", "skip": "dim"}
    for r in results:
        table.add_row(r.name, f"[{style[r.status]}]{r.status}[/]", r.message.replace("[", r"\["))
    return table
