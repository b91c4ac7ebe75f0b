"""``ftlab data ...``: inspect data sources."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ftlab.cli._app import SetOpt, console


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
        from ftlab.core import dumps_json

        json_out.write_text(dumps_json(report.to_dict(), indent=2), encoding="utf-8")
    if report.errors:
        raise typer.Exit(1)
