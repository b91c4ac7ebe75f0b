"""Read what ``ftlab evaluate`` wrote into run directories, and compare runs with it.

``predictions/<split>.jsonl`` rows hold ``id``, ``text``, ``label``, ``pred`` and ``probs``
(``{label: p}``, in the run's label order); ``evaluation/<split>.json`` holds the metrics.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ftlab.analysis._groups import GroupComparison, compare_groups
from ftlab.analysis._significance import PairedComparison, TestName, compare_predictions
from ftlab.errors import ConfigError, DataError

__all__ = ["RunPredictions", "align_predictions", "compare_run_groups", "compare_runs",
           "config_differences", "read_metric", "read_predictions"]

_SHOWN = 3  # example ids named in an error message


def _fix(run_dir: Path, split: str) -> str:
    return f"run `ftlab evaluate {run_dir} --split {split}` to write it"


@dataclass(frozen=True, eq=False)
class RunPredictions:
    """One run's predictions on one split, read from ``predictions/<split>.jsonl``.

    Attributes:
        run_dir: the run directory.
        split: the split name.
        ids: example ids, in file order.
        texts: the texts.
        text_pairs: the second texts of pairs (``None`` for single texts).
        labels: the true label names.
        preds: the run's predicted label names (its decisions, with a tuned threshold if any).
        label_names: the probability columns, in the run's label order.
        probs: (N, C) class probabilities (after the run's temperature, if calibrated).
        choices: multiple choice: each example's choices (``None`` for other tasks).
    """

    run_dir: Path
    split: str
    ids: tuple[str, ...]
    texts: tuple[str, ...]
    text_pairs: tuple[str | None, ...]
    labels: tuple[str, ...]
    preds: tuple[str, ...]
    label_names: tuple[str, ...]
    probs: np.ndarray
    choices: tuple[tuple[str, ...] | None, ...] = ()

    @property
    def path(self) -> Path:
        """The predictions file."""
        return self.run_dir / "predictions" / f"{self.split}.jsonl"

    def label_indices(self) -> np.ndarray:
        """(N,) true class indices into :attr:`label_names`."""
        index = {n: i for i, n in enumerate(self.label_names)}
        return np.array([index[x] for x in self.labels], dtype=np.int64)

    def pred_indices(self) -> np.ndarray:
        """(N,) predicted class indices into :attr:`label_names`."""
        index = {n: i for i, n in enumerate(self.label_names)}
        return np.array([index[x] for x in self.preds], dtype=np.int64)


def _row(path: Path, line_no: int, line: str) -> dict[str, Any]:
    where = f"{path}:{line_no}"
    try:
        rec = json.loads(line)
    except ValueError as exc:
        raise DataError(f"{where}: not valid JSON ({exc}); the file is damaged - re-create it "
                        f"with `ftlab evaluate`") from exc
    if not isinstance(rec, dict):
        raise DataError(f"{where}: expected a JSON object per line, got {type(rec).__name__}")
    missing = [k for k in ("id", "label", "pred", "probs") if k not in rec]
    if missing or not isinstance(rec.get("probs"), dict):
        raise DataError(f"{where}: missing or malformed fields {missing or ['probs']}; "
                        f"predictions files need id, label, pred and probs {{label: p}} "
                        f"(written by `ftlab evaluate`)")
    if rec["label"] is None:
        raise DataError(f"{where}: example {rec['id']!r} has no label; comparing and ensembling "
                        f"need labelled predictions (`ftlab evaluate`, not `ftlab predict`)")
    return rec


def read_predictions(run_dir: Path | str, split: str = "test") -> RunPredictions:
    """Read a run's ``predictions/<split>.jsonl``.

    Args:
        run_dir: a run directory (``runs/<name>``).
        split: the evaluated split (``test``, ``validation``, or the stem of a file evaluated
            with ``ftlab evaluate RUN --data FILE``).

    Returns:
        The predictions, in file order.

    Raises:
        DataError: the run directory or file is missing (the message names the
            ``ftlab evaluate`` command that writes it), a row is malformed, ids repeat, or a
            label is not one of the probability columns.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise DataError(f"run directory {run_dir} does not exist; pass a directory that "
                        f"`ftlab train` created, e.g. runs/<name>")
    path = run_dir / "predictions" / f"{split}.jsonl"
    if not path.is_file():
        raise DataError(f"{path} not found: {run_dir} has no predictions for split {split!r}; "
                        f"{_fix(run_dir, split)}")
    rows = [_row(path, i, line) for i, line in
            enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if line.strip()]
    if not rows:
        raise DataError(f"{path} is empty; {_fix(run_dir, split)}")
    names = tuple(str(k) for k in rows[0]["probs"])
    for i, rec in enumerate(rows, start=1):
        if tuple(str(k) for k in rec["probs"]) != names:
            raise DataError(f"{path}: row {i} has probability columns {list(rec['probs'])}, row 1 "
                            f"has {list(names)}; the file is damaged - re-create it with "
                            f"`ftlab evaluate`")
        for key in ("label", "pred"):
            if str(rec[key]) not in names:
                raise DataError(f"{path}: row {i} ({rec['id']!r}) has {key} {rec[key]!r}, not "
                                f"one of the run's labels {list(names)}")
    ids = tuple(str(r["id"]) for r in rows)
    if len(set(ids)) != len(ids):
        dup = next(x for x, k in Counter(ids).items() if k > 1)
        raise DataError(f"{path}: id {dup!r} appears more than once; examples must have unique "
                        f"ids to be paired across runs (give the data an id column)")
    return RunPredictions(
        run_dir=run_dir, split=split, ids=ids,
        texts=tuple(str(r.get("text", "")) for r in rows),
        text_pairs=tuple(r.get("text_pair") for r in rows),
        labels=tuple(str(r["label"]) for r in rows),
        preds=tuple(str(r["pred"]) for r in rows),
        label_names=names,
        probs=np.array([[float(r["probs"][n]) for n in names] for r in rows], dtype=np.float64),
        choices=tuple(_choices(r.get("choices")) for r in rows),
    )


def _choices(value: Any) -> tuple[str, ...] | None:
    """A predictions row's choices (multiple choice), else ``None``."""
    return tuple(str(c) for c in value) if isinstance(value, list) else None


def align_predictions(reference: RunPredictions, other: RunPredictions) -> RunPredictions:
    """``other`` reordered to ``reference``'s example order and label columns.

    Args:
        reference: the predictions whose order is kept.
        other: another run's predictions on the same split.

    Returns:
        ``other`` with rows in ``reference.ids`` order and probability columns in
        ``reference.label_names`` order.

    Raises:
        DataError: the two runs were not evaluated on the same examples (different ids or
            different true labels for an id) or do not share their label names; the message
            names what differs and how to evaluate both on the same examples.
    """
    a, b = reference, other
    both = f"{a.run_dir} ({a.path.name}) and {b.run_dir} ({b.path.name})"
    same_data = (f"use runs trained on the same data split (same data source and seed, or "
                 f"explicit data.files), or evaluate both on one file with `ftlab evaluate RUN "
                 f"--data FILE` and pass --split <file stem>; `ftlab evaluate RUN --split "
                 f"{a.split}` writes predictions/{a.split}.jsonl")
    if set(a.label_names) != set(b.label_names):
        raise DataError(f"{both} have different label names {list(a.label_names)} and "
                        f"{list(b.label_names)}; they are not classifiers of the same task")
    if set(a.ids) != set(b.ids):
        only_a = [x for x in a.ids if x not in set(b.ids)]
        only_b = [x for x in b.ids if x not in set(a.ids)]
        raise DataError(f"{both} were not evaluated on the same examples: {len(only_a)} ids "
                        f"only in the first (e.g. {only_a[:_SHOWN]}), {len(only_b)} only in the "
                        f"second (e.g. {only_b[:_SHOWN]}); {same_data}")
    pos = {x: i for i, x in enumerate(b.ids)}
    order = np.array([pos[x] for x in a.ids], dtype=np.int64)
    labels = tuple(b.labels[i] for i in order)
    differ = [x for x, la, lb in zip(a.ids, a.labels, labels) if la != lb]
    if differ:
        raise DataError(f"{both} give different true labels to {len(differ)} of {len(a.ids)} "
                        f"examples (e.g. ids {differ[:_SHOWN]}): they were not evaluated on the "
                        f"same data; {same_data}")
    cols = [b.label_names.index(n) for n in a.label_names]
    return replace(b, ids=a.ids, texts=tuple(b.texts[i] for i in order),
                   text_pairs=tuple(b.text_pairs[i] for i in order), labels=labels,
                   choices=tuple(b.choices[i] for i in order) if b.choices else (),
                   preds=tuple(b.preds[i] for i in order), label_names=a.label_names,
                   probs=b.probs[order][:, cols])


def compare_runs(
    run_a: Path | str, run_b: Path | str, *, split: str = "test",
    test: TestName = "paired-bootstrap", n_resamples: int = 10_000, confidence: float = 0.95,
    seed: int = 0,
) -> PairedComparison:
    """Is run B better than run A on the same evaluated examples? (``ftlab compare A B``)

    Reads both runs' ``predictions/<split>.jsonl``, pairs the examples by id and runs
    :func:`~ftlab.analysis.compare_predictions` on the runs' predicted labels (their ``pred``
    column, i.e. their decisions).

    Args:
        run_a: the reference run directory.
        run_b: the challenger run directory.
        split: the evaluated split both runs have predictions for.
        test: ``"paired-bootstrap"``, ``"mcnemar"`` or ``"permutation"``.
        n_resamples: bootstrap resamples (and permutations).
        confidence: central mass of the intervals; p below ``1 - confidence`` is significant.
        seed: resampling seed.

    Returns:
        The comparison, with ``runs`` and ``split`` set.

    Raises:
        DataError: missing predictions (naming ``ftlab evaluate RUN --split SPLIT``), or the
            runs were not evaluated on the same examples.
        ConfigError: unknown test or invalid resampling settings.
    """
    a = read_predictions(run_a, split)
    b = align_predictions(a, read_predictions(run_b, split))
    result = compare_predictions(a.label_indices(), a.pred_indices(), b.pred_indices(),
                                 test=test, n_resamples=n_resamples, confidence=confidence,
                                 seed=seed, n_classes=len(a.label_names))
    scores = {side: _scores(run, preds, split) for side, run, preds in
              (("a", run_a, a), ("b", run_b, b))}
    differs = config_differences(run_a, run_b)
    return replace(result, runs={"a": str(run_a), "b": str(run_b)}, split=split,
                   details={**result.details, "scores": scores, "differs": differs})


# Keys that name a run rather than change it.
_NOT_A_DIFFERENCE = ("name", "output_dir")


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def config_differences(run_a: Path | str, run_b: Path | str) -> dict[str, list[Any]]:
    """The resolved-config keys whose values differ between two runs (``config.yaml``).

    Lists are compared whole (``train.augment``); run names and output folders are ignored.

    Returns:
        ``{"section.key": [value in A, value in B]}`` (``None`` where a run lacks the key), in
        key order; empty when a run has no readable ``config.yaml``.
    """
    import yaml

    flat = []
    for run in (run_a, run_b):
        try:
            raw = yaml.safe_load((Path(run) / "config.yaml").read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            return {}
        flat.append(_flat(raw if isinstance(raw, dict) else {}))
    keys = sorted(set(flat[0]) | set(flat[1]))
    return {k: [flat[0].get(k), flat[1].get(k)] for k in keys
            if k not in _NOT_A_DIFFERENCE and flat[0].get(k) != flat[1].get(k)}


def _scores(run_dir: Path | str, preds: RunPredictions, split: str) -> dict[str, Any]:
    """One run's headline figures from its decisions (the one metric definition), with the
    decision rule and positive class its evaluation recorded."""
    from ftlab.evaluation import label_metrics

    path = Path(run_dir) / "evaluation" / f"{split}.json"
    recorded: dict[str, Any] = {}
    if path.is_file():
        try:
            recorded = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            recorded = {}
    positive = (recorded.get("classes") or {}).get("positive")
    pos = preds.label_names.index(positive) if positive in preds.label_names else None
    m = label_metrics(preds.label_indices(), preds.pred_indices(),
                      n_classes=len(preds.label_names), positive=pos)
    m["absent_classes"] = [preds.label_names[k] for k in m["absent_classes"]]
    m["decision_rule"] = (recorded.get("decision_rule") or {}).get("rule", "as in predictions")
    m["positive_label"] = positive
    return m


def read_metric(run_dir: Path | str, split: str = "test",
                metric: str = "accuracy") -> tuple[float, int]:
    """A run's metric and number of examples from ``evaluation/<split>.json``.

    Raises:
        DataError: the file is missing (naming the ``ftlab evaluate`` command), unreadable,
            or has no such metric.
    """
    run_dir = Path(run_dir)
    path = run_dir / "evaluation" / f"{split}.json"
    if not path.is_file():
        raise DataError(f"{path} not found: {run_dir} was not evaluated on split {split!r}; "
                        f"{_fix(run_dir, split)}")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        metrics = report["metrics"]
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{path} is damaged ({exc}); {_fix(run_dir, split)}") from exc
    value = metrics.get(metric) if isinstance(metrics, dict) else None
    if not isinstance(value, (int, float)):
        known = sorted(k for k, v in metrics.items() if isinstance(v, (int, float)))
        raise DataError(f"{path} has no numeric metric {metric!r}; choose one of {known}")
    return float(value), int(report.get("n") or 0)


def compare_run_groups(
    runs_a: Sequence[Path | str], runs_b: Sequence[Path | str], *, split: str = "test",
    metric: str = "accuracy", n_resamples: int = 10_000, confidence: float = 0.95,
    seed: int = 0,
) -> GroupComparison:
    """Compare two groups of runs (e.g. seeds of two configs) by one metric's distribution.

    Reads each run's ``evaluation/<split>.json`` and runs :func:`~ftlab.analysis.compare_groups`
    (Welch t-test and a bootstrap of the difference of means). Runs need not share their test
    examples (seeds may re-split the data); a note says when the test-set sizes differ.

    Args:
        runs_a: run directories of group A (at least 2).
        runs_b: run directories of group B (at least 2).
        split: the evaluated split.
        metric: a metric of ``evaluation/<split>.json`` (``accuracy``, ``macro_f1``, ...).
        n_resamples: bootstrap resamples.
        confidence: central mass of the intervals.
        seed: bootstrap seed.

    Returns:
        The comparison, with ``runs`` and ``split`` set.

    Raises:
        DataError: a missing evaluation (naming the ``ftlab evaluate`` command), or fewer than
            2 runs in a group.
        ConfigError: a run appears in both groups.
    """
    for group, runs in (("A", runs_a), ("B", runs_b)):
        if len(runs) < 2:
            raise DataError(f"group {group} has {len(runs)} run(s); comparing seeds needs at "
                            f"least 2 per group (ftlab compare --a RUN --a RUN --b RUN --b RUN; "
                            f"3-5 seeds each is a reasonable minimum)")
    shared = {str(Path(r).resolve()) for r in runs_a} & {str(Path(r).resolve()) for r in runs_b}
    if shared:
        raise ConfigError(f"runs {sorted(shared)} are in both groups; each run belongs to A or B")
    read_a = [read_metric(r, split, metric) for r in runs_a]
    read_b = [read_metric(r, split, metric) for r in runs_b]
    result = compare_groups([v for v, _ in read_a], [v for v, _ in read_b], metric=metric,
                            n_resamples=n_resamples, confidence=confidence, seed=seed)
    sizes = sorted({n for _, n in read_a + read_b})
    notes = list(result.notes)
    if len(sizes) > 1:
        notes.append(f"the runs were evaluated on {split} sets of different sizes {sizes}: part "
                     f"of the difference may come from different test examples, not the models")
    return replace(result, notes=notes, split=split,
                   runs={"a": [str(r) for r in runs_a], "b": [str(r) for r in runs_b]})
