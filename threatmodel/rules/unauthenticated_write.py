"""TM101 unauthenticated-write-route: a route that changes data and has no auth guard.

A route whose auth status is ``public`` and whose handler's code writes (``collect.effects``:
a database write, a file or storage write, email, SMS, a payment or another outbound side
effect, followed into the repository's own functions) lets anyone on the internet create,
change or delete data. The HTTP method decides nothing: a read-only POST is not reported, a
GET that writes is. A POST / PUT / PATCH / DELETE whose handler code cannot be located is
still reported, and its verifier marks it "needs review" with the effect link missing. A
handler that verifies a webhook signature is authenticated by it and is not reported.
Severity follows what the caller controls: high when the handler reads a request body
(form, JSON, upload) and writes data, or deletes / overwrites data (a DELETE, an update);
medium when only URL parts reach a write that adds derived data (a cache, a thumbnail),
or the effect is email or a payment.
A POST / PUT / PATCH / DELETE whose handler was read and writes nothing found is
reported at low severity for review ("accepts anonymous requests"), never as confirmed;
a handler whose every write only records the visit (each value it sets is the server's:
a timestamp, a counter's ``views + 1``) at low too ("records a visit").
Three by-design shapes are reported for review too (``collect.handler_gates``): a handler
whose every write runs only before the app is set up (a first-run gate such as
``if not is_setup():``) at medium, open until setup is finished; a route addressed by a
path parameter that is the credential (a UUID, or a value matched against a stored key: a
capability URL) at low; and a contact form, whose only write mails the app's own configured
address (``collect.recipients``), at low.
Routes whose status is ``unknown`` are not
reported: the collector could not decide, so neither can this rule. Endpoints that are
public by design (login, logout, register / signup, token issue and refresh, password
reset and forgot-password, email verification, OAuth callbacks, and a route that hands its
request to an authentication library such as next-auth's ``NextAuth(req, res, options)``,
or that signs the caller in itself: ``req.logIn(user)``, ``signIn(ctx, ...)``)
are not reported either: an anonymous caller is exactly who they serve.
"""

from __future__ import annotations

import re

from threatmodel.collect.effects import handler_code
from threatmodel.collect.handler_gates import by_design
from threatmodel.models import (
    WRITE_METHODS,
    Claim,
    Facts,
    Finding,
    RouteRef,
    Severity,
    Stride,
)
from threatmodel.rules.interface import Rule, RuleContext, register

# Path segments (lower case, "-" and "_" removed) that name an endpoint public by design.
AUTH_SEGMENTS = frozenset(
    {"login", "logout", "signin", "signout", "signup", "register", "registration", "token"}
    | {"refresh", "refreshtoken", "passwordreset", "resetpassword", "forgotpassword"}
    | {"forgot", "verifyemail", "confirmemail", "callback", "oauth", "authenticate", "session"}
    | {"verificationemail", "emailverification"}
    | {"sessions", "tokens", "otp", "magiclink", "reset", "jwks", "jwksjson", "wellknown"}
)

SIGN_IN_WORDS = frozenset({"login", "logout", "signin", "signout", "signup", "oauth", "magiclink"})


def is_auth_endpoint(path: str) -> bool:
    """True for /login, /api/v1/auth/token, /users/register, /password/reset,
    /auth/magic-sign-in/ ..."""
    # a tRPC procedure's path is dotted (``/api/trpc/auth.passkey.createSigninOptions``), its
    # names camelCase: both cut into segments and words as slashes and dashes are
    raw = re.split(r"[/.]", path.strip("/"))
    raw = [re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", seg) for seg in raw]
    segments = [seg.lower() for seg in raw]
    segments = [seg for seg in segments if seg and not seg.startswith(("{", "<", ":"))]
    words = [seg.replace("-", "").replace("_", "") for seg in segments]
    if any(w in AUTH_SEGMENTS for w in words):
        return True
    joined = "".join(words[-2:])  # "/password/reset" -> "passwordreset"
    if joined in AUTH_SEGMENTS or joined.endswith(("passwordreset", "resetpassword")):
        return True
    # A segment that spells a sign-in step among other words ("magic-sign-in",
    # "email_login"); a word like "session" or "token" among others names data
    # ("session-notes", "token-transfers"), so alone it does not count here.
    for seg in segments:
        parts = [p for p in re.split(r"[-_]", seg) if p]
        for i in range(len(parts)):
            if parts[i] in SIGN_IN_WORDS or any(
                "".join(parts[i:j]) in AUTH_SEGMENTS for j in range(i + 2, i + 4)
            ):
                return True
    return False


@register
class UnauthenticatedWriteRoute(Rule):
    id = "TM101"
    name = "unauthenticated-write-route"

    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        out = []
        for route in facts.routes:
            if route.auth.status != "public" or is_auth_endpoint(route.path):
                continue
            code = handler_code(ctx.reader, route)
            if code is not None and code.signature is not None:
                continue  # authenticated by the signature it checks
            # An authentication library's own endpoint (JS: the library serves it whole),
            # or a Python handler that issues the caller a session token and writes (a login
            # attempt, the account): sign-in is their job. A set-up wizard that signs its
            # first admin in stays (open until setup is done), and so does a Python one with
            # no write found (for review, at low).
            if (
                code is not None
                and code.sign_in is not None
                and code.first_run is None
                and (code.writes or not code.location.path.endswith(".py"))
            ):
                continue
            writes = code.writes if code is not None else []
            if not writes and route.method not in WRITE_METHODS:
                continue  # a read: not this rule's
            effect = writes[0] if writes else None
            # A write-method route whose handler was read and writes nothing found stays
            # visible for review at low severity: the effect link is missing, not proven absent.
            read_only = code is not None and not writes
            # Email and payments are side effects (spam, card testing), not tampering: medium.
            side_only = bool(writes) and code is not None and not code.data_writes
            design = (
                None
                if code is None
                else by_design(route.id, code.first_run, code.capability, code.contact)
            )
            if read_only:
                title, severity = "accepts anonymous requests (no write found)", Severity.LOW
            elif design is not None and code is not None and code.first_run is not None:
                # Open until setup is finished: a takeover window, not a steady-state hole.
                title, severity = (
                    "writes without authentication until setup is done",
                    Severity.MEDIUM,
                )
            elif design is not None and code is not None and code.contact is not None:
                title, severity = "mails the operator without authentication", Severity.LOW
            elif design is not None:
                title, severity = "writes by a capability URL (no login)", Severity.LOW
            elif code is not None and not code.reads_body and all(e.bookkeeping for e in writes):
                # lastSeenAt = now, views + 1: the caller's visit recorded, no data chosen
                title, severity = "records a visit without authentication", Severity.LOW
            elif side_only:
                kinds = " and ".join(sorted({e.kind for e in writes}))
                title, severity = f"triggers {kinds} without authentication", Severity.MEDIUM
            elif (
                code is not None and not code.reads_body and not any(e.destructive for e in writes)
            ):
                # Only URL parts reach it: a counter, a cache, a thumbnail, a flag flipped by a
                # link. Anonymous writes still, but the caller does not choose the data: medium.
                title, severity = "writes without authentication (no request body)", Severity.MEDIUM
            else:
                title, severity = "changes data without authentication", Severity.HIGH
            out.append(
                Finding(
                    title=f"{route.method} {route.path} {title}",
                    severity=severity,
                    stride=[Stride.TAMPERING, Stride.ELEVATION_OF_PRIVILEGE],
                    cwe=["CWE-306"],
                    source="rule",
                    rule_id=self.id,
                    claims=[
                        Claim(
                            kind="route_unauthenticated",
                            route=RouteRef(method=route.method, path=route.path),
                            location=route.location,
                        )
                    ],
                    evidence=[
                        ctx.evidence_at(route.location),
                        *route.auth.evidence,
                        *([ctx.evidence_at(effect.location)] if effect else []),
                    ],
                    attack=(
                        f"Send {route.method} {route.path} with no session or token; the handler "
                        f"{route.handler} runs for any caller."
                    ),
                    mitigation=(
                        "Require authentication on this route (a login/token guard) and check "
                        "that the caller may modify the targeted record."
                    ),
                )
            )
        return out
