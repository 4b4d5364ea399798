"""rls_disabled: row level security is off on a table clients can reach.

Looked up in the final schema (after every migration): confirmed when the table's
``rls_enabled`` is false; refuted when it is true (the reason names the table's policies)
or when the table does not exist or every privilege on it is revoked from the API roles;
unverifiable for tables without RLS semantics.
"""

from __future__ import annotations

from threatmodel.models import Claim, Facts, Finding
from threatmodel.rules.rls_disabled import revoked
from threatmodel.verify._common import at
from threatmodel.verify._tables import describe_policies, has_rls_semantics, table_or_reason
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register


@register
class RlsDisabled(Verifier):
    kind = "rls_disabled"

    @classmethod
    def can_confirm(cls, facts: Facts) -> bool:
        return has_rls_semantics(facts)

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        table = table_or_reason(claim, ctx.facts)
        if isinstance(table, ClaimResult):
            return table
        if table.rls_enabled is None:
            return ClaimResult.unverifiable(f"{table.name} ({table.source}) has no RLS semantics")
        if table.rls_enabled:
            policies = describe_policies(table) or "no policies, so clients see no rows"
            return ClaimResult.refuted(
                f"{table.name} (created{at(table.location)}) has row level security enabled; "
                f"policies: {policies}"
            )
        if revoked(table):
            return ClaimResult.refuted(
                f"{table.name} has row level security off, but every privilege on it is "
                "revoked from anon and authenticated: the API cannot reach it"
            )
        return ClaimResult.confirmed(
            f"{table.name} has row level security disabled{at(table.location)}"
        )
