"""DRF routers in a URLconf module: ``register`` calls, and routers handed to functions.

``registration``: ``router.register(r"users", UserViewSet)``. ``router_passing``: a module
function that registers on one of its parameters (``def add_user_urls(router)``), and the
calls a router made in the module (``X = DefaultRouter()``) is handed to; link follows
them: ``registrations`` (link) lists every registration a router ends up with.
"""

from __future__ import annotations

import ast
from typing import Any

from threatmodel.code.pyast import dotted, last
from threatmodel.frameworks._python.link import Resolver
from threatmodel.frameworks.django.url_text import text


def registration(call: ast.AST, consts: dict[str, str]) -> list[Any] | None:
    """``router.register(r"users", UserViewSet)``: [router, prefix, viewset, line], and a
    fifth element when the prefix is a name imported from another module (``from app.api
    import path``; ``register(path, ...)`` / ``register(rf"{path}", ...)``): link reads it."""
    if not isinstance(call, ast.Call) or last(dotted(call.func)) != "register":
        return None
    owner = dotted(call.func).rsplit(".", 1)[0]
    if len(call.args) < 2 or not owner or not dotted(call.args[1]):
        return None
    first = call.args[0]
    prefix = text(first, consts)
    if prefix is not None:
        return [owner, prefix, dotted(call.args[1]), call.lineno]
    if isinstance(first, ast.JoinedStr) and len(first.values) == 1:
        first = getattr(first.values[0], "value", first)
    if isinstance(first, ast.Name):
        return [owner, "", dotted(call.args[1]), call.lineno, first.id]
    return None


def router_passing(
    tree: ast.Module, calls: list[ast.AST], d: dict[str, Any], consts: dict[str, str]
) -> None:
    """Routers handed to functions that register on them (``add_user_urls(v2_api)``).

    ``router_fns``: a module function -> [parameter index, registrations made on that
    parameter]. ``router_calls``: a router made here (``X = DefaultRouter()``) -> the calls
    it is passed to, [callee, argument index, line]; link follows them (auth.py's router).
    """
    fns: dict[str, Any] = {}
    # ``calls`` lists every node of the module and ``d["routers"]`` holds what
    # ``registration`` found among them: with none found, no function registers either
    # (walking every function again was most of this collector's time on saleor).
    for fn in tree.body if d.get("routers") else []:
        if not isinstance(fn, ast.FunctionDef) or not fn.args.args:
            continue
        params = [a.arg for a in fn.args.args]
        for node in ast.walk(fn):
            reg = registration(node, consts)
            if reg is not None and reg[0] in params:
                entry = fns.setdefault(fn.name, [params.index(reg[0]), []])
                if entry[0] == params.index(reg[0]):
                    entry[1].append(reg[1:])
    if fns:
        d["router_fns"] = fns
    made = {
        t.id
        for n in calls
        if isinstance(n, ast.Assign)
        and isinstance(n.value, ast.Call)
        and last(dotted(n.value.func)).endswith("Router")
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    passed: dict[str, list[Any]] = {}
    for n in calls if made else []:
        if isinstance(n, ast.Call) and dotted(n.func) and last(dotted(n.func)) != "register":
            for i, a in enumerate(n.args):
                if isinstance(a, ast.Name) and a.id in made:
                    passed.setdefault(a.id, []).append([dotted(n.func), i, n.lineno])
    if passed:
        d["router_calls"] = passed


def registrations(r: Resolver, p: str, router: str) -> list[tuple[str, str, str, int]]:
    """(file, prefix, viewset, line) of each ``register`` on the router ``p`` names, also
    those made by the functions it is handed to (``add_user_urls(router)``)."""
    file, symbol, _ = r.resolve(p, router)
    home = file or p
    dj = r.extracts.get(home, {}).get("django", {})
    regs = dj.get("routers", {}).get(symbol)
    if not regs:
        home, regs = p, r.extracts[p]["django"]["routers"].get(router, [])
    out = [_named(r, home, reg) for reg in regs]
    for callee, index, _line in dj.get("router_calls", {}).get(symbol, []):
        ffile, fsym, _ = r.resolve(file or p, callee)
        fns = r.extracts.get(ffile or "", {}).get("django", {}).get("router_fns", {})
        if ffile and fsym in fns and fns[fsym][0] == index:
            out += [_named(r, ffile, reg) for reg in fns[fsym][1]]
    return [reg for reg in out if reg is not None]


def _named(r: Resolver, file: str, reg: list[Any]) -> tuple[str, str, str, int] | None:
    """A registration with its prefix: written, or the string constant its name is bound to
    in the module it is imported from (left out, as any unread route, when there is none)."""
    prefix, viewset, line, *name = reg
    if name:
        target, symbol, _ = r.resolve(file, name[0])
        prefix = r.extracts.get(target or "", {}).get("strs", {}).get(symbol)
        if prefix is None:
            return None
    return (file, prefix, viewset, line)
