"""The route lookup the route-level verifiers share, with its early answers.

route_unauthenticated and missing_authorization both start the same way: a claim without
a route, or a repository where no routes were collected at all, is unverifiable (an
unsupported framework must not turn every route claim into a refutation); a route that is
not among the collected ones is refuted, naming the nearest routes that do exist.
"""

from __future__ import annotations

from threatmodel.models import AuthStatus, Claim, Route
from threatmodel.verify._common import find_routes, guard_text, no_route_reason
from threatmodel.verify.interface import ClaimResult, VerifyContext

GUARDED = (AuthStatus.AUTHENTICATED, AuthStatus.RESTRICTED)


def claimed_routes(claim: Claim, ctx: VerifyContext) -> ClaimResult | tuple[str, list[Route]]:
    """The routes the claim names and its ``METHOD /path`` label, or the answer already due."""
    if claim.route is None:
        return ClaimResult.unverifiable("claim names no route")
    if not ctx.facts.routes:
        return ClaimResult.unverifiable("no routes were collected from this repository")
    label = f"{claim.route.method.upper()} {claim.route.path}"
    routes = find_routes(ctx.facts, claim.route.method, claim.route.path)
    if not routes:
        return ClaimResult.refuted(no_route_reason(ctx.facts, label, claim.route.path))
    # Server actions share a shape ("action:file.ts#a", "#b"): the exact path names one.
    exact = [r for r in routes if r.path == claim.route.path]
    return label, exact or routes


def public_claimed_route(claim: Claim, ctx: VerifyContext) -> ClaimResult | tuple[str, Route]:
    """The first public route the claim names, with its label, or the answer already due.

    For claims that say "anyone can call this": refuted when every named route is
    authenticated or restricted (the reason names the guard), unverifiable when some route's
    auth status is unknown.
    """
    found = claimed_routes(claim, ctx)
    if isinstance(found, ClaimResult):
        return found
    label, routes = found
    public = [r for r in routes if r.auth.status is AuthStatus.PUBLIC]
    if public:
        return label, public[0]
    guarded = [r for r in routes if r.auth.status in GUARDED]
    if len(guarded) == len(routes):
        return ClaimResult.refuted(f"{label} is guarded by {guard_text(guarded[0])}")
    return ClaimResult.unverifiable(
        f"the auth status of {label} could not be decided from the code"
    )
