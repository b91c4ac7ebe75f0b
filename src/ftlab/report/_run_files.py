"""Read the files of a run directory for the report, tolerating any of them being absent.

A missing or unreadable file never stops the report: it becomes a note saying which file is
missing and which command writes it, shown in the section that needed it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftlab.errors import DataError
from ftlab.evaluation import History, load_history

__all__ = ["RunFiles", "load_run", "PRODUCERS"]

# file -> the command that writes it (named in "missing" notes)
PRODUCERS = {
    "run.json": "ftlab train CONFIG",
    "config.yaml": "ftlab train CONFIG",
    "env.json": "ftlab train CONFIG",
    "data_report.json": "ftlab train CONFIG (or ftlab data inspect CONFIG --json FILE)",
    "metrics.jsonl": "ftlab train CONFIG",
    "evaluation": "ftlab evaluate RUN_DIR --split test",
    "doctor.json": "ftlab evaluate RUN_DIR",
    "robustness": "ftlab evaluate RUN_DIR --transform typos:0.05 --transform synonyms",
    "checks": "ftlab check RUN_DIR --suite builtin:sentiment",
}
# splits shown first, in this order; any other evaluated split follows alphabetically
_SPLIT_ORDER = ("test", "validation", "train")


@dataclass
class RunFiles:
    """What one run directory holds; ``None`` where a file is absent or unreadable.

    Attributes:
        path: the run directory.
        run: ``run.json``.
        config_text: ``config.yaml`` as text.
        env: ``env.json``.
        data_report: ``data_report.json``.
        history: ``metrics.jsonl`` parsed.
        evaluations: ``{split: evaluation/<split>.json}``, test first.
        doctor: ``doctor.json``.
        robustness: ``{split: robustness/<split>.json}`` (transformed test sets).
        checks: ``{suite: checks/<suite>.json}`` (behavioral test suites).
        problems: ``{file: note}`` for every file that is absent or could not be read.
    """

    path: Path
    run: dict[str, Any] | None = None
    config_text: str | None = None
    env: dict[str, Any] | None = None
    data_report: dict[str, Any] | None = None
    history: History | None = None
    evaluations: dict[str, dict[str, Any]] = field(default_factory=dict)
    doctor: dict[str, Any] | None = None
    robustness: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The run's name from ``run.json``, else the directory name."""
        name = (self.run or {}).get("name")
        return str(name) if name else self.path.name

    def note(self, key: str) -> str | None:
        """The missing/unreadable note for ``key`` (a file name), or ``None`` when it was read."""
        return self.problems.get(key)


def _missing(run_dir: Path, key: str) -> str:
    return (f"{key} not found in {run_dir}: it is written by `{PRODUCERS[key]}`; run that to "
            f"fill this section.")


def _unreadable(path: Path, key: str, why: str) -> str:
    return (f"{path} could not be read ({why}); re-create it with `{PRODUCERS[key]}` or fix "
            f"the file.")


def _read_text(path: Path, key: str, problems: dict[str, str]) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems[key] = _missing(path.parent, key)
    except (OSError, UnicodeDecodeError) as exc:
        problems[key] = _unreadable(path, key, str(exc))
    return None


def _read_json(path: Path, key: str, problems: dict[str, str]) -> dict[str, Any] | None:
    text = _read_text(path, key, problems)
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        problems[key] = _unreadable(path, key, f"line {exc.lineno}: {exc.msg}")
        return None
    if not isinstance(value, dict):
        problems[key] = _unreadable(path, key, f"expected a JSON object, got "
                                               f"{type(value).__name__}")
        return None
    return value


def _read_evaluations(run_dir: Path, problems: dict[str, str]) -> dict[str, dict[str, Any]]:
    folder = run_dir / "evaluation"
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    found: dict[str, dict[str, Any]] = {}
    for path in files:
        report = _read_json(path, "evaluation", problems)
        if report is not None:
            found[path.stem] = report
    if not files:
        preds = sorted(p.stem for p in (run_dir / "predictions").glob("*.jsonl"))
        extra = (f" (predictions exist for {', '.join(preds)}, but no metrics were computed)"
                 if preds else "")
        problems["evaluation"] = (f"evaluation/<split>.json not found in {run_dir}{extra}: it is "
                                  f"written by `{PRODUCERS['evaluation']}`; run that to fill "
                                  f"this section.")
    rank = {s: i for i, s in enumerate(_SPLIT_ORDER)}
    return dict(sorted(found.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))


def _read_folder(run_dir: Path, folder: str, problems: dict[str, str]) -> dict[str, dict[str, Any]]:
    """``{stem: json}`` for ``<run_dir>/<folder>/*.json``; absence is normal (optional step)."""
    files = sorted((run_dir / folder).glob("*.json")) if (run_dir / folder).is_dir() else []
    found = {}
    for path in files:
        value = _read_json(path, folder, problems)
        if value is not None:
            found[path.stem] = value
    return found


def load_run(run_dir: Path) -> RunFiles:
    """Read every report input of a run directory.

    Args:
        run_dir: a directory written by ``ftlab train`` (``runs/<name>``).

    Returns:
        The files found; absent or unreadable ones are ``None`` with a note in ``problems``.

    Raises:
        DataError: ``run_dir`` does not exist or is not a directory.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        what = "is not a directory" if run_dir.exists() else "does not exist"
        raise DataError(f"run directory {run_dir} {what}; pass the directory `ftlab train` "
                        f"created (e.g. runs/<name>), see `ftlab runs` for the list")
    problems: dict[str, str] = {}
    files = RunFiles(path=run_dir, problems=problems)
    files.run = _read_json(run_dir / "run.json", "run.json", problems)
    files.config_text = _read_text(run_dir / "config.yaml", "config.yaml", problems)
    files.env = _read_json(run_dir / "env.json", "env.json", problems)
    files.data_report = _read_json(run_dir / "data_report.json", "data_report.json", problems)
    files.doctor = _read_json(run_dir / "doctor.json", "doctor.json", problems)
    metrics = run_dir / "metrics.jsonl"
    if metrics.is_file():
        try:
            files.history = load_history(metrics)
        except (DataError, TypeError, ValueError, AttributeError) as exc:
            # a record of the wrong shape (e.g. "values" not an object) costs the curves only
            problems["metrics.jsonl"] = _unreadable(metrics, "metrics.jsonl", str(exc))
    else:
        problems["metrics.jsonl"] = _missing(run_dir, "metrics.jsonl")
    files.evaluations = _read_evaluations(run_dir, problems)
    files.robustness = _read_folder(run_dir, "robustness", problems)
    files.checks = _read_folder(run_dir, "checks", problems)
    return files
