"""Decide whether a row-level-security expression lets every row through (pglast AST).

A policy is **permissive** (in threatmodel's sense, not Postgres' ``AS PERMISSIVE`` keyword)
when its expression is true for every row and every caller holding one of its roles. The
expression is evaluated over a three-valued abstraction: each leaf is ``OPEN`` (always true
for the policy's callers) or ``GATED`` (depends on the row or on who the caller is); ``AND``
is open only when every side is, ``OR`` as soon as one side is, ``NOT`` is gated.

Open leaves:

- the constant ``true`` (also ``'t'::boolean``), and comparisons between equal constants
  (``1 = 1``, ``'a' = 'a'``);
- "is the caller logged in" checks: ``auth.uid() IS NOT NULL``, ``auth.jwt() IS NOT NULL``,
  ``(select auth.uid()) IS NOT NULL``, ``auth.email() IS NOT NULL``, ``current_user IS NOT
  NULL``;
- role checks naming a role every caller has: ``auth.role() = 'authenticated'`` (or
  ``'anon'``), ``auth.jwt() ->> 'role' = 'authenticated'``, ``current_user = 'authenticated'``,
  and the same with ``IN (...)`` listing only those roles;
- on ``storage.objects`` only: ``bucket_id = '<bucket>'``. It scopes the policy to a bucket
  rather than to a user, so the policy opens every object of that bucket.

Everything else is gated: any comparison involving a row column (``owner = auth.uid()``,
``published = true``: a deliberate public filter is a row predicate, not an open door), any
call to a function we cannot see through (``is_admin()``), any claim check naming a
privileged role (``auth.jwt() ->> 'role' = 'admin'``), sub-selects other than a wrapped
``auth.*()`` call (``exists (select ... where member = auth.uid())``).

Which expression decides depends on the command: ``SELECT``/``DELETE`` read ``USING``,
``INSERT`` reads ``WITH CHECK``, ``UPDATE``/``ALL`` read ``USING`` (which rows can be
touched), falling back to ``WITH CHECK`` when there is no ``USING``.
"""

from __future__ import annotations

from typing import Any

from pglast import ast
from pglast.enums import BoolExprType, NullTestType
from pglast.stream import RawStream

OPEN, GATED = True, False

# Identity functions: "IS NOT NULL" on these only says the caller is logged in.
_IDENTITY_CALLS = frozenset({"auth.uid", "auth.jwt", "auth.email", "auth.role"})
_IDENTITY_KEYWORDS = frozenset({"current_user", "session_user", "current_role", "user"})
# Roles every caller of a Supabase API holds, so checking for them restricts nothing.
_EVERYONE_ROLES = frozenset({"authenticated", "anon", "public"})


def deparse(node: Any) -> str:
    """SQL text of an expression node, as Postgres would print it (normalised spacing)."""
    return str(RawStream()(node))


def _func_name(node: Any) -> str | None:
    if isinstance(node, ast.FuncCall) and not node.args:
        return ".".join(s.sval for s in node.funcname or ())
    if isinstance(node, ast.SQLValueFunction):
        return deparse(node).lower()
    fields = node.fields or () if isinstance(node, ast.ColumnRef) else ()
    if len(fields) == 1:
        # current_user etc. parse as SQLValueFunction; bare "user" may come back as a column
        field = fields[0]
        if isinstance(field, ast.String) and field.sval in _IDENTITY_KEYWORDS:
            return field.sval
    return None


def _unwrap(node: Any) -> Any:
    """Strip casts and ``(select auth.uid())`` wrappers (Supabase's recommended form)."""
    while True:
        if isinstance(node, ast.TypeCast):
            node = node.arg
        elif (
            isinstance(node, ast.SubLink)
            and isinstance(node.subselect, ast.SelectStmt)
            and node.subselect.fromClause is None
            and node.subselect.whereClause is None
            and node.subselect.targetList
            and len(node.subselect.targetList) == 1
        ):
            node = node.subselect.targetList[0].val
        else:
            return node


def _is_identity(node: Any) -> bool:
    name = _func_name(_unwrap(node))
    return name is not None and (name in _IDENTITY_CALLS or name in _IDENTITY_KEYWORDS)


def _is_role_expr(node: Any) -> bool:
    """``auth.role()``, ``current_user``, ``auth.jwt() ->> 'role'``: who the caller is."""
    node = _unwrap(node)
    name = _func_name(node)
    if name in {"auth.role", *_IDENTITY_KEYWORDS}:
        return True
    if isinstance(node, ast.A_Expr) and node.name and node.name[0].sval in ("->>", "->"):
        key = _const(node.rexpr)
        return _func_name(_unwrap(node.lexpr)) == "auth.jwt" and key == "role"
    return False


_MISSING = object()


def _const(node: Any) -> Any:
    node = node.arg if isinstance(node, ast.TypeCast) else node
    if isinstance(node, ast.A_Const) and not node.isnull:
        val = node.val
        for attr in ("boolval", "sval", "ival", "fval"):
            if hasattr(val, attr):
                return getattr(val, attr)
    return _MISSING


def _column(node: Any) -> str | None:
    node = _unwrap(node)
    fields = node.fields or () if isinstance(node, ast.ColumnRef) else ()
    if fields and isinstance(fields[-1], ast.String):
        return str(fields[-1].sval)
    return None


def _comparison(node: ast.A_Expr, table: str) -> bool:
    op = node.name[0].sval if node.name else ""
    left, right = _const(node.lexpr), _const(node.rexpr)
    if op == "=" and left is not _MISSING and left == right:
        return OPEN  # 1 = 1, 'a' = 'a'
    for a, b in ((node.lexpr, node.rexpr), (node.rexpr, node.lexpr)):
        if op == "=" and _is_role_expr(a) and _const(b) in _EVERYONE_ROLES:
            return OPEN
        if (
            op == "="
            and table == "storage.objects"
            and _column(a) == "bucket_id"
            and isinstance(_const(b), str)
        ):
            return OPEN
    return GATED


def is_open(node: Any, table: str) -> bool:
    """True when ``node`` holds for every row and every caller (see the module docstring)."""
    if node is None:
        return GATED
    node = node.arg if isinstance(node, ast.TypeCast) else node
    value = _const(node)
    if value is not _MISSING:
        return value is True or value in ("t", "true", "on", "yes")
    if isinstance(node, ast.BoolExpr):
        parts = [is_open(a, table) for a in node.args or ()]
        if node.boolop == BoolExprType.AND_EXPR:
            return all(parts)
        if node.boolop == BoolExprType.OR_EXPR:
            return any(parts)
        return GATED  # NOT
    if isinstance(node, ast.NullTest):
        return node.nulltesttype == NullTestType.IS_NOT_NULL and _is_identity(node.arg)
    if isinstance(node, ast.A_Expr):
        if node.name and node.name[0].sval == "=" and isinstance(node.rexpr, list | tuple):
            # x IN ('anon', 'authenticated')
            values = [_const(v) for v in node.rexpr]
            return _is_role_expr(node.lexpr) and all(v in _EVERYONE_ROLES for v in values)
        return _comparison(node, table)
    return GATED


def policy_is_permissive(command: str, using: Any, check: Any, table: str) -> bool:
    """Whether a policy with this command and these expressions opens every row."""
    command = command.upper()
    if command == "INSERT":
        return is_open(check, table)
    if command in ("UPDATE", "ALL") and using is None:
        return is_open(check, table)
    return is_open(using, table)
