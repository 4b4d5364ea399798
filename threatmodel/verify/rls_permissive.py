"""rls_permissive: a row-level-security policy lets every row through for its roles.

The table is looked up in the final schema (after every migration). Confirmed when the
named policy (or, with no name, any policy) on it is permissive (``USING (true)``, no
condition, ...), or when RLS is disabled on it altogether. Refuted when the table does not
exist, when the named policy does not exist, or when every policy restricts rows (the
reason quotes the conditions and where they are). Unverifiable for tables without RLS
semantics (ORM models, non-Postgres databases).

A policy naming only roles that bypass RLS (``service_role``) is refuted: it opens nothing.
When the table was proven on a real PostgreSQL, the database decides: confirmed when a
caller the claim is about reached rows not its own, refuted when none did.
"""

from __future__ import annotations

from threatmodel.collect.proof.read import applies, bypass_only, describe, proof_open
from threatmodel.models import Claim, Facts, Finding, Policy, Table
from threatmodel.verify._common import at
from threatmodel.verify._tables import describe_policies, has_rls_semantics, table_or_reason
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register


@register
class RlsPermissive(Verifier):
    kind = "rls_permissive"

    @classmethod
    def can_confirm(cls, facts: Facts) -> bool:
        return has_rls_semantics(facts)

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
            if all(bypass_only(p) for p in named):
                roles = ", ".join(named[0].roles)
                return ClaimResult.refuted(
                    f'policy "{named[0].name}" applies only to {roles}, which bypasses RLS anyway'
                )
        proven = _proven(table, policies if claim.name else None)
        if proven is not None:
            return proven
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


def _proven(table: Table, policies: list[Policy] | None) -> ClaimResult | None:
    """The database's verdict on the claimed policies' roles and commands, if it was proven."""
    proof = table.proof
    if proof is None or proof.note:
        return None
    checks = [c for c in proof.checks if policies is None or any(applies(p, c) for p in policies)]
    if not checks or all(proof_open(c) is None for c in checks):
        return None
    opened = [c for c in checks if proof_open(c) is True]
    if opened:
        return ClaimResult.confirmed(describe(opened[0], table.name, proof.database))
    return ClaimResult.refuted(
        f"proven on {proof.database}: no caller reached rows of {table.name} not its own "
        f"({len(checks)} role and command checks)"
    )
