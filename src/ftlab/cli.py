"""The ``ftlab`` command table. Thin by design: parse arguments, call the library, print."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from ftlab.errors import FtlabError

app = typer.Typer(
    name="ftlab",
    help="Fine-tune, tune and stress-test text classifiers the careful way.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Inspect data sources.", no_args_is_help=True)
app.add_typer(data_app, name="data")

# Piped output (CI logs, `| less`) gets a wide console instead of rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

SetOpt = Annotated[
    Optional[list[str]],
    typer.Option("--set", "-s", help="Override a config value: key.sub=value (repeatable)."),
]


@data_app.command("list")
def data_list() -> None:
    """List the built-in offline datasets."""
    from rich.table import Table

    from ftlab.data import list_builtin

    table = Table(title="built-in datasets (data.source: builtin:NAME)")
    for col in ("name", "task", "classes", "size", "package", "description"):
        table.add_column(col)
    for info in list_builtin():
        table.add_row(info.name, info.task, str(info.num_classes), str(info.size),
                      info.package or "-", info.description)
    console.print(table)


@data_app.command("inspect")
def data_inspect(
    target: Annotated[str, typer.Argument(help="A config YAML, or a data source "
                                               "(builtin:NAME, hf:NAME, file or folder).")],
    set_: SetOpt = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the report as JSON.")] = None,
) -> None:
    """Per split: rows, labels, lengths, truncation, duplicates, leakage, empty/bad texts."""
    from ftlab.runs import inspect_data

    report = inspect_data(target, overrides=set_ or [])
    from ftlab.data import format_report

    console.print(format_report(report))
    if json_out:
        import json

        json_out.write_text(json.dumps(report.to_dict(), indent=2), encoding="utf-8")
    if report.errors:
        raise typer.Exit(1)


@app.command()
def train(
    config: Annotated[Optional[Path], typer.Argument(help="Run config YAML.")] = None,
    set_: SetOpt = None,
    resume: Annotated[Optional[Path], typer.Option(help="Continue the run in this directory "
                                                        "from its last checkpoint.")] = None,
    name: Annotated[Optional[str], typer.Option(help="Run directory name.")] = None,
    stop_after: Annotated[Optional[int], typer.Option(
        help="Stop (resumably) after this many optimizer steps in this process.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Load data, build the model, take one "
                                          "step; write nothing.")] = False,
) -> None:
    """Train a classifier from a config; writes a complete run directory."""
    from ftlab.config import load_config
    from ftlab.runs import dry_run as _dry_run
    from ftlab.runs import resume_run, train_run

    if dry_run:
        if config is None:
            raise FtlabError("--dry-run needs a CONFIG file")
        _dry_run(load_config(config, set_ or []), console=console)
        return
    if resume is not None:
        if config is not None:
            raise FtlabError("pass either CONFIG or --resume RUN_DIR, not both "
                             "(a resumed run uses its own config.yaml)")
        summary = resume_run(resume, overrides=set_ or [], stop_after=stop_after, console=console)
    else:
        if config is None:
            raise FtlabError("ftlab train needs a CONFIG file (see configs/) or --resume RUN_DIR")
        cfg = load_config(config, set_ or [])
        summary = train_run(cfg, name=name, stop_after=stop_after, console=console)
    _print_summary(summary)


@app.command()
def quickstart(set_: SetOpt = None) -> None:
    """Train and evaluate the default model on the built-in offline dataset (about 1-2 min)."""
    from ftlab.config import load_config
    from ftlab.runs import QUICKSTART_CONFIG, train_run

    cfg = load_config(QUICKSTART_CONFIG, set_ or [])
    summary = train_run(cfg, console=console)
    _print_summary(summary)


@app.command()
def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    split: Annotated[str, typer.Option(help="Split of the run's data to evaluate.")] = "test",
    data: Annotated[Optional[Path], typer.Option(
        help="Evaluate on this labelled file instead (same columns as the run's data).")] = None,
) -> None:
    """Evaluate a trained run on a split or a file; writes predictions/<split>.jsonl."""
    from ftlab.runs import evaluate_run

    metrics = evaluate_run(run_dir, split=split, data=data, console=console)
    for k, v in metrics.items():
        console.print(f"{k:>12}: {v:.4f}" if isinstance(v, float) else f"{k:>12}: {v}")


@app.command()
def runs(
    root: Annotated[Path, typer.Option("--dir", help="Runs directory.")] = Path("runs"),
    sort: Annotated[str, typer.Option(help="Column to sort by.")] = "started",
    desc: Annotated[bool, typer.Option("--desc", help="Sort descending.")] = False,
    filter_: Annotated[Optional[list[str]], typer.Option(
        "--filter", "-f", help="column=value, column>x, column<x (repeatable).")] = None,
) -> None:
    """List runs: name, model, key hyperparameters, best validation and test metric, duration."""
    from rich.table import Table

    from ftlab.runs import RUN_COLUMNS, collect_runs

    rows = collect_runs(root, sort=sort, descending=desc, filters=filter_ or [])
    if not rows:
        console.print(f"no runs under {root}")
        return
    table = Table(title=f"runs in {root}")
    cols = [c for c in RUN_COLUMNS if c not in ("started", "study", "optimizer", "dataset")]
    for col in cols:
        table.add_column(col)
    for row in rows:
        table.add_row(*[_fmt(row[c]) for c in cols])
    console.print(table)


@app.command("validate-config")
def validate_config(
    config: Annotated[Path, typer.Argument(help="Run config YAML.")],
    set_: SetOpt = None,
) -> None:
    """Validate a config (all problems at once) and print the resolved YAML."""
    from ftlab.config import dump_config, load_config

    console.print(dump_config(load_config(config, set_ or [])), markup=False, highlight=False)


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _print_summary(summary: dict) -> None:
    console.print(f"[bold]run directory:[/bold] {summary.get('path')}")
    console.print(f"status: {summary.get('status')}  ({summary.get('stop_reason', '')})")
    for split, metrics in (summary.get("test") or {}).items():
        shown = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, float))
        console.print(f"{split}: {shown}")


def main() -> None:
    """Console-script entry point: user errors print one clear message and exit 2."""
    try:
        app()
    except FtlabError as exc:
        err_console.print(f"error: {exc}", style="red", markup=False, highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted; the last checkpoint is intact (ftlab train --resume RUN_DIR)")
        sys.exit(130)


if __name__ == "__main__":
    main()
