"""cost_abuse: a public route calls a metered third-party API with no rate limit.

Confirmed when the claimed route is ``public``, not known to be rate limited, and its
handler's code calls a paid API or sends SMS (``collect.effects``); the proof chain is
route → no guard → handler → the paid call. Refuted when the route is guarded or rate
limited (the reason names which), or when its handler's code was read and calls no paid
API. Unverifiable when the handler's code cannot be located.
"""

from __future__ import annotations

from threatmodel.models import Claim, Finding
from threatmodel.verify._proof import effect_step, route_chain, unguarded_wrapper
from threatmodel.verify._routes import public_claimed_route
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register


@register
class CostAbuse(Verifier):
    kind = "cost_abuse"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        found = public_claimed_route(claim, ctx)
        if isinstance(found, ClaimResult):
            return found
        label, route = found
        if route.rate_limited:
            return ClaimResult.refuted(f"{label} is rate limited")
        steps, code = route_chain(route, ctx)
        if code is None:
            return ClaimResult.unverifiable(
                f"{label} is public, but its handler could not be located: the paid-call link "
                "is missing"
            )
        wrapped = unguarded_wrapper(route, code, ctx)
        if wrapped is not None:
            return ClaimResult.unverifiable(wrapped)
        if not code.paid:
            return ClaimResult.refuted(
                f"handler `{code.name}` at {code.location.path}:{code.location.line} calls no "
                "paid API"
            )
        proof = (*steps, effect_step(code.paid[0]))
        return ClaimResult.confirmed(f"{label} is public and calls `{code.paid[0].call}`", proof)
