"""Ensembles: average the class probabilities of several runs, or of one run's checkpoints.

The ensemble is written as a run directory of its own (``run.json`` with ``model:
"ensemble"`` and its members, ``predictions/<split>.jsonl``, ``evaluation/<split>.json`` and
``report.html``), so ``ftlab report``, ``ftlab runs`` and ``ftlab compare`` treat it like any
other run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ftlab.analysis import align_predictions, average_probabilities, point_metrics, read_predictions
from ftlab.errors import CheckpointError, ConfigError, DataError

__all__ = ["EnsembleMember", "EnsembleResult", "ensemble_checkpoints", "ensemble_runs"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+=-]*$")


@dataclass(frozen=True)
class EnsembleMember:
    """One member of an ensemble and its own score on the ensemble's examples.

    Attributes:
        name: the run's name, or the checkpoint's (``step-00000120``).
        path: the run or checkpoint directory.
        accuracy: the member's accuracy (arg-max of its probabilities).
        macro_f1: the member's macro-F1.
        step: the checkpoint's optimizer step (checkpoint ensembles only).
    """

    name: str
    path: str
    accuracy: float
    macro_f1: float
    step: int | None = None


@dataclass(frozen=True)
class EnsembleResult:
    """An evaluated ensemble, written as a run directory.

    Attributes:
        run_dir: the ensemble's run directory.
        split: the evaluated split.
        kind: ``"runs"`` (several runs) or ``"checkpoints"`` (one run's kept checkpoints).
        members: the members and their own scores.
        accuracy: the ensemble's accuracy.
        macro_f1: the ensemble's macro-F1.
        report_html: the written ``report.html``.
    """

    run_dir: Path
    split: str
    kind: Literal["runs", "checkpoints"]
    members: tuple[EnsembleMember, ...]
    accuracy: float
    macro_f1: float
    report_html: Path

    @property
    def best_member(self) -> EnsembleMember:
        """The member with the highest accuracy."""
        return max(self.members, key=lambda m: m.accuracy)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"run_dir": str(self.run_dir), "split": self.split, "kind": self.kind,
                "accuracy": self.accuracy, "macro_f1": self.macro_f1,
                "members": [vars(m) for m in self.members], "report_html": str(self.report_html)}


@dataclass(frozen=True)
class _Labels:
    names: list[str]


@dataclass(frozen=True)
class _LabelsOnly:
    """What ``evaluate_arrays`` reads of an encoder: ``encoder.labels.names``."""

    labels: _Labels


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _new_run_dir(base: Path, stem: str) -> Path:
    if not _NAME.match(stem):
        raise ConfigError(f"ensemble name {stem!r} must be a plain directory name (letters, "
                          f"digits, . _ + = -), e.g. ensemble-bow-seeds")
    run_dir, i = base / stem, 1
    while run_dir.exists():
        i += 1
        run_dir = base / f"{stem}-{i}"
    run_dir.mkdir(parents=True)  # raises if a concurrent ensemble took the name meanwhile
    return run_dir


def _default_name(names: Sequence[str]) -> str:
    stem = "ensemble-" + "-".join(names)
    if len(stem) > 60 or not _NAME.match(stem):
        stem = f"ensemble-{len(names)}-runs"
    return stem


def _write(*, base: Path, stem: str, kind: Literal["runs", "checkpoints"], split: str,
           examples: Sequence[Any], labels: np.ndarray, member_probs: Sequence[np.ndarray],
           members: list[dict[str, Any]], label_names: Sequence[str],
           extra: dict[str, Any]) -> EnsembleResult:
    """Average, evaluate and write the ensemble's run directory."""
    from ftlab.core import run_lock
    from ftlab.report import write_report
    from ftlab.runs import update_summary
    from ftlab.runs._rundir import mark_failed
    from ftlab.runs._evaluate import evaluate_arrays

    c = len(label_names)
    scored = []
    for member, p in zip(members, member_probs):
        own = point_metrics(labels, p.argmax(axis=1), c)
        scored.append(EnsembleMember(accuracy=own["accuracy"], macro_f1=own["macro_f1"], **member))
    probs = average_probabilities(member_probs)
    ours = point_metrics(labels, probs.argmax(axis=1), c)
    started = _utc_now()
    run_dir = _new_run_dir(base, stem)
    with run_lock(run_dir, command="ensemble"):
        update_summary(run_dir, name=run_dir.name, path=str(run_dir), status="running",
                       model="ensemble", started=started)
        try:
            report = evaluate_arrays(run_dir, split=split, examples=examples, labels=labels,
                                     probs=probs, encoder=_LabelsOnly(_Labels(list(label_names))),
                                     train_labels=None)
        except Exception as exc:
            mark_failed(run_dir, exc)
            raise
        flat = {**report["metrics"], "n": report["n"]}
        update_summary(
            run_dir, status="completed", ended=_utc_now(), num_classes=c,
            ensemble={"kind": kind, "split": split, "method": "mean of member probabilities",
                      **extra},
            members=[vars(m) for m in scored], test={split: flat},
            test_metric=flat.get("accuracy") if split == "test" else None,
            hparams={"members": len(scored), "ensemble": kind},
        )
        return EnsembleResult(run_dir=run_dir, split=split, kind=kind, members=tuple(scored),
                              accuracy=ours["accuracy"], macro_f1=ours["macro_f1"],
                              report_html=write_report([run_dir]))


def ensemble_runs(run_dirs: Sequence[Path | str], *, split: str = "test", name: str | None = None,
                  output_dir: Path | str | None = None) -> EnsembleResult:
    """Average the predicted probabilities of several runs on one split (``ftlab ensemble``).

    Uses each run's ``predictions/<split>.jsonl`` (so any run works, the TF-IDF baseline
    included); rows are paired by example id. Probabilities are those the runs wrote (after
    their temperature, if calibrated).

    Args:
        run_dirs: two or more run directories evaluated on the same examples.
        split: the evaluated split.
        name: the ensemble's run directory name (default ``ensemble-<member names>``; a
            ``-2``, ``-3`` ... suffix keeps it unique).
        output_dir: where to create it (default: the first member's parent, e.g. ``runs``).

    Returns:
        The evaluated ensemble and its members' own scores.

    Raises:
        ConfigError: fewer than 2 distinct runs, or a bad name.
        DataError: missing predictions (naming ``ftlab evaluate RUN --split SPLIT``), or runs
            not evaluated on the same examples or with different label names.
    """
    dirs = [Path(r) for r in run_dirs]
    if len({d.resolve() for d in dirs}) != len(dirs) or len(dirs) < 2:
        raise ConfigError(f"an ensemble needs at least 2 distinct runs, got "
                          f"{[str(d) for d in dirs]}; for one run's checkpoints use "
                          f"--checkpoints (ensemble_checkpoints)")
    from ftlab.data import Example
    from ftlab.runs import read_summary

    first = read_predictions(dirs[0], split)
    preds = [first] + [align_predictions(first, read_predictions(d, split)) for d in dirs[1:]]
    names = [str(read_summary(d).get("name") or d.name) for d in dirs]
    examples = [Example(id=i, text=t, label=y, text_pair=tp) for i, t, y, tp in
                zip(first.ids, first.texts, first.labels, first.text_pairs)]
    return _write(base=Path(output_dir) if output_dir else dirs[0].parent,
                  stem=name or _default_name(names), kind="runs", split=split, examples=examples,
                  labels=first.label_indices(), member_probs=[p.probs for p in preds],
                  members=[{"name": n, "path": str(d)} for n, d in zip(names, dirs)],
                  label_names=first.label_names, extra={})


def ensemble_checkpoints(run_dir: Path | str, *, split: str = "test", name: str | None = None,
                         output_dir: Path | str | None = None) -> EnsembleResult:
    """Average the probabilities of one run's kept checkpoints (``ftlab ensemble --checkpoints``).

    Every ``checkpoints/step-XXXXXXXX/`` the run kept (the best-k by ``eval.monitor`` plus
    the last; keep more with ``train.checkpoint.keep_best``) is loaded into the run's model
    and predicts the split, rebuilt from the run's config and data as ``ftlab evaluate``
    does. The run's temperature calibration is not applied (it was fitted to the final
    weights).

    Args:
        run_dir: a trained run directory.
        split: a split of the run's data.
        name: the ensemble's run directory name (default ``<run>-checkpoint-ensemble``).
        output_dir: where to create it (default: the run's parent).

    Returns:
        The evaluated ensemble and each checkpoint's own scores.

    Raises:
        CheckpointError: not a run directory, or fewer than 2 kept checkpoints.
        DataError: unknown split, or labels the model never saw.
    """
    from ftlab.runs import load_run_model, predict_examples, prepare_data, read_summary
    from ftlab.training import load_checkpoint, restore

    run_dir = Path(run_dir)
    folder = run_dir / "checkpoints"
    kept = sorted(p for p in folder.glob("step-*") if p.is_dir()) if folder.is_dir() else []
    if len(kept) < 2:
        raise CheckpointError(
            f"{run_dir} keeps {len(kept)} checkpoint(s) {[p.name for p in kept]}; a checkpoint "
            f"ensemble needs at least 2: train with --set train.checkpoint.keep_best=3 (the "
            f"best-k by eval.monitor are kept, plus the last), or ensemble several runs")
    config, encoder, model = load_run_model(run_dir)
    splits = prepare_data(config, encoder_dir=run_dir / "artifacts" / "encoder").splits
    if split not in splits or not splits[split]:
        raise DataError(f"split {split!r} is not in {run_dir}'s data; choose one of "
                        f"{sorted(k for k, v in splits.items() if v)}")
    examples = splits[split]
    labels = np.array([encoder.labels.encode(e.label, where=f"{split} example {e.id!r}")
                       for e in examples], dtype=np.int64)
    member_probs, members = [], []
    for path in kept:
        ckpt = load_checkpoint(path)
        restore(ckpt, model, restore_rng=False)
        model.eval()
        member_probs.append(predict_examples(model, encoder, config, examples))
        members.append({"name": path.name, "path": str(path), "step": ckpt.step})
    run_name = str(read_summary(run_dir).get("name") or run_dir.name)
    return _write(base=Path(output_dir) if output_dir else run_dir.parent,
                  stem=name or f"{run_name}-checkpoint-ensemble", kind="checkpoints",
                  split=split, examples=examples, labels=labels, member_probs=member_probs,
                  members=members, label_names=encoder.labels.names,
                  extra={"run": str(run_dir), "calibration": "not applied"})
