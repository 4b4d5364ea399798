"""Terminal helpers shared by the commands: a rich progress display and output writing."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from threatmodel.errors import UsageError
from threatmodel.models import Report, Severity

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


def write_output(text: str, out: Path | None) -> None:
    """Write to a file (creating parent folders) or to stdout when out is None or '-'."""
    if out is None or str(out) == "-":
        sys.stdout.write(text)
        return
    try:
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


def fails(report: Report, threshold: Severity | None) -> bool:
    """True when a confirmed, not accepted finding is at or above the threshold."""
    if threshold is None:
        return False
    return any(
        f.verdict == "confirmed" and not f.accepted and f.severity.rank >= threshold.rank
        for f in report.findings
    )


def summary_line(report: Report) -> str:
    by = {s: 0 for s in Severity}
    for f in report.findings:
        if f.verdict == "confirmed":
            by[f.severity] += 1
    counts = ", ".join(f"{n} {s.value}" for s, n in by.items() if n) or "none"
    review = sum(1 for f in report.findings if f.verdict == "unverifiable")
    return (
        f"{len(report.facts.routes)} routes, {len(report.facts.tables)} tables, "
        f"{len(report.facts.secrets)} secrets; confirmed threats: {counts}; "
        f"{review} need review; {len(report.suppressed)} suppressed"
    )
