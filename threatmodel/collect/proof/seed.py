"""Two synthetic users and a row of each in every table, written as ``service_role``.

User A and user B are rows of ``auth.users``. Row *i* of every table belongs to user *i*:
its owner columns (a foreign key to ``auth.users``, or a uuid column named like
``user_id``/``owner``/``author_id``) hold that user's id, and its other foreign keys point at
row *i* of the parent table, so ownership reached through a join (``exists (select 1 from
projects p where p.id = tasks.project_id and p.owner = auth.uid())``) holds too. Required
columns get a value of their type (an enum's first label, the first value a ``CHECK (x IN
(...))`` allows). Rows are written with ``session_replication_role = replica`` so the
project's triggers and foreign-key checks do not stand in the way; the probes run normally.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

USERS = (
    uuid.UUID("00000000-0000-4000-a000-00000000000a"),
    uuid.UUID("00000000-0000-4000-a000-00000000000b"),
)
_OWNER_NAME = re.compile(
    r"^(user|owner|author|creator|created_by|profile|member|account|uploader|sender|customer"
    r"|actor)(_?id|_uuid)?$|^(uid|user_uuid)$",
    re.I,
)
_CHECK_IN = re.compile(r"\((\w+)\s*=\s*ANY\s*\(ARRAY\['((?:[^']|'')*)'", re.I)


@dataclass
class Column:
    name: str
    type: str
    typtype: str  # b base, e enum, d domain, c composite
    not_null: bool
    has_default: bool  # a default, an identity or a generated column: left to the database


@dataclass
class TableInfo:
    name: str  # as facts name it: "profiles", "storage.objects"
    qualified: str  # quoted for SQL
    columns: list[Column]
    fks: dict[str, tuple[str, str]]  # column -> (parent table, parent column)
    owner_columns: list[str] = field(default_factory=list)
    check_values: dict[str, str] = field(default_factory=dict)
    unique: set[str] = field(default_factory=set)  # single-column primary or unique keys
    rows: list[str | None] = field(default_factory=list)  # ctid of user i's row, None if unseeded
    keys: list[dict[str, Any]] = field(default_factory=list)  # user i's row's column values
    error: str | None = None
    user_rows: bool = True  # rows belong to users: see _mark_user_rows


def message(exc: Exception) -> str:
    """The database's primary message (never its DETAIL, which quotes row values)."""
    diag = getattr(exc, "diag", None)
    return str(getattr(diag, "message_primary", None) or type(exc).__name__)


def _fact_name(schema: str, name: str) -> str:
    return name if schema == "public" else f"{schema}.{name}"


def discover(conn: Any) -> dict[str, TableInfo]:
    """Every ordinary table of ``public`` (and ``storage.objects``), by fact name."""
    tables: dict[str, TableInfo] = {}
    rows = conn.execute(
        "SELECT c.oid, n.nspname, c.relname, format('%I.%I', n.nspname, c.relname)"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'p') AND (n.nspname = 'public'"
        " OR (n.nspname = 'storage' AND c.relname = 'objects')) ORDER BY 2, 3"
    ).fetchall()
    for oid, schema, name, qualified in rows:
        cols = [
            Column(n, t, tt, nn, bool(hd or ident or gen))
            for n, t, tt, nn, hd, ident, gen in conn.execute(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typtype,"
                " a.attnotnull, a.atthasdef, a.attidentity <> '', a.attgenerated <> ''"
                " FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
                " WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped"
                " ORDER BY a.attnum",
                (oid,),
            ).fetchall()
        ]
        fks: dict[str, tuple[str, str]] = {}
        checks: dict[str, str] = {}
        unique: set[str] = set()
        for kind, child, parent_schema, parent, parent_col, definition in conn.execute(
            "SELECT con.contype, ca.attname, pn.nspname, pc.relname, pa.attname,"
            " pg_get_constraintdef(con.oid)"
            " FROM pg_constraint con"
            " LEFT JOIN pg_attribute ca ON ca.attrelid = con.conrelid"
            "  AND ca.attnum = con.conkey[1]"
            " LEFT JOIN pg_class pc ON pc.oid = con.confrelid"
            " LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace"
            " LEFT JOIN pg_attribute pa ON pa.attrelid = con.confrelid"
            "  AND pa.attnum = con.confkey[1]"
            " WHERE con.conrelid = %s AND con.contype IN ('f', 'c', 'p', 'u')"
            " AND cardinality(con.conkey) = 1",
            (oid,),
        ).fetchall():
            if kind in ("p", "u") and child is not None:
                unique.add(child)
            elif kind == "f" and parent is not None:
                fks[child] = (_fact_name(parent_schema, parent), parent_col)
            elif kind == "c" and child is not None:
                found = _CHECK_IN.search(definition or "")
                if found and found.group(1) == child:
                    checks[child] = found.group(2).replace("''", "'")
        info = TableInfo(
            _fact_name(schema, name), qualified, cols, fks, check_values=checks, unique=unique
        )
        info.owner_columns = [
            c.name
            for c in cols
            if fks.get(c.name, ("",))[0] == "auth.users"
            or (c.name not in fks and c.type in ("uuid", "text") and _OWNER_NAME.match(c.name))
        ]
        tables[info.name] = info
    _inherit_owners(tables)
    _mark_user_rows(tables)
    return tables


def _inherit_owners(tables: dict[str, TableInfo]) -> None:
    """A foreign key to a parent's owner column (``notes.owner -> profiles.id -> auth.users``)
    is an owner column too; followed to a fixed point for longer chains."""
    changed = True
    while changed:
        changed = False
        for table in tables.values():
            for col, (parent, parent_col) in table.fks.items():
                owner = parent in tables and parent_col in tables[parent].owner_columns
                if owner and col not in table.owner_columns:
                    table.owner_columns.append(col)
                    changed = True


def _mark_user_rows(tables: dict[str, TableInfo]) -> None:
    """A table's rows belong to users when it has an owner column or a foreign key to a table
    whose rows do (or to one not discovered here, which cannot be told); the rest is the
    app's own reference data (roles, topics, a product catalog)."""
    for table in tables.values():
        table.user_rows = bool(table.owner_columns)
    changed = True
    while changed:
        changed = False
        for table in tables.values():
            if not table.user_rows and any(
                parent not in tables or tables[parent].user_rows for parent, _ in table.fks.values()
            ):
                table.user_rows = changed = True


def value_sql(col: Column, table: TableInfo, i: int) -> tuple[str, Any]:
    """(SQL expression with one placeholder or none, parameter) for a column of row i."""
    if col.name in table.owner_columns:
        return "%s::" + col.type, str(USERS[i])
    if col.name in table.check_values:
        return "%s::" + col.type, table.check_values[col.name]
    if col.typtype == "e":
        return f"(enum_range(NULL::{col.type}))[1]", None
    t = col.type
    base = t.split("(")[0].strip()
    if t.endswith("[]"):
        return "'{}'::" + t, None
    if base == "uuid":
        return "gen_random_uuid()", None
    if base in ("integer", "bigint", "smallint", "numeric", "real", "double precision"):
        # A key must not collide with the project's own seed rows (ids 1, 2, ...).
        return "%s::" + t, str(i + 1 + (31000 if col.name in table.unique else 0))
    if base == "boolean":
        return "false", None
    if base in ("json", "jsonb"):
        return "'{}'::" + t, None
    if base.startswith(("timestamp", "date", "time")):
        return "now()::" + t, None
    if "email" in col.name.lower():
        return "%s::" + t, f"user{'ab'[i]}@example.test"
    return "%s::" + t, f"tm-proof-{'ab'[i]}-{uuid.uuid4().hex[:8]}"


def _order(tables: dict[str, TableInfo]) -> list[TableInfo]:
    """Parents before children (a cycle is broken anywhere: replica mode skips FK checks)."""
    done: list[TableInfo] = []
    seen: set[str] = set()

    def visit(name: str, path: set[str]) -> None:
        if name in seen or name not in tables or name in path:
            return
        for parent, _ in tables[name].fks.values():
            visit(parent, path | {name})
        seen.add(name)
        done.append(tables[name])

    for name in sorted(tables):
        visit(name, set())
    return done


def row_values(
    table: TableInfo, tables: dict[str, TableInfo], i: int, *, required_only: bool = False
) -> dict[str, tuple[str, Any]]:
    """Column -> (expression, parameter) for a row owned by user i."""
    values: dict[str, tuple[str, Any]] = {}
    for col in table.columns:
        parent = table.fks.get(col.name)
        if parent is not None and parent[0] in tables:
            keys = tables[parent[0]].keys
            if i < len(keys) and parent[1] in keys[i]:
                values[col.name] = ("%s::" + col.type, keys[i][parent[1]])
                continue
        if (
            col.name in table.owner_columns
            or (col.not_null and not col.has_default)
            or (not required_only and col.name in table.check_values)
        ):
            values[col.name] = value_sql(col, table, i)
    return values


def insert_sql(
    table: TableInfo, values: dict[str, tuple[str, Any]], returning: bool = True
) -> tuple[str, list[Any]]:
    """The INSERT; ``returning=False`` for probes, since RETURNING also needs a SELECT policy."""
    tail = " RETURNING ctid::text, *" if returning else ""
    if not values:
        return f"INSERT INTO {table.qualified} DEFAULT VALUES{tail}", []
    cols = ", ".join(f'"{c}"' for c in values)
    exprs = ", ".join(e for e, _ in values.values())
    params = [p for e, p in values.values() if "%s" in e]
    return f"INSERT INTO {table.qualified} ({cols}) VALUES ({exprs}){tail}", params


def seed(conn: Any, tables: dict[str, TableInfo]) -> None:
    """Users A and B, then one row of each per table (``seed_objects``: per bucket)."""
    # The SET privilege is the migration role's own: set it before becoming service_role.
    conn.execute("SET session_replication_role = replica")
    conn.execute("SET ROLE service_role")
    for i, user in enumerate(USERS):
        conn.execute(
            "INSERT INTO auth.users (id, email, aud, role) VALUES (%s, %s, 'authenticated',"
            " 'authenticated') ON CONFLICT DO NOTHING",
            (user, f"user{'ab'[i]}@example.test"),
        )
    for table in _order(tables):
        if table.name == "storage.objects":
            continue
        for i in range(len(USERS)):
            sql, params = insert_sql(table, row_values(table, tables, i))
            try:
                with conn.transaction():
                    cur = conn.execute(sql, params)
                    row = cur.fetchone()
                    names = [d.name for d in cur.description][1:]
                table.rows.append(row[0])
                table.keys.append(dict(zip(names, row[1:], strict=False)))
            except Exception as exc:  # a row the table refuses: this table goes unproven
                table.error = f"could not write a row: {message(exc)}"
                table.rows.append(None)
                table.keys.append({})
    conn.execute("RESET ROLE")
    conn.execute("RESET session_replication_role")


def seed_objects(conn: Any, bucket: str) -> list[str | None]:
    """One object per user in ``bucket``, in the user's folder (Supabase's convention)."""
    # The SET privilege is the migration role's own: set it before becoming service_role.
    conn.execute("SET session_replication_role = replica")
    conn.execute("SET ROLE service_role")
    rows: list[str | None] = []
    for user in USERS:
        try:
            with conn.transaction():
                row = conn.execute(
                    "INSERT INTO storage.objects (bucket_id, name, owner, owner_id)"
                    " VALUES (%s, %s, %s, %s) RETURNING ctid::text",
                    (bucket, f"{user}/tm-proof.txt", user, str(user)),
                ).fetchone()
            rows.append(row[0] if row else None)
        except Exception:  # the bucket refuses objects: unproven
            rows.append(None)
    conn.execute("RESET ROLE")
    conn.execute("RESET session_replication_role")
    return rows
