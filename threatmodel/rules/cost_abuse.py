"""TM121 cost-abuse: a public route spends the operator's paid API with no rate limit.

A route whose auth status is ``public`` and whose handler's code (``collect.effects``)
calls a metered third-party API (an LLM completion, an SMS send) lets anyone run up the
operator's bill, or use the app as a free proxy to that API. Reported when the collector
does not know the route to be rate limited. Distinct from TM101: spending money is not
changing data.
"""

from __future__ import annotations

from threatmodel.collect.effects import handler_code
from threatmodel.models import Claim, Facts, Finding, RouteRef, Severity, Stride
from threatmodel.rules.interface import Rule, RuleContext, register


@register
class CostAbuse(Rule):
    id = "TM121"
    name = "cost-abuse"

    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        out = []
        for route in facts.routes:
            if route.auth.status != "public" or route.rate_limited:
                continue
            code = handler_code(ctx.reader, route)
            if code is None or not code.paid:
                continue
            spend = code.paid[0]
            what = "SMS" if spend.kind == "sms" else "a paid API"
            out.append(
                Finding(
                    title=f"{route.method} {route.path} spends {what} for anonymous callers",
                    severity=Severity.MEDIUM,
                    stride=[Stride.DENIAL_OF_SERVICE],
                    cwe=["CWE-770"],
                    source="rule",
                    rule_id=self.id,
                    claims=[
                        Claim(
                            kind="cost_abuse",
                            route=RouteRef(method=route.method, path=route.path),
                            location=route.location,
                        )
                    ],
                    evidence=[ctx.evidence_at(route.location), ctx.evidence_at(spend.location)],
                    attack=(
                        f"Call {route.method} {route.path} in a loop with no account: each call "
                        f"runs `{spend.call}` at the operator's expense."
                    ),
                    mitigation=(
                        "Require login for this route, rate-limit it per client, and cap the "
                        "spend per account."
                    ),
                )
            )
        return out
