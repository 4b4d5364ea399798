"""Read findings to verify from any source: this tool's JSON, a bare array, or SARIF 2.1.0.

The file is untrusted (another tool's output, an LLM's answer): nothing in it is executed
or read from disk here, paths stay strings until ``RepoReader`` checks them, and a
malformed finding never sinks the batch. It is loaded leniently, keeps its ``id``, and a
part that cannot be a claim or evidence is reported on the finding instead (a malformed
evidence line refutes it; an unknown claim kind makes it at best unverifiable).

SARIF results become findings with ``source="external"``: evidence from each location's
region (and its snippet when present), severity from ``security-severity`` or the level,
and a claim kind guessed from the rule id, tags, CWE and message where they say clearly
what the result is about (``CWE-89`` / "sql" -> ``sql_injection`` ...). Route kinds get the
route whose handler the location falls in. Nothing guessable: no claim, so unverifiable.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlparse

from pydantic import ValidationError

from threatmodel.claims import REGISTRY
from threatmodel.errors import InputFormatError
from threatmodel.models import (
    CLAIM_KINDS,
    Claim,
    Evidence,
    Facts,
    Finding,
    Location,
    RouteRef,
    Severity,
    Stride,
)

ROUTE_KINDS = frozenset(
    {"route_unauthenticated", "missing_authorization", "csrf_missing", "missing_rate_limit"}
)
CWE_KINDS = {
    "89": "sql_injection",
    "564": "sql_injection",
    "943": "sql_injection",
    "78": "command_injection",
    "77": "command_injection",
    "94": "command_injection",
    "95": "command_injection",
    "798": "hardcoded_secret",
    "259": "hardcoded_secret",
    "321": "hardcoded_secret",
    "918": "ssrf",
    "601": "open_redirect",
    "79": "xss",
    "80": "xss",
    "352": "csrf_missing",
    "915": "mass_assignment",
    "489": "debug_enabled",
    "215": "debug_enabled",
    "11": "debug_enabled",
    "347": "weak_jwt",
    "942": "cors_misconfigured",
    "306": "route_unauthenticated",
    "862": "missing_authorization",
    "863": "missing_authorization",
    "639": "missing_authorization",
    "307": "missing_rate_limit",
    "770": "missing_rate_limit",
    "209": "info_leak",
}
# Kinds of the claim registry, by their CWEs (registry first: CWE-94 is code injection).
CWE_KINDS.update(
    {cwe.removeprefix("CWE-"): kind for kind, spec in REGISTRY.items() for cwe in spec.cwe}
)
CWE_KINDS.update({"327": "weak_hash", "338": "weak_random", "1336": "template_injection"})
# Bandit test ids whose CWE is too broad to say the kind (XML parsing is CWE-20).
BANDIT_KINDS = {
    **{f"B{n}": "xxe" for n in (*range(313, 321), *range(405, 412))},
    **{"B506": "insecure_deserialization", "B301": "insecure_deserialization"},
    **{"B403": "insecure_deserialization", "B302": "insecure_deserialization"},
    **{"B102": "code_injection", "B307": "code_injection", "B311": "weak_random"},
    **{"B303": "weak_hash", "B324": "weak_hash", "B608": "sql_injection"},
    **{f"B{n}": "command_injection" for n in (404, 602, 603, 604, 605, 606, 607, 609)},
    **{"B310": "ssrf", "B701": "template_injection", "B702": "template_injection"},
}
# Words in rule ids / tags / messages, most specific first. Bandit ids are included.
WORD_KINDS: list[tuple[tuple[str, ...], str]] = [
    (("sql", "sqli", "b608", "nosql"), "sql_injection"),
    (("command-inject", "os-command", "subprocess", "shell", "b602", "b605"), "command_injection"),
    (("eval", "code-injection"), "code_injection"),
    (("ssrf", "server-side-request"), "ssrf"),
    (("open-redirect", "openredirect", "unvalidated-redirect"), "open_redirect"),
    (("xss", "cross-site-scripting", "html-injection"), "xss"),
    (("csrf",), "csrf_missing"),
    (("jwt",), "weak_jwt"),
    (("cors",), "cors_misconfigured"),
    (("debug", "b201"), "debug_enabled"),
    (("mass-assignment", "mass_assignment"), "mass_assignment"),
    (("hardcoded", "hard-coded", "secret", "password", "b105", "b106", "b107"), "hardcoded_secret"),
    (("rate-limit", "ratelimit", "brute"), "missing_rate_limit"),
]  # fmt: skip
LEVEL_SEVERITY = {"error": Severity.HIGH, "warning": Severity.MEDIUM, "note": Severity.LOW}
_CWE = re.compile(r"CWE[-_ ]?(\d+)", re.I)


@dataclass
class Loaded:
    """One input finding, ready to verify, and what was wrong with its input."""

    finding: Finding
    refute: str | None = None  # the input itself is impossible (e.g. evidence line 0)
    unknown_kinds: list[str] = field(default_factory=list)


def load_findings(text: str, root: Path, facts: Facts) -> tuple[str, list[Loaded]]:
    """(format, findings) from a findings file's text; InputFormatError when unreadable."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFormatError(
            f"findings file is not JSON ({exc.msg} at line {exc.lineno}); pass this tool's "
            "JSON report, a JSON array of findings, or SARIF 2.1.0."
        ) from None
    if isinstance(doc, dict) and "runs" in doc and str(doc.get("version", "")).startswith("2."):
        return "sarif", _sarif(doc, root, facts)
    if isinstance(doc, dict) and isinstance(doc.get("findings"), list):
        items = [*doc["findings"], *(doc.get("suppressed") or [])]
        _check_entries(items, "its 'findings'")
        return "threatmodel", [_own(item, i) for i, item in enumerate(items)]
    if isinstance(doc, list):
        _check_entries(doc, "the array")
        return "array", [_own(item, i) for i, item in enumerate(doc)]
    raise InputFormatError(
        "findings file has no 'findings' array and is not SARIF 2.1.0 (no 'runs'); pass this "
        "tool's JSON report, a JSON array of findings, or a SARIF 2.1.0 log."
    )


# --------------------------------------------------------------------------- this tool's JSON

# A finding names at least one of these; an entry with none of them is not a finding at all.
FINDING_FIELDS = ("title", "claims", "evidence")


def _check_entries(items: list[Any], where: str) -> None:
    """InputFormatError naming the entries that are not findings at all.

    A finding with a defect (a bad evidence line, an unknown claim kind) is still a finding:
    it is loaded and refuted or left for review with the reason. A number, a string or an
    object without a title, claims or evidence is not one; counting it as a "suppressed
    claim" would report a verdict on nothing, so the whole file is refused instead.
    """
    bad = [
        f"entry {i + 1} is {_what(item)}"
        for i, item in enumerate(items)
        if not isinstance(item, dict) or not any(k in item for k in FINDING_FIELDS)
    ]
    if bad:
        more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
        raise InputFormatError(
            f"findings file: {'; '.join(bad[:3])}{more} in {where}; each finding is a JSON "
            "object with a title, claims and evidence (see `threatmodel schema`), or pass "
            "a SARIF 2.1.0 log."
        )


def _what(item: Any) -> str:
    if isinstance(item, dict):
        keys = ", ".join(sorted(str(k) for k in item)[:4]) or "no keys"
        return f"an object without title, claims or evidence ({keys})"
    kind = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    name = "null" if item is None else kind.get(type(item), "a list")
    return f"{name} ({json.dumps(item)[:40]})"


def _own(item: dict[str, Any], index: int) -> Loaded:
    fid = str(item.get("id") or f"F{index + 1}")
    source: Literal["llm", "rule", "external"] = (
        item["source"] if item.get("source") in ("llm", "rule", "external") else "external"
    )
    claims, unknown, refute = [], [], None
    for n, raw in enumerate(item.get("claims") or []):
        if not isinstance(raw, dict) or raw.get("kind") not in CLAIM_KINDS:
            unknown.append(str(raw.get("kind") if isinstance(raw, dict) else raw))
            continue
        try:
            claims.append(
                Claim.model_validate({k: v for k, v in raw.items() if k in Claim.model_fields})
            )
        except ValidationError as exc:
            refute = refute or f"claim {n + 1} is malformed: {_first_error(exc)}"
    evidence = []
    for n, raw in enumerate(item.get("evidence") or []):
        try:
            evidence.append(Evidence.model_validate(_evidence_fields(raw)))
        except (ValidationError, TypeError) as exc:
            why = _first_error(exc) if isinstance(exc, ValidationError) else "not an object"
            refute = refute or f"evidence {n + 1} is malformed: {why}"
    finding = Finding(
        id=fid,
        title=str(item.get("title") or fid)[:300],
        severity=_severity(item.get("severity")),
        stride=[Stride(s) for s in item.get("stride") or [] if s in Stride._value2member_map_],
        cwe=[str(c) for c in item.get("cwe") or []],
        source=source,
        rule_id=item.get("rule_id") if isinstance(item.get("rule_id"), str) else None,
        claims=claims,
        evidence=evidence,
        attack=str(item.get("attack") or ""),
        mitigation=str(item.get("mitigation") or ""),
    )
    return Loaded(finding, refute, unknown)


def _evidence_fields(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise TypeError("evidence is not an object")
    out = {k: raw[k] for k in ("path", "start_line", "end_line", "snippet") if k in raw}
    out.setdefault("end_line", out.get("start_line"))
    out.setdefault("snippet", "")
    return out


def _first_error(exc: ValidationError) -> str:
    e = exc.errors()[0]
    return f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"


def _severity(value: Any) -> Severity:
    try:
        return Severity(str(value).lower())
    except ValueError:
        return Severity.MEDIUM


# --------------------------------------------------------------------------- SARIF 2.1.0


def _sarif(doc: dict[str, Any], root: Path, facts: Facts) -> list[Loaded]:
    out: list[Loaded] = []
    for r_index, run in enumerate(doc.get("runs") or []):
        if not isinstance(run, dict):
            continue
        rules = _rules(run)
        for index, result in enumerate(run.get("results") or []):
            if isinstance(result, dict):
                out.append(_result(result, r_index, index, rules, root, facts))
    return out


def _rules(run: dict[str, Any]) -> list[dict[str, Any]]:
    tool = run.get("tool") or {}
    found = list((tool.get("driver") or {}).get("rules") or [])
    for ext in tool.get("extensions") or []:
        found.extend(ext.get("rules") or [])
    return [r for r in found if isinstance(r, dict)]


def _result(
    result: dict[str, Any],
    run: int,
    index: int,
    rules: list[dict[str, Any]],
    root: Path,
    facts: Facts,
) -> Loaded:
    rule = _rule_of(result, rules)
    rule_id = str(result.get("ruleId") or rule.get("id") or "result")
    message = str((result.get("message") or {}).get("text") or "")
    props = {**(rule.get("properties") or {}), **(result.get("properties") or {})}
    tags = [str(t) for t in props.get("tags") or []]
    title = message.split("\n", 1)[0][:200] or str(
        (rule.get("shortDescription") or {}).get("text") or rule_id
    )
    evidence, refute = [], None
    for n, loc in enumerate(result.get("locations") or []):
        try:
            evidence.append(_evidence(loc, root))
        except (KeyError, TypeError, ValueError, ValidationError):
            refute = refute or f"location {n + 1} has no usable file and line"
    cwes = sorted({f"CWE-{int(m)}" for t in [*tags, rule_id, message] for m in _CWE.findall(t)})
    kind = guess_kind(rule_id, tags, cwes, message)
    claims = []
    if kind is not None and evidence:
        first = Location(path=evidence[0].path, line=evidence[0].start_line)
        route = _route_at(facts, first) if kind in ROUTE_KINDS else None
        claims.append(Claim(kind=kind, location=first, route=route))  # type: ignore[arg-type]
    fid = str(result.get("guid") or result.get("correlationGuid") or f"{rule_id}#{run}.{index}")
    finding = Finding(
        id=fid,
        title=title,
        severity=_sarif_severity(result, rule, props),
        cwe=cwes,
        source="external",
        rule_id=rule_id,
        claims=claims,
        evidence=evidence,
        attack=message,
    )
    return Loaded(finding, refute)


def _rule_of(result: dict[str, Any], rules: list[dict[str, Any]]) -> dict[str, Any]:
    index = result.get("ruleIndex")
    if isinstance(index, int) and 0 <= index < len(rules):
        return rules[index]
    rid = result.get("ruleId") or (result.get("rule") or {}).get("id")
    return next((r for r in rules if r.get("id") == rid), {})


def _evidence(loc: dict[str, Any], root: Path) -> Evidence:
    phys = loc["physicalLocation"]
    uri = str(phys["artifactLocation"]["uri"])
    region = phys.get("region") or {}
    start = int(region["startLine"])
    end = int(region.get("endLine") or start)
    snippet = str((region.get("snippet") or {}).get("text") or "")
    return Evidence(
        path=_relative(uri, root), start_line=start, end_line=max(end, start), snippet=snippet
    )


def _relative(uri: str, root: Path) -> str:
    """A repo-relative path for a SARIF URI; absolute paths outside the root stay absolute
    (and are refused by RepoReader)."""
    parsed = urlparse(uri)
    path = unquote(parsed.path) if parsed.scheme in ("file", "") else uri
    prefix = str(root.resolve()).rstrip("/") + "/"
    if path.startswith(prefix):
        return path[len(prefix) :]
    return path.removeprefix("./")


def _sarif_severity(
    result: dict[str, Any], rule: dict[str, Any], props: dict[str, Any]
) -> Severity:
    score = props.get("security-severity")
    try:
        value = float(score) if score is not None else None
    except (TypeError, ValueError):
        value = None
    if value is not None:
        for floor, sev in ((9.0, Severity.CRITICAL), (7.0, Severity.HIGH), (4.0, Severity.MEDIUM)):
            if value >= floor:
                return sev
        return Severity.LOW
    level = (
        result.get("level") or (rule.get("defaultConfiguration") or {}).get("level") or "warning"
    )
    return LEVEL_SEVERITY.get(str(level), Severity.MEDIUM)


def guess_kind(rule_id: str, tags: list[str], cwes: list[str], message: str) -> str | None:
    """The claim kind a SARIF result is about, or None when nothing says so clearly."""
    if rule_id in BANDIT_KINDS:
        return BANDIT_KINDS[rule_id]
    for cwe in cwes:
        kind = CWE_KINDS.get(cwe.split("-")[-1])
        if kind is not None:
            return kind
    for text in (rule_id, " ".join(tags), message):
        lowered = text.lower().replace("_", "-")
        for words, kind in WORD_KINDS:
            if any(w in lowered for w in words):
                return kind
    return None


def _route_at(facts: Facts, loc: Location) -> RouteRef | None:
    """The route whose handler starts at or just above ``loc`` in the same file."""
    same = [r for r in facts.routes if r.location.path == loc.path and r.location.line <= loc.line]
    if not same:
        return None
    best = max(same, key=lambda r: r.location.line)
    close = loc.line - best.location.line <= 15
    return RouteRef(method=best.method, path=best.path) if close else None
