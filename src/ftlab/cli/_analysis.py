"""``ftlab compare``, ``ensemble``, ``seeds``, ``runs``: comparing runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ftlab.cli._app import SetOpt, console
from ftlab.cli._print import _fmt, echo
from ftlab.errors import FtlabError


def compare(
    run_pair: Annotated[Optional[list[Path]], typer.Argument(
        metavar="RUN_A RUN_B", show_default=False,
        help="Two runs evaluated on the same examples (is B better than A?).")] = None,
    group_a: Annotated[Optional[list[Path]], typer.Option(
        "--a", "-a", help="A run of group A, e.g. one seed (repeatable, at least 2): compares "
                          "groups of seeds instead of two runs.")] = None,
    group_b: Annotated[Optional[list[Path]], typer.Option(
        "--b", "-b", help="A run of group B (repeatable, at least 2).")] = None,
    split: Annotated[str, typer.Option(help="Evaluated split to compare.")] = "test",
    test: Annotated[str, typer.Option(
        help="Two runs: paired-bootstrap, mcnemar or permutation.")] = "paired-bootstrap",
    metric: Annotated[str, typer.Option(
        help="Groups: metric of evaluation/<split>.json compared across seeds.")] = "accuracy",
    resamples: Annotated[int, typer.Option(
        help="Bootstrap resamples (and permutations).")] = 10_000,
    confidence: Annotated[float, typer.Option(help="Interval mass; p < 1 - confidence is "
                                                   "significant.")] = 0.95,
    seed: Annotated[int, typer.Option(help="Resampling seed.")] = 0,
    json_out: Annotated[Optional[Path], typer.Option(
        "--json", help="Also write the result as JSON to this file.")] = None,
) -> None:
    """Is B better than A? A paired test on the same examples, or groups of seeds (Welch)."""
    from ftlab.analysis import compare_run_groups, compare_runs
    from ftlab.evaluation import HEADLINE_METRICS

    if group_a or group_b:
        if run_pair:
            raise FtlabError("pass either RUN_A RUN_B or groups (--a RUN ... --b RUN ...), "
                             "not both")
        out = compare_run_groups(group_a or [], group_b or [], split=split, metric=metric,
                                 n_resamples=resamples, confidence=confidence,
                                 seed=seed).to_dict()
        _print_groups(out)
    else:
        pair = run_pair or []
        if len(pair) != 2:
            raise FtlabError(f"ftlab compare needs two runs (RUN_A RUN_B), or groups of seeds "
                             f"(--a RUN1 --a RUN2 --b RUN3 --b RUN4); got {len(pair)} run(s)")
        out = compare_runs(pair[0], pair[1], split=split, test=test,  # type: ignore[arg-type]
                           n_resamples=resamples, confidence=confidence, seed=seed).to_dict()
        for side, path in zip("AB", pair):
            own = out["details"].get("scores", {}).get(side.lower(), {})
            scores = ", ".join(f"{k} {own[k]:.4f}" for k in HEADLINE_METRICS
                               if isinstance(own.get(k), float))
            console.print(f"{side}: {path}  ({split}, n={out['n']}, decision rule: "
                          f"{own.get('decision_rule', '-')}: {scores})", markup=False,
                          highlight=False, soft_wrap=True)
        for line in out["verdicts"].values():
            console.print(line, markup=False, highlight=False)
        console.print(_differs_line(out["details"].get("differs") or {}), markup=False,
                      highlight=False, soft_wrap=True)
    if json_out is not None:
        from ftlab.core import dumps_json

        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(dumps_json(out, indent=2), encoding="utf-8")
        console.print(f"saved {json_out}", markup=False, highlight=False)


def _differs_line(differs: dict, shown: int = 6) -> str:
    """``differs: train.augment=[] -> [{...}]`` (A -> B): what changed between the runs."""
    if not differs:
        return "differs: nothing in config.yaml besides the run name (or no config.yaml)"

    def fmt(v: object) -> str:
        import json

        return "(unset)" if v is None else json.dumps(v, ensure_ascii=False,
                                                     separators=(", ", ": "))

    if "model.family" in differs:  # the families' own options differ with them: one line
        differs = {"model.family": differs["model.family"],
                   **{k: v for k, v in differs.items() if not k.startswith("model.")}}
    items = [f"{k}={fmt(a)} -> {fmt(b)}" + (" (and each family's own options)"
                                             if k == "model.family" else "")
             for k, (a, b) in differs.items()]
    more = f"; and {len(items) - shown} more keys (--json lists all)" if len(items) > shown else ""
    return "differs (A -> B): " + "; ".join(items[:shown]) + more


def _print_groups(out: dict) -> None:
    """Each group's seed statistics, the verdict, the bootstrap check and any notes."""
    for side in ("a", "b"):
        s = out[side]
        std = "-" if s["std"] is None else f"{100 * s['std']:.2f}"
        console.print(f"{side.upper()}: {s['n']} runs, {out['metric']} mean {s['mean']:.4f}, seed "
                      f"std {std} points, min {s['min']:.4f}, max {s['max']:.4f}  "
                      f"({', '.join(out['runs'][side])})", markup=False, highlight=False)
    console.print(out["verdict"], markup=False, highlight=False)
    boot = out["bootstrap"]
    console.print(f"bootstrap of the difference of means: [{100 * boot['low']:.1f}, "
                  f"{100 * boot['high']:.1f}] points, p = {boot['p_value']:.3f} "
                  f"({boot['n_resamples']:,} resamples)", markup=False, highlight=False)
    for note in out["notes"]:
        console.print(f"note: {note}", style="yellow", markup=False, highlight=False)


def ensemble(
    run_dirs: Annotated[list[Path], typer.Argument(
        help="Run directories to ensemble (or one run with --checkpoints).")],
    checkpoints: Annotated[bool, typer.Option(
        "--checkpoints", help="Ensemble the kept checkpoints (best-k + last) of one run.")] = False,
    split: Annotated[str, typer.Option(help="Evaluated split.")] = "test",
    name: Annotated[Optional[str], typer.Option(help="The ensemble's run directory name.")] = None,
    out_dir: Annotated[Optional[Path], typer.Option(
        "--dir", help="Where to create it (default: the first run's parent).")] = None,
) -> None:
    """Average the probabilities of several runs (or checkpoints); evaluated and saved as a run."""
    from rich.table import Table

    from ftlab.runs import ensemble_checkpoints, ensemble_runs

    if checkpoints:
        if len(run_dirs) != 1:
            raise FtlabError(f"--checkpoints ensembles the checkpoints of one run; got "
                             f"{len(run_dirs)} runs (drop --checkpoints to ensemble runs)")
        result = ensemble_checkpoints(run_dirs[0], split=split, name=name, output_dir=out_dir)
    else:
        result = ensemble_runs(run_dirs, split=split, name=name, output_dir=out_dir)
    table = Table(title=f"ensemble of {len(result.members)} {result.kind} on {split}")
    for col in ("member", "accuracy", "macro_f1"):
        table.add_column(col, justify="left" if col == "member" else "right")
    for m in result.members:
        table.add_row(m.name, f"{m.accuracy:.4f}", f"{m.macro_f1:.4f}")
    table.add_row("[bold]ensemble[/bold]", f"[bold]{result.accuracy:.4f}[/bold]",
                  f"[bold]{result.macro_f1:.4f}[/bold]")
    console.print(table)
    console.print("decision rule: argmax of each member's probabilities (after its temperature) "
                  "and of their mean for the ensemble; a member's tuned threshold is not used",
                  markup=False, highlight=False)
    best = result.best_member
    reference = run_dirs[0] if checkpoints else best.path
    console.print(f"ensemble vs best member ({best.name}): "
                  f"{100 * (result.accuracy - best.accuracy):+.1f} points accuracy; test it with "
                  f"`ftlab compare {reference} {result.run_dir} --split {split}`",
                  markup=False, highlight=False)
    console.print(f"run directory: {result.run_dir}\nreport: {result.report_html}", markup=False,
                  highlight=False)


def seeds(
    config: Annotated[Path, typer.Argument(help="Run config YAML.")],
    n: Annotated[int, typer.Option("--n", "-n", min=1, help="Number of runs (seeds 1..N).")],
    vary: Annotated[str, typer.Option(
        help="What the seed changes: all (init and data order), init, or order; the data "
             "split stays the config's.")] = "all",
    name: Annotated[Optional[str], typer.Option(
        help="Study directory name under output_dir (default: the config's name, else "
             "seeds-<model>-<time>).")] = None,
    set_: SetOpt = None,
) -> None:
    """Seed study: the same config under N seeds; mean, std, range and the EVP curve."""
    from ftlab.runs import SeedStudyResult, load_config, seed_study

    cfg = load_config(config, set_ or [])
    result = seed_study(cfg, n, vary, name, console=console)  # type: ignore[arg-type]
    echo(SeedStudyResult.from_dict(result, source="the seed study"))


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
