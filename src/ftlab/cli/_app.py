"""The Typer app, the consoles and the entry point: user errors print one clear message and
exit 2, never a traceback."""

from __future__ import annotations

import os
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
    # click's plain help: flags without a `<bool>` type column, and no rich import (fast --help)
    rich_markup_mode=None,
    context_settings={"max_content_width": 120},
)
data_app = typer.Typer(help="Inspect data sources.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(data_app, name="data")

# Piped output (CI logs, `| less`) gets a wide console instead of rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

SetOpt = Annotated[
    Optional[list[str]],
    typer.Option("--set", "-s", help="Override a config value: key.sub=value (repeatable)."),
]


def main() -> None:
    """Console-script entry point: user errors print one clear message and exit 2.

    Under torchrun with several processes every rank leaves through :func:`os._exit` once the
    command is done (files written, trackers closed, process group left): a rank sometimes
    aborted in interpreter finalisation after a clean run ("terminate called without an active
    exception", no Python frame; ~1 in 50 launches under CPU load, torch 2.13 + gloo), and
    torchrun then reports the whole job as failed.
    """
    from ftlab.core import torchrun_world_size

    if torchrun_world_size() <= 1:
        _main()
        return
    try:
        _main()
    except SystemExit as exc:
        _exit_now(exc.code)
    _exit_now(0)


def _main() -> None:
    try:
        app()
    except FtlabError as exc:
        err_console.print(f"error: {exc}", style="red", markup=False, highlight=False)
        sys.exit(2)
    except OSError as exc:  # a write path without its own message: still one line, not a trace
        from ftlab.core import describe_write_error

        where = exc.filename or "a file"
        err_console.print(f"error: I/O error on {where}: {describe_write_error(exc, Path(where))};"
                          f" free space or fix permissions and run the command again (a run "
                          f"continues with ftlab train --resume RUN_DIR)", style="red",
                          markup=False, highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted; the last checkpoint is intact (ftlab train --resume RUN_DIR)")
        sys.exit(130)


def _exit_now(code: int | str | None) -> None:
    """Flush what this process printed or logged, then exit without interpreter finalisation."""
    import logging

    if isinstance(code, str):  # sys.exit("message") prints the message and exits 1
        print(code, file=sys.stderr)
        code = 1
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code or 0)
