"""rls_bypass: code acts with a key that bypasses row level security (Supabase's
service-role key) for callers it has not checked.

Confirmed when the claim's location (within 3 lines) or its route's file holds a
service-role client (an ``rls_bypass`` sink) and the route answering there is public, with
no caller check of its own. Refuted when the function checks its caller (the reason names
the check) or when no service-role client is there. Unverifiable when no route is known.
"""

from __future__ import annotations

from threatmodel.models import AuthStatus, Claim, Finding
from threatmodel.verify._common import at
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register


@register
class RlsBypass(Verifier):
    kind = "rls_bypass"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        facts = ctx.facts
        sinks = [s for s in facts.sinks if s.kind == "rls_bypass"]
        if claim.location is not None:
            loc = claim.location
            sinks = [
                s
                for s in sinks
                if s.location.path == loc.path and abs(s.location.line - loc.line) <= 3
            ]
        elif claim.route is not None:
            paths = {r.location.path for r in facts.routes if r.path == claim.route.path}
            sinks = [s for s in sinks if s.location.path in paths]
        if not sinks:
            return ClaimResult.refuted(f"no service-role client is created{at(claim.location)}")
        sink = sinks[0]
        routes = [r for r in facts.routes if r.location.path == sink.location.path]
        if not routes:
            return ClaimResult.unverifiable(
                f"service-role client{at(sink.location)}, but no route is known to reach it"
            )
        route = routes[0]
        if route.auth.status != AuthStatus.PUBLIC:
            return ClaimResult.refuted(
                f"{route.path} checks its caller first: {route.auth.mechanism}"
            )
        return ClaimResult.confirmed(
            f"service-role client{at(sink.location)} in {route.path}, which any caller with "
            f"the anon key reaches ({route.auth.mechanism})"
        )
