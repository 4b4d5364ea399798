"""Plain-text listings of the facts and findings, for the slash commands and answers.

Each function returns (text, citations). Order is the report's (already sorted) or sorted
here, so the same repository always prints the same listing.
"""

from __future__ import annotations

from threatmodel.chat.types import Citation, cite
from threatmodel.models import Facts, Finding, Route, Table
from threatmodel.words import plural

Listing = tuple[str, list[Citation]]


def route_line(route: Route) -> tuple[str, Citation]:
    loc = route.location
    mech = f" ({route.auth.mechanism})" if route.auth.mechanism else ""
    text = (
        f"  {route.method:<7} {route.path}  [{route.auth.status.value}{mech}]  "
        f"{route.handler}  {loc.path}:{loc.line}"
    )
    return text, cite(loc.path, loc.line)


def routes(facts: Facts, only: set[str] | None = None) -> Listing:
    chosen = [r for r in facts.routes if only is None or r.auth.status.value in only]
    chosen.sort(key=lambda r: (r.path, r.method))
    if not facts.routes:
        return "No HTTP routes were found in this repository.", []
    lines, cites = [], []
    for r in chosen:
        text, c = route_line(r)
        lines.append(text)
        cites.append(c)
    head = f"{len(chosen)} of {plural(len(facts.routes), 'route')}"
    return head + (":\n" + "\n".join(lines) if lines else "."), cites


def policy_line(table: Table, idx: int) -> tuple[str, Citation | None]:
    p = table.policies[idx]
    roles = ", ".join(p.roles) if p.roles else "PUBLIC (every role)"
    cond = []
    if p.using:
        cond.append(f"USING ({p.using})")
    if p.check:
        cond.append(f"WITH CHECK ({p.check})")
    where = f"  {p.location.path}:{p.location.line}" if p.location else ""
    kind = " RESTRICTIVE" if p.restrictive else ""
    lets_all = "  <- lets every row through" if p.permissive else ""
    text = f'    policy "{p.name}"{kind}: {p.command} to {roles} {" ".join(cond)}{lets_all}{where}'
    return text, (cite(p.location.path, p.location.line) if p.location else None)


def tables(facts: Facts) -> Listing:
    if not facts.tables:
        return "No tables were found (no SQL schema, migrations or ORM models parsed).", []
    lines, cites = [f"{plural(len(facts.tables), 'table')}:"], []
    for t in sorted(facts.tables, key=lambda t: (t.name, t.source)):
        rls = {True: "RLS on", False: "RLS off", None: "no RLS semantics"}[t.rls_enabled]
        lines.append(
            f"  {t.name}  ({t.source}, {rls}, {plural(len(t.policies), 'policy')})  "
            f"{t.location.path}:{t.location.line}"
        )
        cites.append(cite(t.location.path, t.location.line))
        for i in range(len(t.policies)):
            text, c = policy_line(t, i)
            lines.append(text)
            if c:
                cites.append(c)
    return "\n".join(lines), cites


def finding_brief(index: int, f: Finding) -> str:
    where = f"  {f.evidence[0].path}:{f.evidence[0].start_line}" if f.evidence else ""
    return f"  {index:>3}. [{f.severity.value}] {f.title} ({f.verdict.value}, {f.id}){where}"


def findings(report_findings: list[Finding], suppressed: int) -> Listing:
    if not report_findings:
        text = "No findings."
    else:
        text = (
            f"{plural(len(report_findings), 'finding')} (`show finding N` for one):\n"
            + "\n".join(finding_brief(i, f) for i, f in enumerate(report_findings, 1))
        )
    if suppressed:
        text += f"\n{suppressed} more were suppressed (refuted by the verifiers)."
    cites = [
        cite(f.evidence[0].path, f.evidence[0].start_line) for f in report_findings if f.evidence
    ]
    return text, cites


def finding_detail(index: int, f: Finding) -> Listing:
    lines = [
        f"Finding {index}: {f.title}",
        f"  id {f.id}, severity {f.severity.value}, verdict {f.verdict.value}, "
        f"source {f.source}" + (f" ({f.rule_id})" if f.rule_id else ""),
    ]
    if f.stride:
        lines.append("  STRIDE: " + ", ".join(s.value for s in f.stride))
    if f.cwe:
        lines.append("  CWE: " + ", ".join(f.cwe))
    for c in f.claims:
        parts: list[str] = [c.kind]
        if c.route:
            parts.append(f"{c.route.method} {c.route.path}")
        if c.table:
            parts.append(f"table {c.table}")
        if c.name:
            parts.append(c.name)
        if c.location:
            parts.append(f"{c.location.path}:{c.location.line}")
        lines.append("  claim: " + " ".join(parts))
    cites = []
    for e in f.evidence:
        lines.append(f"  evidence {e.path}:{e.start_line}")
        lines += [f"    | {s}" for s in e.snippet.splitlines()[:12]]
        cites.append(Citation(e.path, e.start_line, "fact", e.end_line))
    for label, value in (("attack", f.attack), ("mitigation", f.mitigation), ("reason", f.reason)):
        if value:
            lines.append(f"  {label}: {value}")
    lines += [f"  note: {n}" for n in f.notes]
    if f.accepted:
        lines.append(f"  accepted in the baseline: {f.acceptance or ''}")
    return "\n".join(lines), cites


def secrets(facts: Facts) -> Listing:
    if not facts.secrets:
        return "No hardcoded secrets were found.", []
    lines = [f"{len(facts.secrets)} hardcoded secrets (values never shown; fingerprint only):"]
    cites = []
    for s in sorted(facts.secrets, key=lambda s: (s.location.path, s.location.line, s.name)):
        lines.append(
            f"  {s.kind:<16} {s.name}  {s.location.path}:{s.location.line}  sha256:{s.fingerprint}"
        )
        cites.append(cite(s.location.path, s.location.line))
    return "\n".join(lines), cites


def env_vars(facts: Facts) -> Listing:
    if not facts.env_vars:
        return "No environment variables read by the code were found.", []
    lines = [f"{len(facts.env_vars)} environment variables:"]
    cites = []
    for e in sorted(facts.env_vars, key=lambda e: e.name):
        exposed = "  CLIENT-EXPOSED" if e.client_exposed else ""
        locs = sorted(e.locations, key=lambda x: (x.path, x.line))
        where = ", ".join(f"{x.path}:{x.line}" for x in locs[:4])
        more = f" (+{len(locs) - 4} more)" if len(locs) > 4 else ""
        lines.append(f"  {e.name}{exposed}  {where}{more}")
        cites += [cite(x.path, x.line) for x in locs]
    return "\n".join(lines), cites
