"""Page rendering: sections of blocks -> one self-contained HTML page (Jinja2, autoescaped).

Every ftlab HTML report (run, comparison, seed study, Optuna study) is rendered here, in the
one template ``templates/report.html.j2``: CSS inline, figures as PNG data URIs, no external URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from ftlab.report._blocks import Section

__all__ = ["render_page"]

_TEMPLATE_DIR = Path(__file__).parent / "templates"
_TEMPLATE = "report.html.j2"


def _code(text: object) -> object:
    """Escape ``text`` and show its `backticked` parts as ``<code>`` (never literal backticks)."""
    import re

    from markupsafe import Markup, escape

    parts = re.split(r"`([^`]+)`", str(text))
    return Markup("").join(escape(p) if i % 2 == 0 else Markup("<code>") + escape(p)
                           + Markup("</code>") for i, p in enumerate(parts))


def render_page(title: str, sections: Sequence[Section], *, sources: Sequence[str]) -> str:
    """Render sections (``{"id", "title", "blocks"}``, see :mod:`ftlab.report`) as one
    self-contained page in the report's template; other reports (studies, seed studies)
    use it too.

    Args:
        title: the page title.
        sections: the sections in page order.
        sources: what the page was generated from (shown under the title).

    Returns:
        The HTML page.
    """
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(_TEMPLATE_DIR)),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["code"] = _code
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return env.get_template(_TEMPLATE).render(title=title, sections=list(sections),
                                              generated=generated, run_paths=list(sources))
