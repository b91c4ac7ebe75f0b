"""``ftlab transform``, ``check``: transformed inputs and behavioral suites."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ftlab.cli._app import SetOpt, console, err_console


def transform(
    config: Annotated[Path, typer.Option("--config", "-c", help="Run config YAML (its data).")],
    transform_spec: Annotated[str, typer.Option(
        "--transform", "-t", help="Transformation(s): NAME[:RATE][,NAME...], e.g. typos:0.1,synonyms")],
    show: Annotated[int, typer.Option(help="How many changed examples to show.")] = 10,
    split: Annotated[str, typer.Option(help="Split to draw examples from.")] = "test",
    sides: Annotated[str, typer.Option(help="text, pair or both (text pairs); text, choices or both (multiple choice).")] = "text",
    seed: Annotated[Optional[int], typer.Option(help="Transformation seed (default: config's).")] = None,
    set_: SetOpt = None,
) -> None:
    """Original and transformed examples side by side, the changes highlighted."""
    from rich.table import Table
    from rich.text import Text

    from ftlab.runs import output_spans, preview_transform

    rows = preview_transform(config, transform_spec, overrides=set_ or [], split=split, n=show,
                             seed=seed, sides=sides)
    if not rows:
        console.print(f"{transform_spec!r} changed none of the {split} examples")
        return
    table = Table(title=f"{transform_spec} on {split}", show_lines=True)
    for col in ("id", "label", "original", "transformed"):
        table.add_column(col)
    for row in rows:
        orig, tr, ch = row["original"], row["transformed"], row["changes"]
        shown: list[tuple[str, Any, Any, Any, bool]] = [
            ("", orig.text, tr.text, ch.text, True),
            (" (pair)", orig.text_pair, tr.text_pair, ch.text_pair, False)]
        shown += [(f" (choice {k})", a, b, c, False) for k, (a, b, c) in
                  enumerate(zip(orig.choices or (), tr.choices or (), ch.choices))]
        for tag, before, after, changes, always in shown:
            if before is None or (not always and not changes):
                continue
            old, new = Text(before), Text(after)
            for c in changes:
                old.stylize("bold red", c.start, max(c.end, c.start + 1))
            for start, end in output_spans(changes):
                new.stylize("bold green", start, max(end, start + 1))
            table.add_row(row["id"] + tag, str(row["label"]), old, new)
    console.print(table)
    stats = rows[0]["stats"]
    console.print(f"{stats['changed']} of {stats['scanned']} scanned examples changed")


def check(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    suite: Annotated[Optional[list[str]], typer.Option(
        "--suite", help="builtin:NAME (e.g. builtin:sentiment) or a suite YAML (repeatable); "
                        "default: the run config's robustness.suites.")] = None,
    fail_over: Annotated[Optional[float], typer.Option(
        help="Exit 1 when a test's failure rate exceeds this (default: robustness.fail_over).")] = None,
    compare: Annotated[Optional[Path], typer.Option(
        help="Also check this run and list the tests that regressed from it to RUN_DIR.")] = None,
    label_map: Annotated[Optional[str], typer.Option(
        help="RUN_LABEL=SUITE_LABEL,... e.g. 0=negative,1=positive.")] = None,
    examples: Annotated[int, typer.Option(help="Failing examples shown per failing test.")] = 3,
    seed: Annotated[int, typer.Option(help="Expansion seed (keep it fixed to compare runs).")] = 0,
) -> None:
    """Behavioral tests (MFT/INV/DIR): failure rate per test; writes checks/<suite>.json."""
    from ftlab.runs import check_run, compare_checks

    result = check_run(run_dir, suite or None, fail_over=fail_over, label_map=label_map, seed=seed,
                       max_examples=max(examples, 5))
    for res in result["suites"].values():
        _print_check(res, result["fail_over"], examples, Path(run_dir))
    if compare is not None:
        sources = [res["source"] for res in result["suites"].values()]
        check_run(compare, sources, label_map=label_map, seed=seed)
        for name in result["suites"]:
            regressions = compare_checks(compare, run_dir, name)
            console.print(f"{name}: {len(regressions) or 'no'} test(s) regressed from {compare} to "
                          f"{run_dir}", markup=False)
            for r in regressions:
                console.print(f"  {r['test']} ({r['kind']}): {r['before']:.1%} -> {r['after']:.1%} "
                              f"({len(r['newly_failing'])} newly failing)", markup=False)
                for case in r["newly_failing"][:examples]:
                    console.print(f"    newly failing: {_case_text(case)!r}", markup=False,
                                  highlight=False)
    if result["over"]:
        listed = ", ".join(f"{o['suite']}/{o['test']} ({o['failure_rate']:.1%})"
                           for o in result["over"])
        err_console.print(f"{len(result['over'])} test(s) fail more often than --fail-over "
                          f"{result['fail_over']:g}: {listed}", style="red", markup=False,
                          highlight=False)
        raise typer.Exit(1)


def _case_text(case: dict) -> str:
    return case["text"] if case["perturbed"] is None else f"{case['text']} -> {case['perturbed']}"


def _print_check(res: dict, gate: float | None, examples: int, run_dir: Path) -> None:
    """One suite's table, its worst failing examples and a summary line."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(f"{res['suite']} ({res['source']}) on {run_dir}"))
    for col in ("test", "kind", "capability", "cases", "failed", "failure rate"):
        table.add_column(col, justify="right" if col in ("cases", "failed", "failure rate") else "left")
    for t in res["tests"]:
        rate = f"{t['failure_rate']:.1%}" if t["n"] else "-"
        over = gate is not None and t["n"] and t["failure_rate"] > gate
        table.add_row(escape(t["name"]), t["kind"], escape(t["capability"]), str(t["n"]),
                      str(t["failed"]), f"[red]{rate}[/red]" if over else rate)
    console.print(table)
    for t in res["tests"]:
        for ex in t["examples"][:examples]:
            shift = "" if ex["shift"] is None else f", shift {ex['shift']:+.3f}"
            console.print(f"  {t['name']}: {_case_text(ex)!r}  expected {ex['expected']}, got "
                          f"{ex['pred']} (p={max(ex['probs'].values()):.2f}{shift})",
                          markup=False, highlight=False)
    s = res["summary"]
    console.print(f"{s['cases']} cases, {s['failed_cases']} failed; worst: {s['worst_test']} "
                  f"({s['max_failure_rate']:.1%}); saved {run_dir / 'checks' / (res['suite'] + '.json')}",
                  markup=False, highlight=False)
