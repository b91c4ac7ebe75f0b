"""Reports: blocks, figures, the page template and every HTML report ftlab writes.

One package renders all of them, in one template (``templates/report.html.j2``: inline CSS,
figures as PNG data URIs, no external URL, Jinja2 autoescaping):

- the run report and the comparison of several runs (:func:`write_report`, ``report.html``;
  also written for ensembles, which are runs);
- the seed-study report (:func:`write_seed_report`, ``seeds.html``);
- the Optuna study report (:func:`write_study_report`, ``<study>/report.html``);
- tables and figures for a paper (:func:`write_paper`: LaTeX/Markdown tables, PDF/SVG
  figures, each number naming the run file it came from).

A page is a list of sections ``{"id", "title", "blocks"}``; a block is a dict whose ``kind`` the
template knows (``kv``, ``table``, ``img``, ``note``, ``missing``, ``h3``, ...), built with
:func:`kv`, :func:`table`, :func:`note`, :func:`missing`, :func:`h3` and :func:`png_block`, and
rendered with :func:`render_page`. Figures are drawn by the ``*_png`` helpers on an Agg canvas
(:func:`new_figure`, :func:`figure_png`); matplotlib, Jinja2 and Optuna are imported only when
a page or figure is made. :func:`check_report` checks a page is parseable, self-contained, has
every section and real images.
"""

from ftlab.report._blocks import Block, Section, h3, kv, missing, note, png_block, table
from ftlab.report._check import check_report
from ftlab.report._page import render_page
from ftlab.report._plots import (
    PNG_SIGNATURE,
    confusion_png,
    ema,
    figure_png,
    learning_curves_png,
    new_figure,
    overlay_curves_png,
    reliability_png,
    robustness_png,
    roc_pr_png,
)
from ftlab.report._run import (
    COMPARISON_SECTION_ID,
    SECTION_IDS,
    render_report,
    report_figures,
    write_report,
)
from ftlab.report._paper import PAPER_FORMATS, PaperTable, latex_escape, write_paper
from ftlab.report._seeds import evp_png, scores_png, write_seed_report
from ftlab.report._study import render_study_report, study_sections, trial_epochs, write_study_report

__all__ = [
    # pages: sections of blocks -> one self-contained HTML page (_blocks, _page, _check)
    "Block",
    "Section",
    "h3",
    "kv",
    "missing",
    "note",
    "png_block",
    "table",
    "render_page",
    "check_report",
    # figures: matplotlib (Agg) -> PNG bytes (_plots, _seeds)
    "PNG_SIGNATURE",
    "new_figure",
    "figure_png",
    "ema",
    "learning_curves_png",
    "confusion_png",
    "roc_pr_png",
    "reliability_png",
    "overlay_curves_png",
    "robustness_png",
    "evp_png",
    "scores_png",
    # the run report and the comparison of runs (_run, _run_files, _run_sections)
    "SECTION_IDS",
    "COMPARISON_SECTION_ID",
    "render_report",
    "report_figures",
    "write_report",
    # the seed-study report (_seeds)
    "write_seed_report",
    # the Optuna study report (_study)
    "study_sections",
    "render_study_report",
    "write_study_report",
    "trial_epochs",
    # tables (LaTeX booktabs, Markdown) and vector figures for a paper (_paper)
    "PAPER_FORMATS",
    "PaperTable",
    "latex_escape",
    "write_paper",
]
