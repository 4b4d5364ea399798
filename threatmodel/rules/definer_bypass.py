"""TM133 security-definer-rpc and TM134 view-bypasses-rls: database objects that read tables
with their owner's rights, reachable through Supabase's API.

- TM133: a ``SECURITY DEFINER`` function in the exposed ``public`` schema that ``anon`` or
  ``authenticated`` may execute (Supabase grants them EXECUTE by default; revoking from
  PUBLIC alone does not take it away) is callable as ``/rest/v1/rpc/<name>`` and runs as its
  owner, who bypasses RLS. Medium: whether that matters depends on what the body does and
  whether it checks ``auth.uid()`` itself. Trigger functions cannot be called and are skipped.
- TM134: a view without ``security_invoker = true`` over a table with RLS enabled is served
  by the API and reads that table as the view's owner, so the table's policies do not apply
  to the caller. High.
"""

from __future__ import annotations

from threatmodel.models import Claim, Facts, Finding, Severity, Stride, Table, View
from threatmodel.rules._helpers import evidence
from threatmodel.rules.interface import Rule, RuleContext, register


def rls_tables_behind(view: View, facts: Facts) -> list[Table]:
    """The RLS-enabled tables (of the view's own project) the view reads."""
    wanted = set(view.tables)
    return [
        t
        for t in facts.tables
        if t.name in wanted and t.rls_enabled and t.source == "sql" and t.project == view.project
    ]


@register
class SecurityDefinerRpc(Rule):
    id = "TM133"
    name = "security-definer-rpc"

    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        out = []
        for fn in facts.functions:
            if not fn.security_definer or not fn.callable_by:
                continue
            who = " and ".join(fn.callable_by)
            short = fn.name.split(".")[-1]
            out.append(
                Finding(
                    title=f"SECURITY DEFINER function {fn.name} is callable by {who}",
                    severity=Severity.MEDIUM,
                    stride=[Stride.ELEVATION_OF_PRIVILEGE],
                    cwe=["CWE-250"],
                    source="rule",
                    rule_id=self.id,
                    claims=[Claim(kind="rls_bypass", name=fn.name, location=fn.location)],
                    evidence=evidence(ctx, fn.location),
                    attack=(
                        f"POST /rest/v1/rpc/{short} as {fn.callable_by[0]}: the function runs "
                        "as its owner, who bypasses row level security."
                    ),
                    mitigation=(
                        f"REVOKE EXECUTE ON FUNCTION {fn.name} FROM public, anon (and "
                        "authenticated if users need not call it), move it to a schema the API "
                        "does not expose, or make it SECURITY INVOKER and check auth.uid()."
                    ),
                )
            )
        return out


@register
class ViewBypassesRls(Rule):
    id = "TM134"
    name = "view-bypasses-rls"

    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        out = []
        for view in facts.views:
            schema = view.name.split(".", 1)[0] if "." in view.name else "public"
            behind = rls_tables_behind(view, facts)
            if view.security_invoker or schema != "public" or not behind:
                continue
            names = ", ".join(t.name for t in behind)
            out.append(
                Finding(
                    title=f"View {view.name} reads {names} without their RLS policies",
                    severity=Severity.HIGH,
                    stride=[Stride.INFORMATION_DISCLOSURE],
                    cwe=["CWE-284"],
                    source="rule",
                    rule_id=self.id,
                    claims=[Claim(kind="rls_bypass", name=view.name, location=view.location)],
                    evidence=evidence(ctx, view.location),
                    attack=(
                        f"GET /rest/v1/{view.name} with the anon key: the view reads {names} "
                        "with its owner's rights, so every row the query selects comes back."
                    ),
                    mitigation=(
                        f"ALTER VIEW {view.name} SET (security_invoker = true) (PostgreSQL 15+), "
                        "or revoke SELECT on it from anon and authenticated."
                    ),
                )
            )
        return out
