"""``ftlab train``, ``quickstart``, ``baseline``, ``validate-config``: making runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ftlab.cli._app import SetOpt, console
from ftlab.cli._print import echo_run
from ftlab.errors import FtlabError


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
    from ftlab.runs import dry_run as _dry_run
    from ftlab.runs import load_config, resume_run, train_run

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
            from ftlab.training import torchrun_world_size

            if torchrun_world_size() > 1:
                raise FtlabError("eval.cv_folds is not supported under torchrun yet; train "
                                 "each fold on its own (--set eval.cv_fold=K) or drop torchrun")
            from ftlab.runs import cross_validate, format_cv

            result = cross_validate(cfg, name=name, console=console)
            console.print(format_cv(result), markup=False, highlight=False)
            return
        summary = train_run(cfg, name=name, stop_after=stop_after, console=console)
    if summary:  # under torchrun only rank 0 returns a summary
        echo_run(summary)


def quickstart(set_: SetOpt = None) -> None:
    """Train and evaluate the default model on the built-in offline dataset (about 1-2 min)."""
    from ftlab.runs import QUICKSTART_CONFIG, load_config, train_run

    cfg = load_config(QUICKSTART_CONFIG, set_ or [])
    summary = train_run(cfg, console=console)
    echo_run(summary)


def baseline(
    config: Annotated[Path, typer.Argument(help="Run config YAML (its data section is used).")],
    set_: SetOpt = None,
    name: Annotated[Optional[str], typer.Option(help="Run directory name.")] = None,
) -> None:
    """TF-IDF (word + char n-grams) + logistic regression on the config's splits, as a run."""
    from ftlab.runs import diagnose_and_report, load_config, train_baseline

    summary = train_baseline(load_config(config, set_ or []), name=name, console=console)
    echo_run(summary)
    diagnose_and_report(Path(summary["path"]), console=console)


def validate_config(
    config: Annotated[Path, typer.Argument(help="Run config YAML.")],
    set_: SetOpt = None,
) -> None:
    """Validate a config (all problems at once) and print the resolved YAML."""
    from ftlab.config import dump_config
    from ftlab.runs import load_config

    console.print(dump_config(load_config(config, set_ or [])), markup=False, highlight=False)
