"""Shared lookups for the table claims (rls_permissive, rls_disabled)."""

from __future__ import annotations

from threatmodel.models import Claim, Facts, Table
from threatmodel.verify._common import at, find_table
from threatmodel.verify.interface import ClaimResult


def has_rls_semantics(facts: Facts) -> bool:
    """Whether any table can carry a row level security claim (a table without RLS
    semantics makes both table verifiers answer unverifiable at best)."""
    return any(t.rls_enabled is not None for t in facts.tables)


def table_or_reason(claim: Claim, facts: Facts) -> Table | ClaimResult:
    """The claimed table, or the result to return when it cannot be looked at."""
    if not claim.table:
        return ClaimResult.unverifiable("claim names no table")
    table = find_table(facts, claim.table, claim.location)
    if table is not None:
        return table
    if not facts.tables:
        return ClaimResult.refuted(f"the repository defines no tables (no `{claim.table}`)")
    names = ", ".join(t.name for t in facts.tables[:6])
    more = ", ..." if len(facts.tables) > 6 else ""
    return ClaimResult.refuted(f"no table `{claim.table}` is defined (tables: {names}{more})")


def describe_policies(table: Table) -> str:
    parts = []
    for p in table.policies[:3]:
        cond = p.using or p.check or "no condition"
        parts.append(f'"{p.name}" {p.command} USING ({cond}){at(p.location)}')
    return "; ".join(parts)
