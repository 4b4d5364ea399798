"""What THREAT_MODEL.md shows, precomputed from a Report so the template stays declarative.

Counts, the worst risks, findings grouped by STRIDE, sorted tables of entry points and data
stores, and links to ``path#Lline`` relative to where the report is written. Custom
``--template`` files receive the same ``view`` object next to ``report``.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from threatmodel.models import Finding, Location, Report, Severity, Stride, Verdict
from threatmodel.render.mermaid import render_mermaid
from threatmodel.render.system import SystemView, build_system
from threatmodel.render.text import repo_link

STRIDE_TITLES = {
    Stride.SPOOFING: "Spoofing",
    Stride.TAMPERING: "Tampering",
    Stride.REPUDIATION: "Repudiation",
    Stride.INFORMATION_DISCLOSURE: "Information disclosure",
    Stride.DENIAL_OF_SERVICE: "Denial of service",
    Stride.ELEVATION_OF_PRIVILEGE: "Elevation of privilege",
}
SEVERITIES = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO]

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
class StrideGroup:
    title: str
    findings: list[Finding]


@dataclass
class ReportView:
    name: str
    link_base: str
    counts: dict[str, dict[str, int]]  # severity -> {confirmed, review, accepted}
    confirmed: list[Finding]  # confirmed, not accepted: the threats to fix
    review: list[Finding]
    accepted: list[Finding]
    top: list[Finding]
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


def build_view(report: Report, link_base: str = "", name: str | None = None) -> ReportView:
    f = report.facts
    confirmed = [x for x in report.findings if x.verdict is Verdict.CONFIRMED and not x.accepted]
    review = [x for x in report.findings if x.verdict is Verdict.UNVERIFIABLE and not x.accepted]
    accepted = [x for x in report.findings if x.accepted]
    counts = {s.value: {"confirmed": 0, "review": 0, "accepted": 0} for s in SEVERITIES}
    for bucket, items in (("confirmed", confirmed), ("review", review), ("accepted", accepted)):
        for x in items:
            counts[x.severity.value][bucket] += 1
    worst = sorted(confirmed, key=lambda x: (-x.severity.rank, x.title, x.fingerprint))
    system = build_system(f)
    return ReportView(
        name=name or _name(report.repo.root),
        link_base=link_base,
        counts=counts,
        confirmed=worst,
        review=review,
        accepted=accepted,
        top=worst[:3],
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
            "routes": len(f.routes),
            "middleware": len(f.middleware),
            "tables": len(f.tables),
            "buckets": len(f.buckets),
            "env vars": len(f.env_vars),
            "secrets": len(f.secrets),
            "dependencies": len(f.dependencies),
            "settings": len(f.settings),
            "sinks": len(f.sinks),
            "database functions": len(f.functions),
        },
        unknown_auth=sum(1 for r in f.routes if r.auth.status.value == "unknown"),
        route_findings=_route_findings([*confirmed, *review]),
    )


def _route_findings(findings: list[Finding]) -> dict[str, list[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for x in findings:
        for c in x.claims:
            if c.route is not None:
                out[f"{c.route.method.upper()} {c.route.path}"].add(x.id)
    return {k: sorted(v) for k, v in out.items()}


def _by_stride(findings: list[Finding]) -> list[StrideGroup]:
    """Each finding once, under its first STRIDE category, in STRIDE order."""
    groups: dict[str, list[Finding]] = defaultdict(list)
    for x in findings:
        key = STRIDE_TITLES[x.stride[0]] if x.stride else "Unclassified"
        groups[key].append(x)
    order = [*STRIDE_TITLES.values(), "Unclassified"]
    return [StrideGroup(title=t, findings=groups[t]) for t in order if groups.get(t)]
