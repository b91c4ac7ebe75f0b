"""The study report: one self-contained HTML page for an Optuna study of ftlab runs.

Sections: summary (best trial, its parameters and run, trial states, total compute), the
optimization history, parameter importances (fANOVA), parallel coordinates, one slice plot
per parameter, the intermediate validation curves of every trial (pruned ones stand out), and
a table of all trials. Figures are drawn by ``optuna.visualization.matplotlib`` (Agg) and
embedded as PNG data URIs, in the same template as the run report.

A study with a scientific parameter is several Optuna studies (one per scientific value, same
storage): the summary compares their best trials and every figure is drawn per value.
Epochs trained per trial are read from the trial's user attribute ``epochs_trained`` (what
ftlab's objective records), else from the number of intermediate values reported.
"""

from __future__ import annotations

import base64
import io
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ftlab.core import atomic_write_text
from ftlab.report._blocks import Block, Section, h3, kv, link, note, score, table
from ftlab.report._page import render_page

__all__ = ["study_sections", "render_study_report", "write_study_report", "trial_epochs"]


def trial_epochs(trial: Any) -> float:
    """Epochs a trial trained: its ``epochs`` user attribute, else its reported evaluations."""
    for key in ("epochs_trained", "epochs"):
        value = trial.user_attrs.get(key)
        if isinstance(value, (int, float)):
            return value
    return len(trial.intermediate_values)


def _restyle(fig: Any) -> None:
    """Optuna draws in matplotlib's grey ``ggplot`` style: give its figures the report's look
    (white axes, light grid, black spines), integer ticks for trials and epochs, readable
    log-scale ticks, "Epoch" where Optuna writes "Step" (ftlab reports once per epoch) and a
    colour map whose low end is not white."""
    from matplotlib.ticker import LogLocator, MaxNLocator

    fig.patch.set_facecolor("white")
    for ax in fig.axes:
        ax.set_facecolor("white")
        ax.grid(True, color="0.85", linewidth=0.6)
        for spine in ax.spines.values():
            spine.set_visible(True)
            spine.set_color("0.3")
        ax.tick_params(colors="0.15")
        for which in ("x", "y"):
            axis = ax.xaxis if which == "x" else ax.yaxis
            label = axis.get_label().get_text()
            if label.lower() in ("step", "steps"):
                axis.set_label_text("Epoch")
            if axis.get_label().get_text().lower() in ("trial", "#trials", "epoch", "trials"):
                axis.set_major_locator(MaxNLocator(integer=True))
            if axis.get_scale() == "log":
                axis.set_major_locator(LogLocator(numticks=4))
                for t in axis.get_ticklabels():
                    t.set_rotation(30 if which == "x" else 0)
                    t.set_fontsize(8)
        for coll in ax.collections:
            if coll.get_array() is not None and getattr(coll, "cmap", None) is not None \
                    and coll.cmap.name in ("Blues", "Blues_r"):
                coll.set_cmap("viridis_r" if coll.cmap.name.endswith("_r") else "viridis")


def _figure_block(draw: Any, study: Any, alt: str, **kwargs: Any) -> Block:
    """Run an ``optuna.visualization.matplotlib`` function and embed its figure."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # optuna marks these plots experimental
            axes = draw(study, **kwargs)
    except (ValueError, RuntimeError, ZeroDivisionError, IndexError, KeyError) as exc:
        # e.g. importances need 2+ completed trials with varying parameters
        return note(f"{alt}: not drawn ({exc})")
    first = axes.flat[0] if hasattr(axes, "flat") else axes
    fig = first.figure
    _restyle(fig)
    fig.set_size_inches(max(fig.get_size_inches()[0], 8), max(fig.get_size_inches()[1], 4.5))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return {"kind": "img", "alt": alt,
            "src": "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")}


def _states(study: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for t in study.trials:
        out[t.state.name.lower()] = out.get(t.state.name.lower(), 0) + 1
    return out


def _group_blocks(study: Any, summary: Mapping[str, Any]) -> list[Block]:
    """Summary rows of one Optuna study (one scientific value, or the whole study)."""
    from optuna.trial import TrialState

    done = [t for t in study.trials if t.state == TrialState.COMPLETE]
    rows: list[tuple[str, Any]] = [("optuna study", study.study_name),
                                   ("direction", study.direction.name.lower()),
                                   ("trials", len(study.trials)),
                                   *[(f"trials {k}", v) for k, v in _states(study).items()],
                                   ("epochs trained", round(sum(trial_epochs(t)
                                                                for t in study.trials), 2))]
    if done:
        best = study.best_trial
        rows += [("best value", best.value), ("best trial", best.number),
                 ("best run", best.user_attrs.get("run_dir"))]
        rows += [(f"best {k}", v) for k, v in best.params.items()]
    blocks: list[Block] = [kv(rows)]
    if not done:
        blocks.append(note("no trial has completed yet: the figures need completed trials"))
    return blocks


def _report_href(run_dir: Any) -> str | None:
    """The trial run's report as a file URL (the study report may be copied elsewhere)."""
    if not run_dir or not (Path(run_dir) / "report.html").is_file():
        return None
    return (Path(run_dir) / "report.html").resolve().as_uri()


def study_sections(studies: Any, *, summary: Mapping[str, Any] | None = None) -> list[Section]:
    """The report's sections for one ``optuna.Study`` or several (one per scientific value).

    Args:
        studies: the study, or a list of studies sharing a search space.
        summary: the study's ``study.json`` (best run, total compute, boundary warnings,
            scientific groups), shown when given.

    Returns:
        Sections ``summary``, ``history``, ``importance``, ``parallel``, ``slices``,
        ``curves``, ``trials``.
    """
    from optuna.trial import TrialState
    from optuna.visualization import matplotlib as vm

    group = list(studies) if isinstance(studies, (list, tuple)) else [studies]
    summary = dict(summary or {})
    many = len(group) > 1
    blocks: list[Block] = []
    if summary:
        best = summary.get("best") or {}
        blocks.append(kv([("study", summary.get("study")), ("monitor", summary.get("monitor")),
                          ("sampler", summary.get("sampler")), ("pruner", summary.get("pruner")),
                          ("epochs per trial", summary.get("epochs_per_trial")),
                          ("epochs trained (all trials)", summary.get("epochs_total")),
                          ("best value", best.get("value")), ("best run", best.get("run_dir")),
                          ("retrain with", summary.get("retrain_command"))]))
    groups = [g for g in summary.get("groups", []) or [] if isinstance(g, Mapping)]
    if len(groups) > 1:
        keys = list(dict.fromkeys(k for g in groups for k in (g.get("scientific") or {})))
        rows = [[*((g.get("scientific") or {}).get(k) for k in keys),
                 (g.get("best") or {}).get("value"), (g.get("best") or {}).get("run_dir"),
                 g.get("complete"), g.get("pruned"), g.get("failed"), g.get("epochs")]
                for g in groups]
        blocks.append(table([*keys, "best value", "best run", "completed", "pruned", "failed",
                             "epochs"], rows,
                            caption="best of each scientific value (nuisance parameters tuned "
                                    "with the same budget for each)"))
    for w in summary.get("warnings", []) or []:
        blocks.append(note(f"warning: {w.get('message', w) if isinstance(w, Mapping) else w}"))
    for study in group:
        if many:
            blocks.append(h3(study.study_name))
        blocks += _group_blocks(study, summary)
    sections: list[Section] = [{"id": "summary", "title": "Summary", "blocks": blocks}]

    def figures(draw: Any, alt: str, ok: Any, why: str) -> list[Block]:
        out: list[Block] = []
        for study in group:
            if many:
                out.append(h3(study.study_name))
            out.append(_figure_block(draw, study, alt) if ok(study) else note(why))
        return out

    def completed(study: Any) -> list[Any]:
        return [t for t in study.trials if t.state == TrialState.COMPLETE]

    def varied(study: Any) -> bool:
        done = completed(study)
        keys = {k for t in done for k in t.params}
        return len(done) >= 2 and any(len({repr(t.params.get(k)) for t in done}) > 1
                                      for k in keys)

    def section(sid: str, title: str, blocks: list[Block]) -> None:
        sections.append({"id": sid, "title": title, "blocks": blocks})

    section("history", "Optimization history",
            figures(vm.plot_optimization_history, "optimization history",
                    lambda st: bool(completed(st)), "no completed trial"))
    n_done = min((len(completed(st)) for st in group), default=0)
    section("importance", "Parameter importances (fANOVA)",
            figures(vm.plot_param_importances, "parameter importances", varied,
                    "needs two or more completed trials whose parameters differ")
            + ([note(f"caveat: importances from {n_done} completed trials are not reliable "
                     f"(fANOVA fits a random forest to the trials; read them from about 10 "
                     f"trials on, more for several parameters)")] if n_done < 10 else []))
    section("parallel", "Parallel coordinates",
            figures(vm.plot_parallel_coordinate, "parallel coordinates",
                    lambda st: bool(completed(st)), "no completed trial"))
    section("slices", "Slice plots", figures(vm.plot_slice, "slice plots",
                                             lambda st: bool(completed(st)), "no completed trial"))
    section("curves", "Validation curves: completed vs pruned",
            figures(vm.plot_intermediate_values, "intermediate values",
                    lambda st: any(t.intermediate_values for t in st.trials),
                    "no intermediate values reported")
            + [note("each line is one trial's validation metric per evaluation; pruned trials "
                    "stop early")])
    params = sorted({k for st in group for t in st.trials for k in t.params})
    trial_rows = [[*([st.study_name] if many else []), t.number, t.state.name.lower(),
                   score(t.value) if t.value is not None else None, trial_epochs(t),
                   *(t.params.get(p) for p in params),
                   link(t.user_attrs.get("run_dir"), _report_href(t.user_attrs.get("run_dir")))]
                  for st in group for t in st.trials]
    section("trials", "Trials", [table([*(["study"] if many else []), "trial", "state", "value",
                                        "epochs", *params, "run"], trial_rows)])
    return sections


def render_study_report(studies: Any, *, summary: Mapping[str, Any] | None = None,
                        sources: Sequence[str] = ()) -> str:
    """The study report as an HTML string (nothing written); see :func:`study_sections`."""
    group = list(studies) if isinstance(studies, (list, tuple)) else [studies]
    name = (summary or {}).get("study") or group[0].study_name
    return render_page(f"ftlab study: {name}", study_sections(group, summary=summary),
                       sources=list(sources) or [str(name)])


def write_study_report(studies: Any, path: Path | str, *,
                       summary: Mapping[str, Any] | None = None, sources: Sequence[str] = ()) -> Path:
    """Write the study report to ``path`` (atomically) and return the path.

    Args:
        studies: the ``optuna.Study``, or one per scientific value.
        path: the HTML file (e.g. ``<output_dir>/<study>/report.html``).
        summary: the study's ``study.json`` contents, if any.
        sources: where the study came from (storage URL), shown under the title.
    """
    html = render_study_report(studies, summary=summary, sources=sources)
    return atomic_write_text(path, html)
