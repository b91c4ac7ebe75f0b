"""``run.json``: the typed record of one run (:class:`RunSummary`).

Every writer goes through :func:`ftlab.runs.update_summary`, which validates the fields it is
given against this schema before anything is written: an unknown (misspelled) key or a value of
the wrong type raises at once, naming the field and the closest known one. Readers get a
:class:`RunSummary` from :func:`load_summary`; keys this version does not know (from older or
newer ftlab versions) are kept as extra fields, so old run directories still load and a rewrite
never drops what they hold.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError

from ftlab.core import Record, closest
from ftlab.evaluation import HEADLINE_METRICS

__all__ = ["RunSummary", "RunStatus", "RUN_STATUSES", "check_summary_fields"]

RunStatus = Literal["running", "completed", "stopped", "failed", "killed", "interrupted", "pruned"]
RUN_STATUSES: tuple[str, ...] = RunStatus.__args__  # type: ignore[attr-defined]

# per-split figures written under a key that names the split: eval_<split>, robustness_<split>
_PER_SPLIT = re.compile(r"^(eval|robustness)_[A-Za-z0-9][A-Za-z0-9_.-]*$")


class RunSummary(Record):
    """The fields of ``run.json``. All optional: a run fills them in as it goes (``running`` at
    the start, the outcome at the end, evaluations later), and a command that failed early
    leaves only some. Per-split results are extra fields named ``eval_<split>`` (from
    ``ftlab evaluate``) and ``robustness_<split>`` (transformed test sets)."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    # identity and provenance
    name: str | None = Field(None, description="the run's name (its directory's name)")
    path: str | None = Field(None, description="the run directory")
    model: str | None = Field(None, description="model family (bow, rnn, transformer, tfidf_lr, ensemble, ...)")
    dataset: str | None = Field(None, description="the data origin (source, or files per split)")
    hparams: dict[str, Any] = Field(default_factory=dict, description="the hyperparameters shown in tables")
    seed: int | None = Field(None, description="the config's seed")
    seeds: dict[str, int] = Field(default_factory=dict, description="split/init/order seeds used")
    tags: dict[str, Any] = Field(default_factory=dict, description="free tags (study name, trial, ...)")
    parameters: dict[str, int] = Field(default_factory=dict, description="total and trainable parameters")
    text_pairs: bool = Field(False, description="whether examples are text pairs")
    num_classes: int | None = None
    world_size: int | None = Field(None, description="processes under torchrun (absent: one)")
    threads: int | None = Field(None, description="torch intra-op CPU threads the run used (train.threads)")
    # lifecycle
    status: RunStatus | None = None
    stop_reason: str | None = None
    pid: int | None = Field(None, description="the process that holds the run while it is running")
    started: str | None = Field(None, description="ISO 8601 UTC")
    ended: str | None = Field(None, description="ISO 8601 UTC")
    duration_s: float | None = Field(None, description="training wall time, summed over resumes")
    # training outcome
    step: int | None = Field(None, description="optimizer steps taken")
    epoch: int | None = Field(None, description="epochs completed")
    monitor: str | None = Field(None, description="the validation metric ranked as best")
    best_metric: float | None = None
    best_step: int | None = None
    restored_best: str | None = Field(None, description="how the best weights were restored, if asked")
    notes: list[str] = Field(default_factory=list, description="remarks the report shows (older versions)")
    # evaluation
    test: dict[str, dict[str, Any]] = Field(default_factory=dict,
                                            description="flat metrics per evaluated split")
    test_metric: float | None = Field(None, description="the monitored metric on test")
    # data and training extras
    data_removed: dict[str, Any] = Field(default_factory=dict, description="rows dropped per split and reason")
    glove_coverage: dict[str, Any] | None = None
    augment: list[dict[str, Any]] = Field(default_factory=list, description="augmentations applied")
    # ensembles
    ensemble: dict[str, Any] | None = None
    members: list[dict[str, Any]] = Field(default_factory=list)

    def format(self) -> str:
        """What the CLI prints after a run: where it is, how it ended, the test figures with
        their intervals, decision rule, absent classes and baselines."""
        lines = [f"run directory: {self.path}", f"status: {self.status}  ({self.stop_reason or ''})"]
        for split, m in self.test.items():
            lines += _split_lines(split, m)
        return "\n".join(lines)



def _split_lines(split: str, m: dict[str, Any]) -> list[str]:
    parts = [f"{k} {m[k]:.4f}" + (f" [{m[k + '_ci'][0]:.4f}, {m[k + '_ci'][1]:.4f}]"
                                  if isinstance(m.get(k + "_ci"), list) else "")
             for k in (*HEADLINE_METRICS, "roc_auc", "ece") if isinstance(m.get(k), float)]
    lines = [f"{split}: " + ", ".join(parts)]
    if m.get("decision_rule") or m.get("positive_label"):
        lines.append(f"{split} decision rule: {m.get('decision_rule') or 'argmax'}"
                     + (f"; positive class {m['positive_label']!r}"
                        if m.get("positive_label") is not None else ""))
    if m.get("absent_classes"):
        lines.append(f"{split}: classes without an example: {m['absent_classes']} "
                     f"(macro_f1 counts them as 0; macro_f1_present leaves them out)")
    if isinstance(m.get("majority_baseline"), float):
        lines.append(f"{split} baselines: majority-class accuracy {m['majority_baseline']:.4f}"
                     + (f", TF-IDF + LR accuracy {m['tfidf_lr']:.4f}"
                        if isinstance(m.get("tfidf_lr"), float) else "")
                     + (f", macro_f1 {m['tfidf_lr_macro_f1']:.4f}"
                        if isinstance(m.get("tfidf_lr_macro_f1"), float) else ""))
    return lines


def check_summary_fields(fields: dict[str, Any]) -> RunSummary:
    """Validate fields about to be written to run.json; the validated record of just those.

    Raises:
        ValueError: an unknown key (with the closest known one), or a value of the wrong type.
    """
    known = RunSummary.model_fields
    unknown = [k for k in fields if k not in known and not _PER_SPLIT.match(k)]
    if unknown:
        raise ValueError(
            "; ".join(f"run.json has no field {k!r}.{closest(k, known)}" for k in unknown)
            + " (declare new fields in ftlab.runs.RunSummary)")
    try:
        return RunSummary.model_validate(fields)
    except ValidationError as exc:
        raise ValueError(f"invalid run.json field(s): {exc}") from None
