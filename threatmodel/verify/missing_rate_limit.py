"""missing_rate_limit: the route (e.g. a login) accepts unlimited requests.

Refuted when the route does not exist, when its collector saw a rate limit on it
(``rate_limited`` true), or when rate-limit middleware covers it (global, or a prefix of
its path; the reason names the middleware and where). Confirmed when the collector
recorded ``rate_limited`` false and no rate-limit middleware covers it. Unverifiable when
nobody knows (``rate_limited`` unset): limits are often enforced by a proxy outside the
repository.
"""

from __future__ import annotations

from threatmodel.models import Claim, Finding
from threatmodel.verify._common import at
from threatmodel.verify._routes import claimed_routes
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register


@register
class MissingRateLimit(Verifier):
    kind = "missing_rate_limit"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        limits = [m for m in ctx.facts.middleware if m.kind == "rate_limit"]
        if claim.route is None and limits:  # a route-less claim: is anything rate limited?
            m = limits[0]
            return ClaimResult.refuted(
                f"rate limiting {m.name} applies to {m.scope}{at(m.location)}"
            )
        found = claimed_routes(claim, ctx)
        if isinstance(found, ClaimResult):
            return found
        label, routes = found
        route = routes[0]
        covering = [
            m
            for m in limits
            if m.scope in ("global", route.id)
            or (m.scope.startswith("/") and route.path.startswith(m.scope))
        ]
        if route.rate_limited:
            return ClaimResult.refuted(f"{label} is rate limited{at(route.location)}")
        if covering:
            m = covering[0]
            return ClaimResult.refuted(
                f"{label} is covered by rate limiting {m.name}{at(m.location)}"
            )
        if route.rate_limited is False:
            return ClaimResult.confirmed(f"{label} has no rate limit")
        return ClaimResult.unverifiable("rate limiting may be enforced outside the repository")
