"""The training doctor: rules that read a run's curves and say what looks wrong and how to fix it.

``diagnose`` applies every rule (training loss: :mod:`ftlab.evaluation._doctor_rules`;
validation curves: :mod:`ftlab.evaluation._doctor_eval_rules`) to a :class:`History` (from
``metrics.jsonl``) and returns :class:`Finding` objects; ``write_doctor`` does it for a run
directory and writes ``doctor.json`` (``{"findings": [finding.to_dict(), ...]}``). A healthy
run gives no findings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ftlab.core import atomic_write_json
from ftlab.errors import ConfigError, DataError
from ftlab.evaluation._doctor_eval_rules import EVAL_RULES
from ftlab.evaluation._doctor_rules import (
    LOSS_RULES,
    SEVERITY_ORDER,
    Finding,
    RuleContext,
    Severity,
)
from ftlab.evaluation._history import History, is_finite_number, load_history

__all__ = ["Finding", "Severity", "History", "diagnose", "format_findings", "load_history",
           "write_doctor"]


# --- public API -----------------------------------------------------------------------------------
def diagnose(
    history: History,
    *,
    epochs: int | None = None,
    per_class_recall: Mapping[str, float] | None = None,
    majority_accuracy: float | None = None,
    monitor: str | None = None,
) -> list[Finding]:
    """Apply every doctor rule to a training history.

    Rules: negative_loss, exploding_loss, diverging_loss, loss_not_decreasing, oscillating_loss,
    label_leakage_suspected, confident_mistakes, overfitting, zero_recall_class,
    best_epoch_early, best_epoch_late (thresholds: the module constants).

    Args:
        history: from :func:`load_history` or :meth:`History.from_records`.
        epochs: epochs the run asked for; default: the ``start`` record's ``epochs``.
        per_class_recall: ``{class name: recall}`` on validation or test; default: any
            ``recall/<class>`` or ``recall_<class>`` metric of the last evaluation.
        majority_accuracy: accuracy of always predicting the majority class on validation
            (sharpens label_leakage_suspected), or ``None``.
        monitor: the validation metric the run selected its best checkpoint by (``"loss"`` is
            minimised, anything else maximised); default: inferred from the ``end`` record.

    Returns:
        The findings, errors first; an empty list when the curves look healthy.

    Raises:
        ConfigError: ``epochs`` is not a positive integer (a ValueError).
    """
    if epochs is not None and (isinstance(epochs, bool) or not isinstance(epochs, int)
                               or epochs <= 0):
        raise ConfigError(f"diagnose(epochs=...) must be a positive integer or None, got "
                          f"{epochs!r}; pass the run's train.epochs")
    ctx = RuleContext(history, epochs, per_class_recall, majority_accuracy, monitor)
    findings = [f for rule in (*LOSS_RULES, *EVAL_RULES) for f in rule(ctx)]
    return sorted(findings, key=lambda f: SEVERITY_ORDER[f.severity])  # stable: rule order


def format_findings(findings: Sequence[Finding]) -> str:
    """Plain text for the terminal: one block per finding (severity, title, message, fix).

    Args:
        findings: from :func:`diagnose`.

    Returns:
        The text (no trailing newline); says the curves look healthy when there are no findings.
    """
    if not findings:
        return "doctor: no findings - the training curves look healthy."
    counts = {s: sum(f.severity == s for f in findings) for s in SEVERITY_ORDER}
    summary = ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items() if n)
    lines = [f"doctor: {len(findings)} finding{'s' if len(findings) != 1 else ''} ({summary})"]
    for f in findings:
        lines += [f"[{f.severity}] {f.rule}: {f.title}", f"  seen: {f.message}",
                  f"  fix:  {f.fix}"]
    return "\n".join(lines)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None  # an unreadable side file only costs the doctor one input
    return value if isinstance(value, dict) else None


def _config_values(run_dir: Path) -> tuple[int | None, str | None]:
    """``train.epochs`` and ``eval.monitor`` from the run's resolved ``config.yaml``."""
    import yaml

    try:
        cfg = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None, None  # the start record in metrics.jsonl also holds the epochs
    cfg = cfg if isinstance(cfg, dict) else {}
    train, evaluation = cfg.get("train"), cfg.get("eval")
    epochs = train.get("epochs") if isinstance(train, dict) else None
    monitor = evaluation.get("monitor") if isinstance(evaluation, dict) else None
    ok = isinstance(epochs, int) and not isinstance(epochs, bool) and epochs > 0
    return (epochs if ok else None), (monitor if isinstance(monitor, str) else None)


def _early_stopping_on(run_dir: Path) -> bool:
    """Whether the run's resolved config has ``train.early_stopping.enabled: true``."""
    import yaml

    try:
        cfg = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    train = cfg.get("train") if isinstance(cfg, dict) else None
    stopping = train.get("early_stopping") if isinstance(train, dict) else None
    return isinstance(stopping, dict) and stopping.get("enabled") is True


_ENABLE_STOPPING = "train.early_stopping.enabled: true"


def _respect_config(findings: list[Finding], early_stopping_on: bool) -> list[Finding]:
    """Advice checked against the config: never advise turning on what is already on."""
    if not early_stopping_on:
        return findings
    out = []
    for f in findings:
        if _ENABLE_STOPPING in f.fix:
            f = Finding(f.rule, f.severity, f.title, f.message,
                        f.fix.replace(_ENABLE_STOPPING, "early stopping (already on: lower "
                                      "train.early_stopping.patience or min_delta)"),
                        f.evidence)
        out.append(f)
    return out


def _evaluation_inputs(run_dir: Path) -> tuple[dict[str, float] | None, float | None, str | None]:
    """Per-class recall and majority accuracy from evaluation/validation.json (else test.json)."""
    for split in ("validation", "test"):
        report = _read_json(run_dir / "evaluation" / f"{split}.json")
        if report is None:
            continue
        per_class = report.get("per_class") or {}
        # a class without an example in the split has no recall to judge (not recall 0)
        recall = {str(k): float(v["recall"]) for k, v in per_class.items()
                  if isinstance(v, dict) and is_finite_number(v.get("recall"))
                  and v.get("support", 1) != 0}
        majority = ((report.get("baselines") or {}).get("majority") or {}).get("accuracy")
        return (recall or None, float(majority) if is_finite_number(majority) else None, split)
    return None, None, None


def write_doctor(run_dir: str | Path) -> list[Finding]:
    """Diagnose a run directory and write ``doctor.json`` into it.

    Reads ``metrics.jsonl``, ``train.epochs`` and ``eval.monitor`` from ``config.yaml`` and,
    when present, ``evaluation/validation.json`` (else ``evaluation/test.json``) for per-class
    recall and the majority-class rate. A run without ``metrics.jsonl`` (e.g. a TF-IDF
    baseline) gets one info finding ``no_training_history``.

    Args:
        run_dir: the run directory (``runs/<name>``).

    Returns:
        The findings written.

    Raises:
        DataError: ``run_dir`` is not a directory, or ``metrics.jsonl`` is malformed.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise DataError(f"run directory not found: {run_dir} (pass runs/<name>, as printed by "
                        "`ftlab train` or listed by `ftlab runs`)")
    metrics = run_dir / "metrics.jsonl"
    history = load_history(metrics) if metrics.exists() else None
    summary = _read_json(run_dir / "run.json") or {}
    if history is None and summary.get("model") == "tfidf_lr":
        findings: list[Finding] = []  # a fitted baseline has no training curve to diagnose
    elif history is None or not history.steps:
        findings = [Finding(
            "no_training_history", "info", "No training history to diagnose",
            f"{metrics} " + ("does not exist" if history is None else "holds no training step")
            + ": this run logged no training steps (e.g. a baseline, or it stopped at once).",
            "Nothing to do for a baseline; otherwise train with `ftlab train` and check that "
            "the run reached its first step.",
            {"path": str(metrics)},
        )]
    else:
        recall, majority, split = _evaluation_inputs(run_dir)
        epochs, monitor = _config_values(run_dir)
        findings = diagnose(history, epochs=epochs, per_class_recall=recall,
                            majority_accuracy=majority, monitor=monitor)
        choices = split is not None and bool(
            (_read_json(run_dir / "evaluation" / f"{split}.json") or {}).get("choices"))
        for i, f in enumerate(findings):
            if f.rule == "zero_recall_class" and split is not None and choices:
                # multiple choice: the classes are answer positions, not rare labels
                names = ", ".join(repr(c) for c in f.evidence.get("classes", []))
                findings[i] = Finding(
                    f.rule, f.severity, f"Answer position(s) never predicted correctly: {names}",
                    f"On {split}: the model never picks the right answer when it sits at "
                    f"position(s) {names}: it leans on where an answer is (see the "
                    "choice-position bias in the report), or has not learned the task yet.",
                    "Train longer or on more items; check that the data's answers are spread "
                    "over the positions (shuffle the choices of the training items if not).",
                    {**f.evidence, "split": split})
            elif f.rule == "zero_recall_class" and split is not None:
                findings[i] = Finding(f.rule, f.severity, f.title, f"On {split}: {f.message}",
                                      f.fix, {**f.evidence, "split": split})
        findings = _respect_config(findings, _early_stopping_on(run_dir))
    atomic_write_json(run_dir / "doctor.json", {"findings": [f.to_dict() for f in findings]})
    return findings
