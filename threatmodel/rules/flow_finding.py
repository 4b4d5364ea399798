"""TM120 dataflow: a finding per unbroken flow the engine proved (``facts.flows``).

Injection kinds: a request value reaches the kind's sink with no sanitizer or guard for
that kind on the way; the flow's steps are the proof. Pattern kinds: MD5/SHA-1 in a
security context (weak_hash), a cookie without Secure (insecure_cookie), a ``random``
value stored as a security value (weak_random), request input stored in the session
(trust_boundary). Severity, CWE, STRIDE and the fix come from the claim registry.
"""

from __future__ import annotations

from threatmodel.claims import REGISTRY
from threatmodel.dataflow.proof import describe
from threatmodel.models import Claim, Facts, Finding, Flow, Severity, Stride
from threatmodel.reach import flow_routes
from threatmodel.rules._helpers import evidence
from threatmodel.rules.interface import Rule, RuleContext, register

# Which source kinds make a flow a finding, per claim kind (others: request input only).
FINDING_SOURCES = {
    "weak_hash": "pattern",
    "insecure_cookie": "pattern",
    "weak_random": "random",
}


BUILT = {
    "sql_injection": "SQL query",
    "command_injection": "shell command",
    "code_injection": "code",
}


def unbroken(flow: Flow) -> bool:
    """Does ``flow`` carry its kind's source to the sink with nothing making it safe?"""
    return flow.broken_by is None and flow.source_kind == FINDING_SOURCES.get(flow.claim, "request")


def proves(flow: Flow) -> bool:
    """Is ``flow`` by itself proof of its claim kind? Not when it rests on a call into the
    repository's own code that the engine could not resolve (DESIGN "Verdicts mean proof"):
    such a flow is still a finding, for review, with that link named."""
    return unbroken(flow) and not flow.unresolved


@register
class FlowFinding(Rule):
    id = "TM120"
    name = "dataflow"

    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        out: list[Finding] = []
        seen: set[tuple[str, str, int]] = set()
        for flow in facts.flows:
            spec = REGISTRY.get(flow.claim)
            key = (flow.claim, flow.sink_location.path, flow.sink_location.line)
            if spec is None or not unbroken(flow) or key in seen:
                continue
            seen.add(key)
            what = f"{flow.source} (line {flow.source_location.line})"
            reaching = flow_routes(flow, facts.routes, ctx.reader)
            route = reaching[0] if reaching else None
            title = f"{spec.title}: {flow.sink} at line {flow.sink_location.line}" + (
                f" receives {what}" if spec.taint else ""
            )
            if route is not None and flow.claim in BUILT:
                title = f"{route.method} {route.path} runs {BUILT[flow.claim]} built from input "
                title += f"({flow.sink})"
            elif route is not None:
                title = f"{route.method} {route.path}: {title}"
            out.append(
                Finding(
                    title=title,
                    severity=Severity(spec.severity),
                    stride=[Stride(s) for s in spec.stride],
                    cwe=list(spec.cwe),
                    source="rule",
                    rule_id=self.id,
                    claims=[Claim(kind=flow.claim, location=flow.sink_location)],  # type: ignore[arg-type]
                    evidence=evidence(ctx, flow.sink_location),
                    attack=(
                        f"{describe(flow)}."
                        if spec.taint
                        else f"{spec.meaning.replace('`location`', 'this line')}."
                    ),
                    mitigation=spec.help,
                )
            )
        return out
