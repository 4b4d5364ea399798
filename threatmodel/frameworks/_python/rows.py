"""Rows filtered by the caller's standing, and filters reached through a registry.

A view that lists or fetches through a query scoped to the caller shows each caller only
what they may see: a permission check on the rows, which makes the route ``restricted``.
Two shapes, summarised per function here and joined at link time (link.py):

- **a row filter** (``caller_rows``): the function returns a query (``.filter(...)``,
  ``.exclude``, ``.where``, ``.filter_by``) whose arguments name the caller, directly
  (``request.user``, ``get_current_user()``) or through a local assigned from the caller
  or from a helper (``user = _resolve_user(user)``: link time asks whether that helper
  returns the caller, ``returns_caller``), *and* it answers some callers differently
  before filtering (``if user.is_anonymous: return qs.none()``, ``if user.is_superuser:
  return qs``). The second part tells a permission scope from a plain "my own records"
  list (``Note.objects.filter(owner=request.user)``), which puts no one else's row at
  stake (the reading ``owner.py`` gives a lookup filtered by the caller alone).
- **a registry dispatch** (``registry_dispatch``): ``impl = get_filter("test.list");
  if impl: return impl(...)``: the function runs whatever was registered under that key
  (``register_filter("test.list", _list_tests)`` at a module's top level,
  ``registrations``). Link time resolves the getter and the registrar by import and pairs
  them when both come from one module.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from threatmodel.code.pyast import dotted, str_const
from threatmodel.code.pyast import walk as walk_nodes
from threatmodel.frameworks._python.owner import is_caller

_QUERY = {"filter", "exclude", "where", "filter_by"}
# ``impl = get_filter("key")`` on a line of its own: the cheap text test for the shape.
_DISPATCH_TEXT = re.compile(r"^[ \t]+(\w+) = [\w.]+\([\"'][\w.:/-]+[\"']\)[ \t]*$", re.M)


# ``register("key", fn)`` at a module's top level: the cheap text test for a registration.
_REGISTER_TEXT = re.compile(r"^[\w.]+\([\"'][\w.:/-]+[\"'],\s*\w+\s*[,)]", re.M)


def maybe_dispatch(text: str) -> bool:
    """Cheap text test: could a function of this file dispatch through a registry, or the
    module register a function under a key?"""
    if _REGISTER_TEXT.search(text):
        return True
    return any(f"{m.group(1)}(" in text[m.end() :] for m in _DISPATCH_TEXT.finditer(text))


def registry_dispatch(stmts: list[ast.AST], assigns: dict[str, ast.expr]) -> list[Any] | None:
    """``[getter, key, line]`` when the function calls what ``getter("key")`` returned."""
    for n in stmts:
        value = n.value if isinstance(n, ast.Return | ast.Expr) else None
        if not isinstance(value, ast.Call) or not isinstance(value.func, ast.Name):
            continue
        got = assigns.get(value.func.id)
        if (
            isinstance(got, ast.Call)
            and len(got.args) == 1
            and (key := str_const(got.args[0]))
            and dotted(got.func)
        ):
            return [dotted(got.func), key, n.lineno]  # type: ignore[attr-defined]
    return None


def returns_caller(stmts: list[ast.AST]) -> bool:
    """Does the function return the caller (``return user or get_current_user()``)?"""
    return any(isinstance(n, ast.Return) and n.value and is_caller(n.value) for n in stmts)


def _query(node: ast.AST) -> ast.Call | None:
    for n in walk_nodes(node):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in _QUERY:
            return n
    return None


def caller_rows(
    stmts: list[ast.AST], branches: list[ast.AST], assigns: dict[str, ast.expr]
) -> list[Any] | None:
    """``[line, helpers]`` of a returned query filtered by the caller's standing.

    ``helpers``: the callees a local naming the caller was assigned from (link time checks
    that one returns the caller); empty when the query names the caller itself.
    """
    for n in stmts:
        if not isinstance(n, ast.Return) or n.value is None:
            continue
        q = _query(n.value)
        if q is None:
            continue
        args = [*q.args, *(k.value for k in q.keywords)]
        direct = any(is_caller(a) for a in args)
        names = {x.id for a in args for x in walk_nodes(a) if isinstance(x, ast.Name)}
        helpers: list[str] = []
        for name in sorted(names & assigns.keys()):
            got = assigns[name]
            if is_caller(got):
                direct = True
            elif isinstance(got, ast.Call) and dotted(got.func):
                helpers.append(dotted(got.func))
        if not direct and not helpers:
            continue
        watched = names & assigns.keys() if not direct else names
        if _answers_by_caller(branches, watched):
            return [n.lineno, [] if direct else helpers]
    return None


def _answers_by_caller(branches: list[ast.AST], names: set[str]) -> bool:
    """An ``if`` on the caller (or a local naming it) that returns before the filter."""
    for b in branches:
        if not isinstance(b, ast.If) or not any(isinstance(s, ast.Return) for s in b.body):
            continue
        if is_caller(b.test) or any(
            isinstance(x, ast.Name) and x.id in names for x in walk_nodes(b.test)
        ):
            return True
    return False


def registrations(tree: ast.Module) -> list[list[Any]]:
    """``register("key", function)`` calls at a module's top level (or under its ``if`` /
    ``try``): ``[[registrar, key, function, line]]``."""
    out: list[list[Any]] = []
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        s = stack.pop()
        if isinstance(s, ast.If | ast.Try):
            stack.extend(s.body)
            stack.extend(s.orelse)
            continue
        call = s.value if isinstance(s, ast.Expr) else None
        if (
            isinstance(call, ast.Call)
            and len(call.args) >= 2
            and (key := str_const(call.args[0]))
            and isinstance(call.args[1], ast.Name)
            and dotted(call.func)
        ):
            out.append([dotted(call.func), key, call.args[1].id, s.lineno])
    return sorted(out, key=lambda r: r[3])


def row_facts(
    stmts: list[ast.AST],
    branches: list[ast.AST],
    assigns: dict[str, ast.expr],
    named: bool,
) -> dict[str, Any]:
    """The summary fields of this module for one function (guards.summarize).

    ``named``: does the function say a word of ``owner.CALLER_WORDS``? One that never does
    cannot name the caller, and is not walked for it.
    """
    return {
        "registry": registry_dispatch(stmts, assigns),
        "rows": caller_rows(stmts, branches, assigns) if named else None,
        "caller": returns_caller(stmts) if named else False,
    }
