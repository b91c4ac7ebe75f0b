"""``ftlab scratch``: the from-scratch teaching implementations."""

from __future__ import annotations

from typing import Annotated

import typer

from ftlab.cli._app import console, err_console


def scratch(
    example: Annotated[bool, typer.Option("--example", help="Run the small worked example "
                                          "(t=4, f=3, d=5, m=3) and print every matrix.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the example's features and weights.")] = 0,
    lr: Annotated[float, typer.Option(help="Learning rate of the SGD step.")] = 0.1,
) -> None:
    """Backprop by hand (NumPy): forward, every gradient, one SGD step, losses before/after."""
    if not example:
        err_console.print("nothing to do: pass --example to run the worked example "
                          "(ftlab scratch --example [--seed 0] [--lr 0.1]).", markup=False)
        raise typer.Exit(2)
    from ftlab.scratch import format_worked_example, worked_example

    try:
        result = worked_example(seed=seed, lr=lr)
    except ValueError as exc:
        err_console.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from exc
    console.print(format_worked_example(result), markup=False, highlight=False)
