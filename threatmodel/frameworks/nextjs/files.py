"""How Next.js sees one source file: its route (from the path) and its exported handlers.

``route_of`` maps a path to (kind, app root, URL) the way the Next.js router does;
``NextFile`` indexes a parsed file's functions and exports (``export function GET``,
``export { handler as POST }``, ``export default withAuth(handler)``) and asks ``jshandler``
what each handler decides about auth itself.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from threatmodel.code.jsast import (
    FUNCTION_TYPES,
    call_args,
    callee,
    dotted,
    has_directive,
    line_of,
    nodes_of,
    string_value,
    unwrap,
    walk,
)
from threatmodel.code.source import SourceFile
from threatmodel.code.treesitter import node_text
from threatmodel.frameworks._js.guard import name_looks_auth
from threatmodel.frameworks._js.handler import handler_auth

if TYPE_CHECKING:
    from tree_sitter import Node

HTTP = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_DECLS = frozenset({"function_declaration", "variable_declarator"})
_CERTAIN_WRAPPERS = frozenset({"withApiAuthRequired", "withPageAuthRequired"})


def segment(seg: str) -> str | None:
    """One folder name as a URL segment; None when it does not appear in the URL."""
    if (seg.startswith("(") and seg.endswith(")")) or seg.startswith("@"):
        return None
    if seg.startswith("[") and seg.endswith("]"):
        return "{" + seg.strip("[]").removeprefix("...") + "}"
    return seg


_HOST_PARAMS = frozenset({"{domain}", "{host}", "{hostname}"})


def host_of(url: str) -> tuple[str | None, str]:
    """(host, path) of a URL built from folders: ``/app.example.com/x`` is ``/x`` on host
    app.example.com, and ``/{domain}/x`` is ``/x`` on whichever host the middleware rewrote
    (the platforms pattern). Other URLs have no host."""
    first, _, rest = url.lstrip("/").partition("/")
    is_host = first in _HOST_PARAMS or (
        "." in first and not first.startswith(("{", ".")) and not first.endswith(".txt")
    )
    return (first, "/" + rest) if is_host else (None, url)


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


class NextFile:
    def __init__(self, src: SourceFile, root: Node) -> None:
        self.src, self.root = src, root
        self.functions: dict[str, Node] = {}
        self.exports: dict[str, Node] = {}  # exported name -> function / call / other value
        # top-level name -> its value, for `export const POST = GET` and export clauses
        self.values: dict[str, Node] = {}
        self.reexports: list[list[str]] = []  # [module, imported name or "*", exported name]
        for node in nodes_of(root, _DECLS):
            if node.type == "function_declaration" and (n := node.child_by_field_name("name")):
                self.functions.setdefault(node_text(n), node)
            elif node.type == "variable_declarator":
                value = unwrap(node.child_by_field_name("value"))
                name = node.child_by_field_name("name")
                if value is not None and name is not None and value.type in FUNCTION_TYPES:
                    self.functions.setdefault(node_text(name), value)
                elif value is not None and name is not None and name.type == "identifier":
                    self.values.setdefault(node_text(name), value)
        for node in root.named_children:
            if node.type == "export_statement":
                self._export(node)

    def default_name(self) -> str | None:
        """The name of the function ``export default`` gives (``export default async function
        verify()`` or ``export default verify``), if it is one of this file's functions."""
        target = self.exports.get("default")
        return next((n for n, fn in self.functions.items() if fn == target), None)

    def resolve(self, target: Node) -> Node:
        """``export const POST = GET`` / ``export { handler as GET }``: the value named."""
        for _ in range(4):
            node = unwrap(target)
            if node is None or node.type != "identifier":
                break
            name = node_text(node)
            found = self.functions.get(name) or self.values.get(name)
            if found is None and name in self.exports and self.exports[name] is not node:
                found = self.exports[name]
            if found is None or found is target:
                break
            target = found
        return target

    def _export(self, node: Node) -> None:
        source = string_value(node.child_by_field_name("source"))
        if source is not None:  # export * from './x' / export { GET as POST } from './x'
            clauses = [c for c in node.named_children if c.type == "export_clause"]
            if not clauses:
                self.reexports.append([source, "*", "*"])
            for spec in (s for c in clauses for s in c.named_children):
                name, alias = spec.child_by_field_name("name"), spec.child_by_field_name("alias")
                if name is not None:
                    self.reexports.append([source, node_text(name), node_text(alias or name)])
            return
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
        target = unwrap(self.resolve(target)) or target
        fn, wrapper = (target, None) if target.type in FUNCTION_TYPES else (None, target)
        found: dict[str, Any] | None = None
        wrappers: list[str] = []  # withAxiom(withSession(fn)): each is followed at link time
        while wrapper is not None and wrapper.type == "call_expression":
            wrappers.append(callee(wrapper) or chain_root(wrapper))
            args = call_args(wrapper)
            nested = unwrap(args[0]) if args else None
            if nested is None or nested.type != "call_expression" or not _wraps(nested):
                break
            wrapper = nested
        if wrapper is not None and wrapper.type == "call_expression":
            inner = next((unwrap(a) for a in call_args(wrapper) if is_fn(a)), None)
            args = call_args(wrapper)
            if inner is None and args:
                inner = self.functions.get(node_text(args[0]))  # withAuth(handler)
            fn = inner
            name = callee(wrapper).rpartition(".")[2]
            if name in ("NextAuth", "handlers"):
                return None, []  # the sign-in endpoints themselves: public by design
            if name in _CERTAIN_WRAPPERS:
                found = {
                    "v": "authenticated",
                    "why": f"wrapped in {name}()",
                    "line": line_of(wrapper),
                }
            elif name_looks_auth(name):
                found = {"v": "unknown", "why": f"wrapped in {name}()", "line": line_of(wrapper)}
        wrappers = [w for w in wrappers if w]
        if fn is None:
            return self._quote(found), wrappers
        own = handler_auth(fn)
        if own is not None:
            found = own
        return self._quote(found), wrappers + calls_in(fn)

    def guarded_values(self) -> dict[str, Node]:
        """Top-level values built by calls that take functions: ``withX = (h) => ...`` is a
        function already, but ``authActionClient = actionClient.use(async ({next}) => ...)``
        and ``withCron = createHandler(async (req) => ...)`` are calls whose function
        arguments run on every request."""
        return {
            name: v
            for name, v in self.values.items()
            if v.type == "call_expression" and any(is_fn(a) for a in _chain_args(v))
        }

    def _quote(self, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is not None and "s" not in v:
            v["s"] = self.src.line_text(v["line"]).strip()[:300]
        return v


def chain_root(call: Node) -> str:
    """``authActionClient.schema(s).action(fn)`` -> ``authActionClient``."""
    node: Node | None = call
    while node is not None and node.type == "call_expression":
        fn = node.child_by_field_name("function")
        node = unwrap(fn.child_by_field_name("object")) if fn is not None else None
        if node is not None and node.type != "call_expression":
            return dotted(node)
    return ""


def _chain_args(call: Node) -> list[Node]:
    out: list[Node] = []
    node: Node | None = call
    while node is not None and node.type == "call_expression":
        out.extend(call_args(node))
        fn = node.child_by_field_name("function")
        node = unwrap(fn.child_by_field_name("object")) if fn is not None else None
    return out


def _wraps(call: Node) -> bool:
    """Is this call a wrapper around the handler (it takes a function, directly or nested)?"""
    args = call_args(call)
    first = unwrap(args[0]) if args else None
    return first is not None and (is_fn(first) or first.type in ("call_expression", "identifier"))


def is_fn(node: Node) -> bool:
    n = unwrap(node)
    return n is not None and n.type in FUNCTION_TYPES


def calls_in(fn: Node) -> list[str]:
    return sorted({c for n in walk(fn) if n.type == "call_expression" and (c := callee(n))})


def methods_of(fn: Node) -> list[str]:
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


def has_use_server(body: Node | None) -> bool:
    return has_directive(body, "use server")
