"""rls_permissive: a row-level-security policy lets every row through for its roles.

The table is looked up in the final schema (after every migration). Confirmed when the
named policy (or, with no name, any policy) on it is permissive (``USING (true)``, no
condition, ...), or when RLS is disabled on it altogether. Refuted when the table does not
exist, when the named policy does not exist, or when every policy restricts rows (the
reason quotes the conditions and where they are). Unverifiable for tables without RLS
semantics (ORM models, non-Postgres databases).
"""

from __future__ import annotations

from threatmodel.models import Claim, Finding
from threatmodel.verify._common import at
from threatmodel.verify._tables import describe_policies, table_or_reason
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register


@register
class RlsPermissive(Verifier):
    kind = "rls_permissive"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        table = table_or_reason(claim, ctx.facts)
        if isinstance(table, ClaimResult):
            return table
        if table.rls_enabled is None:
            return ClaimResult.unverifiable(f"{table.name} ({table.source}) has no RLS semantics")
        if table.rls_enabled is False:
            return ClaimResult.confirmed(f"RLS is disabled on {table.name}: no policy applies")
        policies = table.policies
        if claim.name:
            named = [p for p in policies if p.name.lower() == claim.name.strip('"').lower()]
            if not named:
                have = ", ".join(f'"{p.name}"' for p in policies) or "none"
                return ClaimResult.refuted(
                    f'{table.name} has no policy "{claim.name}" (its policies: {have})'
                )
            policies = named
        permissive = [p for p in policies if p.permissive and not p.restrictive]
        if permissive:
            p = permissive[0]
            return ClaimResult.confirmed(
                f'policy "{p.name}" on {table.name} lets every row through{at(p.location)}'
            )
        if not policies:
            return ClaimResult.refuted(
                f"{table.name} has RLS enabled and no policies: no row is visible to clients"
            )
        return ClaimResult.refuted(
            f"every policy on {table.name} restricts rows: {describe_policies(table)}"
        )
