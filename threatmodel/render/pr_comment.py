"""The pull-request comment of ``threatmodel diff``: a verdict, the delta, the new findings.

Layout: one line of verdict; the table of architectural changes (risky ones first); the new
findings (escalated ones, already on the base but worse now, marked with the reason) with
links to their evidence at the head commit; everything else (resolved and
unchanged findings, suppressed LLM claims, how the LLM pass ran) folded in ``<details>``.
When nothing architectural changed the whole comment is one "architecture unchanged" line,
so pull requests that only touch styling or docs get no noise.

The hidden ``MARKER`` ends every comment so that re-runs find and edit it instead of adding
another. Every quoted name, path, expression and snippet comes from the pull request itself
(or from an LLM that read it) and is escaped: it cannot forge a section, inject HTML or links,
or @-mention anyone.
"""

from __future__ import annotations

from urllib.parse import quote

from threatmodel import tally
from threatmodel.delta import Change, DiffReport, Escalation
from threatmodel.models import Evidence, Finding, Location, Severity, Verdict
from threatmodel.render.text import code_span, fence, line_anchor, md_cell, md_code_cell, md_text
from threatmodel.words import plural

MARKER = "<!-- threatmodel-pr-comment -->"
MAX_TABLE_ROWS = 60  # the rest is folded; GitHub caps a comment at 65,536 characters
MAX_NEW_FINDINGS = 25
MAX_BODY = 60_000
ICON = {"critical": "🔴", "high": "🔴", "medium": "🟠", "low": "🟡", "info": "⚪"}


def _no_mention(text: str) -> str:
    # A word joiner after "@" keeps the text readable and stops GitHub from notifying anyone.
    return text.replace("@", "@\u2060")


def _cell(value: object) -> str:
    return _no_mention(md_cell(value))


def _code(value: object) -> str:
    return md_code_cell(value)


def _prose(value: object) -> str:
    return _no_mention(md_text(value))


class _Links:
    """Evidence links: to the commit on GitHub when the repository is known, else relative."""

    def __init__(self, report: DiffReport) -> None:
        self.report = report

    def url(self, path: str, start: int, end: int | None, at: str = "head") -> str:
        full = quote(self.report.path_prefix + path, safe="/._-~")
        anchor = line_anchor(start, end)
        if self.report.repo is None:
            return f"{full}{anchor}"
        sha = self.report.head.commit if at == "head" else self.report.base.commit
        repo = quote(self.report.repo, safe="/._-")
        return f"{self.report.server_url}/{repo}/blob/{sha}/{full}{anchor}"

    def link(self, path: str, start: int, end: int | None = None, at: str = "head") -> str:
        label = md_cell(f"{path}{line_anchor(start, end)}")
        return f"[{label}]({self.url(path, start, end, at)})"

    def location(self, loc: Location | None, at: str = "head") -> str:
        return "" if loc is None else self.link(loc.path, loc.line, None, at)

    def evidence(self, e: Evidence, at: str = "head") -> str:
        return self.link(e.path, e.start_line, e.end_line, at)


def _severity_counts(findings: list[Finding]) -> str:
    counts = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
    return ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)


def verdict(report: DiffReport) -> str:
    """The first line of the comment: what this pull request does to the threat model."""
    short = f"`{report.base.commit[:7]}`…`{report.head.commit[:7]}`"
    if not report.architecture_changed:
        return (
            f"⚪ **threatmodel**: architecture unchanged ({short}): no route, auth, middleware, "
            "schema, policy, bucket, env var, secret or dependency changed."
        )
    risky = [c for c in report.changes if c.risk]
    new = report.new_findings
    if any(f.severity.rank >= Severity.HIGH.rank for f in tally.open_threats(new)):
        icon = "🔴"
    elif risky or new:
        icon = "🟠"
    else:
        icon = "🟢"
    parts = [f"{plural(len(report.changes), 'architecture change')}"]
    if risky:
        parts[0] += f" ({len(risky)} raising risk)"
    worse = f", {len(report.escalated)} of them escalated" if report.escalated else ""
    parts.append(
        f"{plural(len(new), 'new finding')} ({_severity_counts(new)}{worse})"
        if new
        else "no new findings"
    )
    if report.resolved_findings:
        parts.append(f"{len(report.resolved_findings)} resolved")
    return f"{icon} **threatmodel** ({short}): " + "; ".join(parts) + "."


def _change_row(c: Change, links: _Links) -> str:
    flag = "⚠️" if c.risk else ""
    return (
        f"| {flag} | {c.area.replace('_', ' ')} | {c.action} | {_code(c.subject)} | "
        f"{_cell(c.detail)} | {links.location(c.location, c.at)} |"
    )


def _changes_table(changes: list[Change], links: _Links) -> list[str]:
    rows = ["| | area | change | what | detail | where |", "| --- | --- | --- | --- | --- | --- |"]
    return rows + [_change_row(c, links) for c in changes]


def _finding(
    f: Finding,
    links: _Links,
    at: str = "head",
    snippets: bool = True,
    escalated: Escalation | None = None,
) -> list[str]:
    state = "confirmed" if f.verdict is Verdict.CONFIRMED else "needs review"
    source = f.rule_id or f.source
    head = (
        f"- {ICON[f.severity.value]} **{f.severity.value.upper()}** · {_cell(f.title)} "
        f"· {state} · `{f.id}` ({_cell(source)})"
    )
    out = [head]
    if escalated is not None:
        out.append(
            f"  ⬆️ **Escalated**: already on the base branch, worse now: {_cell(escalated.reason)}"
        )
    if f.evidence:
        out.append("  " + " · ".join(links.evidence(e, at) for e in f.evidence[:3]))
    if snippets and f.evidence:
        first = f.evidence[0]
        snippet = "\n".join(first.snippet.splitlines()[:8])
        out += ["", *("  " + line for line in fence(snippet, first.path).splitlines())]
    if snippets and f.attack:
        out += ["", "  " + _prose(f.attack).replace("\n", "\n  ")]
    if snippets and f.mitigation:
        out += ["", "  **Fix:** " + _prose(f.mitigation).replace("\n", "\n  ")]
    return out


def _details(summary: str, lines: list[str]) -> list[str]:
    return ["", "<details>", f"<summary>{summary}</summary>", "", *lines, "", "</details>"]


def render_pr_comment(report: DiffReport) -> str:
    """The comment body (Markdown), ending with the hidden marker."""
    links = _Links(report)
    for compact in (False, True):
        out = [verdict(report)]
        if report.architecture_changed:
            out += _body(report, links, compact)
        text = "\n".join([*out, "", MARKER]) + "\n"
        if len(text) <= MAX_BODY:
            return text
    # Still too long (thousands of changes): the verdict alone, never a failed post.
    note = "_(too many changes to list here: run `threatmodel diff` locally for all of them)_"
    return "\n".join([verdict(report), "", note, "", MARKER]) + "\n"


def _body(report: DiffReport, links: _Links, compact: bool = False) -> list[str]:
    out: list[str] = []
    if report.changes:
        shown = report.changes[: MAX_TABLE_ROWS // 3 if compact else MAX_TABLE_ROWS]
        out += ["", "#### What changed in the architecture", ""]
        out += _changes_table(shown, links)
        if len(report.changes) > len(shown) and not compact:
            rest = report.changes[len(shown) :]
            out += _details(f"{len(rest)} more changes", _changes_table(rest, links))
    if report.new_findings:
        out += ["", "#### New findings", ""]
        worse = {e.fingerprint: e for e in report.escalated}
        for f in report.new_findings[:MAX_NEW_FINDINGS]:
            up = worse.get(f.fingerprint)
            out += [*_finding(f, links, snippets=not compact, escalated=up), ""]
        rest_f = report.new_findings[MAX_NEW_FINDINGS:]
        if rest_f:
            more = [
                line
                for f in rest_f
                for line in _finding(f, links, snippets=False, escalated=worse.get(f.fingerprint))
            ]
            out += _details(f"{len(rest_f)} more new findings", more)
    if compact:
        return out
    if report.resolved_findings:
        lines = [ln for f in report.resolved_findings for ln in _finding(f, links, "base", False)]
        out += _details(f"Resolved findings ({len(report.resolved_findings)})", lines)
    if report.unchanged_findings:
        lines = [ln for f in report.unchanged_findings for ln in _finding(f, links, "head", False)]
        out += _details(f"Findings already there before ({len(report.unchanged_findings)})", lines)
    if report.suppressed:
        lines = [f"- {_cell(f.title)}: {_cell(f.reason or 'refuted')}" for f in report.suppressed]
        out += _details(f"LLM claims refuted by the verifiers ({len(report.suppressed)})", lines)
    out += _details("How this was checked", _how(report))
    return out


def _how(report: DiffReport) -> list[str]:
    s = report.stats
    lines = [
        f"- Compared {code_span(report.base.ref)} (`{report.base.commit[:12]}`) with "
        f"{code_span(report.head.ref)} (`{report.head.commit[:12]}`); "
        f"{plural(len(report.changed_files), 'file')} changed.",
        "- Facts come from parsers and findings from rules; every finding was verified "
        "against the code at the head commit.",
    ]
    if report.llm.status == "skipped":
        lines.append(f"- {_prose(report.llm.message or 'LLM pass skipped.')}")
    else:
        focus = ", ".join(report.llm_focus[:10]) + (" …" if len(report.llm_focus) > 10 else "")
        lines.append(
            f"- LLM pass ({report.llm.status}, {_cell(report.llm.model or '')}) on the changed "
            f"components only ({_cell(focus)}): {s.llm_calls} calls, "
            f"{s.input_tokens + s.output_tokens} tokens, ${s.cost_usd:.4f}."
        )
    lines += [f"- warning: {_prose(w)}" for w in report.warnings]
    return lines
