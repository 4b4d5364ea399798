"""SARIF 2.1.0 for code-scanning tools (GitHub code scanning ingests it as uploaded).

One result per confirmed finding. Its first evidence is the primary location, the others are
related locations; every region carries the (redacted) quoted lines. Rules: a rule finding
uses its registered rule (id ``TM1xx``, help text from the rule module's docstring); a
finding from the LLM or another tool is grouped under a rule per claim kind
(``claim/sql_injection``) whose help comes from render/kinds.py. CWE ids are tagged the
way GitHub reads them (``external/cwe/cwe-89``), and ``security-severity`` lets GitHub rank
alerts. ``partialFingerprints`` carry the finding's line-independent fingerprint, so an alert
keeps its identity when code moves. A finding accepted in the baseline keeps its result with
a SARIF ``suppressions`` entry (status ``accepted``, the justification), so code scanning
shows it as dismissed rather than new. Unverifiable findings and refuted claims are not
results: they are not established problems in the code.
"""

from __future__ import annotations

import json
import sys
from typing import Any
from urllib.parse import quote

from threatmodel import __version__
from threatmodel.models import Evidence, Finding, Location, Report, Severity, Verdict
from threatmodel.render.kinds import kind_help
from threatmodel.rules.interface import all_rules

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
FINGERPRINT_KEY = "threatmodelFingerprint/v1"
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub maps security-severity to critical (>= 9.0), high (7.0-8.9), medium (4.0-6.9), low.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}


def rule_id(f: Finding) -> str:
    if f.source == "rule" and f.rule_id:
        return f.rule_id
    kinds = sorted({c.kind for c in f.claims})
    return f"claim/{kinds[0]}" if kinds else "claim/unclassified"


def _rule_docs() -> dict[str, tuple[str, str]]:
    """Registered rule id -> (name, help text from the rule module's docstring)."""
    docs = {}
    for rule in all_rules():
        module = sys.modules.get(type(rule).__module__)
        docs[rule.id] = (rule.name, ((module.__doc__ if module else "") or "").strip())
    return docs


def _cwe_tags(cwes: set[str]) -> list[str]:
    tags = set()
    for c in cwes:
        num = c.upper().removeprefix("CWE-")
        if num.isdigit():
            tags.add(f"external/cwe/cwe-{int(num)}")
    return sorted(tags)


def _rule(rid: str, findings: list[Finding], docs: dict[str, tuple[str, str]]) -> dict[str, Any]:
    worst = max((f.severity for f in findings), key=lambda s: s.rank, default=Severity.MEDIUM)
    cwes = {c for f in findings for c in f.cwe}
    if rid in docs:
        name, help_text = docs[rid]
        short = help_text.split("\n", 1)[0].split(":", 1)[-1].strip() or name
        full = help_text.split("\n\n")[1] if "\n\n" in help_text else short
    else:
        # A claim-kind rule, or a rule id no longer registered: explain its claims' kind.
        kinds = sorted({c.kind for f in findings for c in f.claims})
        kind = rid.removeprefix("claim/") if rid.startswith("claim/") or not kinds else kinds[0]
        short, help_text, cwe = kind_help(kind)
        name, full = kind, help_text or short
        help_text = help_text or short
        if cwe:
            cwes.add(cwe)
    full = " ".join(full.split())
    return {
        "id": rid,
        "name": name,
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": LEVEL[worst.value]},
        "properties": {
            "tags": ["security", *_cwe_tags(cwes)],
            "precision": "high",
            "problem.severity": "error" if worst.rank >= Severity.HIGH.rank else "warning",
            "security-severity": SECURITY_SEVERITY[worst.value],
        },
    }


def _physical(path: str, start: int, end: int | None, snippet: str | None) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": start}
    if end and end > start:
        region["endLine"] = end
    if snippet:
        region["snippet"] = {"text": snippet}
    return {
        "physicalLocation": {
            # A relative URI reference: spaces and other reserved characters percent-encoded.
            "artifactLocation": {"uri": quote(path, safe="/"), "uriBaseId": "%SRCROOT%"},
            "region": region,
        }
    }


def _locations(f: Finding, report: Report) -> list[dict[str, Any]]:
    """Evidence first; a finding without evidence falls back to its claims' locations."""
    out = [_physical(e.path, e.start_line, e.end_line, e.snippet) for e in _sorted_ev(f.evidence)]
    if out:
        return out
    routes = {(r.method, r.path): r.location for r in report.facts.routes}
    places: list[Location] = []
    for c in f.claims:
        if c.location is not None:
            places.append(c.location)
        elif c.route is not None and (c.route.method.upper(), c.route.path) in routes:
            places.append(routes[(c.route.method.upper(), c.route.path)])
    uniq = sorted({(p.path, p.line) for p in places})
    return [_physical(path, line, None, None) for path, line in uniq]


def _sorted_ev(evidence: list[Evidence]) -> list[Evidence]:
    # The first evidence is the one the finding leads with (e.g. the route); keep it first.
    return evidence[:1] + sorted(evidence[1:], key=lambda e: (e.path, e.start_line, e.end_line))


def _result(f: Finding, rid: str, index: int, report: Report) -> dict[str, Any]:
    text = f.title.rstrip(".") + "."
    if f.attack:
        text += " " + f.attack.strip()
    if f.mitigation:
        text += " Mitigation: " + f.mitigation.strip()
    locations = _locations(f, report)
    result: dict[str, Any] = {
        "ruleId": rid,
        "ruleIndex": index,
        "level": LEVEL[f.severity.value],
        "kind": "fail",
        "message": {"text": text},
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": {
            "id": f.id,
            "severity": f.severity.value,
            "stride": [s.value for s in f.stride],
            "cwe": sorted(f.cwe),
            "source": f.source,
            "claims": sorted({c.kind for c in f.claims}),
            "scope": f.scope,
        },
    }
    if locations:
        result["locations"] = locations[:1]
    related = [{**loc, "message": {"text": "Further evidence"}} for loc in locations[1:]] + [
        {
            **_physical(s.location.path, s.location.line, None, None),
            "message": {"text": f"{s.kind}: {s.text}"},
        }
        for s in f.proof
        if s.location is not None
    ]
    if related:
        result["relatedLocations"] = [{**r, "id": i} for i, r in enumerate(related, start=1)]
    if f.proof:
        result["codeFlows"] = [_code_flow(f)]
    if f.accepted:
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": f.acceptance or "accepted in the threatmodel baseline",
            }
        ]
    return result


def _code_flow(f: Finding) -> dict[str, Any]:
    """The proof chain as one SARIF thread flow, link by link (``kinds`` names the link)."""
    steps = []
    for step in f.proof:
        loc: dict[str, Any] = {"message": {"text": step.text}}
        if step.location is not None:
            loc.update(_physical(step.location.path, step.location.line, None, None))
        steps.append({"location": loc, "kinds": [step.kind]})
    return {
        "message": {"text": "Proof chain"},
        "threadFlows": [{"locations": steps}],
    }


def render_sarif(report: Report) -> str:
    confirmed = [f for f in report.findings if f.verdict is Verdict.CONFIRMED]
    by_rule: dict[str, list[Finding]] = {}
    for f in confirmed:
        by_rule.setdefault(rule_id(f), []).append(f)
    docs = _rule_docs()
    ids = sorted(by_rule)
    rules = [_rule(rid, by_rule[rid], docs) for rid in ids]
    index = {rid: i for i, rid in enumerate(ids)}
    ordered = sorted(confirmed, key=lambda f: (-f.severity.rank, rule_id(f), f.fingerprint))
    results = [_result(f, rule_id(f), index[rule_id(f)], report) for f in ordered]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "threatmodel",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": rules,
            }
        },
        "automationDetails": {"id": "threatmodel/"},
        "originalUriBaseIds": {
            "%SRCROOT%": {"description": {"text": "The root of the scanned repository."}}
        },
        "columnKind": "unicodeCodePoints",
        "results": results,
        "properties": {
            "llm": {"status": report.llm.status, "model": report.llm.model},
            "verifier": report.stats.verifier.model_dump(),
            "suppressedClaims": len(report.suppressed),
            "needsReview": sum(1 for f in report.findings if f.verdict is Verdict.UNVERIFIABLE),
        },
    }
    if report.repo.commit:
        run["properties"]["commit"] = report.repo.commit
    doc = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
