"""Evaluate a trained run: predictions, metrics, calibration, error analysis, baselines.

Writes ``predictions/<split>.jsonl`` and ``evaluation/<split>.json`` (schema in
:func:`ftlab.evaluation.evaluate_predictions`) into the run directory.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ftlab.core import dumps_json, guard_write, writes_run
from ftlab.config import RunConfig, load_config
from ftlab.errors import CheckpointError, ConfigError, DataError
from ftlab.runs._builders import build_eval_loader, resolve_device
from ftlab.runs._rundir import load_summary, update_summary, write_json_atomic

logger = logging.getLogger(__name__)

__all__ = [
    "evaluate_arrays",
    "positive_class",
    "evaluate_splits",
    "evaluate_run",
    "join_torchrun",
    "leave_torchrun",
    "load_run_model",
    "model_notes",
    "read_calibration",
    "predict_encoded",
    "predict_examples",
]


def load_run_config(run_dir: Path) -> RunConfig:
    """A run's resolved ``config.yaml``, read so that the run gets back its recorded splits.

    Runs recorded before ``data.split.group_duplicates`` existed carved their splits without
    grouping identical texts; their config lacks the key, so it loads as ``false`` and the
    run evaluates on the splits it was trained and tested on.
    """
    import yaml

    path = Path(run_dir) / "config.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        raw = {}
    split = ((raw.get("data") or {}).get("split") or {}) if isinstance(raw, dict) else {}
    old = isinstance(split, dict) and "group_duplicates" not in split
    return load_config(path, ["data.split.group_duplicates=false"] if old else [])


def read_calibration(run_dir: Path) -> dict[str, Any]:
    """``calibration.json`` written by ``ftlab calibrate`` (temperature, threshold), or {}."""
    path = Path(run_dir) / "calibration.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc}); run ftlab calibrate again") from exc


def positive_class(names: Sequence[str], train_labels: Sequence[int] | None, *,
                   configured: str | None = None,
                   calibration: dict[str, Any] | None = None) -> tuple[int | None, str]:
    """The positive class of a binary task and how it was chosen (``(None, "")`` otherwise).

    A calibrated threshold fixes it (the class it was tuned for; ``label_names[1]`` in records
    written before the class was recorded); else ``eval.positive_label``; else the minority
    class of train (ties: ``label_names[1]``).

    Raises:
        ConfigError: ``eval.positive_label`` is not one of the run's labels.
    """
    if len(names) != 2:
        return None, ""
    calibration = calibration or {}
    if calibration.get("threshold") is not None:
        tuned = calibration.get("positive")
        index = list(names).index(tuned) if isinstance(tuned, str) and tuned in names else 1
        return index, "the class the calibrated threshold was tuned for"
    if configured is not None:
        if configured not in names:
            raise ConfigError(f"eval.positive_label {configured!r} is not a label of this run; "
                              f"choose one of {list(names)}")
        return list(names).index(configured), "eval.positive_label"
    if not train_labels:
        return 1, "label_names[1]: no training labels known (set eval.positive_label)"
    counts = np.bincount(np.asarray(list(train_labels), dtype=np.int64), minlength=2)
    minority = 0 if counts[0] < counts[1] else 1
    return minority, ("minority class of train" if counts[0] != counts[1] else
                      "classes balanced in train: label_names[1]") + \
        " (set eval.positive_label to choose)"


def input_caps(config: RunConfig) -> tuple[int | None, int | None]:
    """``read_file``'s ``(max_bytes, max_field_chars)`` from ``data.max_input_mb`` and
    ``data.max_field_chars``."""
    mb = config.data.max_input_mb
    return None if mb is None else int(mb * 2**20), config.data.max_field_chars


def choice_read_options(config: RunConfig, encoder: Any) -> dict[str, Any]:
    """``read_file`` options for a multiple-choice run's extra input files (``--data``,
    ``ftlab predict``): the run's own choice columns or preset, else (a built-in task) the
    layout of ftlab's predictions files, a ``choices`` list and the 0-based position as label.
    Empty for other runs."""
    if getattr(encoder, "num_choices", None) is None:
        return {}
    cols = config.data.columns
    if config.data.preset is not None:
        return {"preset": config.data.preset}
    if cols.choices is not None:
        return {"choices": cols.choices, "choice_label": cols.choice_label}
    return {"choices": "choices", "choice_label": "index"}


def refuse_non_finite(probs: np.ndarray, run_dir: Path, *, what: str,
                      checkpoint: Path | None = None) -> None:
    """Stop when a model gives NaN/inf probabilities: metrics and predictions from it would
    be meaningless (and ``NaN`` is not valid JSON).

    Raises:
        CheckpointError: naming the checkpoint and what to do.
    """
    bad = ~np.isfinite(probs).all(axis=1) if probs.ndim == 2 else ~np.isfinite(probs)
    if not bad.any():
        return
    if checkpoint is None:
        try:
            checkpoint = _best_checkpoint(Path(run_dir))
            if checkpoint is None:
                from ftlab.training import find_resume_checkpoint

                checkpoint = find_resume_checkpoint(run_dir)
        except CheckpointError:
            checkpoint = None
    source = f"checkpoint {checkpoint}" if checkpoint is not None else f"the model of {run_dir}"
    diag = Path(run_dir) / "diagnosis.json"
    raise CheckpointError(
        f"{source} gives non-finite probabilities (NaN/inf) for {int(bad.sum())} of "
        f"{len(bad)} {what}: its weights overflowed (training diverged), so its predictions and "
        f"metrics are meaningless. Retrain with a lower train.lr (and clip_norm set)"
        + (f"; see {diag}" if diag.is_file() else "")
        + "; or point checkpoints/best.json at an earlier, finite checkpoint of the run")


def _write_predictions(path: Path, examples: Sequence[Any], probs: np.ndarray,
                       preds: np.ndarray, names: Sequence[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for ex, p, pred in zip(examples, probs, preds, strict=True):
            rec = {"id": ex.id, "text": ex.text, "label": ex.label, "pred": names[int(pred)],
                   "probs": {n: round(float(v), 6) for n, v in zip(names, p)}}
            if ex.text_pair is not None:
                rec["text_pair"] = ex.text_pair
            if ex.choices is not None:
                rec["choices"] = list(ex.choices)
            fh.write(dumps_json(rec) + "\n")


def predict_encoded(model: torch.nn.Module, encoded: Sequence[Any], config: RunConfig, *,
                    pad_id: int, device: torch.device,
                    label: str = "predict") -> tuple[np.ndarray, np.ndarray]:
    """Probabilities (N, C) and labels (N,) in input order, from length-sorted batches.

    Inside a torchrun process group (``ftlab evaluate``/``predict`` under torchrun) every rank
    predicts its share of the batches and gets everyone's results back, in input order; every
    rank of the group must call it.
    """
    from ftlab.models import probabilities
    from ftlab.training import predict
    from ftlab.training import is_distributed

    loader = build_eval_loader(encoded, config.batching, pad_id=pad_id)
    index, probs, labels = predict(model, loader, probs_fn=probabilities, device=device,
                                   shard=is_distributed(), label=label)
    order = np.argsort(index)  # length-sorted batches -> input order
    return probs[order], labels[order]


def predict_examples(model: torch.nn.Module, encoder: Any, config: RunConfig,
                     examples: Sequence[Any], label: str = "predict") -> np.ndarray:
    """Probabilities (N, C) for raw examples, in input order (labels optional; unknown or
    missing labels are ignored). No temperature is applied."""
    from dataclasses import replace

    names = set(encoder.labels.names)
    cleaned = [ex if ex.label in names else replace(ex, label=None) for ex in examples]
    if not cleaned:
        return np.zeros((0, encoder.labels.num_classes), dtype=np.float32)
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    probs, _ = predict_encoded(model, encoder.encode(cleaned), config,
                               pad_id=encoder.tokenizer.pad_id, device=device, label=label)
    return probs


def evaluate_arrays(
    run_dir: Path, *, split: str, examples: Sequence[Any], labels: np.ndarray, probs: np.ndarray,
    encoder: Any, train_labels: Sequence[int] | None, calibration: dict[str, Any] | None = None,
    baseline: dict[str, float] | None = None, slice_columns: Sequence[str] = (), seed: int = 0,
    positive_label: str | None = None, model_notes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Full evaluation of given probabilities; writes predictions and evaluation JSON.

    The run's decision rule (``calibration``: temperature, binary threshold) is applied once
    and the same decisions go into ``predictions/<split>.jsonl`` and the report.
    ``model_notes`` (:func:`model_notes`) adds what the model reported about its predictions
    (a prompted LM: unparseable generations, dropped demonstrations) to the warnings.
    """
    from ftlab.evaluation import evaluate_predictions

    if (labels < 0).any():
        raise DataError(f"split {split!r} has unlabelled examples; evaluation needs labels "
                        f"(use ftlab predict for unlabelled input)")
    calibration = calibration or {}
    names = encoder.labels.names
    pos, pos_source = positive_class(names, train_labels, configured=positive_label,
                                     calibration=calibration)
    report = evaluate_predictions(
        labels=labels, probs=probs, label_names=names, examples=examples,
        train_labels=train_labels, temperature=calibration.get("temperature"),
        threshold=calibration.get("threshold"), seed=seed, slice_columns=tuple(slice_columns),
        split=split, threshold_metric=calibration.get("threshold_metric"),
        positive=pos, positive_source=pos_source,
    )
    if calibration.get("temperature_skipped"):
        report["warnings"].append(calibration["temperature_skipped"])
    if model_notes:
        report["warnings"].extend(model_notes["notes"])
        report["prompt"] = model_notes["counts"]
    if baseline is not None:
        report.setdefault("baselines", {})["tfidf_lr"] = baseline
    shown = probs
    if calibration.get("temperature"):
        from ftlab.evaluation import apply_temperature

        shown = apply_temperature(probs, calibration["temperature"])
    from ftlab.evaluation import decide

    # the same rule as the evaluation report: one decision per example everywhere
    preds = decide(shown, threshold=calibration.get("threshold"),
                   positive=pos if pos is not None else 1)
    pred_file = run_dir / "predictions" / f"{split}.jsonl"
    guard_write(lambda: _write_predictions(pred_file, examples, shown, preds, names),
                pred_file, what=f"the {split} predictions")
    from ftlab.evaluation import EvaluationResult

    report = EvaluationResult.model_validate(report).to_dict()  # the schema, checked on write
    write_json_atomic(run_dir / "evaluation" / f"{split}.json", report)
    return report


def _reset_model_log(model: Any) -> None:
    reset = getattr(model, "reset_log", None)
    if callable(reset):
        reset()


def model_notes(run_dir: Path, model: Any, split: str,
                examples: Sequence[Any]) -> dict[str, Any] | None:
    """What a model that keeps a log (a prompted LM) reported while predicting ``split``.

    Writes ``predictions/<split>.generations.jsonl`` (id, raw output, parsed label, parser
    rule) when it generated text.

    Returns:
        ``{"notes": [lines], "counts": {...}}``, or ``None`` for models without a log.
    """
    notes = getattr(model, "notes", None)
    if not callable(notes):
        return None
    log = list(getattr(model, "log", []))
    if log:
        path = Path(run_dir) / "predictions" / f"{split}.generations.jsonl"
        lines = [dumps_json({"id": examples[r["index"]].id, **{k: v for k, v in r.items()
                                                                if k != "index"}})
                 for r in sorted(log, key=lambda r: r["index"])]
        guard_write(lambda: _write_lines(path, lines), path, what=f"the {split} generations")
    return {"notes": list(notes()), "counts": dict(getattr(model, "counts", {}))}


def _write_lines(path: Path, lines: Sequence[str]) -> None:
    from ftlab.core import atomic_write_text

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, "".join(line + "\n" for line in lines))


def _summary_metrics(report: dict[str, Any]) -> dict[str, Any]:
    m = dict(report["metrics"])
    m["n"] = report["n"]
    m["decision_rule"] = (report.get("decision_rule") or {}).get("rule", "argmax")
    m["absent_classes"] = (report.get("classes") or {}).get("absent", [])
    m["positive_label"] = (report.get("classes") or {}).get("positive")
    boot = report.get("bootstrap") or {}
    for key, ci in boot.items():  # the bootstrap interval of each headline figure
        if isinstance(ci, dict) and "low" in ci and key in m:
            m[f"{key}_ci"] = [ci["low"], ci["high"]]

    base = report.get("baselines") or {}
    m["majority_baseline"] = (base.get("majority") or {}).get("accuracy")
    m["tfidf_lr"] = (base.get("tfidf_lr") or {}).get("accuracy")
    m["tfidf_lr_macro_f1"] = (base.get("tfidf_lr") or {}).get("macro_f1")
    return m


def evaluate_splits(
    run_dir: Path, *, model: torch.nn.Module, encoder: Any, config: RunConfig,
    splits: dict[str, list[Any]], encoded: dict[str, list[Any]], device: torch.device,
    which: Sequence[str] | None = None, baseline: bool = False,
) -> dict[str, dict[str, Any]]:
    """Evaluate the in-memory model on splits (default ``config.eval.splits``); flat metrics."""
    train_labels = [e.label for e in encoded.get("train", [])]
    calibration = read_calibration(run_dir)
    out: dict[str, dict[str, Any]] = {}
    for split in which or config.eval.splits:
        if not encoded.get(split):
            continue
        _reset_model_log(model)
        probs, labels = predict_encoded(model, encoded[split], config,
                                        pad_id=encoder.tokenizer.pad_id, device=device,
                                        label=f"{split} evaluation")
        refuse_non_finite(probs, run_dir, what=f"{split} examples")
        base = None
        if baseline:
            from ftlab.core import phase

            with phase(f"{split} baseline (TF-IDF + logistic regression)", unit="fits",
                       heartbeat=True) as p:
                base = baseline_score(run_dir, config, splits, encoder, split)
                p.advance()
        report = evaluate_arrays(run_dir, split=split, examples=splits[split], labels=labels,
                                 probs=probs, encoder=encoder, train_labels=train_labels,
                                 calibration=calibration, baseline=base,
                                 slice_columns=config.data.columns.extra, seed=config.seed,
                                 positive_label=config.eval.positive_label,
                                 model_notes=model_notes(run_dir, model, split, splits[split]))
        out[split] = _summary_metrics(report)
    if out:
        write_json_atomic(run_dir / "eval.json", out)
    return out


def baseline_score(run_dir: Path, config: RunConfig, splits: dict[str, list[Any]], encoder: Any,
                   split: str) -> dict[str, float] | None:
    """TF-IDF + logistic regression on the same splits (cached in ``baseline.json``).

    One fit on the training split scores every other split at once, so evaluating several
    splits fits once. Returns ``None`` when the baseline cannot be fitted (no training
    split, a single class, or texts without features); evaluation goes on without it.
    """
    from ftlab.runs._tfidf import TfidfBaseline, _joined

    cache_file = Path(run_dir) / "baseline.json"
    cache = json.loads(cache_file.read_text(encoding="utf-8")) if cache_file.is_file() else {}
    # entries cached before the one metric definition lack macro_f1_present: recompute
    cache = {k: v for k, v in cache.items() if isinstance(v, dict) and "macro_f1_present" in v}
    if split in cache:
        return cache[split]
    train = splits.get("train") or []
    if train and train[0].choices is not None:
        return None  # a text classifier cannot score choices: no TF-IDF baseline for them
    y_train = [encoder.labels.encode(e.label) for e in train]
    if len(set(y_train)) < 2 or not splits.get(split):
        return None
    try:
        model = TfidfBaseline(seed=config.seed).fit([_joined(e) for e in train], y_train)
    except ValueError as exc:
        logger.warning("TF-IDF baseline skipped: %s", exc)
        return None
    from ftlab.evaluation import label_metrics

    for name, examples in splits.items():
        if name == "train" or not examples or name in cache:
            continue
        probs = model.predict_proba([_joined(e) for e in examples], encoder.labels.num_classes)
        y = [encoder.labels.encode(e.label) for e in examples]
        # the one metric definition (macro over every class known at training), as
        # `ftlab baseline` reports it
        m = label_metrics(y, probs.argmax(axis=1), n_classes=encoder.labels.num_classes)
        cache[name] = {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
                       "macro_f1_present": m["macro_f1_present"], "decision_rule": "argmax",
                       "definition": "macro over the classes known at training"}
    write_json_atomic(cache_file, cache)
    return cache.get(split)


def _best_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoint named by ``checkpoints/best.json`` (what training ends with), if any."""
    pointer = run_dir / "checkpoints" / "best.json"
    if not pointer.is_file():
        return None
    from ftlab.training import checkpoint_name

    try:
        target = pointer.parent / checkpoint_name(
            pointer, json.loads(pointer.read_text(encoding="utf-8"))["path"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{pointer} is damaged ({exc}); delete it to fall back to "
                              f"checkpoints/last.json") from exc
    return target if target.is_dir() else None


def run_checkpoint(run_dir: Path) -> Path:
    """The checkpoint :func:`load_run_model` loads: the best, else the last.

    Raises:
        CheckpointError: no checkpoint (the message says why and what to do).
    """
    run_dir = Path(run_dir)
    from ftlab.training import find_resume_checkpoint

    ckpt = _best_checkpoint(run_dir) or find_resume_checkpoint(run_dir)
    if ckpt is None:
        summary = load_summary(run_dir)
        if summary.status == "failed":
            raise CheckpointError(
                f"{run_dir} has no checkpoint: its training failed before writing one "
                f"({str(summary.stop_reason or '')[:300]}); fix the cause and train again")
        raise CheckpointError(f"{run_dir} has no checkpoint; train it first (ftlab train)")
    return ckpt


def load_run_model(run_dir: Path, *, device: torch.device | None = None,
                   threads: int | None = None) -> tuple[RunConfig, Any, torch.nn.Module]:
    """Rebuild a run's model from its config, saved encoder and best (else last) checkpoint.

    Args:
        run_dir: the run directory.
        device: where the model goes (default: the run's ``train.device``).
        threads: torch's intra-op CPU threads from now on (default: the run's
            ``train.threads``, else ``OMP_NUM_THREADS``, else torch's default).

    Raises:
        CheckpointError: not a run directory, or no checkpoint.
    """
    from ftlab.runs._assemble import build_run
    from ftlab.training import load_checkpoint, restore

    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file():
        raise CheckpointError(f"{run_dir} is not a run directory (no config.yaml)")
    config = load_run_config(run_dir)
    if threads is not None:
        config = config.model_copy(update={"train": config.train.model_copy(
            update={"threads": threads})})
    if config.model.family == "prompt":  # a frozen LM: its weights come from model.name
        parts = build_run(config, device or resolve_device(config.train.device),
                          encoder_dir=run_dir / "artifacts" / "encoder", data=False,
                          text_pairs=bool(load_summary(run_dir).text_pairs))
        parts.model.eval()
        return config, parts.encoder, parts.model
    ckpt = run_checkpoint(run_dir)
    parts = build_run(config, device or resolve_device(config.train.device),
                      encoder_dir=run_dir / "artifacts" / "encoder", data=False,
                      text_pairs=load_summary(run_dir).text_pairs)
    restore(load_checkpoint(ckpt), parts.model, restore_rng=False)
    parts.model.eval()
    return config, parts.encoder, parts.model


def join_torchrun(run_dir: Path) -> torch.device | None:
    """Under torchrun, join the process group on the device the run trained on.

    Returns ``None`` (and does nothing) outside torchrun or with one process; else this rank's
    device. :func:`leave_torchrun` leaves the group and says whether this rank is rank 0.
    """
    from ftlab.training import distributed as dist

    run_dir = Path(run_dir)
    if dist.torchrun_world_size() <= 1 or not (run_dir / "config.yaml").is_file():
        return None
    config = load_run_config(run_dir)
    return dist.init_from_env(resolve_device(config.train.device))


def leave_torchrun() -> bool:
    """Leave the torchrun process group (if any); True on rank 0 (and in a single process)."""
    from ftlab.training import distributed as dist

    main = dist.is_main()
    dist.teardown()
    return main


@writes_run("evaluate")
def evaluate_run(run_dir: Path, *, split: str = "test", data: Path | None = None,
                 baseline: bool = True, console: Any = None,
                 distributed: bool = False, threads: int | None = None) -> dict[str, Any]:
    """``ftlab evaluate``: full evaluation of a trained run on one of its splits or a file.

    With ``distributed=True`` under torchrun every rank predicts its share of the split's
    batches and the predictions are gathered in input order; the group is then left, and rank
    0 alone computes the metrics and writes the files (other ranks return ``{}``).
    ``threads`` sets torch's intra-op CPU threads (default: the run's ``train.threads``, else
    ``OMP_NUM_THREADS``, else torch's default).

    Returns:
        The evaluation report (``evaluation/<split>.json``).

    Raises:
        DataError: unknown split, or a file with labels the model never saw.
    """
    from ftlab.runs._prepare import prepare_data

    run_dir = Path(run_dir)
    config, encoder, model = load_run_model(
        run_dir, device=join_torchrun(run_dir) if distributed else None, threads=threads)
    device = next(model.parameters()).device
    prepared = prepare_data(config, encoder_dir=run_dir / "artifacts" / "encoder")
    splits = prepared.splits
    if data is not None:
        from ftlab.data import read_file

        cols = config.data.columns
        examples = read_file(data, text_column=cols.text, text_pair_column=cols.text_pair,
                             label_column=cols.label, id_column=cols.id,
                             extra_columns=tuple(cols.extra), encoding=config.data.encoding,
                             split=Path(data).stem, max_bytes=input_caps(config)[0],
                             max_field_chars=input_caps(config)[1],
                             **choice_read_options(config, encoder))
        unknown = sorted({e.label for e in examples} - set(encoder.labels.names), key=str)
        if unknown:
            raise DataError(f"{data}: labels {unknown} were never seen in training (known: "
                            f"{encoder.labels.names}); the model cannot predict them - map them to "
                            f"known labels or train a run that includes them")
        split = Path(data).name.split(".")[0]
        splits = {**splits, split: examples}
    elif split not in splits:
        raise DataError(f"split {split!r} not in the run's data; choose one of {sorted(splits)}")
    encoded = encoder.encode(splits[split])
    _reset_model_log(model)
    probs, labels = predict_encoded(model, encoded, config, pad_id=encoder.tokenizer.pad_id,
                                    device=device)
    if distributed and not leave_torchrun():
        return {}
    refuse_non_finite(probs, run_dir, what=f"{split} examples")
    base = baseline_score(run_dir, config, splits, encoder, split) if baseline else None
    train_labels = [encoder.labels.encode(e.label) for e in splits["train"]]
    report = evaluate_arrays(run_dir, split=split, examples=splits[split], labels=labels,
                             probs=probs, encoder=encoder, train_labels=train_labels,
                             calibration=read_calibration(run_dir), baseline=base,
                             slice_columns=config.data.columns.extra, seed=config.seed,
                             positive_label=config.eval.positive_label,
                             model_notes=model_notes(run_dir, model, split, splits[split]))
    if data is None:
        update_summary(run_dir, **{f"eval_{split}": _summary_metrics(report)})
    return report
