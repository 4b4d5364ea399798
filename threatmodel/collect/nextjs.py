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

from threatmodel.collect import nextjs_mw
from threatmodel.collect.interface import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.collect.jsast import (
    FUNCTION_TYPES,
    body_of,
    call_args,
    callee,
    dotted,
    imports,
    is_test_path,
    line_of,
    resolve_module,
    string_value,
    unwrap,
    walk,
)
from threatmodel.collect.jsguard import name_looks_auth
from threatmodel.collect.jshandler import handler_auth
from threatmodel.collect.source import JS_LANGUAGES, SourceFile
from threatmodel.collect.treesitter import node_text
from threatmodel.models import AuthStatus, Evidence, Location, Route, RouteAuth

if TYPE_CHECKING:
    from tree_sitter import Node

HTTP = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_RANK = {"unknown": 1, "authenticated": 2, "restricted": 3}
_CERTAIN_WRAPPERS = frozenset({"withApiAuthRequired", "withPageAuthRequired"})
_HELPER_HINTS = ("session", "auth", "getUser", "token", "Session", "Auth", "user")


def segment(seg: str) -> str | None:
    """One folder name as a URL segment; None when it does not appear in the URL."""
    if (seg.startswith("(") and seg.endswith(")")) or seg.startswith("@"):
        return None
    if seg.startswith("[") and seg.endswith("]"):
        return "{" + seg.strip("[]").removeprefix("...") + "}"
    return seg


def route_of(path: str) -> tuple[str, str, str] | None:
    """(kind, app root, URL) for a file Next.js routes, else None."""
    parts = path.split("/")
    stem = PurePosixPath(parts[-1]).stem
    for marker in ("app", "pages"):
        if marker not in parts[:-1]:
            continue
        i = parts.index(marker)
        rest = parts[i + 1 : -1]
        if any(p.startswith(("_", "(.")) for p in rest):
            return None
        root = "/".join(parts[:i]).removesuffix("src").rstrip("/")
        if marker == "app":
            if stem not in ("route", "page", "layout"):
                return None
            segs = [s for p in rest if (s := segment(p)) is not None]
            return stem, root, "/" + "/".join(segs)
        if stem.startswith("_") or stem in ("404", "500"):
            return None
        segs = [s for p in [*rest, stem] if p != "index" and (s := segment(p)) is not None]
        kind = "api" if rest[:1] == ["api"] else "pagefile"
        return kind, root, "/" + "/".join(segs)
    return None


class _File:
    def __init__(self, src: SourceFile, root: Node) -> None:
        self.src, self.root = src, root
        self.functions: dict[str, Node] = {}
        self.exports: dict[str, Node] = {}  # exported name -> function / call / other value
        for node in walk(root):
            if node.type == "function_declaration" and (n := node.child_by_field_name("name")):
                self.functions.setdefault(node_text(n), node)
            elif node.type == "variable_declarator":
                value = unwrap(node.child_by_field_name("value"))
                name = node.child_by_field_name("name")
                if value is not None and name is not None and value.type in FUNCTION_TYPES:
                    self.functions.setdefault(node_text(name), value)
        for node in root.named_children:
            if node.type == "export_statement":
                self._export(node)

    def _export(self, node: Node) -> None:
        decl = node.child_by_field_name("declaration")
        value = unwrap(node.child_by_field_name("value"))
        if any(c.type == "default" for c in node.children):
            target = decl if decl is not None else value
            if target is not None and target.type == "identifier":
                target = self.functions.get(node_text(target), target)
            if target is not None:
                self.exports["default"] = target
            return
        if decl is not None and decl.type == "function_declaration":
            self.exports[node_text(decl.child_by_field_name("name") or decl)] = decl
        elif decl is not None:
            for d in decl.named_children:
                name, v = d.child_by_field_name("name"), unwrap(d.child_by_field_name("value"))
                if name is None or v is None:
                    continue
                if name.type == "object_pattern":  # export const { GET, POST } = handlers
                    for p in name.named_children:
                        self.exports[node_text(p)] = v
                else:
                    self.exports[node_text(name)] = v
        for clause in (c for c in node.named_children if c.type == "export_clause"):
            for spec in clause.named_children:
                name, alias = spec.child_by_field_name("name"), spec.child_by_field_name("alias")
                if name is not None:
                    local = node_text(name)
                    self.exports[node_text(alias or name)] = self.functions.get(local, name)

    def verdict(self, target: Node) -> tuple[dict[str, Any] | None, list[str]]:
        """What a handler (function or wrapper call) decides itself, and what it calls."""
        target = unwrap(target) or target
        fn, wrapper = (target, None) if target.type in FUNCTION_TYPES else (None, target)
        found: dict[str, Any] | None = None
        if wrapper is not None and wrapper.type == "call_expression":
            inner = next((unwrap(a) for a in call_args(wrapper) if _is_fn(a)), None)
            args = call_args(wrapper)
            if inner is None and args:
                inner = self.functions.get(node_text(args[0]))  # withAuth(handler)
            fn = inner
            name = callee(wrapper).rpartition(".")[2]
            if name in _CERTAIN_WRAPPERS:
                found = {
                    "v": "authenticated",
                    "why": f"wrapped in {name}()",
                    "line": line_of(wrapper),
                }
            elif name_looks_auth(name):
                found = {"v": "unknown", "why": f"wrapped in {name}()", "line": line_of(wrapper)}
        if fn is None:
            return self._quote(found), []
        own = handler_auth(fn)
        if own is not None:
            found = own
        return self._quote(found), _calls(fn)

    def _quote(self, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is not None and "s" not in v:
            v["s"] = self.src.line_text(v["line"]).strip()[:300]
        return v


def _is_fn(node: Node) -> bool:
    n = unwrap(node)
    return n is not None and n.type in FUNCTION_TYPES


def _calls(fn: Node) -> list[str]:
    return sorted({c for n in walk(fn) if n.type == "call_expression" and (c := callee(n))})


def _methods(fn: Node) -> list[str]:
    """Methods a pages-router API handler accepts, from its ``req.method`` checks."""
    found: set[str] = set()
    for n in walk(fn):
        if n.type == "binary_expression":
            left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
            for a, b in ((left, right), (right, left)):
                if a is not None and dotted(a).endswith(".method") and (s := string_value(b)):
                    found.add(s.upper())
        elif n.type == "switch_statement" and dotted(n.child_by_field_name("value")).endswith(
            ".method"
        ):
            found.update(
                s.upper()
                for c in walk(n)
                if c.type == "switch_case" and (s := string_value(c.child_by_field_name("value")))
            )
    return sorted(m for m in found if m in HTTP) or ["ANY"]


def _directive(body: Node | None) -> bool:
    first = body.named_children[0] if body is not None and body.named_children else None
    return (
        first is not None
        and first.type == "expression_statement"
        and string_value(first.named_children[0] if first.named_children else None) == "use server"
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
        if route is None and not is_mw and not server and not helpers_possible:
            return None
        tree = src.ts_tree
        if tree is None:
            return None
        f = _File(src, tree.root_node)
        out: dict[str, Any] = {
            "next": 'from "next' in text or "from 'next" in text,
            "imports": {k: list(v) for k, v in imports(tree.root_node).items()},
            "handlers": [],
            "helpers": {},
        }
        if route is not None:
            out["route"] = list(route)
            out["handlers"] = self._handlers(f, route[0])
        if is_mw and ("config" in text or "middleware" in text):
            mw = nextjs_mw.analyse(tree.root_node)
            if mw["guard"] is not None:
                mw["guard"] = f._quote(mw["guard"])
            out["middleware"] = mw
        if server:
            out["handlers"].extend(self._actions(f, _directive(tree.root_node)))
        if helpers_possible:
            for fname, fn in f.functions.items():
                v = handler_auth(fn)
                if v is not None:
                    out["helpers"][fname] = f._quote(v)
        if not (out["handlers"] or out["helpers"] or "middleware" in out or "route" in out):
            return None
        return out

    def _handlers(self, f: _File, kind: str) -> list[dict[str, Any]]:
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
                    next((a for a in call_args(fn) if _is_fn(a)), None)
                    if fn is not None and fn.type == "call_expression"
                    else None
                )
                for method in _methods(inner or fn or target):
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

    def _handler(self, f: _File, method: str, name: str, target: Node) -> dict[str, Any]:
        v, calls = f.verdict(target)
        return {"method": method, "name": name, "line": line_of(target), "v": v, "calls": calls}

    def _actions(self, f: _File, whole_file: bool) -> list[dict[str, Any]]:
        out = []
        names = {n: fn for n, fn in f.exports.items() if n != "default"} if whole_file else {}
        for fname, fn in f.functions.items():
            if _directive(body_of(fn)):
                names[fname] = fn
        for fname in sorted(names):
            fn = names[fname]
            value = unwrap(fn)
            if value is None or (whole_file and not _is_fn(fn) and value.type != "call_expression"):
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
        helpers: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for mod, x in sorted(extracts.items()):
            for name, v in x["helpers"].items():
                helpers.setdefault(name, []).append((mod, v))
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
            for h in x["handlers"]:
                action = h.get("action", False)
                path = f"action:{mod}#{h['name']}" if action else url
                cands: list[tuple[str, dict[str, Any]]] = []
                if h["v"]:
                    cands.append((mod, h["v"]))
                for call in h["calls"]:
                    hit = _helper(call, mod, x, helpers, files)
                    if hit is not None:
                        cands.append((hit[0], _why(hit[1], f"calls {call}(), which")))
                if kind in ("page", "pagefile"):
                    cands += [
                        (m, _why(v, "its layout"))
                        for r, prefix, m, v in layouts
                        if r == root and _under(url, prefix)
                    ]
                if not action:
                    for m, mw in mws.items():
                        if (
                            _mw_root(m) == root
                            and mw["guard"]
                            and nextjs_mw.matches(mw["matcher"], url)
                            and nextjs_mw.in_scope(mw["guard"], url)
                        ):
                            cands.append((m, _why(mw["guard"], "middleware matches it and")))
                out.routes.append(
                    Route(
                        id=f"{h['method']} {path}",
                        method=h["method"],
                        path=path,
                        framework="nextjs",
                        handler=f"{mod}#{h['name']}",
                        location=Location(path=mod, line=h["line"]),
                        auth=_auth(cands),
                    )
                )


def _helper(
    call: str,
    mod: str,
    x: dict[str, Any],
    helpers: dict[str, list[tuple[str, dict[str, Any]]]],
    files: frozenset[str],
) -> tuple[str, dict[str, Any]] | None:
    root = call.split(".")[0]
    last = call.rpartition(".")[2]
    if root in x["imports"]:
        target = resolve_module(mod, x["imports"][root][0], files)
        want = last if "." in call else x["imports"][root][1]
        return next(((m, v) for m, v in helpers.get(want, []) if m == target), None)
    local = [(m, v) for m, v in helpers.get(last, []) if m == mod]
    if local:
        return local[0]
    return None


def _why(v: dict[str, Any], who: str) -> dict[str, Any]:
    return {**v, "why": f"{who} {v['why'].replace(' in the handler', '')}"}


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
    return RouteAuth(status=AuthStatus(v["v"]), mechanism=f"{v['why']} ({mod})", evidence=ev)
