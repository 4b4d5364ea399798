"""TM101 unauthenticated-write-route: a route that changes state and has no auth guard.

A POST, PUT, PATCH or DELETE route whose auth status is ``public`` lets anyone on the
internet create, change or delete data. Routes whose status is ``unknown`` are not
reported: the collector could not decide, so neither can this rule. Endpoints that are
public by design (login, logout, register / signup, token issue and refresh, password
reset and forgot-password, email verification, OAuth callbacks) are not reported either:
an anonymous caller is exactly who they serve.
"""

from __future__ import annotations

from threatmodel.models import Claim, Facts, Finding, RouteRef, Severity, Stride
from threatmodel.rules.interface import Rule, RuleContext, register

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Path segments (lower case, "-" and "_" removed) that name an endpoint public by design.
AUTH_SEGMENTS = frozenset(
    {"login", "logout", "signin", "signout", "signup", "register", "registration", "token"}
    | {"refresh", "refreshtoken", "passwordreset", "resetpassword", "forgotpassword"}
    | {"forgot", "verifyemail", "confirmemail", "callback", "oauth", "authenticate", "session"}
    | {"sessions", "tokens", "otp", "magiclink"}
)


def is_auth_endpoint(path: str) -> bool:
    """True for /login, /api/v1/auth/token, /users/register, /password/reset ..."""
    words = [
        seg.lower().replace("-", "").replace("_", "")
        for seg in path.strip("/").split("/")
        if seg and not seg.startswith(("{", "<", ":"))
    ]
    if any(w in AUTH_SEGMENTS for w in words):
        return True
    joined = "".join(words[-2:])  # "/password/reset" -> "passwordreset"
    return joined in AUTH_SEGMENTS or joined.endswith(("passwordreset", "resetpassword"))


@register
class UnauthenticatedWriteRoute(Rule):
    id = "TM101"
    name = "unauthenticated-write-route"

    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        out = []
        for route in facts.routes:
            if route.method not in WRITE_METHODS or route.auth.status != "public":
                continue
            if is_auth_endpoint(route.path):
                continue
            out.append(
                Finding(
                    title=f"{route.method} {route.path} changes data without authentication",
                    severity=Severity.HIGH,
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
                    evidence=[ctx.evidence_at(route.location), *route.auth.evidence],
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
