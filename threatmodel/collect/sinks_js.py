"""Dangerous calls in JavaScript / TypeScript, from tree-sitter, and JWT misuse settings.

Extract (per file): calls to SQL (``.query``, ``.raw``, ``$queryRawUnsafe`` ...), shell
(``child_process`` ``exec`` / ``execSync`` / ``spawn`` with ``shell``), ``eval`` /
``new Function`` / ``vm.run*``, outbound HTTP (``fetch``, ``axios``, ``needle``, ``got``,
``http.get`` ...), redirects (``res.redirect``), templates (``ejs.render``, ``innerHTML =``),
deserialisation (``unserialize``) and files (``fs.readFile*``, ``res.sendFile``). ``dynamic``
is set when the dangerous argument is not a constant; for SQL only when the query is
*built* (template literal with ``${}``, ``+`` concatenation, ``.concat``) or read straight
from the request, not when values are passed separately. ``jsonwebtoken`` calls give
``jwt.verify`` ("false" for ``jwt.decode`` used as verification is not decidable, so only
``verify`` calls with ``algorithms`` containing ``none`` or a short literal key are recorded).
Link: adds the facts with the enclosing function's name and first line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from threatmodel.code import jsast
from threatmodel.code.collector import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.code.source import JS_LANGUAGES, SourceFile
from threatmodel.code.treesitter import node_text
from threatmodel.models import Location, Setting, Sink

if TYPE_CHECKING:
    from tree_sitter import Node

SQL_METHODS = frozenset({"query", "raw", "$queryRawUnsafe", "$executeRawUnsafe", "whereRaw"})
COMMAND_FUNCS = frozenset({"exec", "execSync", "spawn", "spawnSync", "execFile", "execFileSync"})
EVAL_CALLS = frozenset({"eval", "vm.runInNewContext", "vm.runInThisContext", "vm.runInContext"})
HTTP_LIBS = frozenset({"axios", "needle", "got", "superagent", "request", "http", "https"})
HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "request"})
REQUEST_NAMES = frozenset({"req", "request", "ctx"})
_SINK_TYPES = frozenset({"call_expression", "new_expression", "pair", "assignment_expression"})
SHORT_KEY = 32
MAX_DEPTH = 6
# The gate: a word every fact of extract() names literally. Callee names are built from the
# identifiers' own text (jsast.dotted), so each sink needs its last name, or its object's,
# written in the file: sink_kind's names, ``Function`` (new Function), ``child_process`` (the
# command sinks require it), the JWT libraries, ``$where`` and ``innerHTML``/``outerHTML``.
# Plain substrings, no word boundaries: wider than needed, never narrower.
_GATE_WORDS = (
    *EVAL_CALLS,
    "Function",
    "child_process",
    "fetch",
    *HTTP_LIBS,  # axios, needle, got, superagent, request, http(s)
    "redirect",
    "render",  # ejs.render, pug.render
    "compile",
    "template",
    "write",  # document.write
    "serialize",
    "load",  # yaml.load
    "readFile",
    "createRead",
    "sendFile",
    "download",
    *SQL_METHODS,
    "jwt",
    "jsonwebtoken",
    "$where",
    "innerHTML",
    "outerHTML",
)


@dataclass(frozen=True)
class JsCall:
    kind: str
    call: str
    dynamic: bool
    flow: str  # const | built | opaque
    from_request: bool
    parameterised: bool
    line: int


def sink_kind(node: Node, text: str) -> tuple[str, str] | None:
    """(kind, callee) when ``node`` (a call or new expression) is a known sink."""
    if node.type == "new_expression":
        ctor = jsast.dotted(node.child_by_field_name("constructor"))
        return ("eval", "new Function") if ctor == "Function" else None
    name = jsast.callee(node)
    last = name.rsplit(".", 1)[-1]
    base = name.rsplit(".", 1)[0] if "." in name else ""
    if name in EVAL_CALLS:
        return "eval", name
    if last in COMMAND_FUNCS and "child_process" in text and base not in ("re", "regex"):
        return "command", name
    if name == "fetch" or name in ("axios", "got", "request", "needle", "superagent"):
        return "http_request", name
    if base.split(".")[-1] in HTTP_LIBS and last in HTTP_VERBS:
        return "http_request", name
    if last == "redirect" and base:
        return "redirect", name
    if name in ("ejs.render", "pug.render", "Handlebars.compile", "_.template", "document.write"):
        return "template", name
    if last in ("unserialize", "deserialize") or name == "yaml.load":
        return "deserialize", name
    if base in ("fs", "fs.promises", "fsPromises") and last.startswith(("readFile", "createRead")):
        return "file", name
    if last in ("sendFile", "download") and base:
        return "file", name
    if last in SQL_METHODS and base:
        return "sql", name
    return None


class _Scope:
    """Declarations of one function (``const x = ...``, ``x = ...``) and its parameters."""

    def __init__(self, fn: Node | None, root: Node) -> None:
        self.values: dict[str, list[Node]] = {}
        self.params = frozenset(p for p in jsast.params(fn) if p) if fn is not None else frozenset()
        body = jsast.body_of(fn) if fn is not None else root
        for n in jsast.walk_shallow(body) if body is not None else []:
            if n.type == "variable_declarator":
                name, value = n.child_by_field_name("name"), n.child_by_field_name("value")
                if name is not None and value is not None and name.type == "identifier":
                    self.values.setdefault(node_text(name), []).append(value)
            elif n.type in ("assignment_expression", "augmented_assignment_expression"):
                left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
                if left is not None and right is not None and left.type == "identifier":
                    self.values.setdefault(node_text(left), []).append(right)

    def classify(self, node: Node | None, depth: int = 0) -> str:
        node = jsast.unwrap(node)
        if node is None or depth > MAX_DEPTH:
            return "opaque"
        if node.type in ("string", "number", "true", "false", "null"):
            return "const"
        if node.type == "template_string":
            subs = [c for c in node.named_children if c.type == "template_substitution"]
            return "const" if not subs else "built"
        if node.type == "binary_expression" and node_text(node.child(1)) == "+":
            parts = [
                self.classify(node.child_by_field_name(f), depth + 1) for f in ("left", "right")
            ]
            return "const" if parts == ["const", "const"] else "built"
        if node.type == "ternary_expression":
            parts = [
                self.classify(node.child_by_field_name(f), depth + 1)
                for f in ("consequence", "alternative")
            ]
            return (
                "const"
                if parts == ["const", "const"]
                else ("built" if "built" in parts else "opaque")
            )
        if node.type == "call_expression" and jsast.callee(node).endswith((".concat", ".join")):
            return "built"
        if node.type == "identifier":
            values = self.values.get(node_text(node))
            if not values:
                return "opaque"
            kinds = {self.classify(v, depth + 1) for v in values}
            if kinds == {"const"}:
                return "const"
            return "built" if "built" in kinds else "opaque"
        return "opaque"

    def from_request(self, node: Node | None, depth: int = 0) -> bool:
        if node is None or depth > MAX_DEPTH:
            return False
        for n in jsast.walk(node):
            if n.type == "identifier":
                name = node_text(n)
                if name in REQUEST_NAMES:
                    return True
                for v in self.values.get(name, []):
                    if v is not node and self.from_request(v, depth + 1):
                        return True
        return False


def describe(
    node: Node, text: str, fn: Node | None, root: Node, scope: _Scope | None = None
) -> JsCall | None:
    """The sink ``node`` is, if any; ``scope``: ``_Scope(fn, root)`` when already built."""
    found = sink_kind(node, text)
    if found is None:
        return None
    kind, name = found
    args = jsast.call_args(node)
    arg = args[0] if args else None
    if kind == "eval" and name == "new Function":
        arg = args[-1] if args else None
    scope = scope or _Scope(fn, root)
    flow = scope.classify(arg)
    from_req = scope.from_request(arg)
    parameterised = kind == "sql" and len(args) > 1 and args[1].type in ("array", "object")
    if kind == "sql":
        dynamic = flow == "built" or (flow == "opaque" and from_req and not parameterised)
    elif kind == "command" and jsast.callee(node).rsplit(".", 1)[-1].startswith("spawn"):
        options = jsast.object_props(args[2] if len(args) > 2 else None)
        dynamic = flow != "const" and "shell" in options
    else:
        dynamic = flow != "const"
    return JsCall(kind, name, dynamic, flow, from_req, parameterised, jsast.line_of(node))


def jwt_settings(node: Node) -> list[tuple[str, str]]:
    """jsonwebtoken ``jwt.verify(token, key, {algorithms})`` misuse as Setting pairs."""
    name = jsast.callee(node)
    if name not in ("jwt.verify", "jsonwebtoken.verify", "jwt.sign", "jsonwebtoken.sign"):
        return []
    args = jsast.call_args(node)
    out: list[tuple[str, str]] = []
    if name.endswith("verify"):
        out.append(("jwt.verify", "true"))
        algs = jsast.strings_of(
            jsast.object_props(args[2] if len(args) > 2 else None).get("algorithms")
        )
        if algs and any(a.lower() == "none" for a in algs):
            out.append(("jwt.algorithms", ",".join(algs)))
    key = jsast.string_value(args[1]) if len(args) > 1 else None
    if key is not None:
        out.append(("jwt.secret", "literal-short" if len(key) < SHORT_KEY else "literal"))
    return out


def enclosing_function(node: Node) -> Node | None:
    cur = node.parent
    while cur is not None and cur.type not in jsast.FUNCTION_TYPES:
        cur = cur.parent
    return cur


def function_name(fn: Node | None) -> str | None:
    if fn is None:
        return None
    name = fn.child_by_field_name("name")
    if name is not None:
        return node_text(name)
    parent = fn.parent
    if parent is not None and parent.type == "variable_declarator":
        target = parent.child_by_field_name("name")
        return node_text(target) if target is not None else None
    if parent is not None and parent.type in ("assignment_expression", "pair"):
        target = parent.child_by_field_name("left") or parent.child_by_field_name("key")
        return node_text(target) if target is not None else None
    return f"<anonymous@{jsast.line_of(fn)}>"


@register
class JsSinksCollector(Collector):
    id = "sinks_js"
    version = 1
    # The last name only: ``vm .runInNewContext`` may be split by spaces or lines.
    gate = re.compile("|".join(sorted({re.escape(w.rsplit(".", 1)[-1]) for w in _GATE_WORDS})))

    def wants(self, path: str, language: str) -> bool:
        return language in JS_LANGUAGES and not jsast.is_test_path(path)

    def extract(self, src: SourceFile) -> Extract:
        tree = src.ts_tree
        if tree is None:
            return None
        sinks: list[list[Any]] = []
        settings: list[list[Any]] = []
        root = tree.root_node
        scopes: dict[int, _Scope] = {}  # one per function (-1: the module): built on demand

        def scope_of(fn: Node | None) -> _Scope:
            key = fn.id if fn is not None else -1
            if key not in scopes:
                scopes[key] = _Scope(fn, root)
            return scopes[key]

        for node in jsast.nodes_of(root, _SINK_TYPES):
            if node.type in ("call_expression", "new_expression"):
                # Most calls are no sink: name them before looking for their function.
                sink = sink_kind(node, src.text) is not None
                fn = enclosing_function(node) if sink else None
                info = describe(node, src.text, fn, root, scope_of(fn)) if sink else None
                if info is not None:
                    start = jsast.line_of(fn) if fn is not None else None
                    sinks.append(
                        [info.kind, info.call, info.dynamic, info.line, function_name(fn), start]
                    )
                for key, value in jwt_settings(node):
                    settings.append([key, value, jsast.line_of(node)])
            elif node.type == "pair" and _key_text(node) == "$where":
                # MongoDB $where runs JavaScript on the server: a NoSQL injection sink
                fn = enclosing_function(node)
                flow = scope_of(fn).classify(node.child_by_field_name("value"))
                start = jsast.line_of(fn) if fn is not None else None
                sinks.append(
                    [
                        "sql",
                        "$where",
                        flow == "built",
                        jsast.line_of(node),
                        function_name(fn),
                        start,
                    ]
                )
            elif node.type == "assignment_expression":
                left = node.child_by_field_name("left")
                if left is not None and jsast.dotted(left).endswith((".innerHTML", ".outerHTML")):
                    fn = enclosing_function(node)
                    flow = scope_of(fn).classify(node.child_by_field_name("right"))
                    start = jsast.line_of(fn) if fn is not None else None
                    sinks.append(
                        [
                            "template",
                            "innerHTML",
                            flow != "const",
                            jsast.line_of(node),
                            function_name(fn),
                            start,
                        ]
                    )
        if not sinks and not settings:
            return None
        return {"sinks": sinks, "settings": settings}

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        for path, data in sorted(extracts.items()):
            for kind, call, dynamic, line, handler, start in data["sinks"]:
                out.sinks.append(
                    Sink(
                        kind=kind,
                        call=call,
                        dynamic=dynamic,
                        location=Location(path=path, line=line),
                        handler=handler,
                        handler_line=start,
                    )
                )
            for key, value, line in data["settings"]:
                out.settings.append(
                    Setting(
                        key=key,
                        value=value,
                        framework="jsonwebtoken",
                        location=Location(path=path, line=line),
                    )
                )


def _key_text(pair: Node) -> str:
    """An object key as written: ``$where``, ``"$where"`` or ``'$where'``."""
    key = pair.child_by_field_name("key")
    if key is None:
        return ""
    return jsast.string_value(key) or node_text(key)
