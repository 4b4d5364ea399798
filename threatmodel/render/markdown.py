"""THREAT_MODEL.md from a Jinja2 template (``templates/threat_model.md.j2``, or --template).

The template gets ``report`` (the Report) and ``view`` (render/view.py: counts, worst risks,
STRIDE groups, the Mermaid diagram, sorted tables and a ``view.link(path, line)`` helper).
Filters make untrusted text safe: ``cell`` for table cells, ``code`` for inline code in a
cell, ``text`` for prose, ``fence(path)`` for quoted lines. Links are relative to the
report's folder (``link_base``: the repository root as seen from there).
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from threatmodel.errors import UsageError
from threatmodel.models import Report
from threatmodel.render.text import (
    code_span,
    fence,
    finding_anchor,
    heading_anchor,
    md_cell,
    md_code_cell,
    md_text,
)
from threatmodel.render.view import build_view
from threatmodel.words import plural

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
DEFAULT_TEMPLATE = "threat_model.md.j2"


def _env(loader: jinja2.BaseLoader) -> jinja2.Environment:
    # Markdown, not HTML: no autoescape (the filters escape); StrictUndefined so a template
    # typo fails loudly instead of leaving a hole in the report.
    env = jinja2.Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        cell=md_cell,
        code=md_code_cell,
        span=code_span,
        text=md_text,
        fence=fence,
        anchor=heading_anchor,
        fid=finding_anchor,
        plural=plural,
    )
    return env


def render_markdown(
    report: Report,
    template: Path | None = None,
    link_base: str = "",
    name: str | None = None,
    kind: str = "scan",
) -> str:
    if template is not None:
        if not template.is_file():
            raise UsageError(f"--template {template}: no such file.")
        env = _env(jinja2.FileSystemLoader(str(template.parent)))
        tname = template.name
    else:
        env = _env(jinja2.FileSystemLoader(str(TEMPLATES)))
        tname = DEFAULT_TEMPLATE
    view = build_view(report, link_base=link_base, name=name, kind=kind)
    try:
        text = env.get_template(tname).render(report=report, view=view)
    except jinja2.TemplateError as exc:
        raise UsageError(f"template {tname}: {exc}") from None
    return tidy(text)


def tidy(text: str) -> str:
    """Collapse the blank-line runs the template's conditionals leave, outside code fences."""
    lines: list[str] = []
    fence_open = ""
    for line in text.splitlines():
        stripped = line.strip()
        if fence_open:
            lines.append(line)
            if stripped == fence_open:
                fence_open = ""
            continue
        if stripped.startswith("```"):
            fence_open = "`" * (len(stripped) - len(stripped.lstrip("`")))
        if stripped or (lines and lines[-1].strip()):
            lines.append(line if stripped else "")
    return "\n".join(lines).strip("\n") + "\n"
