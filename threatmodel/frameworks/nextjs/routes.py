"""Next.js routes from the file system, and the auth that guards each one.

Routes come from file names, as Next.js builds them: app router ``app/**/route.ts``
(one route per exported ``GET``/``POST``/... handler) and ``app/**/page.tsx`` (GET), pages
router ``pages/api/**`` (methods from ``req.method`` checks, else ``ANY``) and
``pages/**`` (GET). Route groups ``(group)`` and slots ``@slot`` vanish from the URL,
``[id]`` becomes ``{id}``, ``[...slug]`` and ``[[...slug]]`` become ``{slug}``; ``_private``
folders are not routable. Server actions (functions of a ``'use server'`` file, or with
the directive in their body) are POST endpoints Next.js exposes under an opaque action id:
they are recorded with method ``POST`` and path ``action:<file>#<function>``.

A route is guarded when its handler rejects unauthenticated callers itself (see
``jshandler``: an auth lookup such as ``getServerSession``/``auth()``/Supabase
``getUser()`` followed by a rejecting branch), when it calls a repository helper that does
(``await requireUser()``), when a parent ``layout`` does (pages only), or when
``middleware.ts`` runs for its path (``config.matcher``) and rejects there
(``nextjs_mw``). A matcher that misses a path leaves that path to the handler alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from threatmodel.code.collector import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.code.components import component_of, uses_package
from threatmodel.code.jsast import (
    body_of,
    call_args,
    imports,
    is_test_path,
    line_of,
    nodes_of,
    unwrap,
    walk,
)
from threatmodel.code.jsworkspace import repo_files
from threatmodel.code.source import JS_LANGUAGES, SourceFile
from threatmodel.code.treesitter import node_text
from threatmodel.frameworks._js.handler import handler_auth, wrapper_auth
from threatmodel.frameworks._js.refusal import report_checks
from threatmodel.frameworks._js.report import lookup_functions, reporters
from threatmodel.frameworks.nextjs import middleware as nextjs_mw
from threatmodel.frameworks.nextjs.exposed import hidden_actions
from threatmodel.frameworks.nextjs.files import (
    HTTP,
    NextFile,
    calls_in,
    has_directive,
    has_use_server,
    host_of,
    is_fn,
    methods_of,
    route_of,
)
from threatmodel.frameworks.nextjs.link import middleware_guards, owned, reported, returns_lookup
from threatmodel.frameworks.nextjs.middleware import host_values
from threatmodel.frameworks.nextjs.nextauth import nextauth_programs
from threatmodel.frameworks.nextjs.owner import owned_calls, throws
from threatmodel.frameworks.nextjs.resolve import helper, library_wrapper, reexported, why
from threatmodel.models import AuthStatus, Evidence, Location, Route, RouteAuth

if TYPE_CHECKING:
    from tree_sitter import Node

# A quoted hostname ("app.example.com", 'localhost:3000'): the file may define the hosts a
# middleware dispatches on.
_HOST_LITERAL = re.compile(r"""["'`](?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d+)?["'`]|["'`]localhost""")
_RANK = {"unknown": 1, "authenticated": 2, "restricted": 3}
_HELPER_HINTS = (
    "session",
    "auth",
    "getUser",
    "token",
    "Session",
    "Auth",
    "user",
    "ignature",
    "timingSafeEqual",
    # a helper that answers the refusal itself, whatever it calls the caller
    "401",
    "403",
)


@register
class NextJsCollector(Collector):
    id = "nextjs"
    version = 4  # 4: auth-like names on identifier words (``vocab.py``)

    def wants(self, path: str, language: str) -> bool:
        return language in JS_LANGUAGES and not is_test_path(path)

    def extract(self, src: SourceFile) -> Extract:
        route = route_of(src.path)
        name = PurePosixPath(src.path).name
        is_mw = (
            name.split(".")[0] in ("middleware", "proxy")
            and "app/" not in src.path
            and "pages/" not in src.path
        )
        text = src.text
        server = "use server" in text
        helpers_possible = any(h in text for h in _HELPER_HINTS)
        barrel = "export *" in text or ("export {" in text and " from " in text)
        hosts = _HOST_LITERAL.search(text) is not None
        refuses = "throw " in text or "notFound(" in text
        # who imports what decides which server actions a browser can call (nextjs_exposed)
        importer = "import " in text
        if route is None and not (
            is_mw or server or helpers_possible or barrel or hosts or refuses or importer
        ):
            return None
        tree = src.ts_tree
        if tree is None:
            return None
        f = NextFile(src, tree.root_node)
        out: dict[str, Any] = {
            "next": 'from "next' in text or "from 'next" in text,
            "imports": {k: list(v) for k, v in imports(tree.root_node).items()},
            "handlers": [],
            "helpers": {},
            "reexports": f.reexports,
            # the name of the function `export default` gives: an importer's `import x
            # from "./m"` asks for "default", this file's summaries are by name
            "default": f.default_name(),
            "client": has_directive(tree.root_node, "use client"),
            "server_module": has_use_server(tree.root_node),
        }
        if route is not None:
            out["route"] = list(route)
            out["handlers"] = self._handlers(f, route[0])
        if is_mw and ("config" in text or "middleware" in text):
            out["middleware"] = nextjs_mw.analyse(tree.root_node)
        elif route is None and "NextResponse" in text and "redirect" in text:
            # a helper middleware.ts may hand the request to (updateSession(req))
            out["programs"] = nextjs_mw.helper_programs(tree.root_node, f.functions, f.exports)
        if refuses:
            # functions that refuse: an ownership lookup keyed by the caller (nextjs_owner)
            out["throwers"] = {
                n: 1 for n, fn in f.functions.items() if n in f.exports and throws(fn)
            }
        if hosts and not is_mw:
            # hostnames and host predicates a middleware elsewhere may dispatch on
            found = host_values(tree.root_node, f.functions, f.exports)
            out.update({k: v for k, v in found.items() if v})
        if server:
            out["handlers"].extend(self._actions(f, out["server_module"]))
        if "NextAuth" in text or "authorized" in text:
            # NextAuth v5's `authorized` callback, which `auth` as a middleware runs
            programs = nextauth_programs(tree.root_node)
            if programs:
                out["programs"] = {**out.get("programs", {}), **programs}
        if helpers_possible:
            for fname, fn in f.functions.items():
                v = handler_auth(fn)
                if v is not None:
                    out["helpers"][fname] = f._quote(v)
            for fname, value in f.guarded_values().items():
                v = wrapper_auth(value)
                if v is not None:
                    out["helpers"].setdefault(fname, f._quote(v))
            # Exported functions that return who the caller is (getUserViaToken(req) ->
            # getToken): a middleware testing their result tests the session.
            out["getters"] = {
                fname: 1
                for fname, fn in f.functions.items()
                if fname in f.exports and returns_lookup(fn)
            }
            # Functions that look the caller up, and those that report what such a lookup
            # found to their caller (parseRequest -> checkAuth): joined at link time.
            out["lookups"] = {fname: 1 for fname in lookup_functions(f.functions)}
            out["reporters"] = {
                fname: told for fname, fn in f.functions.items() if (told := reporters(fn))
            }
            # Exported functions that decide nothing themselves may call one that does
            # (withCron -> verifyQstashSignature): their calls are followed at link time.
            out["calls"] = {
                fname: calls_in(fn)[:60]
                for fname, fn in f.functions.items()
                if fname in f.exports and fname not in out["helpers"]
            }
        if not (
            out["handlers"]
            or out["helpers"]
            or out.get("calls")
            or out.get("getters")
            or out.get("lookups")
            or out.get("reporters")
            or out.get("throwers")
            or out.get("programs")
            or out["reexports"]
            or out.get("hostsets")
            or out.get("hostfns")
            or out["imports"]
            or "middleware" in out
            or "route" in out
        ):
            return None
        return out

    def _handlers(self, f: NextFile, kind: str) -> list[dict[str, Any]]:
        out = []
        if kind == "route":
            for method in HTTP:
                if method in f.exports:
                    out.append(self._handler(f, method, method, f.exports[method]))
        elif "default" in f.exports:
            target = f.exports["default"]
            if kind == "api":
                fn = unwrap(target)
                inner = (
                    next((a for a in call_args(fn) if is_fn(a)), None)
                    if fn is not None and fn.type == "call_expression"
                    else None
                )
                for method in methods_of(inner or fn or target):
                    out.append(self._handler(f, method, "default", target))
            else:
                h = self._handler(f, "GET", "default", target)
                gssp = f.exports.get("getServerSideProps")
                if gssp is not None:
                    v, calls = f.verdict(gssp)
                    h["v"] = h["v"] or v
                    h["calls"] = sorted(set(h["calls"]) | set(calls))
                if not h["v"]:
                    # a server component the page renders runs on every request:
                    # <VerifyEmailChange {...props} /> defined in the same file
                    h["v"] = _rendered_verdict(f, target)
                out.append(h)
        return out

    def _handler(self, f: NextFile, method: str, name: str, target: Node) -> dict[str, Any]:
        v, calls = f.verdict(target)
        h = {"method": method, "name": name, "line": line_of(target), "v": v, "calls": calls}
        wrapped = unwrap(f.resolve(target))
        if is_fn(target) or (wrapped is not None and is_fn(wrapped)):
            # what it refuses on of a helper's answer (parseRequest's error): see link
            checks = report_checks(unwrap(wrapped) or target)
            if checks:
                h["reports"] = checks
        if wrapped is not None and wrapped.type == "call_expression":
            # the function a wrapper hands the caller to: does it fetch only what is theirs?
            inner = next((n for n in walk(wrapped) if is_fn(n)), None)
            owned = owned_calls(inner) if inner is not None else []
            if owned:
                h["owned"] = owned
        return h

    def _actions(self, f: NextFile, whole_file: bool) -> list[dict[str, Any]]:
        out = []
        names = {n: fn for n, fn in f.exports.items() if n != "default"} if whole_file else {}
        inline = set()
        for fname, fn in f.functions.items():
            if has_use_server(body_of(fn)):
                names[fname] = fn
                inline.add(fname)
        for fname in sorted(names):
            fn = names[fname]
            value = unwrap(fn)
            if value is None or (whole_file and not is_fn(fn) and value.type != "call_expression"):
                continue
            h = self._handler(f, "POST", fname, fn)
            h["action"] = True
            h["inline"] = fname in inline  # defined where a component hands it on
            out.append(h)
        return out

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        files = repo_files(ctx.root, frozenset(ctx.files) | frozenset(extracts))
        is_next = any(PurePosixPath(p).name.startswith("next.config") for p in files) or any(
            x["next"] for x in extracts.values()
        )
        if not is_next:
            return
        # (function name, module) -> its verdict: a route's helper is found by key, not by
        # scanning every module that defines a function of that name (quadratic at 50k files).
        helpers = {
            (name, mod): v for mod, x in extracts.items() for name, v in x["helpers"].items()
        }
        mws = {mod: x["middleware"] for mod, x in extracts.items() if "middleware" in x}
        hidden = hidden_actions(extracts, files, ctx.root)
        layouts = [
            (x["route"][1], x["route"][2], mod, h["v"])
            for mod, x in extracts.items()
            if x.get("route", [""])[0] == "layout"
            for h in x["handlers"]
            if h["v"]
        ]
        uses = uses_package(ctx.root, files, "next")
        folders = sorted(uses)
        for mod in sorted(extracts):
            x = extracts[mod]
            kind, root, url = x.get("route") or ["action", "", ""]
            if kind == "layout":
                continue
            owner = component_of(mod, folders)
            if owner and not uses[owner]:
                continue  # the file's own package is no Next.js app (a React SPA's pages/)
            # The host folder leaves the path (the file's location still names it).
            host, where = host_of(url)
            for h, hmod in [(h, mod) for h in x["handlers"]] + reexported(mod, x, files, extracts):
                action = h.get("action", False)
                if action and (mod, h["name"]) in hidden:
                    continue  # only server code calls it: not an endpoint of its own
                path = f"action:{mod}#{h['name']}" if action else where
                cands: list[tuple[str, dict[str, Any]]] = []
                if h["v"]:
                    cands.append((hmod, h["v"]))
                for call in h["calls"]:
                    known = library_wrapper(call, extracts[hmod]["imports"])
                    if known is not None:
                        cands.append((hmod, {**known, "line": h["line"], "s": ""}))
                    hit = helper(call, hmod, extracts[hmod], helpers, files, extracts)
                    if hit is not None and hit[1]["v"] == "none":
                        # the wrapper is read and rejects no one: its name proves nothing
                        cands = [c for c in cands if c[1]["why"] != f"wrapped in {call}()"]
                    elif hit is not None:
                        cands.append((hit[0], why(hit[1], f"calls {call}(), which")))
                if kind in ("page", "pagefile"):
                    cands += [
                        (m, why(v, "its layout"))
                        for r, prefix, m, v in layouts
                        if r == root and _under(url, prefix)
                    ]
                if not action:
                    cands += middleware_guards(mws, root, host, where, extracts, files)
                cands += reported(h, hmod, extracts, files)
                cands += owned(h, hmod, cands, extracts, files)
                out.routes.append(
                    Route(
                        id=f"{h['method']} {path}",
                        method=h["method"],
                        path=path,
                        framework="nextjs",
                        handler=f"{mod}#{h['name']}",
                        location=Location(path=mod, line=h["line"] if hmod == mod else 1),
                        auth=_auth(cands),
                    )
                )


def _under(url: str, prefix: str) -> bool:
    return prefix == "/" or url == prefix or url.startswith(prefix.rstrip("/") + "/")


_JSX = frozenset({"jsx_self_closing_element", "jsx_opening_element"})


def _rendered_verdict(f: NextFile, target: Node) -> dict[str, Any] | None:
    fn = unwrap(f.resolve(target))
    for el in nodes_of(fn, _JSX) if fn is not None else []:
        name = node_text(el.child_by_field_name("name") or el)
        comp = f.functions.get(name)
        found = handler_auth(comp) if comp is not None and comp is not fn else None
        if found is not None:
            why = f"renders <{name}>, which {found['why']}"
            return f._quote({**found, "why": why})
    return None


def _auth(cands: list[tuple[str, dict[str, Any]]]) -> RouteAuth:
    if not cands:
        return RouteAuth(status=AuthStatus.PUBLIC)
    mod, v = max(cands, key=lambda c: _RANK.get(c[1]["v"], 0))
    if v["v"] not in _RANK:
        return RouteAuth(status=AuthStatus.PUBLIC)
    ev = [Evidence(path=mod, start_line=v["line"], end_line=v["line"], snippet=v.get("s", ""))]
    named = f"{v['mechanism']}: " if v.get("mechanism") else ""  # webhook_signature, ...
    return RouteAuth(status=AuthStatus(v["v"]), mechanism=f"{named}{v['why']} ({mod})", evidence=ev)
