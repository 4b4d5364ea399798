"""csrf_missing: a state-changing route accepts cross-site requests.

Confirmed when the claimed route is exempted from CSRF protection (``csrf_exempt``), or a
``csrf.enabled`` = false setting turns it off. Refuted when the route does not exist, or
when CSRF middleware applies globally (or to the route's prefix) and the route is not
exempt (the reason names the middleware and where). Unverifiable otherwise: whether a
route needs CSRF protection depends on cookie-based sessions the code may not show.
"""

from __future__ import annotations

from threatmodel.models import Claim, Finding
from threatmodel.verify._common import at, find_routes, no_route_reason, settings
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register

OFF = frozenset({"false", "0", "no", "off", "disabled"})


@register
class CsrfMissing(Verifier):
    kind = "csrf_missing"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        off = [s for s in settings(ctx.facts, "csrf.enabled") if s.value.strip().lower() in OFF]
        guards = [m for m in ctx.facts.middleware if m.kind == "csrf"]
        route = None
        if claim.route is not None:
            label = f"{claim.route.method.upper()} {claim.route.path}"
            if not ctx.facts.routes:
                return ClaimResult.unverifiable("no routes were collected from this repository")
            routes = find_routes(ctx.facts, claim.route.method, claim.route.path)
            if not routes:
                return ClaimResult.refuted(no_route_reason(ctx.facts, label, claim.route.path))
            route = routes[0]
            if route.csrf_exempt:
                return ClaimResult.confirmed(
                    f"{label} is exempt from CSRF protection{at(route.location)}"
                )
        if off:
            return ClaimResult.confirmed(f"CSRF protection is disabled{at(off[0].location)}")
        covering = [
            m
            for m in guards
            if m.scope == "global"
            or (route is not None and (m.scope == route.id or route.path.startswith(m.scope)))
        ]
        if covering:
            m = covering[0]
            what = f"{route.id} is covered by" if route is not None else "the application applies"
            return ClaimResult.refuted(f"{what} CSRF protection {m.name}{at(m.location)}")
        return ClaimResult.unverifiable(
            "no CSRF protection was found, but cookie use is not decidable"
        )
