"""Try every command on every table as ``anon``, user A and user B, and undo it.

Each role's attempts on a table run in one transaction that is rolled back, each attempt in
its own savepoint. ``SELECT`` counts which seeded rows the role sees; ``UPDATE`` and
``DELETE`` target each seeded row by ``ctid`` and count the rows they touched; ``INSERT``
writes a row owned by the caller and one owned by the other user (anon: by user A). A
command refused by a unique key or a foreign key was let through by RLS (PostgreSQL
applies the policies first; a child row referencing the deleted one fails after), so it
counts as allowed. "Other rows" means a row of the other
user (for anon: any user's row).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from threatmodel.collect.proof.seed import USERS, TableInfo, insert_sql, message, row_values

ROLES: tuple[tuple[str, int | None], ...] = (("anon", None), ("user_a", 0), ("user_b", 1))
_PASSED_RLS = frozenset({"23505", "23503"})  # unique / foreign key violation: after RLS


@dataclass
class Check:
    role: str
    command: str
    allowed: bool
    reached: int = 0
    total: int = 0
    other_rows: bool | None = None
    bucket: str | None = None
    error: str | None = None


def _become(conn: Any, i: int | None) -> None:
    if i is None:
        conn.execute("SET LOCAL ROLE anon")
        claims: dict[str, str] = {"role": "anon"}
    else:
        conn.execute("SET LOCAL ROLE authenticated")
        claims = {
            "sub": str(USERS[i]),
            "role": "authenticated",
            "aud": "authenticated",
            "email": f"user{'ab'[i]}@example.test",
        }
    conn.execute("SELECT set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))


def _other(i: int | None, reached: set[int]) -> bool:
    return bool(reached) if i is None else bool(reached - {i})


def _touch_column(table: TableInfo) -> str:
    for name in table.owner_columns:
        return name
    plain = [c.name for c in table.columns if not c.has_default]
    return plain[0] if plain else table.columns[0].name


def probe(
    conn: Any,
    table: TableInfo,
    tables: dict[str, TableInfo],
    rows: list[str | None],
    bucket: str | None = None,
) -> list[Check]:
    """The checks of every role and command on one table (or one bucket's objects)."""
    scope = " WHERE bucket_id = %s" if bucket is not None else ""
    scope_args = [bucket] if bucket is not None else []
    total = sum(1 for r in rows if r)
    checks: list[Check] = []
    for role, i in ROLES:
        with conn.transaction(force_rollback=True):
            _become(conn, i)
            checks.append(_select(conn, table, rows, scope, scope_args, role, i))
            checks.append(_insert(conn, table, tables, role, i, bucket))
            for command in ("UPDATE", "DELETE"):
                checks.append(_write(conn, table, rows, command, role, i))
    for c in checks:
        c.bucket, c.total = bucket, total
    return checks


def _select(
    conn: Any,
    table: TableInfo,
    rows: list[str | None],
    scope: str,
    args: list[Any],
    role: str,
    i: int | None,
) -> Check:
    try:
        with conn.transaction():
            seen = {
                r[0] for r in conn.execute(f"SELECT ctid::text FROM {table.qualified}{scope}", args)
            }
    except Exception as exc:  # permission denied: nothing read
        return Check(role, "SELECT", False, error=message(exc))
    reached = {k for k, ctid in enumerate(rows) if ctid and ctid in seen}
    return Check(role, "SELECT", bool(reached), len(reached), other_rows=_other(i, reached))


def _write(
    conn: Any, table: TableInfo, rows: list[str | None], command: str, role: str, i: int | None
) -> Check:
    col = _touch_column(table)
    sql = (
        f'UPDATE {table.qualified} SET "{col}" = "{col}" WHERE ctid = %s::tid RETURNING 1'
        if command == "UPDATE"
        else f"DELETE FROM {table.qualified} WHERE ctid = %s::tid RETURNING 1"
    )
    reached: set[int] = set()
    error = None
    for k, ctid in enumerate(rows):
        if not ctid:
            continue
        try:
            with conn.transaction(force_rollback=True):
                if conn.execute(sql, (ctid,)).fetchone():
                    reached.add(k)
        except Exception as exc:  # refused: permission, a policy's WITH CHECK, a trigger
            if getattr(getattr(exc, "diag", None), "sqlstate", None) in _PASSED_RLS:
                reached.add(k)  # a foreign or unique key refused the row RLS let through
            else:
                error = error or message(exc)
    return Check(
        role,
        command,
        bool(reached),
        len(reached),
        other_rows=_other(i, reached),
        error=None if reached else error,
    )


def _insert(
    conn: Any,
    table: TableInfo,
    tables: dict[str, TableInfo],
    role: str,
    i: int | None,
    bucket: str | None,
) -> Check:
    own = i if i is not None else 0
    owners = [own] if i is None else [own, 1 - own]
    results: list[bool] = []
    error = None
    for owner in owners if table.owner_columns else owners[:1]:
        values = row_values(table, tables, owner)
        if bucket is not None:
            values["bucket_id"] = ("%s", bucket)
            values["name"] = ("%s", f"{USERS[owner]}/tm-probe-{role}.txt")
        sql, params = insert_sql(table, values, returning=False)
        try:
            with conn.transaction(force_rollback=True):
                conn.execute(sql, params)
            results.append(True)
        except Exception as exc:
            code = getattr(getattr(exc, "diag", None), "sqlstate", None)
            results.append(code in _PASSED_RLS)
            if code not in _PASSED_RLS:
                error = error or message(exc)
    if i is None:
        other: bool | None = results[0]
    else:
        other = results[1] if len(results) > 1 else None
    allowed = any(results)
    return Check(
        role, "INSERT", allowed, int(allowed), other_rows=other, error=None if allowed else error
    )
