"""Routes registered through a function of the repository that calls ``add_url_rule``.

Some apps wrap Flask's registration in a helper of their own::

    def register_view(bp_or_app, routes, view_func, *args, **kwargs):
        for route in routes:
            bp_or_app.add_url_rule(route, view_func=view_func, *args, **kwargs)

    register_view(forum, routes=["/topic/<int:topic_id>"], view_func=ViewTopic.as_view("x"))

Extract records, per file, each such *registrar* (which parameter is the app or blueprint,
which the rule or the list of rules looped over, which the view) and each call that looks
like a registration (a literal rule or list of rules starting with ``/``, beside a name or an
``as_view`` class). Link resolves the call's callee through imports and, when it is a
registrar, binds the call's arguments to its parameters: the routes are those the call
registers, owned by the blueprint the call names. A call whose callee is no registrar
registers nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from threatmodel.code.pyast import dotted, last, str_const

Fn = ast.FunctionDef | ast.AsyncFunctionDef


def registrar(fn: Fn) -> dict[str, Any] | None:
    """Which parameters of ``fn`` name the owner, the rule (or rules) and the view of an
    ``add_url_rule`` it makes; None when it makes none from its parameters."""
    params = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]]
    loops = {
        n.target.id: dotted(n.iter)
        for n in ast.walk(fn)
        if isinstance(n, ast.For) and isinstance(n.target, ast.Name)
    }
    for node in ast.walk(fn):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "add_url_rule"
            and node.args
        ):
            continue
        owner = dotted(node.func.value)
        rule = dotted(node.args[0]) if isinstance(node.args[0], ast.Name) else ""
        view_node = next((k.value for k in node.keywords if k.arg == "view_func"), None)
        if view_node is None and len(node.args) > 2:
            view_node = node.args[2]
        view = dotted(view_node) if isinstance(view_node, ast.Name) else ""
        if owner not in params or view not in params:
            continue
        if rule in params:
            return {"params": params, "owner": owner, "rule": rule, "view": view}
        if loops.get(rule) in params:
            return {"params": params, "owner": owner, "rules": loops[rule], "view": view}
    return None


def _encode(node: ast.expr) -> list[Any] | None:
    """A call argument as link binds it: a rule, a list of rules, a name, a class view."""
    if (s := str_const(node)) is not None:
        return ["s", s]
    if isinstance(node, ast.List | ast.Tuple):
        items = [str_const(e) for e in node.elts]
        return ["l", items] if items and all(i is not None for i in items) else None
    if isinstance(node, ast.Call) and last(dotted(node.func)) == "as_view":
        return ["v", dotted(node.func).rsplit(".", 1)[0]]
    return ["n", dotted(node)] if dotted(node) else None


def registration_call(call: ast.Call) -> list[Any] | None:
    """``[callee, [args], {kw: arg}, line]`` of a call that may register routes through a
    registrar: it hands over a rule (or rules) starting with ``/`` and a name or class view."""
    callee = dotted(call.func)
    if not callee or last(callee) == "add_url_rule":
        return None
    args = [_encode(a) for a in call.args]
    kwargs = {k.arg: _encode(k.value) for k in call.keywords if k.arg}
    values = [v for v in [*args, *kwargs.values()] if v is not None]
    rules = [r for v in values if v[0] in ("s", "l") for r in (v[1] if v[0] == "l" else [v[1]])]
    if not any(r.startswith("/") for r in rules) or not any(v[0] in ("n", "v") for v in values):
        return None
    return [callee, args, kwargs, call.lineno]


def registered_routes(
    file: str,
    calls: list[list[Any]],
    registrar_of: Callable[[str, str], dict[str, Any] | None],
) -> list[dict[str, Any]]:
    """The routes ``calls`` (of ``file``) register through registrars, in the shape of the
    Flask extract's ``routes``; ``registrar_of(file, callee)``: the registrar a callee named
    in ``file`` resolves to, if any."""
    out: list[dict[str, Any]] = []
    for callee, args, kwargs, line in calls:
        reg = registrar_of(file, callee)
        if reg is None:
            continue
        bound = dict(zip(reg["params"], args, strict=False))
        bound.update({k: v for k, v in kwargs.items() if k in reg["params"]})
        owner, view = bound.get(reg["owner"]), bound.get(reg["view"])
        if not owner or owner[0] != "n" or not view or view[0] not in ("n", "v"):
            continue
        got = bound.get(reg.get("rule") or reg.get("rules") or "")
        rules = [got[1]] if got and got[0] == "s" else (got[1] if got and got[0] == "l" else [])
        methods = kwargs.get("methods")
        for rule in rules:
            if not rule.startswith("/"):
                continue
            out.append(
                {
                    "methods": [m.upper() for m in methods[1]]
                    if methods and methods[0] == "l"
                    else None,
                    "path": rule,
                    "owner": owner[1],
                    "handler": view[1],
                    "view_class": view[0] == "v",
                    "line": line,
                    "decorators": [],
                }
            )
    return out
