"""NestJS controllers: routes from @Controller + @Get/@Post..., guards from @UseGuards.

Extract (per file): each controller class's paths, version and class-level decorators,
each handler method's HTTP decorator, paths, ``@Version`` and method-level decorators; guard
classes defined in the file (``canActivate``) with what they check and the metadata they
let through on (metadata.py); decorator factories (``applyDecorators``, ``SetMetadata``);
``app.setGlobalPrefix()`` (and its ``exclude``), ``app.enableVersioning()``,
``app.useGlobalGuards()``, ``APP_GUARD`` providers, ``@Module`` controllers and
``RouterModule.register`` paths.
Link: the paths as @nestjs/core builds them (paths.py), with each application's own
global settings (app.py: a monorepo's services each have theirs). Auth comes from guards
at method, class and global level, all of which must pass: passport's ``AuthGuard('jwt')``
and guards whose ``canActivate`` really can refuse (answer false or throw) are
``authenticated``, guards that read roles or permissions (or a ``@Roles()`` decorator next
to a guard) make it ``restricted``. A guard that lets every route through unless a
metadata key is set (``if (!roles) return true``) guards only the routes that carry the key;
one that lets through when a key is set (``if (isPublic) return true``) is lifted by it,
however the key was set (``SetMetadata`` directly or through composed decorators). A guard
whose code is not in the repository is lifted by a ``@Public()``/``@SkipAuth()``-style name
and decided by its name only when the name says auth, else ``unknown``.

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
from threatmodel.code.components import app_roots
from threatmodel.code.jsast import call_args, callee, line_of, nodes_of, object_props, unwrap
from threatmodel.code.source import SourceFile
from threatmodel.code.treesitter import node_text
from threatmodel.frameworks._js.guard import checks_credential, name_looks_auth
from threatmodel.frameworks.nestjs.app import NestApps
from threatmodel.frameworks.nestjs.metadata import (
    decorator_factories,
    guard_names,
    guard_reads,
    key_of,
)
from threatmodel.frameworks.nestjs.middleware import (
    ROLE_WORDS,
    binding,
    method_name,
    middleware_class,
    middleware_verdict,
    spec_matches,
)
from threatmodel.frameworks.nestjs.paths import (
    decorator_paths,
    global_prefix,
    join,
    registered,
    route_paths,
    router_paths,
    values,
    versioning,
)
from threatmodel.models import AuthStatus, Evidence, Location, Route, RouteAuth

if TYPE_CHECKING:
    from tree_sitter import Node

VERBS = {"Get", "Post", "Put", "Patch", "Delete", "All", "Head", "Options"}
# The node types each pass reads (jsast.nodes_of lists them in source order).
_READ_TYPES = frozenset({"class_declaration", "call_expression", "object"})
_METHOD = frozenset({"method_definition"})
_RETURN = frozenset({"return_statement"})
_THROW = frozenset({"throw_statement"})
# Nest's own decorators that say nothing about who may call (not expanded by link).
_NEST_OWN = frozenset(
    {"Controller", "HttpCode", "Header", "Redirect", "Render", "Version", "Sse"}
    | {"UsePipes", "UseInterceptors", "UseFilters"}
)
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


def _guard_class(cls: Node) -> tuple[str, dict[str, list[list[Any]]]] | None:
    """What a class with canActivate() checks ('restricted', 'authenticated' or 'none') and
    the metadata it lets through on (metadata.guard_reads)."""
    for node in nodes_of(cls, _METHOD):
        if node_text(node.child_by_field_name("name") or node) == "canActivate":
            body = node_text(node).lower()
            returns = [node_text(n) for n in nodes_of(node, _RETURN)]
            reads = guard_reads(node)
            # A guard refuses by answering false or by throwing (Nest answers with the
            # exception): one that only ever answers true, and never throws, lets all through.
            if (
                returns
                and all(r.replace(" ", "") in ("returntrue;", "returntrue") for r in returns)
                and not nodes_of(node, _THROW)
            ):
                return "none", reads
            verdict = "restricted" if any(w in body for w in ROLE_WORDS) else "authenticated"
            return verdict, reads
    return None


@register
class NestJsCollector(Collector):
    id = "nestjs"
    version = 3  # 3: auth-like names on identifier words (``vocab.py``)
    # The markers extract() checks before parsing; it returns None without one of them.
    gate = re.compile(
        r"@Controller|canActivate|Global|APP_GUARD|forRoutes|NestMiddleware|enableVersioning"
        r"|applyDecorators|SetMetadata|createDecorator|RouterModule|@Module|registerAs"
    )

    def wants(self, path: str, language: str) -> bool:
        return language in ("typescript", "javascript") and ".spec." not in path

    def extract(self, src: SourceFile) -> Extract:
        tree = src.ts_tree  # the gate holds the markers; no file without one reaches here
        if tree is None:
            return None
        factories, consts = decorator_factories(tree.root_node)
        out: dict[str, Any] = {
            "controllers": [],
            "guards": {},
            "reads": {},
            "global_guards": [],
            "prefix": None,
            "versioning": None,
            "middleware": {},
            "bindings": [],
            "decorators": factories,
            "modules": {},
            "router": [],
            "config": {},
        }
        for node in nodes_of(tree.root_node, _READ_TYPES):
            if node.type == "class_declaration":
                name = node_text(node.child_by_field_name("name") or node)
                guard = _guard_class(node)
                if guard is not None:
                    out["guards"][name] = guard[0]
                    if guard[1]["needs"] or guard[1]["skip"]:
                        out["reads"][name] = guard[1]
                refuses = middleware_class(node)
                if refuses is not None:
                    out["middleware"][name] = refuses
                decos = [c for c in node.children if c.type == "decorator"]
                if node.parent is not None and node.parent.type == "export_statement":
                    decos += [c for c in node.parent.children if c.type == "decorator"]
                read = _decorators(decos)
                ctrl = self._controller(node, read, src)
                if ctrl is not None:
                    out["controllers"].append(ctrl)
                module = next((d for d in read if d[0] == "Module"), None)
                if module is not None and module[1]:
                    listed = unwrap(object_props(unwrap(module[1][0])).get("controllers"))
                    if listed is not None and listed.type == "array":
                        out["modules"][name] = [node_text(c) for c in listed.named_children]
            elif node.type == "call_expression":
                name = callee(node)
                args = call_args(node)
                if name.endswith(".setGlobalPrefix") and args:
                    out["prefix"] = global_prefix(node)
                elif name.endswith(".enableVersioning"):
                    out["versioning"] = versioning(node)
                elif method_name(node) == "forRoutes" and not name.startswith("RouterModule"):
                    bound = binding(node, src)
                    if bound is not None:
                        out["bindings"].append(bound)
                elif name.endswith(".useGlobalGuards"):
                    out["global_guards"] += [
                        [g, line_of(node), src.line_text(line_of(node)).strip()]
                        for g in guard_names(args)
                    ]
                out["router"] += router_paths(node)
                out["config"].update(registered(node))
            elif node.type == "object":
                props = object_props(node)
                if node_text(props.get("provide") or node) == "APP_GUARD" and "useClass" in props:
                    line = line_of(node)
                    out["global_guards"].append(
                        [node_text(props["useClass"]), line, src.line_text(line).strip()]
                    )
        if not any(v for k, v in out.items() if k != "decorators") and not factories:
            return None
        out["consts"] = consts if factories or out["reads"] else {}
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
                version = [v for n, a, _ in mdecos if n == "Version" and a for v in values(a[0])]
                for name, args, line in mdecos:
                    if name in VERBS:
                        routes.append(
                            {
                                "method": "ANY" if name == "All" else name.upper(),
                                "paths": decorator_paths(args)[0],
                                "versions": version,
                                "handler": node_text(child.child_by_field_name("name") or child),
                                "line": line,
                                "decos": self._meta(mdecos, src, "handler"),
                            }
                        )
        paths, versions = decorator_paths(ctrl[1])
        return {
            "name": node_text(cls.child_by_field_name("name") or cls),
            "paths": paths,
            "versions": versions,
            "decos": self._meta(decos, src, "class"),
            "routes": routes,
        }

    @staticmethod
    def _meta(
        decos: list[tuple[str, list[Node], int]], src: SourceFile, level: str
    ) -> list[list[Any]]:
        """A handler's or controller's decorators as [kind, name, line, text, level]: guards,
        metadata keys, and the decorators link expands (composed ones) or reads by name."""
        out = []
        for name, args, line in decos:
            text = src.line_text(line).strip()
            if name in VERBS or name in _NEST_OWN:
                continue
            if name == "UseGuards":
                out += [["guard", g, line, text, level] for g in guard_names(args)]
            elif name == "SetMetadata":
                key = key_of(args[0]) if args else None
                if key is not None:
                    out.append(["meta", key, line, text, level])
            else:
                out.append(["deco", name, line, text, level])
        return out

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        app = NestApps(extracts, app_roots(ctx.root, ctx.files))
        for mod in sorted(extracts):
            for ctrl in extracts[mod]["controllers"]:
                for r in ctrl["routes"]:
                    self._link_route(app, mod, ctrl, r, out)

    @staticmethod
    def _link_route(
        app: NestApps, mod: str, ctrl: dict[str, Any], r: dict[str, Any], out: FactsBuilder
    ) -> None:
        settings = app.settings(mod)
        meta = app.expand([(mod, m) for m in ctrl["decos"] + r["decos"]])
        module_path = app.module_paths.get(ctrl["name"], "")
        for path, local in route_paths(ctrl, r, module_path, settings["versioning"]):
            prefix = settings["prefix"]
            if prefix and not any(
                spec_matches(s, ctrl["name"], r["method"], local) for s in prefix["exclude"]
            ):
                path = join(prefix["prefix"], path)
            full = "/" + "/".join(_param(s) for s in path.split("/") if s)
            bound = [  # forRoutes paths leave out the global prefix
                (bmod, name, b["line"], b["text"])
                for bmod, b in app.bindings
                if any(spec_matches(s, ctrl["name"], r["method"], local) for s in b["routes"])
                and not any(spec_matches(s, ctrl["name"], r["method"], local) for s in b["exclude"])
                for name in b["apply"]
            ]
            auth = _auth(meta, settings["guards"], app, bound)
            out.routes.append(
                Route(
                    id=f"{r['method']} {full}",
                    method=r["method"],
                    path=full,
                    framework="nestjs",
                    handler=f"{ctrl['name']}.{r['handler']}",
                    location=Location(path=mod, line=r["line"]),
                    auth=auth,
                )
            )


def _param(seg: str) -> str:
    return "{" + seg[1:].rstrip("?") + "}" if seg.startswith(":") else seg


def _guard_verdict(name: str, guards: Mapping[str, str]) -> str | None:
    base = name.split("(")[0]
    if base == "AuthGuard":  # passport's: the default strategy, or the ones named
        strategies = [s for s in name[len(base) + 1 : -1].split(",") if s]
        if strategies and not any(checks_credential(s) for s in strategies):
            return None  # a login flow (github, local): the sign-in step, open to anyone
        return "authenticated"
    if base in guards:
        return None if guards[base] == "none" else guards[base]
    low = base.lower()
    if any(w in low for w in ROLE_WORDS):
        return "restricted"
    return "authenticated" if name_looks_auth(base) else "unknown"


def _carries(meta: list[tuple[str, list[Any]]], reads: list[list[Any]]) -> bool:
    """Does the route carry one of the keys a guard reads, at a level it reads it?"""
    return any(
        m[0] == "meta" and m[1] == key and m[4] in levels for _, m in meta for key, levels in reads
    )


def _auth(
    meta: list[tuple[str, list[Any]]],
    globals_: list[tuple[str, list[Any]]],
    app: NestApps,
    bound: list[tuple[str, str, int, str]],
) -> RouteAuth:
    public = any(m[0] == "public" for _, m in meta)
    roles = any(m[0] == "roles" for _, m in meta)
    cands = [(mod, m[1], m[2], m[3]) for mod, m in meta if m[0] == "guard"]
    cands += [(mod, g[0], g[1], g[2]) for mod, g in globals_]
    # Module middleware runs whatever @Public() says (that decorator is read by guards).
    cands += [(mod, f"middleware {name}", line, snippet) for mod, name, line, snippet in bound]
    best: tuple[int, str, str, str, int, str] | None = None
    for mod, name, line, snippet in cands:
        if name.startswith("middleware "):
            base = name.removeprefix("middleware ")
            v = middleware_verdict(base, app.middleware)
        else:
            reads = app.reads.get(name.split("(")[0])
            if reads is not None and reads["needs"] and not _carries(meta, reads["needs"]):
                continue  # ``if (!roles) return true``: a route without the key passes
            if reads is not None and reads["skip"]:
                if _carries(meta, reads["skip"]):
                    continue  # ``if (isPublic) return true``: the key lifts it
            elif public and (mod, name, line, snippet) not in _route_guards(meta):
                continue  # a guard of unread code lifted by a @Public()-style name
            v = _guard_verdict(name, app.guards)
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


def _route_guards(meta: list[tuple[str, list[Any]]]) -> list[tuple[str, str, int, str]]:
    return [(mod, m[1], m[2], m[3]) for mod, m in meta if m[0] == "guard"]
