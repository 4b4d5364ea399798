"""The GraphQL middleware a view serving GraphQL runs around every operation.

A GraphQL view (Flask-GraphQL / graphql-server's ``GraphQLView.as_view(schema=...,
middleware=[...])``, graphene-django's ``GraphQLView(schema=..., middleware=...)``) hands
its ``middleware`` to graphql-core, which calls each one's ``resolve(next, root, info,
**args)`` (or the function itself) before every resolver: depth and cost limits,
introspection and deny lists, login checks. Each becomes a ``Middleware`` fact scoped to
the route that serves the view, so every operation under it names it and its chunk shows
its code (``route_code.route_refs``). Whether one refuses a caller is not judged here: the
operation's auth is left as its guards decide.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from typing import Any

from threatmodel.code.pyast import dotted, kw
from threatmodel.models import Location, Middleware, Route


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
    """``[first line, last line, [middleware names]]`` of each call that builds a GraphQL
    view (``schema=`` and ``middleware=`` given), the names as written (``mw.Depth``)."""
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
        names = [n for e in elts if (n := dotted(e))]
        if names:
            out.append([node.lineno, node.end_lineno or node.lineno, names])
    return out


def middleware(
    declared: Mapping[str, list[list[Any]]], routes: Iterable[Route]
) -> list[Middleware]:
    """One fact per middleware of a view a route serves (the route's declaration is, or is
    inside, the call that builds the view), scoped to the route's path."""
    out: list[Middleware] = []
    for r in routes:
        for first, end, names in declared.get(r.location.path, ()):
            if first <= r.location.line <= end or r.location.line <= first <= r.location.line + 1:
                where = Location(path=r.location.path, line=first)
                out += [
                    Middleware(kind="other", name=n, scope=r.path, location=where) for n in names
                ]
    return out
