"""The GraphQL middleware and error formatter a view serving GraphQL runs for every operation.

A GraphQL view (Flask-GraphQL / graphql-server's ``GraphQLView.as_view(schema=...,
middleware=[...])``, graphene-django's ``GraphQLView(schema=..., middleware=...)``) hands
its ``middleware`` to graphql-core, which calls each one's ``resolve(next, root, info,
**args)`` (or the function itself) before every resolver: depth and cost limits,
introspection and deny lists, login checks; its ``format_error`` writes every error the
caller sees. Each becomes a ``Middleware`` fact scoped to the route that serves the view
(``options["role"]`` says which), so every operation under it names it and its chunk shows
its code (``route_code.scoped_middleware``). Whether one refuses a caller is not judged
here: the operation's auth is left as its guards decide.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from typing import Any

from threatmodel.code.pyast import dotted, kw
from threatmodel.models import Location, Middleware, Route

# The view's keyword that names its error formatter (graphql-server / Flask-GraphQL,
# graphene-django's subclass attribute is not read).
FORMATTERS = ("format_error", "error_formatter")


def _module_lists(tree: ast.Module) -> dict[str, ast.expr]:
    """Module-level ``name = [...]`` (a middleware list built apart from the view)."""
    out: dict[str, ast.expr] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.List | ast.Tuple):
            for t in stmt.targets:
                if isinstance(t, ast.Name):
                    out[t.id] = stmt.value
    return out


def views(tree: ast.Module, calls: Iterable[ast.AST]) -> list[list[Any]]:
    """``[first line, last line, [[name, role], ...]]`` of each call that builds a GraphQL
    view (``schema=`` given): its ``middleware=`` (role "middleware") and its error
    formatter (role ``format_error``: what every error response tells the caller, a stack
    trace or not), the names as written (``mw.Depth``)."""
    lists: dict[str, ast.expr] | None = None
    out: list[list[Any]] = []
    for node in calls:
        if not isinstance(node, ast.Call) or kw(node, "schema") is None:
            continue
        given = kw(node, "middleware")
        if isinstance(given, ast.Name):
            lists = _module_lists(tree) if lists is None else lists
            given = lists.get(given.id, given)
        elts = given.elts if isinstance(given, ast.List | ast.Tuple) else []
        hooks = [[n, "middleware"] for e in elts if (n := dotted(e))]
        hooks += [[n, k] for k in FORMATTERS if (n := dotted(kw(node, k)))]
        if hooks:
            out.append([node.lineno, node.end_lineno or node.lineno, hooks])
    return out


def middleware(
    declared: Mapping[str, list[list[Any]]], routes: Iterable[Route]
) -> list[Middleware]:
    """One fact per middleware of a view a route serves (the route's declaration is, or is
    inside, the call that builds the view), scoped to the route's path."""
    out: list[Middleware] = []
    for r in routes:
        for first, end, hooks in declared.get(r.location.path, ()):
            if first <= r.location.line <= end or r.location.line <= first <= r.location.line + 1:
                where = Location(path=r.location.path, line=first)
                out += [
                    Middleware(
                        kind="other", name=n, scope=r.path, location=where, options={"role": role}
                    )
                    for n, role in hooks
                ]
    return out
