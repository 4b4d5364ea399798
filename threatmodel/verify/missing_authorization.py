"""missing_authorization: the route lets a caller act without a permission / ownership check.

Refuted when the route does not exist, or when it is ``restricted`` (a role or permission
check guards it: the reason names the guard and where). Confirmed when the route is
``public`` (no check of any kind). Unverifiable when it is only ``authenticated``: whether
the handler checks that the caller owns the object (IDOR / BOLA) is not decidable from the
route facts, so it goes to review.
"""

from __future__ import annotations

from threatmodel.models import AuthStatus, Claim, Finding
from threatmodel.verify._common import find_routes, guard_text, no_route_reason
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register


@register
class MissingAuthorization(Verifier):
    kind = "missing_authorization"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        if claim.route is None:
            return ClaimResult.unverifiable("claim names no route")
        if not ctx.facts.routes:
            return ClaimResult.unverifiable("no routes were collected from this repository")
        label = f"{claim.route.method.upper()} {claim.route.path}"
        routes = find_routes(ctx.facts, claim.route.method, claim.route.path)
        if not routes:
            return ClaimResult.refuted(no_route_reason(ctx.facts, label, claim.route.path))
        statuses = {r.auth.status for r in routes}
        if statuses == {AuthStatus.RESTRICTED}:
            return ClaimResult.refuted(f"{label} is restricted by {guard_text(routes[0])}")
        if AuthStatus.PUBLIC in statuses:
            return ClaimResult.confirmed(f"{label} has no auth or permission check")
        return ClaimResult.unverifiable(
            f"{label} requires login; whether it checks object ownership is not decidable"
        )
