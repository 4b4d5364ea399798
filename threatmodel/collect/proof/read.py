"""Reading a table's proof: what each role reached, in words, and whether the static reading
of the migrations agrees.

Used by the proof stage (to list disagreements), the RLS rules (to cite the proof) and the
RLS verifiers (a database's answer outranks a static reading). Pure functions on the models.
"""

from __future__ import annotations

from threatmodel.models import Policy, ProofCheck, Table

# Roles with BYPASSRLS (or superuser) on Supabase: a policy naming only them opens nothing
# that was not already open to them, and no API caller holds them without the secret key.
BYPASS_ROLES = frozenset({"service_role", "postgres", "supabase_admin"})
# The database role each probe ran as.
_DB_ROLE = {"anon": "anon", "user_a": "authenticated", "user_b": "authenticated"}
_VERB = {"SELECT": "read", "INSERT": "inserted", "UPDATE": "changed", "DELETE": "deleted"}


def bypass_only(policy: Policy) -> bool:
    """True when every role the policy names bypasses RLS anyway."""
    roles = {r.lower() for r in policy.roles}
    return bool(roles) and roles <= BYPASS_ROLES


def proof_open(check: ProofCheck) -> bool | None:
    """The role reached rows that are not its own (anon: any row; INSERT: a forged owner).

    None when it cannot be told: a signed-in user on a table with no owner column.
    """
    if check.other_rows is not None:
        return check.other_rows
    return check.allowed if check.role == "anon" else None


def applies(policy: Policy, check: ProofCheck) -> bool:
    roles = {r.lower() for r in policy.roles} or {"public"}
    role_ok = "public" in roles or _DB_ROLE[check.role] in roles
    return role_ok and policy.command in ("ALL", check.command)


def static_open(table: Table, check: ProofCheck) -> bool | None:
    """What the static reading says of this role and command (None: it cannot say)."""
    if table.rls_enabled is None:
        return None
    if table.rls_enabled is False:
        return True
    for p in table.policies:
        if p.permissive and not p.restrictive and not bypass_only(p) and applies(p, check):
            # A user's own rows are no exposure; "open" is about the other user's rows.
            return True
    return False


def describe(check: ProofCheck, table: str, database: str) -> str:
    """'proven on PostgreSQL 18.6: anon read 2 of 2 rows of profiles, including user B's'."""
    who = {"anon": "anon", "user_a": "user A", "user_b": "user B"}[check.role]
    other = {"anon": "", "user_a": "user B's", "user_b": "user A's"}[check.role]
    where = f"objects of bucket {check.bucket}" if check.bucket else table
    if check.command == "INSERT":
        if not check.allowed:
            what = f"could not insert into {where}"
        elif check.other_rows and other:
            what = f"inserted a row owned by {other[:-2]} into {where}"
        else:
            what = f"inserted a row into {where}"
    elif check.allowed:
        what = f"{_VERB[check.command]} {check.reached} of {check.total} rows of {where}"
        if check.other_rows and other:
            what += f", including {other}"
    else:
        what = f"{_VERB[check.command]} no row of {where}"
    return f"proven on {database}: {who} {what}"


def exposures(table: Table) -> list[ProofCheck]:
    """The checks where a role reached rows that are not its own."""
    if table.proof is None:
        return []
    return [c for c in table.proof.checks if proof_open(c) is True]


def disagreements(table: Table, skipped: int) -> list[str]:
    """Each role and command where the static reading and the database differ."""
    if table.proof is None or table.name == "storage.objects" or table.proof.note:
        return []
    out = []
    for check in table.proof.checks:
        said = static_open(table, check)
        shown = proof_open(check)
        if said is None or shown is None or said == shown:
            continue
        right = (
            "the database is right"
            if not skipped
            else f"the database is right unless one of the {skipped} skipped statements matters"
        )
        reading = "opens" if said else "closes"
        out.append(
            f"{table.name}: the static reading {reading} {check.command} to {check.role}; "
            f"{describe(check, table.name, table.proof.database)} ({right})"
        )
    return out


def sentences(lines: list[str]) -> str:
    """' Proven on X: anon read 2 of 2 rows of t; user A ...' to append to an attack."""
    if not lines:
        return ""
    head, _, _ = lines[0].partition(": ")
    parts = [line.partition(": ")[2] if line.startswith(head) else line for line in lines]
    return f" {head[:1].upper()}{head[1:]}: {'; '.join(parts)}."
