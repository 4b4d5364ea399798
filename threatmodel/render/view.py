"""What THREAT_MODEL.md shows, precomputed from a Report so the template stays declarative.

Counts, the worst risks, findings grouped by STRIDE, sorted tables of entry points and data
stores, and links to ``path#Lline`` relative to where the report is written. Custom
``--template`` files receive the same ``view`` object next to ``report``.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from threatmodel import tally
from threatmodel.models import Facts, Finding, Location, Report, Stride
from threatmodel.reach import routes_reaching
from threatmodel.render.mermaid import render_mermaid
from threatmodel.render.system import SystemView, build_system
from threatmodel.render.text import repo_link
from threatmodel.verify._rank import fix_first_key

STRIDE_TITLES = {
    Stride.SPOOFING: "Spoofing",
    Stride.TAMPERING: "Tampering",
    Stride.REPUDIATION: "Repudiation",
    Stride.INFORMATION_DISCLOSURE: "Information disclosure",
    Stride.DENIAL_OF_SERVICE: "Denial of service",
    Stride.ELEVATION_OF_PRIVILEGE: "Elevation of privilege",
}

# Fixed limits of the method, stated in every report next to what the scan itself reports.
NOT_COVERED = [
    "Runtime and deployment configuration that is not in the repository (cloud IAM, "
    "firewalls, reverse proxies, environment values).",
    "Known vulnerabilities in dependency versions (run a dependency auditor such as "
    "pip-audit or npm audit).",
    "Business-logic flaws that need the product's intent to judge, beyond what the claim "
    "vocabulary can check.",
    "Code paths the collectors do not model: dynamically registered routes, generated code, "
    "languages and frameworks without a collector.",
]


@dataclass
class TopRisk:
    finding: Finding
    similar: list[Finding]  # more confirmed findings of the same rule / claim kind


@dataclass
class StrideGroup:
    title: str
    findings: list[Finding]


@dataclass
class ReportView:
    name: str
    link_base: str
    kind: str  # "scan": a threat model; "verify": verdicts on findings from another source
    nothing_scanned: str | None  # why no file was scanned (tally.nothing_scanned), or None
    counts: dict[str, dict[str, int]]  # severity -> {confirmed, review, accepted}
    confirmed: list[Finding]  # confirmed, not accepted: the threats to fix
    review: list[Finding]
    accepted: list[Finding]
    outside: list[Finding]  # not production code: folded, severity low at most, never fix-first
    top: list[TopRisk]
    stride_groups: list[StrideGroup]
    system: SystemView
    mermaid: str
    routes: list[Any]
    tables: list[Any]
    buckets: list[Any]
    secrets: list[Any]
    client_env: list[Any]
    server_env: list[Any]
    fact_counts: dict[str, int]
    unknown_auth: int
    route_findings: dict[str, list[str]]  # "METHOD /path" -> ids of findings that name it
    not_covered: list[str] = field(default_factory=lambda: list(NOT_COVERED))

    def link(self, path: str, start: int, end: int | None = None) -> str:
        return repo_link(self.link_base, path, start, end)

    def notes(self, f: Finding) -> list[str]:
        return informative_notes(f)

    def loc(self, location: Location | None) -> str:
        return self.link(location.path, location.line) if location else ""

    def locs(self, locations: list[Location], limit: int = 5) -> str:
        shown = ", ".join(self.loc(x) for x in sorted(locations, key=_lockey)[:limit])
        more = len(locations) - limit
        return shown + (f" and {more} more" if more > 0 else "")


def _lockey(loc: Location) -> tuple[str, int]:
    return (loc.path, loc.line)


def _name(root: str) -> str:
    name = posixpath.basename(root.replace("\\", "/").rstrip("/"))
    return name if name not in ("", ".", "..") else "repository"


def build_view(
    report: Report, link_base: str = "", name: str | None = None, kind: str = "scan"
) -> ReportView:
    f = report.facts
    confirmed = tally.open_threats(report.findings)
    review = tally.to_review(report.findings)
    accepted = tally.accepted(report.findings)
    # Findings outside production (tests, fixtures, docs, CI, dev runners) are folded away.
    outside = tally.outside_production(report.findings)
    counts = tally.bucket_counts(report.findings)
    worst = sorted(confirmed, key=fix_first_key)
    # "Change data" is what a handler's code proves (TM101 confirmed), not a method.
    writes = sum(1 for x in confirmed if x.rule_id == "TM101")
    system = build_system(f, writes)
    return ReportView(
        name=name or _name(report.repo.root),
        link_base=link_base,
        kind=kind,
        nothing_scanned=tally.nothing_scanned(report),
        counts=counts,
        confirmed=worst,
        review=review,
        accepted=accepted,
        outside=sorted(outside, key=fix_first_key),
        top=top_risks(worst),
        stride_groups=_by_stride(worst),
        system=system,
        mermaid=render_mermaid(f, system),
        routes=sorted(f.routes, key=lambda r: (r.path, r.method, r.location.path)),
        tables=sorted(f.tables, key=lambda t: t.name),
        buckets=sorted(f.buckets, key=lambda b: b.name),
        secrets=sorted(f.secrets, key=lambda s: (s.location.path, s.location.line, s.kind)),
        client_env=sorted((e for e in f.env_vars if e.client_exposed), key=lambda e: e.name),
        server_env=sorted((e for e in f.env_vars if not e.client_exposed), key=lambda e: e.name),
        fact_counts={
            # singular nouns: the template counts them with the plural filter
            "route": len(f.routes),
            "middleware": len(f.middleware),
            "table": len(f.tables),
            "bucket": len(f.buckets),
            "env var": len(f.env_vars),
            "secret": len(f.secrets),
            "dependency": len(f.dependencies),
            "setting": len(f.settings),
            "sink": len(f.sinks),
            "database function": len(f.functions),
        },
        unknown_auth=sum(1 for r in f.routes if r.auth.status.value == "unknown"),
        route_findings=_route_findings([*confirmed, *review], f),
    )


def _route_findings(findings: list[Finding], facts: Facts) -> dict[str, list[str]]:
    """Route id -> findings that reach it (``reach.routes_reaching``: the same answer the
    diff's escalation uses)."""
    out: dict[str, set[str]] = defaultdict(set)
    for x in findings:
        for r in routes_reaching(x, facts):
            out[f"{r.method} {r.path}"].add(x.id)
    return {k: sorted(v) for k, v in out.items()}


def _kind(f: Finding) -> str:
    return f.rule_id or ",".join(sorted({c.kind for c in f.claims})) or f.title


def top_risks(worst: list[Finding], n: int = 3) -> list[TopRisk]:
    """The ``n`` worst risks of different kinds, each with its look-alikes.

    Three hardcoded keys in one file are one thing to fix, not the three worst risks: the
    list names distinct problems (by rule, or by claim kind for LLM findings) in severity
    order, and says how many more places share each.
    """
    out: dict[str, TopRisk] = {}
    for f in worst:
        key = _kind(f)
        if key in out:
            out[key].similar.append(f)
        elif len(out) < n:
            out[key] = TopRisk(finding=f, similar=[])
    return list(out.values())


def _by_stride(findings: list[Finding]) -> list[StrideGroup]:
    """Each finding once, under its first STRIDE category, in STRIDE order."""
    groups: dict[str, list[Finding]] = defaultdict(list)
    for x in findings:
        key = STRIDE_TITLES[x.stride[0]] if x.stride else "Unclassified"
        groups[key].append(x)
    order = [*STRIDE_TITLES.values(), "Unclassified"]
    return [StrideGroup(title=t, findings=groups[t]) for t in order if groups.get(t)]


_STOP = frozenset({"the", "and", "for", "with", "from", "that", "this", "are", "was", "its", "not"})
_WORD = re.compile(r"[a-z_][a-z0-9_]{2,}")
_LOCATION = re.compile(r"\bat \S+:\d+\b|\S+:\d+")


def informative_notes(f: Finding) -> list[str]:
    """The finding's notes, less those that only say again what its title, attack, proof and
    evidence say ("confirmed: debug is true at app.py:76" under "Debug mode is on"): a note is
    kept when at least a third of its words are new."""
    known = " ".join(
        [f.title, f.attack or "", *(s.text for s in f.proof)]
        + [f"{e.path} {e.snippet}" for e in f.evidence]
    )
    seen = set(_WORD.findall(known.lower()))
    out = []
    for note in sorted(f.notes):
        body = _LOCATION.sub(" ", note.removeprefix("confirmed: ")).lower()
        words = [w for w in _WORD.findall(body) if w not in _STOP]
        new = [w for w in words if w not in seen]
        if not words or len(new) * 3 >= len(words):
            out.append(note)
    return out
