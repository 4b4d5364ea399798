"""What counts: the one computation of which findings are open threats, used by every output.

The console's summary line, THREAT_MODEL.md's summary, the pull-request comment's verdict and
the exit code of ``--fail-on`` all answer the same question, so they ask it here and cannot
disagree: a finding is an open threat when it is confirmed and not accepted in the baseline;
it needs review when it is unverifiable and not accepted; an accepted finding is shown in its
own place and never counted as a threat, whatever its verdict. Findings whose code lives
outside production (tests, fixtures, examples, docs, CI, dev runners: ``Finding.scope``) are
neither: they are listed apart, folded, and never fail a build.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from threatmodel.models import Finding, Report, Severity, Verdict

SEVERITIES = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO]
BUCKETS = ("confirmed", "review", "accepted")


def _live(f: Finding) -> bool:
    return f.scope == "production" and not f.accepted


def open_threats(findings: Iterable[Finding]) -> list[Finding]:
    """Confirmed, in production, not accepted: the threats to fix; all ``--fail-on`` sees."""
    return [f for f in findings if f.verdict is Verdict.CONFIRMED and _live(f)]


def to_review(findings: Iterable[Finding]) -> list[Finding]:
    """Unverifiable, in production, not accepted: read by hand before acting."""
    return [f for f in findings if f.verdict is Verdict.UNVERIFIABLE and _live(f)]


def outside_production(findings: Iterable[Finding]) -> list[Finding]:
    """Not accepted, but in code that does not ship (tests, fixtures, docs, CI, dev tooling)."""
    return [f for f in findings if f.scope != "production" and not f.accepted]


def accepted(findings: Iterable[Finding]) -> list[Finding]:
    """Matched by a baseline entry that has not expired."""
    return [f for f in findings if f.accepted]


def bucket_counts(findings: Sequence[Finding]) -> dict[str, dict[str, int]]:
    """severity -> {confirmed, review, accepted}, every severity present, worst first."""
    counts = {s.value: dict.fromkeys(BUCKETS, 0) for s in SEVERITIES}
    for bucket, items in zip(
        BUCKETS, (open_threats(findings), to_review(findings), accepted(findings)), strict=True
    ):
        for f in items:
            counts[f.severity.value][bucket] += 1
    return counts


def by_severity(findings: Iterable[Finding]) -> str:
    """ "2 critical, 5 high" (worst first, zero counts left out), or "none"."""
    items = list(findings)
    parts = [f"{n} {s.value}" for s in SEVERITIES if (n := sum(f.severity is s for f in items))]
    return ", ".join(parts) or "none"


def fails(findings: Iterable[Finding], threshold: Severity | None) -> bool:
    """True when an open threat is at or above ``threshold`` (``--fail-on``; None: never)."""
    if threshold is None:
        return False
    return any(f.severity.rank >= threshold.rank for f in open_threats(findings))


def nothing_scanned(report: Report) -> str | None:
    """Why nothing was scanned (no file a collector reads), or None when something was.

    A clean report of an empty folder is not a clean repository: every output says so and CI
    mode fails on it (the walk stage is not ok, see scan.collect_repo_facts).
    """
    walk = next((s for s in report.stages if s.stage == "walk"), None)
    if walk is None or walk.ok:
        return None
    return walk.message or "nothing was scanned"
