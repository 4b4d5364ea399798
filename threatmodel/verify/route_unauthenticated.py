"""route_unauthenticated: the claimed route exists and no auth guard protects it.

Confirmed when a route with that method and path (parameter names ignored) is in the facts
with auth status ``public`` and, for a claim that it changes data (a POST / PUT / PATCH /
DELETE claim), its handler's code really writes (``collect.effects``: database, file,
storage, email, SMS, payment, outbound call; never the method alone). The proof chain is
route → no guard on any path → handler → effect. A public write claim whose handler writes
nothing that can be found, or whose code cannot be located, is unverifiable with the
missing "effect" link named. A handler that verifies a webhook signature refutes the claim:
its caller is authenticated by the signature. Refuted when the route does not exist (the
reason says which methods the path does accept, or how many routes were collected), or
when it is guarded (the reason names the guard and where it is, e.g. "GET /admin/users is guarded by
decorator @require_admin at app/auth.py:14"). Unverifiable when the collector could not
decide (``unknown``), or when no routes were collected at all (an unsupported framework
must not turn every route claim into a refutation). A write gated on the app's first-run
state, or a route addressed by a capability URL (``collect.handler_gates.by_design``), is
unverifiable with that reason: by design, unless the deployment leaves it exposed.
"""

from __future__ import annotations

from threatmodel.collect.handler_gates import by_design
from threatmodel.models import Claim, Finding, Route
from threatmodel.verify._proof import effect_step, route_chain, unguarded_wrapper
from threatmodel.verify._routes import public_claimed_route
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register


@register
class RouteUnauthenticated(Verifier):
    kind = "route_unauthenticated"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        found = public_claimed_route(claim, ctx)
        if isinstance(found, ClaimResult):
            return found
        return public_route(found[1], claim, ctx)


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def public_route(route: Route, claim: Claim, ctx: VerifyContext) -> ClaimResult:
    """A public route: confirmed with its chain, or the link that is missing."""
    steps, code = route_chain(route, ctx)
    if code is not None and code.signature is not None:
        sig = code.signature
        return ClaimResult.refuted(
            f"{route.id}'s handler verifies a request signature or token at {sig.path}:{sig.line}: "
            "its caller is authenticated by the signature"
        )
    wrapped = unguarded_wrapper(route, code, ctx)
    if wrapped is not None:
        return ClaimResult.unverifiable(wrapped)
    design = (
        None if code is None else by_design(route.id, code.first_run, code.capability, code.contact)
    )
    if design is not None:
        return ClaimResult.unverifiable(design)
    writes = code.writes if code is not None else []
    if writes:
        proof = (*steps, *(effect_step(e) for e in writes[:3]))
        return ClaimResult.confirmed(f"{route.id} has no auth guard and its handler writes", proof)
    method = claim.route.method.upper() if claim.route is not None else route.method
    if method in READ_METHODS:
        return ClaimResult.confirmed(f"{route.id} has no auth guard", tuple(steps))
    if code is None:
        return ClaimResult.unverifiable(
            f"{route.id} has no auth guard, but its handler `{route.handler}` could not be "
            "located: the effect link (what it changes) is missing"
        )
    return ClaimResult.unverifiable(
        f"{route.id} has no auth guard, but handler `{code.name}` at {code.location.path}:"
        f"{code.location.line} was not seen to write (no database, file, storage or outbound "
        "write): the effect link is missing"
    )
