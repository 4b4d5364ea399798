"""missing_authorization: the route lets a caller act without a permission / ownership check.

Refuted when the route does not exist, or when it is ``restricted`` (a role or permission
check guards it: the reason names the guard and where), or when its handler verifies a
webhook signature. Confirmed when the route is ``public`` (no check of any kind), with the
chain route → no guard → handler → its writes. Unverifiable when it is only
``authenticated``: whether the handler checks that the caller owns the object (IDOR /
BOLA) is not decidable from the route facts, so it goes to review.
"""

from __future__ import annotations

from threatmodel.models import AuthStatus, Claim, Finding
from threatmodel.verify._common import guard_text
from threatmodel.verify._proof import effect_step, route_chain, unguarded_wrapper
from threatmodel.verify._routes import claimed_routes
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register


@register
class MissingAuthorization(Verifier):
    kind = "missing_authorization"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        found = claimed_routes(claim, ctx)
        if isinstance(found, ClaimResult):
            return found
        label, routes = found
        statuses = {r.auth.status for r in routes}
        if statuses == {AuthStatus.RESTRICTED}:
            return ClaimResult.refuted(f"{label} is restricted by {guard_text(routes[0])}")
        public = [r for r in routes if r.auth.status is AuthStatus.PUBLIC]
        if public:
            steps, code = route_chain(public[0], ctx)
            if code is not None and code.signature is not None:
                sig = code.signature
                return ClaimResult.refuted(
                    f"{label}'s handler verifies a request signature or token at "
                    f"{sig.path}:{sig.line}"
                )
            wrapped = unguarded_wrapper(public[0], code, ctx)
            if wrapped is not None:
                return ClaimResult.unverifiable(wrapped)
            effects = tuple(effect_step(e) for e in (code.writes if code else [])[:3])
            return ClaimResult.confirmed(
                f"{label} has no auth or permission check", (*steps, *effects)
            )
        return ClaimResult.unverifiable(
            f"{label} requires login; whether it checks object ownership is not decidable"
        )
