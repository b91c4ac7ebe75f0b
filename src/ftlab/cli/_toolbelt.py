"""``ftlab find-batch-size``, ``find-lr``, ``check-setup``, ``gradcheck``: tools to set up a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ftlab.cli._app import SetOpt, console
from ftlab.errors import FtlabError


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
    from ftlab.runs import load_config
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
    from ftlab.runs import load_config
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
    from ftlab.runs import load_config
    from ftlab.toolbelt import check_setup, format_checks

    results = check_setup(load_config(config, set_ or []), checks=check or None, device=device)
    console.print(format_checks(results))
    if json_out:
        from ftlab.core import dumps_json

        json_out.write_text(dumps_json([r.to_dict() for r in results], indent=2),
                            encoding="utf-8")
    failed = [r.name for r in results if r.passed is False]
    console.print(f"{len(results) - len(failed)} of {len(results)} checks passed or skipped"
                  + (f"; failed: {', '.join(failed)}" if failed else ""), markup=False,
                  highlight=False)
    if failed:
        raise typer.Exit(1)


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
    from ftlab.runs import load_config
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
