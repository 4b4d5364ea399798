"""route_unauthenticated: the claimed route exists and no auth guard protects it.

Confirmed when a route with that method and path (parameter names ignored) is in the facts
with auth status ``public``. Refuted when the route does not exist (the reason says which
methods the path does accept, or how many routes were collected), or when it is guarded
(the reason names the guard and where it is, e.g. "GET /admin/users is guarded by
decorator @require_admin at app/auth.py:14"). Unverifiable when the collector could not
decide (``unknown``), or when no routes were collected at all (an unsupported framework
must not turn every route claim into a refutation).
"""

from __future__ import annotations

from threatmodel.models import AuthStatus, Claim, Finding
from threatmodel.verify._common import guard_text
from threatmodel.verify._routes import claimed_routes
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register

GUARDED = (AuthStatus.AUTHENTICATED, AuthStatus.RESTRICTED)


@register
class RouteUnauthenticated(Verifier):
    kind = "route_unauthenticated"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        found = claimed_routes(claim, ctx)
        if isinstance(found, ClaimResult):
            return found
        label, routes = found
        public = [r for r in routes if r.auth.status is AuthStatus.PUBLIC]
        if public:
            return ClaimResult.confirmed(f"{public[0].id} has no auth guard")
        guarded = [r for r in routes if r.auth.status in GUARDED]
        if guarded and len(guarded) == len(routes):
            return ClaimResult.refuted(f"{label} is guarded by {guard_text(guarded[0])}")
        return ClaimResult.unverifiable(
            f"the auth status of {label} could not be decided from the code"
        )
