"""route_unauthenticated: the claimed route exists and no auth guard protects it.

Confirmed when a route with that method and path is in the facts with auth status
``public``. Refuted when the route does not exist, or when it is guarded (the reason names
the guard and where it is). Unverifiable when the collector could not decide (``unknown``).
"""

from __future__ import annotations

from threatmodel.models import AuthStatus, Claim, Finding, Route
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register


def find_routes(ctx: VerifyContext, method: str, path: str) -> list[Route]:
    """Routes matching method (or ANY) and path, parameter names ignored."""
    want = _shape(path)
    return [
        r
        for r in ctx.facts.routes
        if _shape(r.path) == want and (r.method == method.upper() or r.method == "ANY")
    ]


def _shape(path: str) -> str:
    parts = [("{}" if p.startswith(("{", "<", ":")) else p) for p in path.strip("/").split("/")]
    return "/" + "/".join(parts)


@register
class RouteUnauthenticated(Verifier):
    kind = "route_unauthenticated"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        if claim.route is None:
            return ClaimResult.unverifiable("claim names no route")
        label = f"{claim.route.method.upper()} {claim.route.path}"
        routes = find_routes(ctx, claim.route.method, claim.route.path)
        if not routes:
            return ClaimResult.refuted(f"no route {label} exists in the collected routes")
        guarded = [
            r for r in routes if r.auth.status in (AuthStatus.AUTHENTICATED, AuthStatus.RESTRICTED)
        ]
        if guarded:
            r = guarded[0]
            where = (
                f" at {r.auth.evidence[0].path}:{r.auth.evidence[0].start_line}"
                if r.auth.evidence
                else ""
            )
            return ClaimResult.refuted(
                f"{label} is guarded by {r.auth.mechanism or 'an auth check'}{where}"
            )
        if any(r.auth.status is AuthStatus.PUBLIC for r in routes):
            return ClaimResult.confirmed()
        return ClaimResult.unverifiable(
            f"the auth status of {label} could not be decided from the code"
        )
