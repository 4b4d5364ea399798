"""Claims the dataflow engine decides: one verifier per claim-registry kind, reading flows.

For a claim at ``path:line`` the flows of its kind that touch that line (sink, source or a
step) decide (``facts.flows``, see ``threatmodel.dataflow``):

- confirmed: an unbroken flow from request input to the kind's sink (for pattern kinds:
  the pattern flow: MD5 in a security context, a cookie without Secure, a ``random`` value
  stored as a security value);
- refuted: every flow there is broken, and the reason names the break: the value is a
  constant, a sanitizer or guard makes it safe for this kind, or it comes only from the
  database / configuration, not from the request;
- unverifiable: the engine knows no sink of this kind at the line (an import, an idiom the
  catalog lacks), or the file was not parsed; or a stored value reaches a sink its catalog
  row marks ``stored`` (who can save that value is not followed: needs review, never refuted
  on "not request input"); or the flow is unbroken but passes through a call into the
  repository's own code the engine could not resolve (``Flow.unresolved``, named as the
  missing link), or past a yes/no check of the repository's whose meaning it cannot read
  (``Flow.unread_checks``: whether the check stops an attack is the reviewer's call).

Every kind of the registry is decided here, in Python and JavaScript / TypeScript alike.
command_injection, sql_injection, xss, ssrf and open_redirect also have a line verifier
(``LINE``): where no flow touches the cited line (an idiom the engines do not follow), it
still answers.
"""

from __future__ import annotations

import re

from threatmodel.claims import REGISTRY
from threatmodel.dataflow.proof import FINDING_SOURCES, describe, proof_steps, proves, unbroken
from threatmodel.models import Claim, Finding, Flow, ProofStep, Route
from threatmodel.reach import flow_routes, openness
from threatmodel.rules.flow_finding import stored
from threatmodel.verify._code import line_text, locations
from threatmodel.verify._command_line import CommandInjection
from threatmodel.verify._proof import route_chain
from threatmodel.verify._redirect_line import OpenRedirect
from threatmodel.verify._sql_line import SqlInjection
from threatmodel.verify._ssrf_line import Ssrf
from threatmodel.verify._xss_line import Xss
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register

IMPORT = re.compile(r"\s*(import|from)\s+[\w.]+")
NEAR = 0  # the call's own line; the assignments of its arguments are steps
LINE: dict[str, type[Verifier]] = {
    "command_injection": CommandInjection,
    "sql_injection": SqlInjection,
    "xss": Xss,
    "ssrf": Ssrf,
    "open_redirect": OpenRedirect,
}  # a tool may cite the statement's first line or the call's


def _touches(flow: Flow, path: str, line: int) -> bool:
    if flow.sink_location.path == path and abs(flow.sink_location.line - line) <= NEAR:
        return True
    return any(s.path == path and s.line == line for s in flow.steps)


def _why_not(flow: Flow) -> str:
    where = f"{flow.sink} at {flow.sink_location.path}:{flow.sink_location.line}"
    if flow.source_kind == "safe_call":
        return f"{where} is safe as called: {flow.broken_by}"
    if flow.source_kind == "constant":
        extra = (flow.broken_by or "").partition("; ")[2]
        return f"{where} receives a constant value" + (f" ({extra})" if extra else "")
    if flow.broken_by is not None:
        return (
            f"the {flow.source} value (line {flow.source_location.line}) reaching {where} "
            f"is made safe by {flow.broken_by}"
        )
    wanted = FINDING_SOURCES.get(flow.claim, "request")
    return (
        f"{where} receives {flow.source_kind} data ({flow.source}, line "
        f"{flow.source_location.line}), not {wanted} input"
    )


def chain(flow: Flow, routes: list[Route], ctx: VerifyContext) -> tuple[ProofStep, ...]:
    """The flow's proof chain, led by the route whose handler reads the source (``routes``,
    most open first): route → guard (or why there is none) → handler → the flow's lines →
    sink. A source outside every route handler (a helper, a worker) leaves the flow's own
    links."""
    head = route_chain(routes[0], ctx)[0] if routes else []
    return (*head, *proof_steps(flow))


def _at_sink_of(kind: str, flow: Flow) -> bool:
    """Does ``flow`` decide a claim of ``kind``: a flow of that kind, or of another kind at
    a sink its row lists with ``kind``'s sink facts (``$where``, code of a NoSQL query, is
    listed with the SQL sinks: a rule that reads those facts claims SQL injection there)?"""
    if flow.claim == kind:
        return True
    spec, other = REGISTRY.get(kind), REGISTRY.get(flow.claim)
    if spec is None or other is None or not spec.sink_fact:
        return False
    return any(
        other.fact_of(r) == spec.sink_fact and flow.sink in (r.callee, r.shown) for r in other.sinks
    )


def judge(kind: str, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
    locs = locations(claim, finding)
    if not locs:
        return ClaimResult.unverifiable("the claim cites no location to check")
    line_verifier = LINE.get(kind)
    refutations: list[str] = []
    review: str | None = None  # a stored value reaches the sink (``SinkRow.stored``)
    for loc in locs:
        near = [
            f for f in ctx.facts.flows if _at_sink_of(kind, f) and _touches(f, loc.path, loc.line)
        ]
        if not near and IMPORT.match(line_text(ctx.reader, loc)):
            # a claim on ``import pickle`` is about the file's uses of it: all of them decide
            near = [
                f for f in ctx.facts.flows if f.claim == kind and f.sink_location.path == loc.path
            ]
        proven = [(flow, flow_routes(flow, ctx.facts.routes, ctx.reader)) for flow in near]
        proven = [(flow, routes) for flow, routes in proven if proves(flow)]
        if proven:
            # several sources reach the sink: the one through the most open route leads
            flow, routes = min(proven, key=lambda p: openness(p[1][0]) if p[1] else 9)
            return ClaimResult.confirmed(describe(flow), chain(flow, routes, ctx))
        open_ = [flow for flow in near if unbroken(flow)]
        if open_:  # unbroken, but through code the engine could not read: not proof
            return ClaimResult.unverifiable(_missing_link(open_[0]))
        second = next((f for f in near if stored(f)), None)
        if second is not None:
            review = review or (
                f"a stored value reaches the sink: {describe(second)}; whether a user can "
                "save what it holds is not followed"
            )
        elif near:
            refutations.append(_why_not(near[0]))
    if review is not None:
        return ClaimResult.unverifiable(review)
    if refutations and len(refutations) == len(locs):
        return ClaimResult.refuted(refutations[0])
    if line_verifier is not None and not refutations:
        # no flow at the line: the line verifier still knows "no such call near here" (and
        # reads JS idioms the engine does not follow)
        return line_verifier().verify(claim, finding, ctx)
    return ClaimResult.unverifiable(
        f"no {kind.replace('_', ' ')} sink the dataflow engine knows at the cited line"
    )


def _make(kind: str) -> type[Verifier]:
    def verify(self: Verifier, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        return judge(kind, claim, finding, ctx)

    name = "".join(p.title() for p in kind.split("_")) + "Flows"
    return type(name, (Verifier,), {"kind": kind, "verify": verify, "__module__": __name__})


for _kind in sorted(REGISTRY):
    register(_make(_kind))


def _missing_link(flow: Flow) -> str:
    """Why an unbroken flow is not proof: the repository code on its way the engine could
    not read, a call it could not resolve or a check it cannot judge."""
    if flow.unresolved:
        calls = ", ".join(f"{c}()" for c in flow.unresolved)
        return (
            f"{describe(flow)}, but the value passes through {calls}, repository code "
            "the dataflow engine could not resolve or did not follow: the missing link"
        )
    checks = ", ".join(flow.unread_checks)
    return (
        f"{describe(flow)}, but only where {checks} accepted it, a check of the "
        "repository's the dataflow engine cannot judge: whether it stops the attack needs review"
    )
