"""csrf_missing: a state-changing route that a cookie session authenticates accepts
cross-site requests.

CSRF needs a credential the browser sends by itself: a session cookie. A route that
authenticates with a header (a bearer token, an API key), a signature or a shared secret
the caller sends (a webhook's) cannot be ridden by a cross-site form, and a public route
has no session to ride. So:

- a route claim is refuted when the route does not exist, when CSRF middleware covers it
  and it is not exempt (the reason names the middleware), or when its guard authenticates
  by a header, a signature or a shared secret (the reason names the guard); confirmed
  when it is exempt (or CSRF is off) and it is guarded by a cookie session (session
  middleware or cookie settings in the app, and a guard that is none of those) and it
  changes state (a write method, or its handler writes), with the chain route →
  cookie-session guard → CSRF off → effect;
- a claim about the whole app (``csrf.enabled`` false) is confirmed only when the app has
  cookie sessions and a route they guard; otherwise unverifiable, with the session link
  named.
"""

from __future__ import annotations

import re

from threatmodel.collect.effects import handler_code
from threatmodel.models import (
    WRITE_METHODS,
    AuthStatus,
    Claim,
    Finding,
    Middleware,
    ProofStep,
    Route,
    Setting,
)
from threatmodel.verify._common import at, settings
from threatmodel.verify._proof import effect_step, guard_step, route_step
from threatmodel.verify._routes import claimed_routes
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register

OFF = frozenset({"false", "0", "no", "off", "disabled"})
_HEADER = re.compile(
    r"bearer|jwt|token|api[ _-]?key|authorization|header|oauth2|openapi security|basic auth"
    r"|x-api|signature|shared_secret",
    re.I,
)
GUARDED = (AuthStatus.AUTHENTICATED, AuthStatus.RESTRICTED)


def header_auth(route: Route) -> bool:
    return bool(route.auth.mechanism and _HEADER.search(route.auth.mechanism))


def session_evidence(ctx: VerifyContext) -> Middleware | Setting | None:
    """The app's cookie sessions: session middleware, or a session cookie setting."""
    mw = next((m for m in ctx.facts.middleware if m.kind == "session"), None)
    if mw is not None:
        return mw
    return next((s for s in ctx.facts.settings if s.key.startswith("session.")), None)


def _session_step(ev: Middleware | Setting) -> ProofStep:
    name = ev.name if isinstance(ev, Middleware) else ev.key
    return ProofStep(kind="setting", text=f"cookie sessions: {name}", location=ev.location)


@register
class CsrfMissing(Verifier):
    kind = "csrf_missing"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        off = [s for s in settings(ctx.facts, "csrf.enabled") if s.value.strip().lower() in OFF]
        guards = [m for m in ctx.facts.middleware if m.kind == "csrf"]
        sessions = session_evidence(ctx)
        if claim.route is None:
            return self._app_wide(off, guards, sessions, ctx)
        found = claimed_routes(claim, ctx)
        if isinstance(found, ClaimResult):
            return found
        # Routes of one shape (``/checks/{code}``, ``/checks/{unique_key}``): the exact path
        # names the one the claim is about.
        route = found[1][0]
        unprotected = route.csrf_exempt or bool(off)
        if not unprotected:
            covering = [
                m
                for m in guards
                if m.scope == "global" or m.scope == route.id or route.path.startswith(m.scope)
            ]
            if covering:
                m = covering[0]
                return ClaimResult.refuted(
                    f"{route.id} is covered by CSRF protection {m.name}{at(m.location)}"
                )
            return ClaimResult.unverifiable(
                "no CSRF protection was found, but cookie use is not decidable"
            )
        if header_auth(route):
            return ClaimResult.refuted(
                f"{route.id} authenticates with a header or a secret the caller sends "
                f"({route.auth.mechanism}), which a cross-site form cannot send"
            )
        if route.auth.status not in GUARDED:
            return ClaimResult.unverifiable(
                f"{route.id} is {route.auth.status.value}: no cookie-authenticated session to "
                "ride was found (the session link is missing)"
            )
        if sessions is None:
            return ClaimResult.unverifiable(
                f"{route.id} is guarded by {route.auth.mechanism}, but no cookie session "
                "middleware or setting was found: the session link is missing"
            )
        code = handler_code(ctx.reader, route)
        writes = code.writes if code is not None else []
        if route.method not in WRITE_METHODS and not writes:
            return ClaimResult.unverifiable(
                f"{route.id} was not seen to change state: the effect link is missing"
            )
        exempt = (
            ProofStep(
                kind="setting", text=f"{route.id} is exempt from CSRF", location=route.location
            )
            if route.csrf_exempt
            else ProofStep(
                kind="setting", text="CSRF protection is disabled", location=off[0].location
            )
        )
        proof = (
            route_step(route),
            guard_step(route),
            _session_step(sessions),
            exempt,
            *(effect_step(e) for e in writes[:2]),
        )
        return ClaimResult.confirmed(
            f"{route.id} is cookie-session authenticated and accepts cross-site requests", proof
        )

    def _app_wide(
        self,
        off: list[Setting],
        guards: list[Middleware],
        sessions: Middleware | Setting | None,
        ctx: VerifyContext,
    ) -> ClaimResult:
        if not off:
            if guards:
                m = guards[0]
                return ClaimResult.refuted(
                    f"the application applies CSRF protection {m.name}{at(m.location)}"
                )
            return ClaimResult.unverifiable(
                "no CSRF protection was found, but cookie use is not decidable"
            )
        cookie_routes = [
            r for r in ctx.facts.routes if r.auth.status in GUARDED and not header_auth(r)
        ]
        if sessions is None or not cookie_routes:
            missing = (
                "no cookie session middleware or setting"
                if sessions is None
                else ("no route guarded by a cookie session")
            )
            return ClaimResult.unverifiable(
                f"CSRF protection is disabled{at(off[0].location)}, but {missing} was found: "
                "the session link is missing"
            )
        route = cookie_routes[0]
        proof = (
            ProofStep(kind="setting", text="CSRF protection is disabled", location=off[0].location),
            _session_step(sessions),
            route_step(route),
            guard_step(route),
        )
        return ClaimResult.confirmed(
            f"CSRF protection is disabled{at(off[0].location)} and cookie sessions guard "
            f"{route.id}",
            proof,
        )
