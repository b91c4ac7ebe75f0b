"""``ftlab tune``: hyperparameter search."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ftlab.cli._app import SetOpt, console
from ftlab.cli._print import echo


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
    from ftlab.runs import load_config
    from ftlab.tuning import load_space, optimize_study, run_study

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
        from ftlab.core import optional_import

        optional_import("ray.tune", "ftlab tune --backend ray")
        from ftlab.tuning import run_ray_study

        result = run_ray_study(cfg, spc, scheduler=scheduler, trials=trials or 4, name=name,  # type: ignore[arg-type]
                               cpus=cpus, config_path=config, console=console,
                               address=address, storage_path=storage_path)
        echo(result)
        return
    result = run_study(cfg, spc, name=name, sampler=sampler, pruner=pruner, trials=trials,
                       timeout=timeout, storage=storage, workers=workers, refine=refine,
                       config_path=config, overrides=set_ or [], console=console)
    echo(result)
