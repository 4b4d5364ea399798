"""NestJS controllers: routes from @Controller + @Get/@Post..., guards from @UseGuards.

Extract (per file): each controller class's prefix and class-level decorators, each handler
method's HTTP decorator, path and method-level decorators; guard classes defined in the file
(``canActivate``) with what they check; ``app.setGlobalPrefix()``, ``app.useGlobalGuards()``
and ``APP_GUARD`` providers.
Link: full path = global prefix + controller prefix + method path. Auth comes from guards
at method, class and global level: passport's ``AuthGuard('jwt')`` and guards whose
``canActivate`` really can refuse are ``authenticated``, guards that read roles or
permissions (or a ``@Roles()`` decorator next to a guard) make it ``restricted``; a
``@Public()``/``@SkipAuth()`` decorator lifts a global guard. A guard whose code is not in
the repository is decided by its name only when the name says auth, else ``unknown``.

Module middleware counts too: ``consumer.apply(AuthMiddleware).exclude(...).forRoutes(...)``
in a module's ``configure()`` binds the middleware to routes named by path (``:param`` and
``*`` wildcards, relative to the global prefix) and method, or by controller class. A
middleware class (one with a ``use()`` method) can refuse when its ``use()`` throws or
answers 401/403 itself; one that always calls ``next()`` guards nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from threatmodel.code.collector import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.code.jsast import call_args, callee, line_of, nodes_of, object_props, string_value
from threatmodel.code.source import SourceFile
from threatmodel.code.treesitter import node_text
from threatmodel.frameworks._js.guard import name_looks_auth
from threatmodel.frameworks.nestjs.middleware import (
    ROLE_WORDS,
    binding,
    method_name,
    middleware_class,
    middleware_verdict,
    spec_matches,
)
from threatmodel.models import AuthStatus, Evidence, Location, Route, RouteAuth

if TYPE_CHECKING:
    from tree_sitter import Node

VERBS = {"Get", "Post", "Put", "Patch", "Delete", "All", "Head", "Options"}
# The node types each pass reads (jsast.nodes_of lists them in source order).
_READ_TYPES = frozenset({"class_declaration", "call_expression", "object"})
_METHOD = frozenset({"method_definition"})
_RETURN = frozenset({"return_statement"})
_PUBLIC = {"Public", "SkipAuth", "AllowAnonymous", "IsPublic", "NoAuth"}
_RANK = {"unknown": 1, "authenticated": 2, "restricted": 3}


def _decorators(nodes: list[Node]) -> list[tuple[str, list[Node], int]]:
    out = []
    for d in nodes:
        expr = d.named_children[0] if d.named_children else None
        if expr is None:
            continue
        if expr.type == "call_expression":
            out.append((callee(expr), call_args(expr), line_of(d)))
        else:
            out.append((node_text(expr), [], line_of(d)))
    return out


def _guard_names(args: list[Node]) -> list[str]:
    names = []
    for a in args:
        if a.type == "call_expression":  # AuthGuard('jwt')
            strategy = string_value(call_args(a)[0]) if call_args(a) else None
            names.append(f"{callee(a)}({strategy or ''})")
        elif a.type == "new_expression":
            names.append(node_text(a.child_by_field_name("constructor") or a))
        else:
            names.append(node_text(a))
    return names


def _path(args: list[Node]) -> str:
    if not args:
        return ""
    value = string_value(args[0])
    if value is None and args[0].type == "object":
        value = string_value(object_props(args[0]).get("path"))
    return value or ""


def _guard_class(cls: Node) -> str | None:
    """What a class with canActivate() checks: 'restricted', 'authenticated' or 'none'."""
    for node in nodes_of(cls, _METHOD):
        if node_text(node.child_by_field_name("name") or node) == "canActivate":
            body = node_text(node).lower()
            returns = [node_text(n) for n in nodes_of(node, _RETURN)]
            if returns and all(
                r.replace(" ", "") in ("returntrue;", "returntrue") for r in returns
            ):
                return "none"
            return "restricted" if any(w in body for w in ROLE_WORDS) else "authenticated"
    return None


@register
class NestJsCollector(Collector):
    id = "nestjs"
    version = 1
    # The markers extract() checks before parsing; it returns None without one of them.
    gate = re.compile(r"@Controller|canActivate|Global|APP_GUARD|forRoutes|NestMiddleware")

    def wants(self, path: str, language: str) -> bool:
        return language in ("typescript", "javascript") and ".spec." not in path

    def extract(self, src: SourceFile) -> Extract:
        tree = src.ts_tree  # the gate holds the markers; no file without one reaches here
        if tree is None:
            return None
        out: dict[str, Any] = {
            "controllers": [],
            "guards": {},
            "global_guards": [],
            "prefix": None,
            "middleware": {},
            "bindings": [],
        }
        for node in nodes_of(tree.root_node, _READ_TYPES):
            if node.type == "class_declaration":
                name = node_text(node.child_by_field_name("name") or node)
                verdict = _guard_class(node)
                if verdict is not None:
                    out["guards"][name] = verdict
                refuses = middleware_class(node)
                if refuses is not None:
                    out["middleware"][name] = refuses
                decos = [c for c in node.children if c.type == "decorator"]
                if node.parent is not None and node.parent.type == "export_statement":
                    decos += [c for c in node.parent.children if c.type == "decorator"]
                ctrl = self._controller(node, _decorators(decos), src)
                if ctrl is not None:
                    out["controllers"].append(ctrl)
            elif node.type == "call_expression":
                name = callee(node)
                args = call_args(node)
                if name.endswith(".setGlobalPrefix") and args:
                    out["prefix"] = string_value(args[0])
                elif method_name(node) == "forRoutes":
                    bound = binding(node, src)
                    if bound is not None:
                        out["bindings"].append(bound)
                elif name.endswith(".useGlobalGuards"):
                    out["global_guards"] += [
                        [g, line_of(node), src.line_text(line_of(node)).strip()]
                        for g in _guard_names(args)
                    ]
            elif node.type == "object":
                props = object_props(node)
                if node_text(props.get("provide") or node) == "APP_GUARD" and "useClass" in props:
                    line = line_of(node)
                    out["global_guards"].append(
                        [node_text(props["useClass"]), line, src.line_text(line).strip()]
                    )
        if not any(out.values()):
            return None
        return out

    def _controller(
        self, cls: Node, decos: list[tuple[str, list[Node], int]], src: SourceFile
    ) -> dict[str, Any] | None:
        ctrl = next((d for d in decos if d[0] == "Controller"), None)
        if ctrl is None:
            return None
        body = cls.child_by_field_name("body")
        routes, pending = [], []
        for child in body.children if body is not None else []:
            if child.type == "decorator":
                pending.append(child)
            elif child.type == "method_definition":
                mdecos = _decorators(pending)
                pending = []
                for name, args, line in mdecos:
                    if name in VERBS:
                        routes.append(
                            {
                                "method": "ANY" if name == "All" else name.upper(),
                                "path": _path(args),
                                "handler": node_text(child.child_by_field_name("name") or child),
                                "line": line,
                                "decos": self._meta(mdecos, src),
                            }
                        )
        return {
            "name": node_text(cls.child_by_field_name("name") or cls),
            "prefix": _path(ctrl[1]),
            "decos": self._meta(decos, src),
            "routes": routes,
        }

    @staticmethod
    def _meta(decos: list[tuple[str, list[Node], int]], src: SourceFile) -> list[list[Any]]:
        out = []
        for name, args, line in decos:
            if name == "UseGuards":
                out += [["guard", g, line, src.line_text(line).strip()] for g in _guard_names(args)]
            elif name in _PUBLIC:
                out.append(["public", name, line, src.line_text(line).strip()])
            elif any(w in name.lower() for w in ROLE_WORDS):
                out.append(["roles", name, line, src.line_text(line).strip()])
        return out

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        guards: dict[str, str] = {}
        middleware: dict[str, str] = {}
        bindings: list[tuple[str, dict[str, Any]]] = []
        globals_: list[tuple[str, list[Any]]] = []
        prefix = ""
        for mod in sorted(extracts):
            x = extracts[mod]
            guards.update(x["guards"])
            middleware.update(x["middleware"])
            bindings += [(mod, b) for b in x["bindings"]]
            globals_ += [(mod, g) for g in x["global_guards"]]
            prefix = x["prefix"] or prefix
        for mod in sorted(extracts):
            for ctrl in extracts[mod]["controllers"]:
                for r in ctrl["routes"]:
                    parts = [
                        p.strip("/")
                        for p in (prefix, ctrl["prefix"], r["path"])
                        if p and p.strip("/")
                    ]
                    path = "/" + "/".join(_param(s) for p in parts for s in p.split("/"))
                    meta = [(mod, m) for m in ctrl["decos"] + r["decos"]]
                    local = "/".join(  # forRoutes paths leave out the global prefix
                        p.strip("/") for p in (ctrl["prefix"], r["path"]) if p.strip("/")
                    )
                    bound = [
                        (bmod, name, b["line"], b["text"])
                        for bmod, b in bindings
                        if any(
                            spec_matches(s, ctrl["name"], r["method"], local) for s in b["routes"]
                        )
                        and not any(
                            spec_matches(s, ctrl["name"], r["method"], local) for s in b["exclude"]
                        )
                        for name in b["apply"]
                    ]
                    auth = _auth(meta, globals_, guards, bound, middleware)
                    out.routes.append(
                        Route(
                            id=f"{r['method']} {path}",
                            method=r["method"],
                            path=path,
                            framework="nestjs",
                            handler=f"{ctrl['name']}.{r['handler']}",
                            location=Location(path=mod, line=r["line"]),
                            auth=auth,
                        )
                    )


def _param(seg: str) -> str:
    return "{" + seg[1:].rstrip("?") + "}" if seg.startswith(":") else seg


def _guard_verdict(name: str, guards: dict[str, str]) -> str | None:
    base = name.split("(")[0]
    if base == "AuthGuard":
        return "authenticated"
    if base in guards:
        return None if guards[base] == "none" else guards[base]
    low = base.lower()
    if any(w in low for w in ROLE_WORDS):
        return "restricted"
    return "authenticated" if name_looks_auth(base) else "unknown"


def _auth(
    meta: list[tuple[str, list[Any]]],
    globals_: list[tuple[str, list[Any]]],
    guards: dict[str, str],
    bound: list[tuple[str, str, int, str]],
    middleware: Mapping[str, str],
) -> RouteAuth:
    public = any(m[0] == "public" for _, m in meta)
    roles = any(m[0] == "roles" for _, m in meta)
    cands = [(mod, m[1], m[2], m[3]) for mod, m in meta if m[0] == "guard"]
    if not public:
        cands += [(mod, g[0], g[1], g[2]) for mod, g in globals_]
    # Module middleware runs whatever @Public() says (that decorator is read by guards).
    cands += [(mod, f"middleware {name}", line, snippet) for mod, name, line, snippet in bound]
    best: tuple[int, str, str, str, int, str] | None = None
    for mod, name, line, snippet in cands:
        if name.startswith("middleware "):
            base = name.removeprefix("middleware ")
            v = middleware_verdict(base, middleware)
        else:
            v = _guard_verdict(name, guards)
        if v is None:
            continue
        if v == "authenticated" and roles:
            v = "restricted"  # @Roles('admin') read by a guard on the same route
        if best is None or _RANK[v] > best[0]:
            best = (_RANK[v], v, name, mod, line, snippet)
    if best is None:
        return RouteAuth(status=AuthStatus.PUBLIC)
    _, v, name, mod, line, snippet = best
    return RouteAuth(
        status=AuthStatus(v),
        mechanism=name if name.startswith("middleware ") else f"guard {name}",
        evidence=[Evidence(path=mod, start_line=line, end_line=line, snippet=snippet)],
    )
