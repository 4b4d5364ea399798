"""Delta of the attack surface: routes and their auth, middleware, security settings, sinks."""

from __future__ import annotations

from collections.abc import Iterable

from threatmodel.delta._util import change as _c
from threatmodel.delta._util import pairs as _pairs
from threatmodel.delta.model import Change
from threatmodel.models import AuthStatus, Facts, Middleware, Route, Setting, Sink

AUTH_RANK = {
    AuthStatus.PUBLIC: 0,
    AuthStatus.UNKNOWN: 1,
    AuthStatus.AUTHENTICATED: 2,
    AuthStatus.RESTRICTED: 3,
}

CONTROL_MIDDLEWARE = frozenset({"auth", "csrf", "security_headers", "rate_limit", "session"})


def _auth_text(route: Route) -> str:
    mech = f" ({route.auth.mechanism})" if route.auth.mechanism else ""
    return f"{route.auth.status.value}{mech}"


def routes(base: Facts, head: Facts) -> Iterable[Change]:
    added, removed, both = _pairs(base.routes, head.routes, lambda r: (r.method, r.path))
    for r in added:
        open_ = r.auth.status in (AuthStatus.PUBLIC, AuthStatus.UNKNOWN)
        detail = "public: no auth guard" if r.auth.status is AuthStatus.PUBLIC else _auth_text(r)
        yield _c("route", "added", r.id, detail, open_, r.location)
    for r in removed:
        yield _c("route", "removed", r.id, _auth_text(r), False, r.location, "base")
    for old, new in both:
        notes, risk = [], False
        if old.auth.status != new.auth.status or old.auth.mechanism != new.auth.mechanism:
            weaker = AUTH_RANK[new.auth.status] < AUTH_RANK[old.auth.status]
            risk |= weaker
            text = f"auth {_auth_text(old)} → {_auth_text(new)}"
            if weaker and old.auth.mechanism and new.auth.mechanism != old.auth.mechanism:
                text += f": guard {old.auth.mechanism} removed"
            notes.append(text)
        if new.csrf_exempt and not old.csrf_exempt:
            notes.append("now exempt from CSRF protection")
            risk = True
        if old.rate_limited and new.rate_limited is False:
            notes.append("rate limit removed")
            risk = True
        if old.hidden != new.hidden:
            notes.append("hidden from the API schema" if new.hidden else "now in the API schema")
        if notes:
            yield _c("route", "changed", new.id, "; ".join(notes), risk, new.location)


def _mw_key(m: Middleware) -> tuple[str, str, str]:
    return (m.kind, m.name, m.scope)


def middleware(base: Facts, head: Facts) -> Iterable[Change]:
    added, removed, both = _pairs(base.middleware, head.middleware, _mw_key)
    for m in added:
        yield _c("middleware", "added", f"{m.kind} {m.name}", f"scope {m.scope}", False, m.location)
    for m in removed:
        yield _c(
            "middleware",
            "removed",
            f"{m.kind} {m.name}",
            f"scope {m.scope}: a {m.kind} control is gone"
            if m.kind in CONTROL_MIDDLEWARE
            else f"scope {m.scope}",
            m.kind in CONTROL_MIDDLEWARE,
            m.location,
            "base",
        )
    for old, new in both:
        if old.options != new.options:
            diffs = [
                f"{k}: {old.options.get(k, '(unset)')} → {new.options.get(k, '(unset)')}"
                for k in sorted(set(old.options) | set(new.options))
                if old.options.get(k) != new.options.get(k)
            ]
            yield _c(
                "middleware",
                "changed",
                f"{new.kind} {new.name}",
                "; ".join(diffs),
                False,
                new.location,
            )


def weak_setting(s: Setting) -> bool:
    """True when a setting's value switches a protection off."""
    value = s.value.strip().lower()
    off = value in {"false", "0", "off", "no", "none", "disabled"}
    on = value in {"true", "1", "on", "yes"}
    return {
        "debug": on,
        "jwt.verify": off,
        "csrf.enabled": off,
        "session.cookie_secure": off,
        "secret_key": value == "hardcoded",
        "cors.allow_origins": "*" in value,
        "allowed_hosts": "*" in value,
    }.get(s.key, False)


def settings(base: Facts, head: Facts) -> Iterable[Change]:
    added, removed, both = _pairs(
        base.settings, head.settings, lambda s: (s.key, s.framework, s.location.path)
    )
    for s in added:
        yield _c(
            "setting", "added", s.key, f"{s.value} ({s.framework})", weak_setting(s), s.location
        )
    for s in removed:
        yield _c("setting", "removed", s.key, f"was {s.value}", False, s.location, "base")
    for old, new in both:
        if old.value != new.value:
            yield _c(
                "setting",
                "changed",
                new.key,
                f"{old.value} → {new.value}",
                weak_setting(new) and not weak_setting(old),
                new.location,
            )


def sinks(base: Facts, head: Facts) -> Iterable[Change]:
    # Only sinks fed by non-constant input matter; a constant query is not an attack surface.
    def dyn(f: Facts) -> list[Sink]:
        return [s for s in f.sinks if s.dynamic]

    added, removed, _ = _pairs(
        dyn(base), dyn(head), lambda s: (s.kind, s.call, s.location.path, s.handler)
    )
    for s in added:
        yield _c(
            "sink",
            "added",
            f"{s.kind} {s.call}",
            f"built from non-constant input in {s.handler or 'module scope'}",
            True,
            s.location,
        )
    for s in removed:
        yield _c(
            "sink",
            "removed",
            f"{s.kind} {s.call}",
            f"in {s.handler or 'module scope'}",
            False,
            s.location,
            "base",
        )
