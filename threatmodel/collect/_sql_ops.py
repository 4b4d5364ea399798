"""Schema operations of one parsed PostgreSQL statement (pglast AST -> JSON-able dicts).

``statement_ops`` turns a statement into the small operations ``_sql_state.SchemaState``
applies in migration order: ``create_table``, ``rls``, ``create_policy``, ``alter_policy``,
``drop_policy``, ``rename_*``, ``grant``/``revoke``, ``function``, ``function_grant``,
``view``, ``bucket`` ... Statements
that change nothing the threat model cares about give no operation. pglast's nodes are
dynamically shaped, so handlers take ``Any``.
"""

from __future__ import annotations

from typing import Any

from pglast import ast
from pglast.enums import AlterTableType, GrantTargetType, ObjectType, RoleSpecType

from threatmodel.collect._rls import deparse, policy_is_permissive

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
    return [
        {
            "op": "create_table",
            "table": _rel(s.relation),
            "columns": _columns(s.tableElts),
            "if_not_exists": bool(s.if_not_exists),
        }
    ]


def _alter_table(s: Any) -> list[dict[str, Any]]:
    if s.objtype == ObjectType.OBJECT_VIEW:
        return [
            {"op": "view_invoker", "name": _rel(s.relation), "invoker": _invoker(cmd.def_)}
            for cmd in s.cmds
            if cmd.subtype == AlterTableType.AT_SetRelOptions
            and any(o.defname == "security_invoker" for o in cmd.def_ or ())
        ]
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
    returns = s.returnType.names[-1].sval if s.returnType is not None else None
    trigger = returns in ("trigger", "event_trigger")
    return [{"op": "function", "name": _names(s.funcname), "definer": definer, "trigger": trigger}]


def _relations(node: Any) -> list[str]:
    """Every table a query reads (RangeVar nodes anywhere in it), in order, once each."""
    found: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list | tuple):
            stack.extend(reversed(item))
        elif isinstance(item, ast.RangeVar):
            name = _rel(item)
            if name not in found:
                found.append(name)
        elif isinstance(item, ast.Node):
            slots: tuple[str, ...] = getattr(item, "__slots__", ())
            stack.extend(getattr(item, a) for a in reversed(slots))
    return found


def _invoker(options: Any) -> bool:
    value = next((o.arg for o in options or () if o.defname == "security_invoker"), None)
    if value is None:
        return False
    text = str(getattr(value, "sval", getattr(value, "boolval", getattr(value, "ival", ""))))
    return text.lower() in ("true", "on", "1", "yes", "t")


def _view(s: Any) -> list[dict[str, Any]]:
    return [
        {
            "op": "view",
            "name": _rel(s.view),
            "invoker": _invoker(s.options),
            "tables": _relations(s.query),
        }
    ]


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
    if s.objtype == ObjectType.OBJECT_FUNCTION and s.targtype == GrantTargetType.ACL_TARGET_OBJECT:
        privs = {p.priv_name.lower() for p in s.privileges or () if p.priv_name}
        if privs and "execute" not in privs:
            return []
        roles = _roles(s.grantees) or ["public"]
        return [
            {"op": "function_grant", "name": _names(o.objname), "roles": roles, "grant": s.is_grant}
            for o in s.objects
            if isinstance(o, ast.ObjectWithArgs)
        ]
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
        elif stmt.removeType == ObjectType.OBJECT_VIEW:
            ops.append({"op": "drop_view", "name": _names(obj)})
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
    "ViewStmt": _view,
    "AlterFunctionStmt": _alter_function,
    "InsertStmt": _insert,
    "UpdateStmt": _update,
    "DeleteStmt": _delete,
}
