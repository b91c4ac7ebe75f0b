"""``ftlab train``, ``ftlab train --resume`` and ``ftlab quickstart``: one run, start to finish."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from ftlab.core import atomic_write_text, writes_run
from ftlab.config import (
    RunConfig,
    apply_overrides,
    dump_config,
    parse_config,
)
from ftlab.errors import CheckpointError
from ftlab.runs._assemble import RunParts, build_run
from ftlab.runs._builders import resolve_device
from ftlab.runs._evaluate import evaluate_splits, load_run_config
from ftlab.runs._prepare import data_origin, data_warning_lines
from ftlab.runs._retune import retune_groups
from ftlab.runs._tracking import build_trackers, finish_trackers, tb_hparams
from ftlab.runs._rundir import (
    create_run_dir,
    load_summary,
    mark_failed,
    read_summary,
    update_summary,
    utc_now,
    write_json_atomic,
)

__all__ = [
    "train_run", "resume_run", "dry_run", "diagnose_and_report", "format_robustness", "StopAfter",
    "QUICKSTART_CONFIG",
]

QUICKSTART_CONFIG = Path(__file__).parent / "_configs" / "quickstart.yaml"


class StopAfter:
    """Observer that asks to stop after ``steps`` optimizer steps of this process (resumable)."""

    def __init__(self, steps: int) -> None:
        self.steps = steps
        self._seen = 0

    def on_step_end(self, event: Any) -> Any:
        from ftlab.training import StopRequest

        self._seen += 1
        if self._seen >= self.steps:
            return StopRequest(f"--stop-after {self.steps}: stopped after step {event.step} "
                               f"(resume with ftlab train --resume)")
        return None


class _Terminated(KeyboardInterrupt):
    """SIGTERM turned into an exception, so the run record can say the run was killed."""


def _sigterm_as_interrupt() -> Callable[[], None]:
    """While training, SIGTERM (``kill PID``, a scheduler's time limit) raises
    :class:`_Terminated` instead of ending the process silently (main thread only).

    Returns:
        A function that puts the previous handler back.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, frame: Any) -> None:
        raise _Terminated(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore


def train_run(
    config: RunConfig,
    *,
    name: str | None = None,
    stop_after: int | None = None,
    console: Any = None,
    observers: Sequence[Any] = (),
    tags: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train a new run from ``config`` and evaluate it; returns the run summary (run.json).

    ``observers`` are appended after the built-in ones (e.g. a tuning pruner); ``tags`` are
    written to run.json (e.g. ``{"study": ..., "trial": ...}``, read by ``ftlab runs``).

    Under ``torchrun`` (``WORLD_SIZE`` > 1) every rank joins the process group; rank 0 creates
    the run directory and broadcasts its path, and only rank 0 writes into it. Other ranks
    return an empty dict.
    """
    from ftlab.training import distributed as dist

    dist.init_from_env(resolve_device(config.train.device))
    run_dir = None
    main = dist.is_main()
    if main:
        run_dir = create_run_dir(config, name=name)
    run_dir = dist.broadcast_object(run_dir)
    with _writer_lock(run_dir, main, "train"), _recorded(run_dir, main):
        if main and tags:
            update_summary(run_dir, tags=dict(tags))
        return _run(config, run_dir, resume=False, stop_after=stop_after, console=console,
                    extra_observers=observers)


@contextlib.contextmanager
def _recorded(run_dir: Path, main: bool) -> Iterator[None]:
    """Every way a run can end badly leaves its reason in run.json (best effort, never raising
    over the original error), also before the first step (bad data, bad model config) and
    after training (evaluation, report: a run never stays "completed" then); SIGTERM while
    training is recorded as ``killed``; an
    OSError (disk full, permissions) becomes one StorageError naming the intact checkpoint."""
    try:
        yield
    except _Terminated as exc:  # SIGTERM during training: the record says "killed"
        if main:
            mark_failed(run_dir, exc, status="killed", reason="SIGTERM")
        raise
    except KeyboardInterrupt as exc:
        if main:
            mark_failed(run_dir, exc, status="interrupted")
        raise
    except OSError as exc:
        if main:
            mark_failed(run_dir, exc)
        from ftlab.core import describe_write_error
        from ftlab.errors import StorageError

        where = exc.filename if getattr(exc, "filename", None) else run_dir
        raise StorageError(
            f"I/O error in run {run_dir} at {where}: {describe_write_error(exc, Path(where))}; "
            f"{_intact_checkpoint(run_dir)}; free space or fix permissions, then resume "
            f"(ftlab train --resume {run_dir})") from exc
    except Exception as exc:
        if main:
            mark_failed(run_dir, exc)
        raise


def _intact_checkpoint(run_dir: Path) -> str:
    from ftlab.training import find_resume_checkpoint

    try:
        last = find_resume_checkpoint(run_dir)
    except Exception:  # noqa: BLE001 - only for the message
        last = None
    return (f"the last checkpoint {last} is intact" if last is not None
            else "no checkpoint had been written yet")


def _writer_lock(run_dir: Path, main: bool, command: str) -> Any:
    """The run's writer lock on the process that writes (rank 0); nothing on other ranks."""
    from ftlab.core import run_lock

    return run_lock(run_dir, command=command) if main else contextlib.nullcontext(run_dir)


def resume_run(
    run_dir: Path,
    *,
    overrides: list[str] | None = None,
    stop_after: int | None = None,
    console: Any = None,
    observers: Sequence[Any] = (),
    retune: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Continue a run from its last checkpoint with its own resolved config.

    Overrides are allowed only for fields that do not change what was trained so far
    (e.g. ``train.epochs``, ``train.max_steps``, ``train.log_every``).

    ``observers`` are appended after the built-in ones, as in :func:`train_run`. ``retune``
    (for tuners such as population-based training, not a user option) sets new values of the
    hyperparameters that may change mid-run (``ftlab.runs._retune.RETUNABLE``: lr, weight decay,
    momentum, clip norm, dropout); the restored optimizer and scheduler take the new values.

    Raises:
        CheckpointError: the directory has no config or no checkpoint to resume from.
        ConfigError: an override or a retune key that may not change when resuming.
    """
    from ftlab.training import distributed as dist

    run_dir = Path(run_dir)
    cfg_file = run_dir / "config.yaml"
    if not cfg_file.is_file():
        raise CheckpointError(f"{run_dir} is not a run directory (no config.yaml); "
                              f"pass the directory ftlab train printed, e.g. runs/<name>")
    config = load_run_config(run_dir)  # old runs: their recorded splits
    dist.init_from_env(resolve_device(config.train.device))  # torchrun: every rank resumes
    main = dist.is_main()
    with _writer_lock(run_dir, main, "train --resume"), _recorded(run_dir, main):
        return _resume_locked(run_dir, config, main, overrides=overrides, stop_after=stop_after,
                              console=console, observers=observers, retune=retune)


def _resume_locked(run_dir: Path, config: RunConfig, main: bool, *, overrides: list[str] | None,
                   stop_after: int | None, console: Any, observers: Sequence[Any],
                   retune: dict[str, Any] | None) -> dict[str, Any]:
    if overrides:
        allowed = ("train.epochs", "train.max_steps", "train.log_every", "train.eval_every",
                   "train.trackers", "train.early_stopping.patience")
        bad = [o for o in overrides if o.partition("=")[0].strip() not in allowed]
        if bad:
            from ftlab.errors import ConfigError

            raise ConfigError(f"cannot change {bad} when resuming (the run must stay the same "
                              f"run); allowed: {', '.join(allowed)}")
        config = parse_config(apply_overrides(config.model_dump(mode="json"), overrides))
        if main:
            atomic_write_text(run_dir / "config.yaml", dump_config(config))
    if retune:
        from ftlab.runs._retune import retuned_config

        config = retuned_config(config, retune, origin=f"{run_dir}: retune")
        if main:
            atomic_write_text(run_dir / "config.yaml", dump_config(config))
    return _run(config, run_dir, resume=True, stop_after=stop_after, console=console,
                extra_observers=observers, retune=bool(retune))


def _run(config: RunConfig, run_dir: Path, *, resume: bool, stop_after: int | None,
         console: Any, extra_observers: Sequence[Any] = (), retune: bool = False,
         ) -> dict[str, Any]:
    """The train recipe: setup -> fit -> finish.

    Under torchrun every rank trains on its shard; only rank 0 (main) prints and writes files.
    """
    from ftlab.training import distributed as dist

    device = dist.init_from_env(resolve_device(config.train.device))
    say = console.print if console is not None and dist.is_main() else (lambda *a, **k: None)
    started = time.time()
    parts, ckpt_path = _setup(config, run_dir, device, resume=resume, say=say)
    trackers = build_trackers(parts.config, run_dir) if parts.rank == 0 else []
    try:
        if config.model.family == "prompt":  # a prompted LM is evaluated as it is
            result = _no_training(parts)
        else:
            result = _fit(parts, run_dir, ckpt_path, stop_after=stop_after,
                          extra_observers=extra_observers, trackers=trackers, retune=retune)
        if parts.world > 1:
            # Training is over on every rank: leave the group together, then rank 0 evaluates,
            # predicts and reports alone, as a single process (other ranks write nothing).
            dist.teardown()
            if parts.rank != 0:
                return {}
        summary = _finish(parts, run_dir, result, resume=resume, started=started,
                          console=console, say=say)
    except BaseException as exc:  # the trackers end their runs too, without hiding the error
        with contextlib.suppress(Exception):
            finish_trackers(trackers, parts.config, run_dir,
                            "killed" if isinstance(exc, KeyboardInterrupt) else "failed")
        raise
    finish_trackers(trackers, parts.config, run_dir, str(summary.get("status") or "completed"))
    return summary


def _no_training(parts: RunParts) -> Any:
    """What ``fit`` would return, for a prompted LM (no optimizer step is taken)."""
    from types import SimpleNamespace

    shots = len(getattr(parts.model, "demonstrations", []))
    return SimpleNamespace(
        stop_reason=f"prompting baseline: no training ({shots}-shot, "
                    f"{getattr(parts.model, 'mode', 'scoring')} mode)",
        state=SimpleNamespace(step=0, epoch=0), best_metric=None, best_step=None,
        restored_best=None)


def _setup(config: RunConfig, run_dir: Path, device: Any, *, resume: bool,
           say: Any) -> tuple[RunParts, Path | None]:
    """Seed, assemble the run and record its start (rank 0); the checkpoint to resume from."""
    from ftlab.models import count_parameters
    from ftlab.training import distributed as dist
    from ftlab.training import find_resume_checkpoint, load_checkpoint, write_env_json

    ckpt_path = find_resume_checkpoint(run_dir) if resume else None
    if resume and ckpt_path is None:
        raise CheckpointError(f"{run_dir} has no checkpoint to resume from "
                              f"(checkpoints/last.json missing); start a new run instead")
    encoder_dir = run_dir / "artifacts" / "encoder"
    from ftlab.core import phase

    with phase("preparing data and model", unit="steps", heartbeat=True):
        parts = build_run(config, device, dist.rank(), dist.world_size(),
                          encoder_dir=encoder_dir if resume else None)
    prepared, main = parts.prepared, parts.rank == 0
    assert prepared is not None  # built with data
    if main:
        if not resume:
            parts.encoder.save(encoder_dir)
            _save_demonstrations(parts, encoder_dir.parent, say)
        if prepared.augmented:
            _record_augmentation(run_dir, prepared, say)
        write_json_atomic(run_dir / "data_report.json", prepared.report.to_dict())
        update_summary(run_dir, data_removed=prepared.report.removed)
    for line in data_warning_lines(prepared.report):
        say(line, markup=False, highlight=False)
    coverage = parts.coverage
    if coverage is not None and main:
        update_summary(run_dir, glove_coverage={
            "vocab_size": coverage.vocab_size, "found": coverage.found,
            "share_found": coverage.share_found, "missing_sample": list(coverage.missing_sample)})
        say(f"GloVe coverage: {coverage.found}/{coverage.vocab_size} vocabulary words "
            f"({coverage.share_found:.1%})")
    if ckpt_path is not None:
        saved = load_checkpoint(ckpt_path).train_state
        say(f"resuming from {ckpt_path} (step {saved.step}, epoch {saved.epoch})")
    elif main:
        write_env_json(run_dir / "env.json", seed=config.seed, device=str(device),
                       extra={"threads": parts.threads,
                              "omp_num_threads": os.environ.get("OMP_NUM_THREADS")})
    n_total, n_train = count_parameters(parts.model)
    if main:
        update_summary(
            run_dir, name=run_dir.name, path=str(run_dir), status="running", pid=os.getpid(),
            model=config.model.family, dataset=data_origin(config),
            hparams=tb_hparams(config), seed=config.seed,
            parameters={"total": n_total, "trainable": n_train},
            seeds={k: config.seed_for(k) for k in ("split", "init", "order")},
            text_pairs=parts.text_pairs, num_classes=parts.num_classes, threads=parts.threads,
            **({} if resume else {"started": utc_now()}),
            **({"world_size": parts.world} if parts.world > 1 else {}),
        )
    say(f"run directory: {run_dir}  ({n_trainable_fmt(n_train)} trainable parameters, "
        f"{len(prepared.encoded['train'])} train examples, device {device}, "
        f"{parts.threads} CPU thread{'s' if parts.threads != 1 else ''})")
    return parts, ckpt_path


def _save_demonstrations(parts: RunParts, artifacts: Path, say: Any) -> None:
    """A prompt run's demonstrations in ``artifacts/prompt.json`` (reloaded by evaluate)."""
    import json

    from ftlab.runs._assemble import PROMPT_FILE

    demos = getattr(parts.model, "demonstrations", None)
    if parts.config.model.family != "prompt" or demos is None:
        return
    atomic_write_text(artifacts / PROMPT_FILE, json.dumps(
        {"demonstrations": [d.to_dict() for d in demos]}, ensure_ascii=False, indent=1) + "\n")
    counts: dict[str, int] = {}
    for d in demos:
        counts[d.label] = counts.get(d.label, 0) + 1
    say(f"prompting: {len(demos)} demonstrations from train "
        f"({', '.join(f'{k}: {v}' for k, v in sorted(counts.items())) or 'zero-shot'}); "
        f"no training", highlight=False, markup=False)


def _observers(parts: RunParts, run_dir: Path, *, stop_after: int | None,
               extra_observers: Sequence[Any], trackers: Sequence[Any]) -> tuple[list[Any], Any]:
    """Rank 0's observers (tracking, progress, early stopping) and checkpointer."""
    from ftlab.training import (
        Checkpointer,
        EarlyStopping,
        JsonlTracker,
        ProgressObserver,
        TimeBudget,
    )

    config = parts.config
    monitor, mode = config.eval.monitor, _mode(config)
    observers: list[Any] = []
    es = config.train.early_stopping
    if es.enabled:
        observers.append(EarlyStopping(monitor=monitor, mode=mode, patience=es.patience,
                                       min_delta=es.min_delta, target=es.target))
    if config.train.max_minutes is not None:
        observers.append(TimeBudget(config.train.max_minutes * 60))
    observers += [JsonlTracker(run_dir / "metrics.jsonl"),
                  ProgressObserver(parts.plan.total_steps, log_every=config.train.log_every)]
    observers += list(trackers)
    if stop_after:
        observers.append(StopAfter(stop_after))
    observers += list(extra_observers)  # after the built-ins (checkpoints of earlier versions
    # matched observer state by position)
    ck = config.train.checkpoint
    checkpointer: Checkpointer | None = Checkpointer(
        run_dir / "checkpoints", monitor=monitor, mode=mode, keep_best=ck.keep_best,
        every_n_steps=ck.every_n_steps, every_epoch=ck.every_epoch,
        artifacts={"config.yaml": run_dir / "config.yaml",
                   "encoder": run_dir / "artifacts" / "encoder"},
    )
    if checkpointer is not None:  # under the writer lock: a killed write's temp folders go
        checkpointer.clean_temporary()
    return observers, checkpointer


def _fit(parts: RunParts, run_dir: Path, ckpt_path: Path | None, *, stop_after: int | None,
         extra_observers: Sequence[Any], trackers: Sequence[Any], retune: bool) -> Any:
    """``fit`` with the run's parts; SIGTERM while it runs raises :class:`_Terminated`."""
    from ftlab.models import probabilities
    from ftlab.training import fit, run_validation

    config, main, t = parts.config, parts.rank == 0, parts.config.train
    observers, checkpointer = (_observers(parts, run_dir, stop_after=stop_after,
                                          extra_observers=extra_observers, trackers=trackers)
                               if main else ([], None))  # rank 0 decides and broadcasts
    # under torchrun each rank validates its share of the batches and the results are gathered
    evaluate = functools.partial(run_validation, batches=parts.val_loader, loss_fn=parts.loss_fn,
                                 probs_fn=probabilities, device=parts.device,
                                 shard=parts.world > 1)
    restore_sigterm = _sigterm_as_interrupt()
    try:
        return fit(
            parts.train_model, parts.train_loader, loss_fn=parts.loss_fn,
            optimizer=parts.optimizer, scheduler=parts.scheduler, epochs=t.epochs,
            max_steps=t.max_steps, grad_accum=t.grad_accum, clip_norm=t.clip_norm,
            precision=t.precision, device=parts.device, evaluate=evaluate,
            eval_every=t.eval_every, monitor=config.eval.monitor, mode=_mode(config),
            restore_best=t.restore_best, observers=observers, checkpointer=checkpointer,
            resume_from=ckpt_path, run_dir=run_dir if main else None, hparams=tb_hparams(config),
            divergence_factor=t.divergence_factor,
            # the rebuilt optimizer's new values replace the restored ones (PBT's exploit)
            retune=retune_groups(parts.optimizer) if retune else None,
        )
    finally:  # a failure is recorded in run.json by _recorded, around the whole run
        restore_sigterm()


def _finish(parts: RunParts, run_dir: Path, result: Any, *, resume: bool, started: float,
            console: Any, say: Any) -> dict[str, Any]:
    """Record the outcome; a finished run is evaluated, stress-tested and reported."""
    config, model, prepared = parts.config, parts.model, parts.prepared
    assert prepared is not None
    monitor = config.eval.monitor
    prior = (load_summary(run_dir).duration_s or 0.0) if resume else 0.0
    duration = prior + (time.time() - started)
    finished = not str(result.stop_reason).startswith("--stop-after")
    summary = update_summary(
        run_dir, status="completed" if finished else "stopped", stop_reason=result.stop_reason,
        step=result.state.step, epoch=result.state.epoch, best_metric=result.best_metric,
        best_step=result.best_step, monitor=monitor, duration_s=round(duration, 2),
        ended=utc_now(), restored_best=result.restored_best,
    )
    if not finished:
        return summary
    test = evaluate_splits(run_dir, model=model, encoder=parts.encoder, config=config,
                           splits=prepared.splits, encoded=prepared.encoded,
                           device=parts.device, baseline=True)
    primary = test.get("test", {}).get(monitor if monitor != "loss" else "accuracy")
    summary = update_summary(run_dir, test=test, test_metric=primary)
    if config.robustness.transforms and prepared.splits.get("test"):
        from ftlab.runs._robustness import evaluate_transforms

        rob = evaluate_transforms(run_dir, loaded=(config, parts.encoder, model),
                                  examples=prepared.splits["test"])
        say(format_robustness(rob), highlight=False, markup=False)
        summary = read_summary(run_dir)
    if config.robustness.suites:
        from ftlab.runs._check import check_run

        results = check_run(run_dir, loaded_run=(config, parts.encoder, model))
        for res in results["suites"].values():
            s = res["summary"]
            say(f"behavioral suite {res['suite']}: {s['failed_cases']} of {s['cases']} cases "
                f"failed; worst test {s['worst_test']!r} ({s['max_failure_rate']:.1%}); "
                f"details: ftlab check {run_dir}", highlight=False, markup=False)
        summary = read_summary(run_dir)
    diagnose_and_report(run_dir, console=console)
    return summary


def _mode(config: RunConfig) -> Literal["min", "max"]:
    return "min" if config.eval.monitor == "loss" else "max"


def format_robustness(report: dict[str, Any]) -> str:
    """The robustness report as a plain-text table (clean first, then each transformation)."""
    clean = report["clean"]
    lines = [f"robustness on {report['split']} (n={report['n']}, seed {report['seed']}):",
             f"  {'transformation':<28} {'changed':>8} {'accuracy':>9} {'drop':>14} "
             f"{'flip rate':>9} {'conf. shift':>11}",
             f"  {'clean':<28} {'':>8} {clean['accuracy']:>9.4f}"]
    for spec, e in report["transforms"].items():
        lo, hi = e["drop_ci"]
        drop = f"{100 * e['drop']:+.1f} [{100 * lo:+.1f},{100 * hi:+.1f}]"  # as the report prints it
        lines.append(f"  {spec:<28} {e['changed_share']:>8.1%} {e['accuracy']:>9.4f} "
                     f"{drop:>14} {e['flip_rate']:>9.1%} {e['confidence_shift']:>+11.4f}")
    lines.append("  (drop in accuracy points, 95% paired-bootstrap interval; transformed sets in "
                 "predictions/<split>@<transformation>.jsonl)")
    return "\n".join(lines)


def _record_augmentation(run_dir: Path, prepared: Any, say: Any) -> None:
    """``augment.jsonl`` (one line per added example) and the counts in run.json."""
    import json

    from ftlab.core import atomic_write_text

    lines = [json.dumps(r.to_dict(), ensure_ascii=False) for r in prepared.augment_records]
    atomic_write_text(run_dir / "augment.jsonl", "\n".join(lines) + ("\n" if lines else ""))
    update_summary(run_dir, augment=prepared.augmented)
    for a in prepared.augmented:
        short = "" if a["added"] == a["requested"] else (
            f" (only {a['added']} of {a['requested']}: the transformation changed too few "
            f"training texts)")
        say(f"augmentation {a['transform']}: +{a['added']} transformed training examples{short}; "
            f"{a['unchanged']} of {a['tried']} drawn were left unchanged and skipped")


@writes_run("report")
def diagnose_and_report(run_dir: Path, *, console: Any = None) -> Path:
    """Run the training doctor (printed, ``doctor.json``) and write ``report.html``."""
    from ftlab.evaluation import format_findings, write_doctor
    from ftlab.report import write_report

    findings = write_doctor(run_dir)
    if console is not None:
        console.print(format_findings(findings), markup=False, highlight=False)
    report = write_report([run_dir])
    if console is not None:
        console.print(f"report: {report}")
    return report


def dry_run(config: RunConfig, *, console: Any = None) -> dict[str, Any]:
    """Build everything a run needs and take one optimizer step; writes nothing.

    Catches data, config and shape problems in seconds before a long job.
    """
    from ftlab.models import classification_loss, count_parameters

    say = console.print if console is not None else (lambda *a, **k: None)
    parts = build_run(config, resolve_device("cpu"))
    prompting = config.model.family == "prompt"
    assert parts.prepared is not None and (parts.plan is not None or prompting)
    prepared, loader, model = parts.prepared, parts.train_loader, parts.model
    batch = next(iter(loader))
    if prompting:  # a frozen LM: one forward pass, nothing to step
        model.eval()
        loss = classification_loss(model(batch), batch.labels, reduction="mean")
    else:
        model.train()
        loss = classification_loss(model(batch), batch.labels, reduction="mean")
        loss.backward()
        parts.optimizer.step()
    info = {
        "splits": {k: len(v) for k, v in prepared.encoded.items()},
        "classes": parts.encoder.labels.names,
        "vocab_size": parts.encoder.tokenizer.vocab_size,
        "parameters": count_parameters(model)[0],
        "batches_per_epoch": len(loader),
        "optimizer_steps": parts.plan.total_steps if parts.plan is not None else 0,
        "first_batch": list(batch.ids.shape),
        "first_loss": loss.item(),
        "data_errors": len(prepared.report.errors),
        "data_warnings": len(prepared.report.warnings),
    }
    say(f"dry run OK: {info}", highlight=False)
    return info


def n_trainable_fmt(n: int) -> str:
    """1234567 -> '1.23M'."""
    for unit, div in (("M", 1e6), ("k", 1e3)):
        if n >= div:
            return f"{n / div:.2f}{unit}"
    return str(n)
