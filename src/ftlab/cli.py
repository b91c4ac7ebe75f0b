"""The ``ftlab`` command table. Thin by design: parse arguments, call the library, print."""

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
        from ftlab._atomic import dumps_json

        json_out.write_text(dumps_json(report.to_dict(), indent=2), encoding="utf-8")
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
    """Train a classifier from a config; writes a complete run directory.

    Under ``torchrun --nproc_per_node N -m ftlab train CONFIG`` it trains with
    DistributedDataParallel (gloo on CPU, nccl on GPU); only rank 0 writes the run directory.
    """
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
        if cfg.eval.cv_folds and cfg.eval.cv_fold is None:  # K-fold cross-validation
            if stop_after:
                raise FtlabError("--stop-after stops one run; with eval.cv_folds resume each "
                                 "fold's run directory instead (ftlab train --resume)")
            from ftlab.training._distributed import torchrun_world_size

            if torchrun_world_size() > 1:
                raise FtlabError("eval.cv_folds is not supported under torchrun yet; train "
                                 "each fold on its own (--set eval.cv_fold=K) or drop torchrun")
            from ftlab.runs import cross_validate, format_cv

            result = cross_validate(cfg, name=name, console=console)
            console.print(format_cv(result), markup=False, highlight=False)
            return
        summary = train_run(cfg, name=name, stop_after=stop_after, console=console)
    if summary:  # under torchrun only rank 0 returns a summary
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
    baseline: Annotated[bool, typer.Option(help="Also fit the TF-IDF + LR baseline "
                                                "for comparison (cached).")] = True,
    report: Annotated[bool, typer.Option(help="Rewrite report.html.")] = True,
    transform_specs: Annotated[Optional[list[str]], typer.Option(
        "--transform", "-t", help="Also evaluate on a transformed copy of the split: "
        "NAME[:RATE][,NAME...] (repeatable; default: the config's robustness.transforms).")] = None,
    sides: Annotated[Optional[str], typer.Option(
        help="Text pairs: transform text, pair or both (default: robustness.sides).")] = None,
    robustness: Annotated[bool, typer.Option(
        help="Run the robustness evaluation (--transform or robustness.transforms).")] = True,
) -> None:
    """Metrics, calibration, error analysis and slices; writes evaluation/<split>.json.

    Under ``torchrun --nproc_per_node N -m ftlab evaluate RUN`` the ranks share the
    prediction work; rank 0 gathers the predictions in input order and does the rest.

    With --transform (or robustness.transforms in the run's config) also the transformed
    test sets: accuracy drop, flip rate, confidence shift and example flips, written to
    robustness/<split>.json and predictions/<split>@<transformation>.jsonl.
    """
    from ftlab.runs import diagnose_and_report, evaluate_run, evaluate_transforms, format_robustness

    if sides not in (None, "text", "pair", "both"):
        raise FtlabError(f"--sides must be text, pair or both, got {sides!r}")
    if transform_specs and data is not None:
        raise FtlabError("--transform applies to the run's splits; it cannot be combined with "
                         "--data (evaluate the file with --data, or a split with --transform)")
    # under torchrun the ranks share the prediction work; rank 0 goes on alone
    result = evaluate_run(run_dir, split=split, data=data, baseline=baseline, console=console,
                          distributed=True)
    if not result:  # another rank than 0
        return
    _print_evaluation(result)
    if robustness and data is None:
        from ftlab.config import load_config

        if transform_specs or load_config(run_dir / "config.yaml").robustness.transforms:
            rob = evaluate_transforms(run_dir, transform_specs, split=split, sides=sides)
            console.print(format_robustness(rob), markup=False, highlight=False)
    if report:
        diagnose_and_report(run_dir, console=console)


@app.command()
def calibrate(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    threshold: Annotated[Optional[str], typer.Option(
        help="Also tune the binary decision threshold for this metric: f1, accuracy, "
             "balanced_accuracy.")] = None,
) -> None:
    """Fit temperature scaling (and a threshold) on validation; used by evaluate and predict."""
    from ftlab.runs import calibrate_run

    if threshold not in (None, "f1", "accuracy", "balanced_accuracy"):
        raise FtlabError(f"--threshold must be f1, accuracy or balanced_accuracy, got {threshold!r}")
    rec = calibrate_run(run_dir, threshold_metric=threshold)  # type: ignore[arg-type]
    console.print(f"temperature {rec['temperature']:.3f}: validation ECE {rec['ece_before']:.4f} -> "
                  f"{rec['ece_after']:.4f}, NLL {rec['nll_before']:.4f} -> {rec['nll_after']:.4f}")
    if rec.get("threshold") is not None:
        console.print(f"threshold {rec['threshold']:.3f} ({rec['threshold_metric']} "
                      f"{rec['threshold_score']:.4f} on validation)")
    console.print(f"saved {Path(run_dir) / 'calibration.json'}; re-run ftlab evaluate to see the effect")


@app.command()
def predict(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    input: Annotated[Path, typer.Option("--input", "-i", help="CSV/TSV/JSONL/Parquet file.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="JSONL predictions file.")],
    quantize: Annotated[str, typer.Option(help="none or int8 (dynamic quantization, CPU).")] = "none",
    text_column: Annotated[Optional[str], typer.Option(help="Text column (default: the run's).")] = None,
) -> None:
    """Batched, length-sorted inference over a file; output in input order with probabilities.

    Under ``torchrun`` the ranks share the batches and rank 0 writes the gathered output.
    """
    from ftlab.runs import predict_file

    if quantize not in ("none", "int8"):
        raise FtlabError(f"--quantize must be none or int8, got {quantize!r}")
    info = predict_file(run_dir, input=input, output=output, quantize=quantize,  # type: ignore[arg-type]
                        text_column=text_column, distributed=True)
    if not info:  # under torchrun, another rank than 0 (rank 0 wrote the file)
        return
    console.print(f"{info['rows']} predictions -> {info['output']} "
                  f"({info['examples_per_s']:.0f} examples/s, quantize={quantize})")


@app.command()
def baseline(
    config: Annotated[Path, typer.Argument(help="Run config YAML (its data section is used).")],
    set_: SetOpt = None,
    name: Annotated[Optional[str], typer.Option(help="Run directory name.")] = None,
) -> None:
    """TF-IDF (word + char n-grams) + logistic regression on the config's splits, as a run."""
    from ftlab.config import load_config
    from ftlab.runs import diagnose_and_report, train_baseline

    summary = train_baseline(load_config(config, set_ or []), name=name, console=console)
    _print_summary(summary)
    diagnose_and_report(Path(summary["path"]), console=console)


@app.command()
def report(
    run_dirs: Annotated[list[Path], typer.Argument(help="One run directory, or several to compare.")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="HTML file to write.")] = None,
) -> None:
    """One self-contained HTML report (several runs: a comparison)."""
    from ftlab.evaluation import write_report

    console.print(f"report: {write_report(run_dirs, output)}")


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="A transformer run directory.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="New (or empty) output directory.")],
    merge: Annotated[bool, typer.Option(
        "--merge/--no-merge", help="Merge LoRA adapters into the weights (default), or keep "
                                   "a PEFT adapter directory.")] = True,
) -> None:
    """Export a transformer run as a plain transformers model directory (LoRA merged)."""
    from ftlab.models import export_merged

    path = export_merged(run_dir, out, merge=merge)
    console.print(f"exported {run_dir} -> {path} (load with "
                  f"AutoModelForSequenceClassification.from_pretrained('{path}'))")


@app.command()
def transform(
    config: Annotated[Path, typer.Option("--config", "-c", help="Run config YAML (its data).")],
    transform_spec: Annotated[str, typer.Option(
        "--transform", "-t", help="Transformation(s): NAME[:RATE][,NAME...], e.g. typos:0.1,synonyms")],
    show: Annotated[int, typer.Option(help="How many changed examples to show.")] = 10,
    split: Annotated[str, typer.Option(help="Split to draw examples from.")] = "test",
    sides: Annotated[str, typer.Option(help="text, pair or both (text pairs).")] = "text",
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
        for field in ("text", "text_pair"):
            changes = getattr(row["changes"], field)
            before = getattr(row["original"], field)
            if before is None or (field == "text_pair" and not changes):
                continue
            old, new = Text(before), Text(getattr(row["transformed"], field))
            for c in changes:
                old.stylize("bold red", c.start, max(c.end, c.start + 1))
            for start, end in output_spans(changes):
                new.stylize("bold green", start, max(end, start + 1))
            table.add_row(row["id"] + ("" if field == "text" else " (pair)"), str(row["label"]),
                          old, new)
    console.print(table)
    stats = rows[0]["stats"]
    console.print(f"{stats['changed']} of {stats['scanned']} scanned examples changed")


@app.command()
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


@app.command()
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
            scores = ", ".join(f"{k} {m[side.lower()]:.4f}" for k, m in out["metrics"].items())
            console.print(f"{side}: {path}  ({split}, n={out['n']}: {scores})", markup=False,
                          highlight=False)
        for line in out["verdicts"].values():
            console.print(line, markup=False, highlight=False)
    if json_out is not None:
        from ftlab._atomic import dumps_json

        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(dumps_json(out, indent=2), encoding="utf-8")
        console.print(f"saved {json_out}", markup=False, highlight=False)


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


@app.command()
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

    from ftlab.analysis import ensemble_checkpoints, ensemble_runs

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
    best = result.best_member
    reference = run_dirs[0] if checkpoints else best.path
    console.print(f"ensemble vs best member ({best.name}): "
                  f"{100 * (result.accuracy - best.accuracy):+.1f} points accuracy; test it with "
                  f"`ftlab compare {reference} {result.run_dir} --split {split}`",
                  markup=False, highlight=False)
    console.print(f"run directory: {result.run_dir}\nreport: {result.report_html}", markup=False,
                  highlight=False)


@app.command()
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
    from rich.table import Table

    from ftlab.config import load_config
    from ftlab.runs import seed_study

    cfg = load_config(config, set_ or [])
    result = seed_study(cfg, n, vary, name, console=console)  # type: ignore[arg-type]
    monitor = result["monitor"]
    table = Table(title=f"seed study {result['name']} (vary {result['vary']}, split seed "
                        f"{result['seeds']['split']})")
    for col in ("run", "init seed", "order seed", f"best val {monitor}", "test"):
        table.add_column(col, justify="left" if col == "run" else "right")
    for r in result["runs"]:
        table.add_row(str(r["name"]), str(r["init_seed"]), str(r["order_seed"]),
                      _fmt(r["best_metric"]), _fmt(r["test_metric"]))
    console.print(table)
    for label, s in (("validation " + monitor, result["validation"]), ("test", result["test"])):
        if s:
            std = "-" if s["std"] is None else f"{s['std']:.4f}"
            console.print(f"{label}: mean {s['mean']:.4f} ± {std} (min {s['min']:.4f}, max "
                          f"{s['max']:.4f}, n={s['n']})", markup=False, highlight=False)
    if result["validation"]:
        evp = result["validation"]["evp"]
        console.print("expected best validation score of n runs: " + ", ".join(
            f"n={k}: {m:.4f}" for k, m in zip(evp["n"], evp["mean"])), markup=False,
            highlight=False)
    console.print(f"summary: {result['study_dir']}/seeds.json\nreport: {result['report']}\n"
                  f"runs: ftlab runs --dir {result['study_dir']}", markup=False, highlight=False)


@app.command()
def tune(
    config: Annotated[Path, typer.Argument(help="Base run config YAML.")],
    space: Annotated[Path, typer.Option("--space", help="Search space YAML "
                                        "(see configs/spaces/).")],
    sampler: Annotated[str, typer.Option(help="tpe, random, grid or gp.")] = "tpe",
    pruner: Annotated[str, typer.Option(help="median, asha, hyperband or none.")] = "median",
    trials: Annotated[Optional[int], typer.Option(
        help="Total trials (per scientific value), earlier ones of a resumed study included "
             "(default: the grid size for grid, else 20).")] = None,
    timeout: Annotated[Optional[float], typer.Option(help="Start no trial after S seconds.")] = None,
    storage: Annotated[Optional[str], typer.Option(
        help="Optuna RDB URL (default: sqlite:///<output_dir>/<name>/study.db).")] = None,
    workers: Annotated[int, typer.Option(help="Local worker processes on one study.")] = 1,
    name: Annotated[Optional[str], typer.Option(help="Study name (default: the config name).")] = None,
    refine: Annotated[bool, typer.Option("--refine", help="Write space.refined.yaml narrowed "
                                         "around the best values.")] = False,
    set_: SetOpt = None,
    worker_index: Annotated[Optional[int], typer.Option(hidden=True)] = None,
    threads: Annotated[Optional[int], typer.Option(hidden=True)] = None,
    backend: Annotated[str, typer.Option(help="optuna, or ray (population-based training / "
                                         "ASHA on Ray Tune; needs the ray extra).")] = "optuna",
    scheduler: Annotated[str, typer.Option(help="With --backend ray: pbt or asha.")] = "pbt",
    cpus: Annotated[Optional[int], typer.Option(help="With --backend ray: CPUs for Ray (one "
                                                "per trial; default: all).")] = None,
    address: Annotated[Optional[str], typer.Option(
        help="With --backend ray: an existing Ray cluster (auto, ray://host:10001, host:6379); "
             "default: start a local one.")] = None,
    storage_path: Annotated[Optional[str], typer.Option(
        help="With --backend ray: Ray Tune's storage_path for experiment state and checkpoints "
             "(default: the study directory; on a cluster: shared storage, e.g. NFS or s3://).")] = None,
) -> None:
    """Search hyperparameters with Optuna (or Ray Tune: --backend ray); every trial is an
    ordinary run."""
    from ftlab.config import load_config
    from ftlab.tuning import format_study, load_space, optimize_study, run_study

    cfg = load_config(config, set_ or [])
    spc = load_space(space, config=cfg)
    if worker_index is not None:  # one of the processes started by --workers K
        optimize_study(cfg, spc, name=name or cfg.name or "study", storage=storage or "",
                       sampler=sampler, pruner=pruner, trials=trials or 20, timeout=timeout,
                       worker_index=worker_index, threads=threads, console=console)
        return
    for w in spc.warnings:
        console.print(f"warning: {w}", style="yellow", markup=False, highlight=False)
    if backend not in ("optuna", "ray"):
        from ftlab.errors import ConfigError

        raise ConfigError(f"--backend must be optuna or ray, got {backend!r}")
    if backend == "ray":
        from ftlab._imports import optional_import

        optional_import("ray.tune", "ftlab tune --backend ray")
        from ftlab.tuning._ray import run_ray_study

        result = run_ray_study(cfg, spc, scheduler=scheduler, trials=trials or 4, name=name,  # type: ignore[arg-type]
                               cpus=cpus, config_path=config, console=console,
                               address=address, storage_path=storage_path)
        console.print(format_study(result), markup=False, highlight=False)
        return
    result = run_study(cfg, spc, name=name, sampler=sampler, pruner=pruner, trials=trials,
                       timeout=timeout, storage=storage, workers=workers, refine=refine,
                       config_path=config, console=console)
    console.print(format_study(result), markup=False, highlight=False)


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


@app.command()
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


@app.command("find-batch-size")
def find_batch_size_cmd(
    config: Annotated[Path, typer.Argument(help="Run config YAML.")],
    set_: SetOpt = None,
    tokens: Annotated[bool, typer.Option("--tokens", help="Find the largest batching.max_tokens "
                                         "(token budget) instead of batching.batch_size.")] = False,
    max_memory: Annotated[Optional[str], typer.Option(
        help="Memory budget for one step, e.g. 8GB (CPU default: 50% of available memory; "
             "CUDA default: the out-of-memory error).")] = None,
    margin: Annotated[float, typer.Option(help="Safety margin off the size found.")] = 0.1,
    precision: Annotated[float, typer.Option(
        help="Stop bisecting within this share of the limit (0 = exact; each probe of a large "
             "batch costs seconds on CPU).")] = 0.01,
    target_batch: Annotated[Optional[int], typer.Option(
        help="Effective batch to reach with gradient accumulation (tokens with --tokens).")] = None,
    device: Annotated[Optional[str], typer.Option(help="cpu or cuda (default: train.device).")] = None,
    write: Annotated[bool, typer.Option("--write", help="Write the result into CONFIG.batch.yaml.")] = False,
    in_place: Annotated[bool, typer.Option("--in-place", help="With --write: edit CONFIG itself.")] = False,
) -> None:
    """Largest batch size (or token budget) whose worst-case training step fits in memory."""
    from ftlab.config import load_config
    from ftlab.toolbelt import find_batch_size

    if in_place and not write:
        raise FtlabError("--in-place goes with --write (ftlab find-batch-size CONFIG --write --in-place)")
    result = find_batch_size(load_config(config, set_ or []), tokens=tokens, max_memory=max_memory,
                             margin=margin, target_batch=target_batch, device=device,
                             precision=precision)
    console.print(result.format(), markup=False, highlight=False)
    if write:
        _write_values(config, result.config_values, suffix=".batch.yaml", in_place=in_place,
                      overridden=bool(set_))


@app.command("find-lr")
def find_lr_cmd(
    config: Annotated[Path, typer.Argument(help="Run config YAML.")],
    set_: SetOpt = None,
    steps: Annotated[int, typer.Option(help="Optimizer steps of the sweep.")] = 200,
    start: Annotated[float, typer.Option(help="First learning rate.")] = 1e-7,
    end: Annotated[float, typer.Option(help="Last learning rate.")] = 10.0,
    plot: Annotated[Optional[Path], typer.Option(help="Write the loss curve as PNG.")] = None,
    device: Annotated[Optional[str], typer.Option(help="cpu or cuda (default: train.device).")] = None,
    write: Annotated[bool, typer.Option("--write", help="Write the suggestion into CONFIG.lr.yaml.")] = False,
    in_place: Annotated[bool, typer.Option("--in-place", help="With --write: edit CONFIG itself.")] = False,
) -> None:
    """Learning-rate range test: sweep the lr exponentially, suggest one, plot the curve."""
    from ftlab.config import load_config
    from ftlab.toolbelt import find_lr

    if in_place and not write:
        raise FtlabError("--in-place goes with --write (ftlab find-lr CONFIG --write --in-place)")
    result = find_lr(load_config(config, set_ or []), start=start, end=end, steps=steps,
                     device=device)
    console.print(result.format(), markup=False, highlight=False)
    if plot is not None:
        plot.write_bytes(result.plot_png())
        console.print(f"plot: {plot}", markup=False, highlight=False)
    if result.suggestion is None:
        if write:
            console.print("nothing written: there is no suggestion", markup=False)
        raise typer.Exit(1)
    if write:
        _write_values(config, {"train.lr": float(f"{result.suggestion:.3g}")}, suffix=".lr.yaml",
                      in_place=in_place, overridden=bool(set_))


def _write_values(config: Path, values: dict, *, suffix: str, in_place: bool,
                  overridden: bool) -> None:
    from ftlab.toolbelt import write_config_values

    out = config if in_place else config.with_name(config.name.removesuffix(".yaml")
                                                   .removesuffix(".yml") + suffix)
    written = write_config_values(config, values, out=out)
    shown = ", ".join(f"{k}={v}" for k, v in values.items())
    kept = ("comments kept" if written.comments_kept
            else "re-written from the parsed values: comments and layout were lost")
    console.print(f"wrote {shown} to {written.path} ({kept})", markup=False, highlight=False)
    if overridden:
        console.print("note: the --set overrides were used for the search but not written",
                      markup=False, highlight=False)


@app.command("check-setup")
def check_setup_cmd(
    config: Annotated[Path, typer.Argument(help="Run config YAML.")],
    set_: SetOpt = None,
    check: Annotated[Optional[list[str]], typer.Option(
        "--check", help="Run only this check (repeatable): data, label_leakage, initial_loss, "
                        "gradients, overfit_batch, input_dependence, batch_fits.")] = None,
    device: Annotated[Optional[str], typer.Option(
        help="cpu, cuda or mps (default: the config's train.device).")] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the results "
                                                     "as JSON.")] = None,
) -> None:
    """Sanity checks before a long job: overfit one batch, initial loss, gradients, leakage...

    Exits 1 when a check fails; writes nothing but the optional JSON.
    """
    from ftlab.config import load_config
    from ftlab.toolbelt import check_setup, format_checks

    results = check_setup(load_config(config, set_ or []), checks=check or None, device=device)
    console.print(format_checks(results))
    if json_out:
        from ftlab._atomic import dumps_json

        json_out.write_text(dumps_json([r.to_dict() for r in results], indent=2),
                            encoding="utf-8")
    failed = [r.name for r in results if r.passed is False]
    console.print(f"{len(results) - len(failed)} of {len(results)} checks passed or skipped"
                  + (f"; failed: {', '.join(failed)}" if failed else ""), markup=False,
                  highlight=False)
    if failed:
        raise typer.Exit(1)


@app.command("gradcheck")
def gradcheck_cmd(
    config: Annotated[Optional[Path], typer.Option(
        "--config", help="Run config YAML: its data gives the batch (and its model is checked "
                         "unless --model is given).")] = None,
    model: Annotated[Optional[str], typer.Option(
        "--model", help="package.module:Factory building an nn.Module (called with vocab_size, "
                        "pad_id, num_classes where it accepts them).")] = None,
    set_: SetOpt = None,
    samples: Annotated[int, typer.Option(help="Entries compared per parameter tensor.")] = 5,
    eps: Annotated[float, typer.Option(help="Relative finite-difference step.")] = 1e-6,
    tol: Annotated[float, typer.Option(help="Largest relative error that passes.")] = 1e-6,
    seed: Annotated[int, typer.Option(help="Seeds the model init, batch and sampled entries.")] = 0,
    batch_size: Annotated[int, typer.Option(help="Examples in the batch.")] = 4,
    vocab_size: Annotated[int, typer.Option(help="Vocabulary size without --config.")] = 100,
    num_classes: Annotated[int, typer.Option(help="Classes without --config.")] = 2,
) -> None:
    """Check a model's autograd gradients against finite differences (float64), per tensor.

    Exits 1 when a tensor's error exceeds the tolerance.
    """
    from ftlab.config import load_config
    from ftlab.toolbelt import format_gradcheck, gradcheck, gradcheck_target

    cfg = load_config(config, set_ or []) if config is not None else None
    net, batch = gradcheck_target(config=cfg, model_spec=model, vocab_size=vocab_size,
                                  num_classes=num_classes, batch_size=batch_size, seed=seed)
    rows = gradcheck(net, batch, n_samples=samples, eps=eps, seed=seed, tol=tol)
    console.print(format_gradcheck(rows, tol=tol))
    failed = [r.name for r in rows if not r.passed]
    if failed:
        console.print(f"{len(failed)} of {len(rows)} parameter tensors have wrong gradients: "
                      f"{', '.join(failed)} (check the custom backward or in-place operations "
                      f"that feed them)", markup=False, highlight=False)
        raise typer.Exit(1)
    console.print(f"all {len(rows)} parameter tensors match within {tol:g}", markup=False,
                  highlight=False)


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
    for split, m in (summary.get("test") or {}).items():
        parts = [f"{k} {m[k]:.4f}" for k in ("accuracy", "macro_f1", "roc_auc", "ece")
                 if isinstance(m.get(k), float)]
        console.print(f"{split}: " + ", ".join(parts))
        if isinstance(m.get("majority_baseline"), float):
            console.print(f"{split} baselines: majority-class accuracy {m['majority_baseline']:.4f}"
                          + (f", TF-IDF + LR accuracy {m['tfidf_lr']:.4f}"
                             if isinstance(m.get("tfidf_lr"), float) else ""))


def _print_evaluation(result: dict) -> None:
    m = result.get("metrics", {})
    boot = result.get("bootstrap", {})
    base = result.get("baselines", {})
    console.print(f"[bold]{result.get('split')}[/bold] (n={result.get('n')})")
    for key in ("accuracy", "macro_f1"):
        ci = boot.get(key) or {}
        interval = f"  [{ci['low']:.4f}, {ci['high']:.4f}]" if "low" in ci else ""
        console.print(f"  {key:<10} {m.get(key, float('nan')):.4f}{interval}")
    for key in ("log_loss", "roc_auc", "pr_auc", "ece"):
        if m.get(key) is not None:
            console.print(f"  {key:<10} {m[key]:.4f}")
    maj, tfidf = base.get("majority") or {}, base.get("tfidf_lr") or {}
    if maj:
        console.print(f"  majority-class accuracy {maj.get('accuracy', 0):.4f}")
    if tfidf:
        console.print(f"  TF-IDF + LR accuracy    {tfidf.get('accuracy', 0):.4f}")
    for w in result.get("warnings", []):
        console.print(f"  warning: {w}", style="yellow", markup=False)


def main() -> None:
    """Console-script entry point: user errors print one clear message and exit 2.

    Under torchrun with several processes every rank leaves through :func:`os._exit` once the
    command is done (files written, trackers closed, process group left): a rank sometimes
    aborted in interpreter finalisation after a clean run ("terminate called without an active
    exception", no Python frame; ~1 in 50 launches under CPU load, torch 2.13 + gloo), and
    torchrun then reports the whole job as failed.
    """
    from ftlab.training._distributed import torchrun_world_size

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
        from ftlab._atomic import describe_write_error

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


if __name__ == "__main__":
    main()
