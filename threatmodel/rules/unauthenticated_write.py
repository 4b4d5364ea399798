"""TM101 unauthenticated-write-route: a route that changes state and has no auth guard.

A POST, PUT, PATCH or DELETE route whose auth status is ``public`` lets anyone on the
internet create, change or delete data. Routes whose status is ``unknown`` are not
reported: the collector could not decide, so neither can this rule.
"""

from __future__ import annotations

from threatmodel.models import Claim, Facts, Finding, RouteRef, Severity, Stride
from threatmodel.rules.interface import Rule, RuleContext, register

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@register
class UnauthenticatedWriteRoute(Rule):
    id = "TM101"
    name = "unauthenticated-write-route"

    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        out = []
        for route in facts.routes:
            if route.method not in WRITE_METHODS or route.auth.status != "public":
                continue
            out.append(
                Finding(
                    title=f"{route.method} {route.path} changes data without authentication",
                    severity=Severity.HIGH,
                    stride=[Stride.TAMPERING, Stride.ELEVATION_OF_PRIVILEGE],
                    cwe=["CWE-306"],
                    source="rule",
                    rule_id=self.id,
                    claims=[
                        Claim(
                            kind="route_unauthenticated",
                            route=RouteRef(method=route.method, path=route.path),
                            location=route.location,
                        )
                    ],
                    evidence=[ctx.evidence_at(route.location), *route.auth.evidence],
                    attack=(
                        f"Send {route.method} {route.path} with no session or token; the handler "
                        f"{route.handler} runs for any caller."
                    ),
                    mitigation=(
                        "Require authentication on this route (a login/token guard) and check "
                        "that the caller may modify the targeted record."
                    ),
                )
            )
        return out
