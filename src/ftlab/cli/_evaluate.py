"""``ftlab evaluate``, ``calibrate``, ``predict``, ``report``, ``export``: using a trained run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ftlab.cli._app import console
from ftlab.cli._print import echo_evaluation
from ftlab.errors import FtlabError


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
        help="Text pairs: transform text, pair or both; multiple choice: text (the context), "
             "choices or both (default: robustness.sides).")] = None,
    robustness: Annotated[bool, typer.Option(
        help="Run the robustness evaluation (--transform or robustness.transforms).")] = True,
    expect_drop: Annotated[Optional[float], typer.Option(
        help="Check that every transformation lowers accuracy by more than this many points "
             "(the course assignment asks for > 4); exit status 1 when one does not.")] = None,
    threads: Annotated[Optional[int], typer.Option(
        min=1, help="torch CPU threads (default: the run's train.threads, else "
                    "OMP_NUM_THREADS, else one per core).")] = None,
) -> None:
    """Metrics, calibration, error analysis and slices; writes evaluation/<split>.json.

    Under ``torchrun --nproc_per_node N -m ftlab evaluate RUN`` the ranks share the
    prediction work; rank 0 gathers the predictions in input order and does the rest.

    With --transform (or robustness.transforms in the run's config) also the transformed
    test sets: accuracy drop, flip rate, confidence shift and example flips, written to
    robustness/<split>.json and predictions/<split>@<transformation>.jsonl.
    """
    from ftlab.runs import (
        diagnose_and_report,
        evaluate_run,
        evaluate_transforms,
        format_robustness,
    )

    if sides not in (None, "text", "pair", "choices", "both"):
        raise FtlabError(f"--sides must be text, pair, choices or both, got {sides!r}")
    if transform_specs and data is not None:
        raise FtlabError("--transform applies to the run's splits; it cannot be combined with "
                         "--data (evaluate the file with --data, or a split with --transform)")
    failed: bool | None = None
    # under torchrun the ranks share the prediction work; rank 0 goes on alone
    result = evaluate_run(run_dir, split=split, data=data, baseline=baseline, console=console,
                          distributed=True, threads=threads)
    if not result:  # another rank than 0
        return
    echo_evaluation(result)
    if robustness and data is None:
        from ftlab.runs import load_config

        if transform_specs or load_config(run_dir / "config.yaml").robustness.transforms:
            rob = evaluate_transforms(run_dir, transform_specs, split=split, sides=sides)
            console.print(format_robustness(rob), markup=False, highlight=False)
            if expect_drop is not None:
                failed = _check_drops(rob, expect_drop)
    if report:
        diagnose_and_report(run_dir, console=console)
    if expect_drop is not None and failed is None:
        raise FtlabError("--expect-drop needs transformed test sets: pass --transform SPEC "
                         "(or set robustness.transforms in the run's config)")
    if failed:
        raise typer.Exit(1)


def _check_drops(rob: dict, points: float) -> bool:
    """Print one verdict per transformation; True when one lowers accuracy by <= ``points``."""
    failed = False
    for spec, e in rob["transforms"].items():
        drop, (lo, hi) = 100 * e["drop"], e["drop_ci"]
        ok = drop > points
        failed |= not ok
        console.print(f"check: {spec} lowers accuracy by {drop:.1f} points "
                      f"[{100 * lo:.1f}, {100 * hi:.1f}]: "
                      + (f"more than {points:g}, as expected" if ok else
                         f"NOT more than {points:g}; raise the transformation's rates"),
                      markup=False, highlight=False)
    return failed


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
    console.print(f"temperature {rec['fitted_temperature']:.3f}: validation ECE "
                  f"{rec['ece_before']:.4f} -> {rec['ece_after']:.4f}, NLL {rec['nll_before']:.4f} "
                  f"-> {rec['nll_after']:.4f}", markup=False, highlight=False)
    if rec.get("temperature_skipped"):
        console.print(rec["temperature_skipped"], markup=False, highlight=False)
    if rec.get("threshold") is not None:
        console.print(f"threshold {rec['threshold']:.3f} on p({rec.get('positive')!r}) "
                      f"({rec['threshold_metric']} {rec['threshold_score']:.4f} on validation)",
                      markup=False, highlight=False)
    console.print(f"saved {Path(run_dir) / 'calibration.json'}; re-run ftlab evaluate to see the effect")


def predict(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    input: Annotated[Path, typer.Option("--input", "-i", help="CSV/TSV/JSONL/Parquet file.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="JSONL predictions file.")],
    quantize: Annotated[str, typer.Option(help="none or int8 (dynamic quantization, CPU).")] = "none",
    text_column: Annotated[Optional[str], typer.Option(help="Text column (default: the run's).")] = None,
    threads: Annotated[Optional[int], typer.Option(
        min=1, help="torch CPU threads (default: the run's train.threads, else "
                    "OMP_NUM_THREADS, else one per core).")] = None,
    backend: Annotated[str, typer.Option(
        help="torch, or onnxruntime (bow and transformer runs: exported to ONNX once, cached "
             "in RUN/onnx/).")] = "torch",
) -> None:
    """Batched, length-sorted inference over a file; output in input order with probabilities.

    Under ``torchrun`` the ranks share the batches and rank 0 writes the gathered output.
    """
    from ftlab.runs import predict_file

    if quantize not in ("none", "int8"):
        raise FtlabError(f"--quantize must be none or int8, got {quantize!r}")
    if backend not in ("torch", "onnxruntime"):
        raise FtlabError(f"--backend must be torch or onnxruntime, got {backend!r}")
    info = predict_file(run_dir, input=input, output=output, quantize=quantize,  # type: ignore[arg-type]
                        text_column=text_column, distributed=True, threads=threads,
                        backend=backend)  # type: ignore[arg-type]
    if not info:  # under torchrun, another rank than 0 (rank 0 wrote the file)
        return
    console.print(f"{info['rows']} predictions -> {info['output']} "
                  f"({info['examples_per_s']:.0f} examples/s, backend={backend}, quantize={quantize}, "
                  f"{info['threads']} CPU thread{'s' if info['threads'] != 1 else ''})")


def report(
    run_dirs: Annotated[list[Path], typer.Argument(
        help="One run directory, or several to compare (--format latex|markdown: also seed-study "
             "directories).")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="HTML file to write.")] = None,
    fmt: Annotated[Optional[list[str]], typer.Option(
        "--format", "-f", help="html (default), or latex and/or markdown: tables and figures "
                               "for a paper (repeatable).")] = None,
    out: Annotated[Optional[Path], typer.Option(
        "--out", help="Directory for --format latex|markdown (default: paper/).")] = None,
    figures: Annotated[str, typer.Option(
        "--figures", help="Figure file format for --format latex|markdown: pdf or svg.")] = "pdf",
) -> None:
    """One self-contained HTML report (several runs: a comparison), or paper tables and figures."""
    formats = [f.strip().lower() for item in (fmt or ["html"]) for f in item.split(",")]
    from ftlab.report import PAPER_FORMATS

    unknown = sorted(set(formats) - {"html", *PAPER_FORMATS})
    if unknown or figures not in ("pdf", "svg"):
        raise typer.BadParameter(
            f"--format takes html, latex or markdown (got {', '.join(unknown)}); --figures takes "
            f"pdf or svg (got {figures})" if unknown else f"--figures takes pdf or svg, got {figures}")
    if "html" in formats:
        from ftlab.report import write_report

        console.print(f"report: {write_report(run_dirs, output)}")
    paper = [f for f in formats if f in PAPER_FORMATS]
    if paper:
        from ftlab.report import write_paper

        target = out or Path("paper")
        written = write_paper(run_dirs, target, formats=paper,
                              figure_format="svg" if figures == "svg" else "pdf")
        console.print(f"paper tables and figures in {target}: "
                      f"{', '.join(p.name for p in written)}", markup=False, highlight=False)


def export(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="New (or empty) output directory.")],
    format: Annotated[str, typer.Option(
        "--format", help="hf: a transformers model directory (transformer runs); onnx: "
                         "model.onnx + ftlab's encoder (bow and transformer runs).")] = "hf",
    merge: Annotated[bool, typer.Option(
        "--merge/--no-merge", help="Merge LoRA adapters into the weights (default), or keep "
                                   "a PEFT adapter directory (--format hf).")] = True,
    quantize: Annotated[str, typer.Option(
        help="--format onnx: also write model.int8.onnx (none or int8).")] = "none",
) -> None:
    """Export a run: a plain transformers model directory (LoRA merged), or ONNX."""
    from ftlab.runs import export_merged, export_onnx_run

    if format not in ("hf", "onnx"):
        raise FtlabError(f"--format must be hf or onnx, got {format!r}")
    if quantize not in ("none", "int8"):
        raise FtlabError(f"--quantize must be none or int8, got {quantize!r}")
    if format == "onnx":
        path = export_onnx_run(run_dir, out, quantize=quantize)  # type: ignore[arg-type]
        console.print(f"exported {run_dir} -> {path} (ONNX: {', '.join(sorted(p.name for p in path.glob('*.onnx')))}; "
                      f"run with onnxruntime.InferenceSession, or ftlab predict RUN --backend onnxruntime)",
                      markup=False, highlight=False)
        return
    if quantize != "none":
        raise FtlabError("--quantize applies to --format onnx")
    path = export_merged(run_dir, out, merge=merge)
    console.print(f"exported {run_dir} -> {path} (load with "
                  f"AutoModelForSequenceClassification.from_pretrained('{path}'))")
