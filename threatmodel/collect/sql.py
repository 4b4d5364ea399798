"""PostgreSQL / Supabase schema from SQL migrations, parsed with pglast (libpg_query).

Extract (per ``.sql`` file): the file's schema-changing statements, in order, as small
operations: tables and columns, ``ENABLE/DISABLE ROW LEVEL SECURITY``, ``CREATE/ALTER/DROP
POLICY``, renames, ``GRANT/REVOKE`` on tables, ``SECURITY DEFINER`` functions, and storage
buckets (``insert into storage.buckets``, ``update storage.buckets set public``). A file
pglast rejects is split into statements with pglast's scanner and each is parsed alone:
the statements that parse still count, and the first failure is recorded as the reason.

Link: applies every file's operations in migration order (paths sorted the way migration
tools sort them: by name, numbers compared as numbers) and reports the **final** state, so
a policy dropped or replaced later is gone and a table whose RLS a later migration disables
is reported disabled. Policies on ``storage.objects`` become that table's policies.

Whether a policy lets every row through (``Policy.permissive``) is decided in ``_rls.py``;
read its docstring for the exact rule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pglast import ast, parse_plpgsql, parser
from pglast.enums import AlterTableType, GrantTargetType, ObjectType, RoleSpecType

from threatmodel.collect._rls import deparse, policy_is_permissive
from threatmodel.collect._sql_state import SchemaState
from threatmodel.collect.interface import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.collect.source import SourceFile

# Statements worth parsing at all; a .sql file with none of these words is data or queries.
_INTERESTING = re.compile(
    r"\b(create|alter|drop|grant|revoke|insert\s+into\s+storage|update\s+storage)\b", re.I
)
_META = re.compile(r"^[ \t]*\\[a-zA-Z!].*$", re.M)
_CMD = {
    "all": "ALL",
    "select": "SELECT",
    "insert": "INSERT",
    "update": "UPDATE",
    "delete": "DELETE",
}


def _qualified(schema: str | None, name: str) -> str:
    return name if schema in (None, "", "public") else f"{schema}.{name}"


def _rel(rv: Any) -> str:
    return _qualified(rv.schemaname, rv.relname)


def _names(parts: Any) -> str:
    """A qualified name given as a list of String nodes."""
    svals = [p.sval for p in parts]
    return _qualified(svals[-2] if len(svals) > 1 else None, svals[-1])


def _roles(specs: Any) -> list[str]:
    roles = sorted(
        {
            "public" if s.roletype == RoleSpecType.ROLESPEC_PUBLIC else str(s.rolename)
            for s in specs or ()
            if s.roletype in (RoleSpecType.ROLESPEC_PUBLIC, RoleSpecType.ROLESPEC_CSTRING)
        }
    )
    return [] if roles == ["public"] else roles  # Policy.roles: empty means PUBLIC


def _type(tn: Any) -> str | None:
    if tn is None:
        return None
    try:
        return deparse(tn)
    except Exception:  # deparsing an exotic type must not lose the column
        return str(tn.names[-1].sval)


def _columns(elts: Any) -> list[list[Any]]:
    return [[e.colname, _type(e.typeName)] for e in elts or () if isinstance(e, ast.ColumnDef)]


def _const(node: Any) -> Any:
    if isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.A_Const):
        if node.isnull:
            return None
        for attr in ("boolval", "sval", "ival"):
            if hasattr(node.val, attr):
                return getattr(node.val, attr)
    return ...  # not a constant


# Column order of storage.buckets, for inserts that give no column list.
_BUCKET_COLUMNS = ("id", "name", "owner", "created_at", "updated_at", "public")


def _bucket_rows(stmt: Any) -> list[tuple[str, bool]]:
    cols = [c.name for c in stmt.cols] if stmt.cols else list(_BUCKET_COLUMNS)
    select = stmt.selectStmt
    rows = []
    tuples = list(getattr(select, "valuesLists", None) or ())
    if not tuples and getattr(select, "targetList", None) and not select.fromClause:
        # INSERT ... SELECT 'id', 'name', true WHERE NOT EXISTS (...): one row of constants
        tuples = [[t.val for t in select.targetList]]
    for values in tuples:
        row = dict(zip(cols, (_const(v) for v in values), strict=False))
        name = row.get("id") if isinstance(row.get("id"), str) else row.get("name")
        if isinstance(name, str):
            public = row.get("public")
            rows.append((name, public is True or public in ("t", "true")))
    return rows


def _where_bucket(where: Any) -> str | None:
    """The bucket named by ``where id = 'x'`` (or ``name = 'x'``)."""
    if isinstance(where, ast.A_Expr) and isinstance(where.lexpr, ast.ColumnRef):
        col = getattr((where.lexpr.fields or (None,))[-1], "sval", None)
        value = _const(where.rexpr)
        if col in ("id", "name") and isinstance(value, str):
            return value
    return None


def statement_ops(stmt: Any) -> list[dict[str, Any]]:
    """The schema operations of one parsed statement (empty for anything else)."""
    # Dispatch on the node type; pglast's nodes are dynamically shaped, handlers take Any.
    handler = _HANDLERS.get(type(stmt).__name__)
    return handler(stmt) if handler is not None else []


def _create_table(s: Any) -> list[dict[str, Any]]:
    return [{"op": "create_table", "table": _rel(s.relation), "columns": _columns(s.tableElts)}]


def _alter_table(s: Any) -> list[dict[str, Any]]:
    if s.objtype != ObjectType.OBJECT_TABLE:
        return []
    table, ops = _rel(s.relation), []
    for cmd in s.cmds:
        if cmd.subtype in (
            AlterTableType.AT_EnableRowSecurity,
            AlterTableType.AT_DisableRowSecurity,
        ):
            enabled = cmd.subtype == AlterTableType.AT_EnableRowSecurity
            ops.append({"op": "rls", "table": table, "enabled": enabled})
        elif cmd.subtype == AlterTableType.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
            ops.append({"op": "add_columns", "table": table, "columns": _columns([cmd.def_])})
        elif cmd.subtype == AlterTableType.AT_DropColumn:
            ops.append({"op": "drop_column", "table": table, "column": cmd.name})
    return ops


def _rename(s: Any) -> list[dict[str, Any]]:
    if s.relation is None:
        return []
    table = _rel(s.relation)
    if s.renameType == ObjectType.OBJECT_TABLE:
        return [
            {
                "op": "rename_table",
                "table": table,
                "new": _qualified(s.relation.schemaname, s.newname),
            }
        ]
    kind = {ObjectType.OBJECT_COLUMN: "rename_column", ObjectType.OBJECT_POLICY: "rename_policy"}
    if s.renameType in kind:
        return [{"op": kind[s.renameType], "table": table, "old": s.subname, "new": s.newname}]
    return []


def _create_function(s: Any) -> list[dict[str, Any]]:
    definer = any(o.defname == "security" and bool(o.arg.boolval) for o in s.options or ())
    return [{"op": "function", "name": _names(s.funcname), "definer": definer}]


def _alter_function(s: Any) -> list[dict[str, Any]]:
    for action in s.actions or ():
        if action.defname == "security":
            definer = bool(action.arg.boolval)
            return [{"op": "function", "name": _names(s.func.objname), "definer": definer}]
    return []


def _insert(s: Any) -> list[dict[str, Any]]:
    if _rel(s.relation) != "storage.buckets":
        return []
    return [{"op": "bucket", "name": n, "public": p} for n, p in _bucket_rows(s)]


def _update(s: Any) -> list[dict[str, Any]]:
    name = _where_bucket(s.whereClause)
    if _rel(s.relation) != "storage.buckets" or name is None:
        return []
    for target in s.targetList:
        if target.name == "public":
            return [{"op": "bucket_public", "name": name, "public": _const(target.val) is True}]
    return []


def _delete(s: Any) -> list[dict[str, Any]]:
    name = _where_bucket(s.whereClause)
    if _rel(s.relation) != "storage.buckets" or name is None:
        return []
    return [{"op": "drop_bucket", "name": name}]


def _grant(s: Any) -> list[dict[str, Any]]:
    return [_grant_op(s)] if s.objtype == ObjectType.OBJECT_TABLE else []


def _policy_op(stmt: Any) -> list[dict[str, Any]]:
    table = _rel(stmt.table)
    using = deparse(stmt.qual) if stmt.qual is not None else None
    check = deparse(stmt.with_check) if stmt.with_check is not None else None
    if isinstance(stmt, ast.AlterPolicyStmt):
        # ALTER POLICY changes only what it names; link() recomputes permissiveness then.
        return [
            {
                "op": "alter_policy",
                "table": table,
                "name": stmt.policy_name,
                "roles": _roles(stmt.roles) if stmt.roles else None,
                "using": using,
                "check": check,
                "using_open": policy_is_permissive("SELECT", stmt.qual, None, table),
                "check_open": policy_is_permissive("INSERT", None, stmt.with_check, table),
            }
        ]
    command = _CMD.get(stmt.cmd_name or "all", "ALL")
    return [
        {
            "op": "create_policy",
            "table": table,
            "name": stmt.policy_name,
            "command": command,
            "roles": _roles(stmt.roles),
            "using": using,
            "check": check,
            "restrictive": not stmt.permissive,
            "using_open": policy_is_permissive("SELECT", stmt.qual, None, table),
            "check_open": policy_is_permissive("INSERT", None, stmt.with_check, table),
        }
    ]


def _drop_ops(stmt: Any) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    for obj in stmt.objects or ():
        if stmt.removeType == ObjectType.OBJECT_TABLE:
            ops.append({"op": "drop_table", "table": _names(obj)})
        elif stmt.removeType == ObjectType.OBJECT_POLICY:
            parts = [p.sval for p in obj]
            ops.append({"op": "drop_policy", "table": _names(obj[:-1]), "name": parts[-1]})
        elif stmt.removeType == ObjectType.OBJECT_FUNCTION and isinstance(obj, ast.ObjectWithArgs):
            ops.append({"op": "drop_function", "name": _names(obj.objname)})
    return ops


def _grant_op(stmt: Any) -> dict[str, Any]:
    privs = sorted(p.priv_name.upper() for p in stmt.privileges or () if p.priv_name) or ["ALL"]
    if stmt.targtype == GrantTargetType.ACL_TARGET_ALL_IN_SCHEMA:
        target: dict[str, Any] = {"schemas": [o.sval for o in stmt.objects]}
    else:
        target = {"tables": [_rel(o) for o in stmt.objects if isinstance(o, ast.RangeVar)]}
    grantees = _roles(stmt.grantees) or ["public"]
    return {
        "op": "grant" if stmt.is_grant else "revoke",
        "roles": grantees,
        "privileges": privs,
        **target,
    }


_HANDLERS: dict[str, Any] = {
    "CreateStmt": _create_table,
    "AlterTableStmt": _alter_table,
    "CreatePolicyStmt": _policy_op,
    "AlterPolicyStmt": _policy_op,
    "DropStmt": _drop_ops,
    "RenameStmt": _rename,
    "GrantStmt": _grant,
    "CreateFunctionStmt": _create_function,
    "AlterFunctionStmt": _alter_function,
    "InsertStmt": _insert,
    "UpdateStmt": _update,
    "DeleteStmt": _delete,
}


def _line_of(text: str, offset: int) -> int:
    # pglast reports character offsets of the statement start; skip leading blanks/comments.
    return text.count("\n", 0, offset) + 1 + _leading_newlines(text, offset)


def _leading_newlines(text: str, offset: int) -> int:
    i, n = offset, 0
    while i < len(text):
        if text[i] == "\n":
            n += 1
            i += 1
        elif text[i] in " \t\r":
            i += 1
        elif text.startswith("--", i):
            j = text.find("\n", i)
            i = len(text) if j < 0 else j
        else:
            break
    return n


def _reason(exc: Exception) -> str:
    """The parser's message without the quoted source text (it could hold a secret)."""
    return str(exc.args[0] if exc.args else exc).split(" at or near ")[0].split(" at end")[0]


def parse_file(text: str) -> tuple[list[dict[str, Any]], str | None]:
    """Every schema operation of a SQL file with its line, and why part of it failed (if so)."""
    pieces: list[tuple[int, Any]] = []
    error: str | None = None
    # psql meta-commands (\set, \connect) are not SQL: blank them, keeping offsets and lines.
    text = _META.sub(lambda m: " " * len(m.group(0)), text)
    try:
        pieces = [(raw.stmt_location or 0, raw.stmt) for raw in parser.parse_sql(text)]
    except parser.ParseError:
        # Parse statement by statement so one bad statement (a psql \ command, a newer
        # syntax) does not hide the rest of the file.
        for part in parser.split(text, with_parser=False, only_slices=True):
            try:
                parsed = parser.parse_sql(text[part])
            except parser.ParseError as exc:
                if error is None:
                    error = f"SQL not parsed at line {_line_of(text, part.start)}: {_reason(exc)}"
                continue
            pieces.extend((part.start + (raw.stmt_location or 0), raw.stmt) for raw in parsed)
    ops = []
    for offset, stmt in pieces:
        line = _line_of(text, offset)
        if isinstance(stmt, ast.DoStmt):
            ops.extend(_do_block_ops(stmt, line))
        for op in statement_ops(stmt):
            ops.append({**op, "line": line})
    return ops, error


def _do_block_ops(stmt: ast.DoStmt, line: int) -> list[dict[str, Any]]:
    """Schema statements inside ``DO $$ ... $$`` (run once, at migration time).

    Both branches of an ``IF`` are applied in order: an ``IF NOT EXISTS ... THEN CREATE``
    guard is the common use, and its effect is the statement's. Strings run by ``EXECUTE``
    are dynamic and stay invisible.
    """
    body = next((d.arg.sval for d in stmt.args or () if d.defname == "as"), None)
    language = next((d.arg.sval for d in stmt.args or () if d.defname == "language"), "plpgsql")
    if not body or language != "plpgsql":
        return []
    try:
        tree = parse_plpgsql(
            f"CREATE FUNCTION tm_do() RETURNS void LANGUAGE plpgsql AS $tm_do${body}$tm_do$"
        )
    except parser.ParseError:
        return []
    ops: list[dict[str, Any]] = []
    for lineno, query in _execsql(tree):
        try:
            inner = parser.parse_sql(query)
        except parser.ParseError:
            continue
        for raw in inner:
            ops.extend({**op, "line": line + max(lineno - 1, 0)} for op in statement_ops(raw.stmt))
    return ops


def _execsql(node: Any) -> list[tuple[int, str]]:
    """(line, query) of every plain SQL statement in a parse_plpgsql tree, in order."""
    found: list[tuple[int, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "PLpgSQL_stmt_execsql":
                query = value.get("sqlstmt", {}).get("PLpgSQL_expr", {}).get("query")
                if isinstance(query, str):
                    found.append((int(value.get("lineno", 1)), query))
            else:
                found.extend(_execsql(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_execsql(item))
    return found


_DIGITS = re.compile(r"(\d+)")


def migration_order(path: str) -> list[Any]:
    """Sort key: name order with numbers compared numerically (V2 before V10)."""
    return [(int(p), "") if p.isdigit() else (0, p) for p in _DIGITS.split(path.lower())]


@register
class SqlCollector(Collector):
    id = "sql"
    version = 1

    def wants(self, path: str, language: str) -> bool:
        return language == "sql"

    def extract(self, src: SourceFile) -> Extract:
        if not _INTERESTING.search(src.text):
            return None
        try:
            ops, error = parse_file(src.text)
        except parser.ParseError as exc:  # the scanner itself failed (unterminated quote)
            ops, error = [], f"SQL not parsed: {_reason(exc)}"
        except RecursionError:
            ops, error = [], "SQL nested too deeply to analyse"
        if error:
            src.parse_errors.append(error)
        return {"ops": ops} if ops else None

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        state = SchemaState()
        for path in sorted(extracts, key=migration_order):
            for op in extracts[path]["ops"]:
                state.apply(path, op)
        state.emit(out)
