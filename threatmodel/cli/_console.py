"""Terminal helpers shared by the commands: a rich progress display and output writing."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from threatmodel import tally
from threatmodel.errors import UsageError
from threatmodel.models import Report, Severity
from threatmodel.tally import nothing_scanned
from threatmodel.words import plural

err = Console(stderr=True, highlight=False, soft_wrap=True)


class RichProgress:
    """Implements threatmodel.progress.Progress on stderr; silent when stderr is not a TTY."""

    def __init__(self, quiet: bool = False) -> None:
        self.enabled = not quiet and err.is_terminal
        self.quiet = quiet
        self._progress: Progress | None = None
        self._task: int | None = None

    def start(self, stage: str, total: int | None = None) -> None:
        self.finish()
        if not self.enabled:
            return
        self._progress = Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task(stage, total=total)

    def advance(self, n: int = 1) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, n)  # type: ignore[arg-type]

    def note(self, message: str) -> None:
        if not self.quiet:
            err.print(message, markup=False)

    def finish(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def check_output(out: Path | None, flag: str = "--out", create_parents: bool = False) -> None:
    """Fail before the work when ``out`` cannot be written: its folder must exist already.

    A mistyped ``-o /nonexistent/dir/x.md`` is an error, not a reason to create folders; only
    a command's own default location (``baseline``'s ``.threatmodel/``) is created.
    """
    if out is None or str(out) == "-" or create_parents:
        return
    folder = out.parent
    if out.is_dir():
        raise UsageError(f"{flag} {out}: is a folder; name the file to write.")
    if not folder.is_dir():
        raise UsageError(
            f"{flag} {out}: folder {folder} does not exist; create it first or write elsewhere."
        )


def write_output(
    text: str, out: Path | None, flag: str = "--out", create_parents: bool = False
) -> None:
    """Write to a file or to stdout when out is None or '-'; the file's folder must exist."""
    if out is None or str(out) == "-":
        sys.stdout.write(text)
        return
    check_output(out, flag, create_parents)
    try:
        if create_parents:
            out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None


def parse_severity(value: str | None) -> Severity | None:
    if value is None:
        return None
    try:
        return Severity(value.lower())
    except ValueError:
        choices = ", ".join(s.value for s in Severity)
        raise UsageError(f"--fail-on {value!r}: choose one of {choices}.") from None


def summary_line(report: Report) -> str:
    """The one-line result on stderr, counted as the report and ``--fail-on`` count (tally)."""
    if (nothing := nothing_scanned(report)) is not None:
        return nothing
    threats = tally.by_severity(tally.open_threats(report.findings))
    accepted = len(tally.accepted(report.findings))
    if accepted:
        threats += f" ({accepted} more accepted in the baseline)"
    if outside := len(tally.outside_production(report.findings)):
        threats += f" ({outside} more outside production)"
    facts = report.facts
    counted = [plural(len(facts.routes), "route"), plural(len(facts.tables), "table")]
    return (
        f"{', '.join(counted)}, {plural(len(facts.secrets), 'secret')}; "
        f"confirmed threats: {threats}; "
        f"{len(tally.to_review(report.findings))} need review; "
        f"{len(report.suppressed)} suppressed"
    )
