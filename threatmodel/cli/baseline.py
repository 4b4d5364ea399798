"""`threatmodel baseline REPORT`: accept a report's findings into a baseline file.

Reads a JSON report (``scan --format json``) or a SARIF log this tool wrote, and adds each
confirmed finding's fingerprint with the justification (and optional expiry) to the
baseline, keeping entries already there. Review the file before committing it: every
entry is a risk someone decided to live with.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from threatmodel.baseline import (
    BASELINE_PATH,
    Baseline,
    accepted_candidates,
    extend_baseline,
    load_baseline,
    why_none,
)
from threatmodel.cli._console import check_output, err, write_output
from threatmodel.errors import InputFormatError, UsageError


def baseline(
    report: Annotated[Path, typer.Argument(help="JSON report or SARIF log from `scan`.")],
    justification: Annotated[
        str, typer.Option("--justification", "-j", help="Why these risks are accepted.")
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Baseline file to create or extend.")
    ] = Path(BASELINE_PATH),
    expires: Annotated[
        str | None,
        typer.Option(
            help="A future date (YYYY-MM-DD) after which the findings come back "
            "(default: accepted until removed from the file)."
        ),
    ] = None,
    include_review: Annotated[
        bool, typer.Option("--include-review", help="Also accept unverifiable findings.")
    ] = False,
) -> None:
    """Accept a report's confirmed findings: later scans show them as accepted, not failing.

    REPORT is `threatmodel scan --format json` output (or its SARIF). The entries go to
    .threatmodel/baseline.json in the current folder unless --out names another file.
    """
    if not justification.strip():
        raise UsageError("--justification must say why the findings are accepted.")
    until = None
    if expires is not None:
        try:
            until = date.fromisoformat(expires)
        except ValueError:
            raise UsageError(f"--expires {expires!r}: use a date like 2030-12-31.") from None
        if until < date.today():
            # An acceptance that has already expired accepts nothing: every finding would
            # come back on the next scan, with a note, which is surely not what was meant.
            raise UsageError(
                f"--expires {until} is in the past: the findings would come back on the next "
                "scan. Give a future date, or leave --expires out to accept them until removed."
            )
    # The tool's own folder is made when missing (the default, or another repository's);
    # any other missing folder is a typo to report, not to create.
    own_folder = out.parent.name == Path(BASELINE_PATH).parent.name
    check_output(out, "--out", create_parents=own_folder)
    try:
        doc = json.loads(report.read_text("utf-8"))
    except OSError as exc:
        raise UsageError(f"{report}: {exc.strerror or exc}.") from None
    except json.JSONDecodeError as exc:
        raise InputFormatError(f"{report}: not JSON ({exc.msg} at line {exc.lineno}).") from None
    candidates = accepted_candidates(doc, include_review)
    if not candidates:
        raise InputFormatError(f"{report}: nothing to accept, {why_none(doc, include_review)}.")
    existing: Baseline | None = load_baseline(out) if out.is_file() else None
    result, added = extend_baseline(existing, candidates, justification.strip(), until)
    write_output(result.to_json(), out, create_parents=own_folder)
    already = len(candidates) - added
    note = f" ({already} were accepted already)" if already else ""
    err.print(f"{added} findings accepted{note}; {len(result.accepted)} in {out}", markup=False)


def register(app: typer.Typer) -> None:
    app.command()(baseline)
