"""TM130 proven-rls-exposure: a real PostgreSQL let a caller reach rows not its own, and the
static reading of the migrations did not see it.

The proof stage (``collect/proof/``) applies the migrations to a real PostgreSQL and tries
each command as ``anon``, user A and user B. When anon reached a row, or one user reached the
other's, where no static rule (TM102 permissive policy, TM103 RLS disabled) reports the
table, the database is the better witness: a policy calling a function the static reading
cannot see through, a grant, a default. One finding per table, citing every exposure.
"""

from __future__ import annotations

from threatmodel.collect.proof.read import describe, exposures, sentences, static_open
from threatmodel.models import Claim, Facts, Finding, Severity, Stride
from threatmodel.rules._helpers import evidence
from threatmodel.rules.interface import Rule, RuleContext, register


@register
class ProvenRlsExposure(Rule):
    id = "TM130"
    name = "proven-rls-exposure"

    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        out = []
        for table in facts.tables:
            if table.proof is None or table.proof.note:
                continue
            unseen = [c for c in exposures(table) if static_open(table, c) is False]
            if not unseen:
                continue
            proof = table.proof
            lines = [describe(c, table.name, proof.database) for c in unseen]
            writes = any(c.command != "SELECT" for c in unseen)
            anon = any(c.role == "anon" for c in unseen)
            out.append(
                Finding(
                    title=f"A real PostgreSQL lets callers reach other users' rows of {table.name}",
                    severity=Severity.HIGH if anon or writes else Severity.MEDIUM,
                    stride=[Stride.INFORMATION_DISCLOSURE, Stride.TAMPERING],
                    cwe=["CWE-284"],
                    source="rule",
                    rule_id=self.id,
                    claims=[
                        Claim(kind="rls_permissive", table=table.name, location=table.location)
                    ],
                    evidence=evidence(ctx, table.location),
                    attack=sentences(lines).strip(),
                    mitigation=(
                        f"Review the policies and grants of {table.name}: limit each command "
                        "to the caller's own rows (USING (auth.uid() = owner))."
                    ),
                )
            )
        return out
