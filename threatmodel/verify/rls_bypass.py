"""rls_bypass: code acts with a key that bypasses row level security (Supabase's
service-role key) for callers it has not checked.

For a database object (the claim names a ``SECURITY DEFINER`` function or a view, or sits
at one): confirmed when the function is callable by ``anon``/``authenticated`` through the
API, or when the view lacks ``security_invoker`` and reads a table with RLS enabled;
refuted otherwise. For code: confirmed when the claim's location (within 3 lines) or its
route's file holds a service-role client (an ``rls_bypass`` sink) and the route answering
there is public, with no caller check of its own. Refuted when the function checks its
caller (the reason names the check) or when no service-role client is there. Unverifiable
when no route is known.
"""

from __future__ import annotations

from threatmodel.models import AuthStatus, Claim, Facts, Finding, Location
from threatmodel.rules.definer_bypass import rls_tables_behind
from threatmodel.verify._common import at
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register


@register
class RlsBypass(Verifier):
    kind = "rls_bypass"

    @classmethod
    def can_confirm(cls, facts: Facts) -> bool:
        # a database function or view, or code holding a service-role client
        return bool(facts.functions or facts.views) or any(
            s.kind == "rls_bypass" for s in facts.sinks
        )

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        facts = ctx.facts
        db_object = _database_object(claim, facts)
        if db_object is not None:
            return db_object
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


def _near(a: Location, b: Location | None) -> bool:
    return b is not None and a.path == b.path and abs(a.line - b.line) <= 2


def _database_object(claim: Claim, facts: Facts) -> ClaimResult | None:
    """The verdict on a SECURITY DEFINER function or a view the claim points at, if any."""
    want = (claim.name or "").strip('"').lower().removeprefix("public.")

    def named(name: str, loc: Location) -> bool:
        # By name when the claim gives one (neighbouring functions sit lines apart).
        return name.lower().removeprefix("public.") == want if want else _near(loc, claim.location)

    for fn in facts.functions:
        if named(fn.name, fn.location):
            if fn.security_definer and fn.callable_by:
                return ClaimResult.confirmed(
                    f"SECURITY DEFINER function {fn.name}{at(fn.location)} is callable by "
                    f"{', '.join(fn.callable_by)} through /rest/v1/rpc"
                )
            why = "not SECURITY DEFINER" if not fn.security_definer else "not callable by the API"
            return ClaimResult.refuted(f"function {fn.name}{at(fn.location)} is {why}")
    for view in facts.views:
        if named(view.name, view.location):
            behind = rls_tables_behind(view, facts)
            if not view.security_invoker and behind:
                return ClaimResult.confirmed(
                    f"view {view.name}{at(view.location)} has no security_invoker and reads "
                    f"{', '.join(t.name for t in behind)}, which have RLS enabled"
                )
            why = (
                "runs as the caller (security_invoker)"
                if view.security_invoker
                else ("reads no table with RLS enabled")
            )
            return ClaimResult.refuted(f"view {view.name}{at(view.location)} {why}")
    return None
