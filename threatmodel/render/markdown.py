"""THREAT_MODEL.md from a Jinja2 template (``templates/threat_model.md.j2``, or --template)."""

from __future__ import annotations

from pathlib import Path

import jinja2

from threatmodel.errors import UsageError
from threatmodel.models import Report

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _env(loader: jinja2.BaseLoader) -> jinja2.Environment:
    # Markdown, not HTML: no autoescape; StrictUndefined so a template typo fails loudly.
    env = jinja2.Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["cell"] = md_cell
    return env


def md_cell(value: object) -> str:
    """Text safe inside a Markdown table cell (repository content is untrusted)."""
    return str(value).replace("|", "\\|").replace("\n", " ").replace("`", "'")


def render_markdown(report: Report, template: Path | None = None) -> str:
    if template is not None:
        if not template.is_file():
            raise UsageError(f"--template {template}: no such file.")
        env = _env(jinja2.FileSystemLoader(str(template.parent)))
        name = template.name
    else:
        env = _env(jinja2.FileSystemLoader(str(TEMPLATES)))
        name = "threat_model.md.j2"
    try:
        return env.get_template(name).render(report=report)
    except jinja2.TemplateError as exc:
        raise UsageError(f"template {name}: {exc}") from None
