"""TM103 rls-disabled-exposed-table: a Supabase table API clients can reach with RLS off.

In a Supabase project every table of the ``public`` schema is served by the REST API, and
the ``anon`` and ``authenticated`` roles get table privileges by default: without row
level security anyone holding the public anon key reads and writes every row. Reported for
Postgres tables with RLS explicitly off (``rls_enabled`` false) that are in the exposed
schema when the repository is a Supabase project (policies using ``auth.uid()``, storage
buckets, ``anon`` / ``authenticated`` roles or grants, a supabase dependency or env var),
or that are granted to ``anon`` / ``authenticated`` explicitly. A table whose privileges are
all revoked from both API roles (``REVOKE ALL ... FROM anon, authenticated``, statically an
empty grant), or that the database proof shows no API role reaching at all, is not
reported: with RLS off, the privileges are what closes it.
"""

from __future__ import annotations

from threatmodel.collect.proof.read import describe, exposures, sentences
from threatmodel.models import Claim, Facts, Finding, Severity, Stride, Table
from threatmodel.rules._helpers import evidence
from threatmodel.rules.interface import Rule, RuleContext, register

CLIENT_ROLES = frozenset({"anon", "authenticated"})


def is_supabase(facts: Facts) -> bool:
    if facts.buckets:
        return True
    if any("supabase" in d.name.lower() for d in facts.dependencies):
        return True
    if any("SUPABASE" in v.name.upper() for v in facts.env_vars):
        return True
    for t in facts.tables:
        for p in t.policies:
            text = f"{p.using or ''} {p.check or ''}".lower()
            if "auth.uid()" in text or "auth.jwt()" in text or CLIENT_ROLES & set(p.roles):
                return True
        if any(g.role in CLIENT_ROLES for g in t.grants):
            return True
    return False


def revoked(table: Table) -> bool:
    """Every API role's privileges are revoked (an empty grant): the REST API is refused."""
    return {g.role for g in table.grants if not g.privileges} >= CLIENT_ROLES


def exposed(table: Table, supabase: bool) -> bool:
    granted = any(g.role in CLIENT_ROLES and g.privileges for g in table.grants)
    schema = table.name.split(".", 1)[0] if "." in table.name else "public"
    return granted or (supabase and schema == "public" and not revoked(table))


@register
class RlsDisabledExposedTable(Rule):
    id = "TM103"
    name = "rls-disabled-exposed-table"

    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        supabase = is_supabase(facts)
        out = []
        for table in facts.tables:
            if (
                table.rls_enabled is not False
                or table.source != "sql"
                or not exposed(table, supabase)
                or proven_closed(table)
            ):
                continue
            out.append(
                Finding(
                    title=f"Row level security is off on {table.name}, which API clients can reach",
                    severity=Severity.HIGH,
                    stride=[Stride.INFORMATION_DISCLOSURE, Stride.TAMPERING],
                    cwe=["CWE-862"],
                    source="rule",
                    rule_id=self.id,
                    claims=[Claim(kind="rls_disabled", table=table.name, location=table.location)],
                    evidence=evidence(ctx, table.location),
                    attack=(
                        f"With the public anon key, query /rest/v1/{table.name.split('.')[-1]} "
                        "and read, change or delete every row." + sentences(_proven(table))
                    ),
                    mitigation=(
                        f"ALTER TABLE {table.name} ENABLE ROW LEVEL SECURITY and add policies "
                        "that limit each role to its own rows."
                    ),
                )
            )
        return out


def proven_closed(table: Table) -> bool:
    """The database let no role (anon, either user) do anything to the table."""
    proof = table.proof
    return (
        proof is not None
        and proof.note is None
        and bool(proof.checks)
        and not any(c.allowed for c in proof.checks)
    )


def _proven(table: Table) -> list[str]:
    """What the real database let anon do, when the table was proven."""
    if table.proof is None:
        return []
    db = table.proof.database
    return [describe(c, table.name, db) for c in exposures(table) if c.role == "anon"]
