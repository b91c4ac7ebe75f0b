"""``study.json``: the typed record of a study (:class:`StudySummary`), Optuna or Ray Tune."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ftlab.core import Record

__all__ = ["StudySummary"]


class StudySummary(Record):
    """The fields of ``study.json`` (schemas in :mod:`ftlab.tuning._study` for Optuna studies
    and :mod:`ftlab.tuning._ray` for Ray Tune); validated when the file is written."""

    schema_version: int = Field(1, alias="schema")  # "schema" itself is a BaseModel method
    study: str
    study_dir: str
    storage: str | None = None
    direction: Literal["maximize", "minimize"] = "maximize"
    monitor: str
    epochs_per_trial: int | None = None
    epochs_total: float = 0.0
    best: dict[str, Any] | None = None
    groups: list[dict[str, Any]] = []
    trials: list[dict[str, Any]] = []
    warnings: list[str] = []
    retrain_command: str | None = None
    refined_space: str | None = None
    # Optuna studies
    sampler: str | None = None
    pruner: str | None = None
    trials_per_group: int | None = None
    # Ray Tune studies
    backend: Literal["ray"] | None = None
    scheduler: str | None = None
    trials_requested: int | None = None
    keep_checkpoints: int | None = None
    pbt_events: list[dict[str, Any]] = []
