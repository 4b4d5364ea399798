"""TM131 service-role-client-without-caller-check: an Edge Function reads or writes with the
service-role key (RLS bypassed) and never checks who is calling.

``frameworks/supabase_functions/routes.py`` records each service-role ``createClient`` as an
``rls_bypass`` sink and each function as a route whose auth is its own caller check
(``auth.getUser()`` and a 401/403): ``verify_jwt`` alone lets anyone with the public anon
key in. A function with such a client and no check lets any visitor do whatever the
function does to every row. A function public by design (sign-in, sign-up, token refresh,
password reset: ``is_auth_endpoint`` of TM101) has no caller to check yet; its service-role
client is how it creates the user or signs them in, so it is not reported.
"""

from __future__ import annotations

from threatmodel.models import AuthStatus, Claim, Facts, Finding, RouteRef, Severity, Stride
from threatmodel.rules._helpers import evidence
from threatmodel.rules.interface import Rule, RuleContext, register
from threatmodel.rules.unauthenticated_write import is_auth_endpoint


@register
class ServiceRoleFunction(Rule):
    id = "TM131"
    name = "service-role-client-without-caller-check"

    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        out = []
        for sink in facts.sinks:
            if sink.kind != "rls_bypass":
                continue
            route = next(
                (
                    r
                    for r in facts.routes
                    if r.location.path == sink.location.path and r.auth.status == AuthStatus.PUBLIC
                ),
                None,
            )
            if route is None or is_auth_endpoint(route.path):
                continue
            out.append(
                Finding(
                    title=f"Edge Function {route.handler} uses the service-role key "
                    "without checking its caller",
                    severity=Severity.HIGH,
                    stride=[Stride.ELEVATION_OF_PRIVILEGE, Stride.INFORMATION_DISCLOSURE],
                    cwe=["CWE-862"],
                    source="rule",
                    rule_id=self.id,
                    claims=[
                        Claim(
                            kind="rls_bypass",
                            route=RouteRef(method=route.method, path=route.path),
                            location=sink.location,
                        )
                    ],
                    evidence=evidence(ctx, sink.location),
                    attack=(
                        f"Call {route.path} with the public anon key ({route.auth.mechanism}): "
                        "the function's queries run as service_role, which bypasses row level "
                        "security, so it acts on every user's rows."
                    ),
                    mitigation=(
                        "Check the caller first (const { data: { user } } = await "
                        "supabase.auth.getUser(jwt); reject with 401 when there is none), and "
                        "scope every service-role query to that user, or use a client created "
                        "with the caller's own JWT so RLS applies."
                    ),
                )
            )
        return out
