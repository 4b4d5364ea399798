"""TM102 permissive-rls-policy: a row-level-security policy that lets every row through.

A policy such as ``USING (true)`` (or with no condition) grants its roles every row of the
table for its command: with Supabase, any visitor holding the public anon key can read (or
write) all of them through the REST API. Reported per policy, in the final schema after
every migration; high when it applies to everyone (no role, ``public`` or ``anon``) or to a
write command, medium when only signed-in users (``authenticated``) get every row.
"""

from __future__ import annotations

from threatmodel.models import Claim, Facts, Finding, Severity, Stride
from threatmodel.rules._helpers import evidence
from threatmodel.rules.interface import Rule, RuleContext, register

OPEN_ROLES = frozenset({"public", "anon"})


@register
class PermissiveRlsPolicy(Rule):
    id = "TM102"
    name = "permissive-rls-policy"

    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        out = []
        for table in facts.tables:
            if not table.rls_enabled:
                continue
            for p in table.policies:
                if not p.permissive or p.restrictive:
                    continue
                roles = {r.lower() for r in p.roles} or {"public"}
                wide = bool(roles & OPEN_ROLES) or p.command != "SELECT"
                who = ", ".join(sorted(roles))
                out.append(
                    Finding(
                        title=f'Policy "{p.name}" gives {who} every row of {table.name}',
                        severity=Severity.HIGH if wide else Severity.MEDIUM,
                        stride=[Stride.INFORMATION_DISCLOSURE, Stride.TAMPERING],
                        cwe=["CWE-284"],
                        source="rule",
                        rule_id=self.id,
                        claims=[
                            Claim(
                                kind="rls_permissive",
                                table=table.name,
                                name=p.name,
                                location=p.location,
                            )
                        ],
                        evidence=evidence(ctx, p.location),
                        attack=(
                            f"Call the database API as {who} and {p.command} rows of {table.name}: "
                            f"the policy's condition ({p.using or p.check or 'none'}) "
                            "lets every row through."
                        ),
                        mitigation=(
                            "Restrict the policy to the rows the caller owns, e.g. "
                            "USING (auth.uid() = owner), and limit it to the roles that need it."
                        ),
                    )
                )
        return out
