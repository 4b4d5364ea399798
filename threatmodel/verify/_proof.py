"""Proof chains for route claims: route → guards (or their absence, and why) → handler → effect.

Each link names the fact or line it rests on. ``route_chain`` returns the chain and the
handler's code (``collect.effects``): the verifiers decide what the chain proves.
"""

from __future__ import annotations

from threatmodel.collect.effects import Effect, HandlerCode, handler_code
from threatmodel.models import AuthStatus, ProofStep, Route
from threatmodel.verify._common import guard_text
from threatmodel.verify.interface import VerifyContext

EFFECT_WORDS = {
    "db_write": "writes to the database",
    "file_write": "writes to the file system",
    "storage": "uploads to storage",
    "email": "sends email",
    "sms": "sends SMS",
    "payment": "makes a payment call",
    "paid_api": "calls a paid API",
    "outbound": "sends a state-changing request to another service",
}


def route_step(route: Route) -> ProofStep:
    return ProofStep(
        kind="route", text=f"{route.id} ({route.framework}) is served", location=route.location
    )


def guard_step(route: Route) -> ProofStep:
    if route.auth.status is AuthStatus.PUBLIC:
        return ProofStep(
            kind="guard",
            text=(
                f"no auth guard on any path to {route.id}: no login decorator, dependency, "
                "middleware or in-handler check was found by the collector"
            ),
            location=route.location,
        )
    ev = route.auth.evidence[0] if route.auth.evidence else None
    return ProofStep(
        kind="guard",
        text=f"{route.auth.status.value}: {guard_text(route)}",
        location=None
        if ev is None
        else route.location.model_copy(update={"path": ev.path, "line": ev.start_line}),
    )


def effect_step(e: Effect) -> ProofStep:
    return ProofStep(
        kind="effect", text=f"{EFFECT_WORDS.get(e.kind, e.kind)}: `{e.call}`", location=e.location
    )


def unguarded_wrapper(
    route: Route, code: HandlerCode | None, ctx: VerifyContext | None = None
) -> str | None:
    """Why "no guard on any path" is not proven: the handler passes through a wrapper or
    decorator whose checks were not analysed (``withWorkspace``, ``@custom_required``), or
    the app's global middleware chain was not read (a Django app with no middleware facts:
    ``MIDDLEWARE = OTHER_LIST`` may hold a login-required middleware)."""
    if route.auth.status is not AuthStatus.PUBLIC:
        return None
    if ctx is not None and route.framework == "django" and not ctx.facts.middleware:
        return (
            f"{route.id} has no recognised guard, but no middleware of this Django app was "
            "collected (its MIDDLEWARE setting was not resolved), so a global login "
            "middleware cannot be ruled out: the guard link is missing"
        )
    if code is None or code.wrapper is None:
        return None
    return (
        f"{route.id} has no recognised guard, but its handler `{code.name}` at "
        f"{code.location.path}:{code.location.line} is wrapped by `{code.wrapper}`, whose "
        "checks were not analysed: the guard link is missing"
    )


def route_chain(route: Route, ctx: VerifyContext) -> tuple[list[ProofStep], HandlerCode | None]:
    """Route, guard and handler links (the effect links are the caller's to pick)."""
    code = handler_code(ctx.reader, route)
    steps = [route_step(route), guard_step(route)]
    if code is not None:
        steps.append(
            ProofStep(kind="handler", text=f"handler `{code.name}`", location=code.location)
        )
    return steps, code
