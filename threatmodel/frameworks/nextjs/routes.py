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

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from threatmodel.code.collector import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.code.jsast import (
    body_of,
    call_args,
    imports,
    is_test_path,
    line_of,
    resolve_module,
    unwrap,
)
from threatmodel.code.source import JS_LANGUAGES, SourceFile
from threatmodel.frameworks._js.handler import handler_auth, wrapper_auth
from threatmodel.frameworks.nextjs import flow as nextjs_flow
from threatmodel.frameworks.nextjs import middleware as nextjs_mw
from threatmodel.frameworks.nextjs.files import (
    HTTP,
    NextFile,
    calls_in,
    has_use_server,
    host_of,
    is_fn,
    methods_of,
    route_of,
)
from threatmodel.frameworks.nextjs.resolve import helper, library_wrapper, reexported, why
from threatmodel.models import AuthStatus, Evidence, Location, Route, RouteAuth

if TYPE_CHECKING:
    from tree_sitter import Node

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
)


@register
class NextJsCollector(Collector):
    id = "nextjs"
    version = 1

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
        if route is None and not is_mw and not server and not helpers_possible and not barrel:
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
        }
        if route is not None:
            out["route"] = list(route)
            out["handlers"] = self._handlers(f, route[0])
        if is_mw and ("config" in text or "middleware" in text):
            out["middleware"] = nextjs_mw.analyse(tree.root_node)
        elif route is None and "NextResponse" in text and "redirect" in text:
            # a helper middleware.ts may hand the request to (updateSession(req))
            out["programs"] = nextjs_mw.helper_programs(tree.root_node, f.functions, f.exports)
        if server:
            out["handlers"].extend(self._actions(f, has_use_server(tree.root_node)))
        if helpers_possible:
            for fname, fn in f.functions.items():
                v = handler_auth(fn)
                if v is not None:
                    out["helpers"][fname] = f._quote(v)
            for fname, value in f.guarded_values().items():
                v = wrapper_auth(value)
                if v is not None:
                    out["helpers"].setdefault(fname, f._quote(v))
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
            or out.get("programs")
            or out["reexports"]
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
                out.append(h)
        return out

    def _handler(self, f: NextFile, method: str, name: str, target: Node) -> dict[str, Any]:
        v, calls = f.verdict(target)
        return {"method": method, "name": name, "line": line_of(target), "v": v, "calls": calls}

    def _actions(self, f: NextFile, whole_file: bool) -> list[dict[str, Any]]:
        out = []
        names = {n: fn for n, fn in f.exports.items() if n != "default"} if whole_file else {}
        for fname, fn in f.functions.items():
            if has_use_server(body_of(fn)):
                names[fname] = fn
        for fname in sorted(names):
            fn = names[fname]
            value = unwrap(fn)
            if value is None or (whole_file and not is_fn(fn) and value.type != "call_expression"):
                continue
            h = self._handler(f, "POST", fname, fn)
            h["action"] = True
            out.append(h)
        return out

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        files = frozenset(ctx.files) | frozenset(extracts)
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
        layouts = [
            (x["route"][1], x["route"][2], mod, h["v"])
            for mod, x in extracts.items()
            if x.get("route", [""])[0] == "layout"
            for h in x["handlers"]
            if h["v"]
        ]
        for mod in sorted(extracts):
            x = extracts[mod]
            kind, root, url = x.get("route") or ["action", "", ""]
            if kind == "layout":
                continue
            # The host folder leaves the path (the file's location still names it).
            _host, where = host_of(url)
            for h, hmod in [(h, mod) for h in x["handlers"]] + reexported(mod, x, files, extracts):
                action = h.get("action", False)
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
                    cands += _middleware_guards(mws, root, where, extracts, files)
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


def _middleware_guards(
    mws: dict[str, dict[str, Any]],
    root: str,
    url: str,
    extracts: Mapping[str, Extract],
    files: frozenset[str],
) -> list[tuple[str, dict[str, Any]]]:
    """middleware.ts files of this app whose matcher covers ``url`` and that reject there."""
    out = []
    for mod, mw in mws.items():
        if _mw_root(mod) != root or not mw["program"] or not nextjs_mw.matches(mw["matcher"], url):
            continue

        def resolve(name: str, mod: str = mod) -> list[Any] | None:
            imported = extracts[mod]["imports"].get(name)
            other = resolve_module(mod, imported[0], files) if imported else None
            program = (
                (extracts.get(other) or {}).get("programs", {}).get(imported[1])
                if other and imported
                else None
            )
            # its refusals are quoted from the helper's file
            return None if program is None else nextjs_mw.located(program, str(other))

        stmt = nextjs_flow.run(mw["program"], url, resolve)
        if stmt is not None:
            how = stmt[3] if len(stmt) > 3 else "redirects or rejects signed-out requests"
            verdict = {
                "v": "authenticated",
                "line": stmt[1],
                "s": stmt[2],
                "why": f"middleware: {how}",
            }
            out.append((stmt[4] if len(stmt) > 4 else mod, verdict))
    return out


def _under(url: str, prefix: str) -> bool:
    return prefix == "/" or url == prefix or url.startswith(prefix.rstrip("/") + "/")


def _mw_root(path: str) -> str:
    return (
        str(PurePosixPath(path).parent).removesuffix("src").rstrip("/").replace(".", "")
        if "/" in path
        else ""
    )


def _auth(cands: list[tuple[str, dict[str, Any]]]) -> RouteAuth:
    if not cands:
        return RouteAuth(status=AuthStatus.PUBLIC)
    mod, v = max(cands, key=lambda c: _RANK.get(c[1]["v"], 0))
    if v["v"] not in _RANK:
        return RouteAuth(status=AuthStatus.PUBLIC)
    ev = [Evidence(path=mod, start_line=v["line"], end_line=v["line"], snippet=v.get("s", ""))]
    named = f"{v['mechanism']}: " if v.get("mechanism") else ""  # webhook_signature, ...
    return RouteAuth(status=AuthStatus(v["v"]), mechanism=f"{named}{v['why']} ({mod})", evidence=ev)
