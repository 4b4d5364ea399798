"""Dispatch a Report to the renderer of a format, after masking secret values in quotes."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from threatmodel.errors import UsageError
from threatmodel.models import Report
from threatmodel.redact import redact_report
from threatmodel.render import json_report, sarif


def _markdown(report: Report, **options: Any) -> str:
    # Imported when a Markdown report is written: jinja2 and the view's code cost a JSON or
    # SARIF scan 0.03-0.05 s of start-up for nothing.
    from threatmodel.render.markdown import render_markdown

    return render_markdown(report, **options)


FORMATS: dict[str, Callable[..., str]] = {
    "md": _markdown,
    "json": json_report.render_json,
    "sarif": sarif.render_sarif,
}


def render(
    report: Report,
    fmt: str,
    template: Path | None = None,
    link_base: str = "",
    name: str | None = None,
    kind: str = "scan",
) -> str:
    """The report as text in ``fmt``.

    ``link_base`` is the repository root as seen from the folder the output is written to
    (see ``link_base_for``); Markdown links and SARIF's ``uriBaseId`` use it. ``name`` is
    the repository's display name (default: the last component of ``report.repo.root``).
    ``kind`` is "verify" for ``threatmodel verify``'s verdicts, which are not a threat model.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}.")
    report = redact_report(report)
    if fmt == "md":
        return _markdown(report, template=template, link_base=link_base, name=name, kind=kind)
    return FORMATS[fmt](report)


def link_base_for(root: Path, out: Path | None) -> str:
    """The repository root relative to the output file's folder, POSIX style ("" = same).

    Reports written inside the repository (the default, ``THREAT_MODEL.md`` at the root,
    or ``docs/THREAT_MODEL.md``) get links that work on GitHub and in editors. A report
    written outside the repository gets relative links back into it, which work in editors
    and file browsers on the same machine. Standard output counts as the repository root.
    """
    if out is None or str(out) == "-":
        return ""
    folder = out.resolve().parent
    rel = os.path.relpath(root.resolve(), folder)
    return "" if rel == "." else Path(rel).as_posix()
