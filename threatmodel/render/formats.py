"""Dispatch a Report to the renderer of a format."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from threatmodel.errors import UsageError
from threatmodel.models import Report
from threatmodel.render import json_report, markdown, sarif

FORMATS: dict[str, Callable[..., str]] = {
    "md": markdown.render_markdown,
    "json": json_report.render_json,
    "sarif": sarif.render_sarif,
}


def render(report: Report, fmt: str, template: Path | None = None) -> str:
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}.")
    if fmt == "md":
        return markdown.render_markdown(report, template=template)
    return FORMATS[fmt](report)
