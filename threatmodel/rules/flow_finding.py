"""TM120 dataflow: a finding per unbroken flow the engine proved (``facts.flows``).

Injection kinds: a request value reaches the kind's sink with no sanitizer or guard for
that kind on the way; the flow's steps are the proof. Pattern kinds: MD5/SHA-1 in a
security context (weak_hash), a cookie without Secure (insecure_cookie), a ``random``
value stored as a security value (weak_random), request input stored in the session
(trust_boundary). Severity, CWE, STRIDE and the fix come from the claim registry.

Stored values: a value read back from the database or the app's own API (source kind
``database``) reaching, unbroken, a sink whose catalog row is marked ``stored`` (code run
whole, HTML with escaping switched off) is reported one severity lower, as a second-order
attack to review: whether a user can save what it holds is not followed (its verifier says
"needs review", never "confirmed").
"""

from __future__ import annotations

from threatmodel.claims import REGISTRY
from threatmodel.code.inline import is_view
from threatmodel.code.source import JS_LANGUAGES, detect_language
from threatmodel.dataflow.catalog import stored_sink
from threatmodel.dataflow.proof import describe, unbroken
from threatmodel.models import Claim, Facts, Finding, Flow, Severity, Stride
from threatmodel.reach import flow_routes
from threatmodel.rules._helpers import evidence
from threatmodel.rules.interface import Rule, RuleContext, register

BUILT = {
    "sql_injection": "SQL query",
    "command_injection": "shell command",
    "code_injection": "code",
}


def stored(flow: Flow) -> bool:
    """Is ``flow`` a stored value reaching, unbroken, a sink worth a review for it?"""
    if flow.broken_by is not None or flow.source_kind != "database":
        return False
    # the engine that matched the row read the source's file (a sink's line may be in the
    # view a JS handler renders: ``dataflow/jsviews.py``)
    at = flow.source_location.path
    lang = detect_language(at)
    js = lang in JS_LANGUAGES or is_view(at)  # a view's inline script is the JS engine's
    return stored_sink(flow.claim, flow.sink, "javascript" if js else lang)


def _lower(severity: str) -> Severity:
    order = ["info", "low", "medium", "high", "critical"]
    return Severity(order[max(order.index(severity) - 1, 0)])


@register
class FlowFinding(Rule):
    id = "TM120"
    name = "dataflow"

    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        out: list[Finding] = []
        seen: set[tuple[str, str, int]] = set()
        taken: set[str] = set()  # fingerprints given
        reaching_sink: dict[tuple[str, str, int], list[Flow]] = {}
        for flow in facts.flows:
            if unbroken(flow):
                key = (flow.claim, flow.sink_location.path, flow.sink_location.line)
                reaching_sink.setdefault(key, []).append(flow)
        # request input first: a sink it reaches is not reported again for a stored value
        for flow in sorted(facts.flows, key=lambda f: not unbroken(f)):
            spec = REGISTRY.get(flow.claim)
            key = (flow.claim, flow.sink_location.path, flow.sink_location.line)
            second = not unbroken(flow) and stored(flow)
            if spec is None or not (unbroken(flow) or second) or key in seen:
                continue
            seen.add(key)
            what = f"{flow.source} (line {flow.source_location.line})"
            reaching = flow_routes(flow, facts.routes, ctx.reader) if not second else []
            route = reaching[0] if reaching else None
            title = f"{spec.title}: {flow.sink} at line {flow.sink_location.line}" + (
                f" receives {what}" if spec.taint else ""
            )
            attack = (
                f"{describe(flow)}."
                if spec.taint
                else f"{spec.meaning.replace('`location`', 'this line')}."
            )
            severity = Severity(spec.severity)
            if second:
                title = f"{spec.title} (stored value): {title.partition(': ')[2]}"
                attack += (
                    " The value is read back from storage: whoever can save what it holds "
                    "(another user, an earlier request) has it run or trusted here."
                )
                severity = _lower(spec.severity)
            elif route is not None and flow.claim in BUILT:
                title = f"{route.method} {route.path} runs {BUILT[flow.claim]} built from input "
                title += f"({flow.sink})"
            elif route is not None:
                title = f"{route.method} {route.path}: {title}"
            if not second and spec.taint:
                attack += _also(flow, reaching_sink.get(key, []), facts, ctx)
            finding = Finding(
                title=title,
                severity=severity,
                stride=[Stride(s) for s in spec.stride],
                cwe=list(spec.cwe),
                source="rule",
                rule_id=self.id,
                claims=[Claim(kind=flow.claim, location=flow.sink_location)],  # type: ignore[arg-type]
                evidence=evidence(ctx, flow.sink_location),
                attack=attack,
                mitigation=spec.help,
            )
            if finding.fingerprint in taken:
                # another sink of this file reads the same (``return db.one(q);`` in two
                # query functions): a fingerprint quotes lines, not their numbers, so this
                # one quotes its source too (or, for a pattern found on the sink's own line,
                # the lines leading to it) and stays a finding of its own
                at, before = flow.source_location, 0
                if at == flow.sink_location:
                    before = min(2, at.line - 1)
                    at = at.model_copy(update={"line": at.line - before})
                more = [*finding.evidence, ctx.evidence_at(at, extra_lines=before)]
                finding = finding.model_copy(update={"evidence": more})
            taken.add(finding.fingerprint)
            out.append(finding)
        return out


def _also(flow: Flow, others: list[Flow], facts: Facts, ctx: RuleContext) -> str:
    """The other routes whose request input reaches the same sink unbroken: one finding
    per sink (a helper's shell call), naming every entry point that reaches it."""
    seen: set[str] = set()
    names: list[str] = []
    for other in others:
        if other.source_location == flow.source_location and other.source == flow.source:
            continue
        for r in flow_routes(other, facts.routes, ctx.reader)[:1]:
            name = f"{r.method} {r.path} ({other.source}, line {other.source_location.line})"
            if r.id not in seen:
                seen.add(r.id)
                names.append(name)
    return f" Also reached from {'; '.join(names)}." if names else ""
