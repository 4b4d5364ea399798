"""aiohttp: routes (router.add_get/add_route/add_view, web.get(...) lists, RouteTableDef),
sub-application prefixes, middlewares and sessions.

Extract (per file): ``app.router.add_<verb>(path, handler)``, ``add_route(method, path,
handler)``, ``app.add_routes([web.get(path, handler), ...])``, ``routes = web.RouteTableDef()``
with ``@routes.get(path)``, ``app.add_routes(routes)``, ``app.add_subapp(prefix, sub)``,
``web.Application(middlewares=[...])`` and aiohttp_session ``setup(app, storage)``.
Link: a route is guarded by its handler (decorators such as aiohttp_security's, its own
checks, ``check_authorized(request)``) and, as ``unknown``, by an app middleware that rejects
(it may exempt paths, which is not analysed).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from threatmodel.code.collector import FactsBuilder
from threatmodel.code.pyast import dotted, last, line_text, normalize_brace, str_const, tree_nodes
from threatmodel.code.source import SourceFile
from threatmodel.frameworks._python.link import Guard, GuardTable, Resolver, guarded_route
from threatmodel.models import Location, Middleware

VERBS = ("get", "post", "put", "patch", "delete", "head")


def relevant(text: str) -> bool:
    # A routes module often imports only its handlers (``router = app.router`` then
    # ``router.add_get(...)``), so the registrations count as well as the import.
    return "aiohttp" in text or "router.add_" in text or "add_routes(" in text


def extract(tree: ast.Module, src: SourceFile) -> dict[str, Any] | None:
    lines = src.lines
    d: dict[str, Any] = {
        "routes": [],
        "decorated": [],  # @owner.<verb>(path): a route only if owner is a RouteTableDef
        "tables": [],
        "adds": [],
        "subapps": [],
        "middlewares": [],
        "session": [],
    }
    for node in tree_nodes(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            ctor = last(dotted(node.value.func))
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            if ctor == "RouteTableDef":
                d["tables"].extend(names)
            elif ctor == "Application":
                for k in node.value.keywords:
                    if k.arg == "middlewares" and isinstance(k.value, ast.List | ast.Tuple):
                        for e in k.value.elts:
                            d["middlewares"].append(
                                [dotted(e), e.lineno, line_text(lines, e.lineno)]
                            )
        elif isinstance(node, ast.Call):
            _call(node, d)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for dec in node.decorator_list:
                if isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute) and dec.args:
                    verb, owner = dec.func.attr, dotted(dec.func.value)
                    path = str_const(dec.args[0])
                    if path is not None and (verb in VERBS or verb in ("route", "view")):
                        method = (
                            verb.upper() if verb in VERBS else (str_const(dec.args[0]) or "ANY")
                        )
                        if verb == "route" and len(dec.args) > 1:
                            method, path = (
                                (str_const(dec.args[0]) or "ANY").upper(),
                                str_const(dec.args[1]),
                            )
                        if verb == "view":
                            method = "VIEW"
                        d["decorated"].append([owner, method, path, node.name, node.lineno])
    if not any(d.values()):
        return None
    return d


def _call(call: ast.Call, d: dict[str, Any]) -> None:
    fn = dotted(call.func)
    name, owner = last(fn), fn.rsplit(".", 1)[0] if "." in fn else ""
    args = call.args
    if (
        name.startswith("add_")
        and name[4:] in (*VERBS, "route", "view")
        and owner.endswith("router")
    ):
        if name == "add_route" and len(args) >= 3:
            d["routes"].append(
                [
                    owner.removesuffix(".router"),
                    (str_const(args[0]) or "ANY").upper(),
                    str_const(args[1]),
                    dotted(args[2]),
                    call.lineno,
                ]
            )
        elif len(args) >= 2:
            method = "VIEW" if name == "add_view" else name[4:].upper()
            d["routes"].append(
                [
                    owner.removesuffix(".router"),
                    method,
                    str_const(args[0]),
                    dotted(args[1]),
                    call.lineno,
                ]
            )
    elif name == "add_routes" and args:
        target = args[0]
        if isinstance(target, ast.List | ast.Tuple):
            for e in target.elts:
                if isinstance(e, ast.Call) and len(e.args) >= 2:
                    verb = last(dotted(e.func))
                    if verb in VERBS or verb in ("route", "view"):
                        method = "VIEW" if verb == "view" else verb.upper()
                        path, handler = e.args[0], e.args[1]
                        if verb == "route" and len(e.args) >= 3:
                            method, path, handler = (
                                (str_const(e.args[0]) or "ANY").upper(),
                                e.args[1],
                                e.args[2],
                            )
                        d["routes"].append(
                            [owner, method, str_const(path), dotted(handler), e.lineno]
                        )
        else:
            d["adds"].append([owner, dotted(target)])
    elif name == "add_subapp" and len(args) >= 2:
        d["subapps"].append([owner, str_const(args[0]) or "", dotted(args[1])])
    elif name == "setup" and len(args) >= 2 and "Storage" in dotted(args[1]):
        d["session"].append([dotted(args[1]), call.lineno])


def _instance_method(p: str, handler: str, resolver: Resolver) -> tuple[str | None, str]:
    """``h.timeline`` where ``h`` is an instance handed in (``setup_routes(app, handler)``).

    The class is the one class of the same package (the routes file's folder) with a method of
    that name; none or several: unresolved.
    """
    method = handler.rsplit(".", 1)[1]
    folder = p.rsplit("/", 1)[0] + "/" if "/" in p else ""
    hits = [
        (f, f"{name}.{method}")
        for f, data in resolver.extracts.items()
        if f.startswith(folder) and "/" not in f[len(folder) :]
        for name, cls in data.get("classes", {}).items()
        if method in cls.get("methods", [])
    ]
    return hits[0] if len(hits) == 1 else (None, handler)


def link(
    extracts: Mapping[str, Any], resolver: Resolver, guards: GuardTable, out: FactsBuilder
) -> None:
    ah = {p: d["aiohttp"] for p, d in extracts.items()}
    prefix_of: dict[str, str] = {}  # app or table var -> prefix (by name: sub-apps are local vars)
    for d in ah.values():
        for _parent, prefix, sub in d["subapps"]:
            prefix_of[last(sub)] = prefix
    for d in ah.values():
        for app, table in d["adds"]:
            if last(app) in prefix_of:
                prefix_of[last(table)] = prefix_of[last(app)]
    mw: list[Guard] = []
    for p, d in ah.items():
        for name, line, text in d["middlewares"]:
            g = guards.as_guard(p, name, f"middleware {name}", (p, line, text))
            if g:
                mw.append(
                    Guard("unknown", g.mechanism + " (path exemptions not analysed)", g.evidence)
                )
    # ``@routes.get(path)`` serves a route only where ``routes`` is an aiohttp
    # ``RouteTableDef`` (made here or imported by that name): a FastAPI ``APIRouter`` or any
    # other object's ``.get`` decorator in a file that merely uses aiohttp's client is not one.
    tables = {t for d in ah.values() for t in d["tables"]}
    for p, d in ah.items():
        module = p.removesuffix(".py").replace("/", ".")
        decorated = [r for r in d.get("decorated", []) if last(r[0]) in tables]
        for owner, method, path, handler, line in [*d["routes"], *decorated]:
            if path is None or not handler:
                continue
            full = normalize_brace(prefix_of.get(last(owner), "").rstrip("/") + path)
            target, symbol, _ = resolver.resolve(p, handler)
            if target is None and "." in handler:
                target, symbol = _instance_method(p, handler, resolver)
            gs = list(mw)
            if target:
                gs += guards.handler_guards(target, symbol)
                summ = guards.summary(target, symbol) or {}
                for callee, dline, text in summ.get("decorators", []):
                    if last(callee) not in (*VERBS, "route", "view"):
                        g = guards.as_guard(
                            target, callee, f"decorator @{callee}", (target, dline, text)
                        )
                        gs += [g] if g else []
            methods = [method]
            if method == "VIEW":
                cls = resolver.extracts.get(target or "", {}).get("classes", {}).get(symbol)
                methods = [m.upper() for m in (cls or {}).get("methods", []) if m in VERBS] or [
                    "ANY"
                ]
            for m in methods:
                if method == "VIEW" and target:
                    gs_m = gs + guards.handler_guards(target, f"{symbol}.{m.lower()}")
                else:
                    gs_m = gs
                out.routes.append(
                    guarded_route(m, full, "aiohttp", f"{module}.{handler}", (p, line), gs_m)
                )
        for name, line in d["session"]:
            out.middleware.append(
                Middleware(
                    kind="session", name=name, scope="global", location=Location(path=p, line=line)
                )
            )
