"""Dangerous calls in JavaScript / TypeScript as ``Sink`` facts, and JWT misuse settings.

Which calls are sinks is the claim catalog's (the JavaScript rows of ``claims/<kind>/``, the
rows the JS dataflow engine follows; ``sink_of``): a call or ``new`` whose callee, resolved
through the file's ``require`` / ESM imports, a row names, an object key (``$where``) or an
assigned property (``innerHTML``) a row names. A match is listed as its row's fact kind
(``KindSpec.fact_of``: sql, command, eval, deserialize, http_request, redirect, template,
file); rows of kinds without one (``res.send`` of xss, Mongo's ``find``) are no ``Sink``.
What is read here is only how the dangerous argument is written: ``dynamic`` when it is not
a constant; for SQL only when the query is *built* (template literal with ``${}``, ``+``
concatenation, ``.concat``) or read straight from the request, not when values are passed
separately; ``spawn`` only with the ``shell`` option. ``jsonwebtoken`` calls give
``jwt.verify`` ("false" for ``jwt.decode`` used as verification is not decidable, so only
``verify`` calls with ``algorithms`` containing ``none`` or a short literal key are recorded).
Link: adds the facts with the enclosing function's name and first line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from threatmodel.claims import REGISTRY
from threatmodel.claims.spec import SinkRow
from threatmodel.code import jsast
from threatmodel.code.collector import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.code.source import JS_LANGUAGES, SourceFile
from threatmodel.code.treesitter import node_text
from threatmodel.dataflow.catalog import JS_CATALOG, js_callee
from threatmodel.dataflow.jsconds import shaped
from threatmodel.models import Location, Setting, Sink

if TYPE_CHECKING:
    from tree_sitter import Node

Imports = Mapping[str, tuple[str, str]]  # ``jsast.imports``
REQUEST_NAMES = frozenset({"req", "request", "ctx"})
_SINK_TYPES = frozenset({"call_expression", "new_expression", "pair", "assignment_expression"})
SHORT_KEY = 32
MAX_DEPTH = 6


def _gate_words() -> set[str]:
    """A word every fact of extract() names literally, per JS row listed as a fact: a method
    row's method, a key or property, else the callee's first part (``axios`` of
    ``axios.get``, ``fs/promises`` of ``fs/promises.readFile``), which the file writes either
    as the name it calls or in the import that resolves it; and the JWT libraries. Plain
    substrings: wider than needed, never narrower."""
    words = {"jwt", "jsonwebtoken"}
    for spec in REGISTRY.values():
        for row in spec.sinks:
            if row.language == "javascript" and spec.fact_of(row):
                name = row.callee.lstrip("$.")
                words.add(name if row.callee.startswith(".") else name.split(".", 1)[0])
    return words


@dataclass(frozen=True)
class JsCall:
    kind: str
    call: str
    dynamic: bool
    flow: str  # const | built | opaque
    from_request: bool
    parameterised: bool
    line: int
    arg: Node | None = None  # the dangerous argument (the first, when the row reads every one)


def sink_of(node: Node, imports: Imports) -> tuple[str, str, SinkRow] | None:
    """(fact kind, callee as written, row) when a catalog row listed as a fact names ``node``
    (a call, ``new``, object key or property assignment), else None."""
    if node.type in ("call_expression", "new_expression"):
        new = node.type == "new_expression"
        fn = jsast.unwrap(node.child_by_field_name("constructor" if new else "function"))
        name = jsast.dotted(fn)
        prop = fn.child_by_field_name("property") if fn and fn.type == "member_expression" else None
        qual, imported = js_callee(name, imports) if name else ("", False)
        method = node_text(prop) if prop is not None and not new else None
        if qual not in JS_CATALOG.sinks and f".{method}" not in JS_CATALOG.sinks:
            return None  # most calls: no row names them (checked before building any list)
        rows = JS_CATALOG.sinks_for(qual, method, imported)
        written = f"new {name}" if new else name or (f".{method}" if method else "")
        args = jsast.call_args(node)
        for kind, row in rows:
            fact = REGISTRY[kind].fact_of(row)
            # a row of a package's old versions only is a flow's (``collect/fixed_in``): listed
            # as a fact it would call every app's ``mathjs.eval`` dangerous
            # nor a render's: what its locals become is the view's (``dataflow/jsviews``)
            if fact and shaped(row.when, args) and not row.below and row.when != "view_locals":
                return fact, written, row
        return None
    if node.type == "pair":
        written = _key_text(node)
        rows = JS_CATALOG.keys.get(written, [])
    elif node.type == "assignment_expression":
        left = node.child_by_field_name("left")
        prop = left.child_by_field_name("property") if left is not None else None
        member = left is not None and left.type == "member_expression"
        written = node_text(prop) if prop is not None and member else ""
        rows = JS_CATALOG.assigns.get(f".{written}", []) if written else []
    else:
        return None
    for kind, row in rows:
        fact = REGISTRY[kind].fact_of(row)
        if fact:
            return fact, written, row
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

    def from_request(self, node: Node | None, depth: int = 0, seen: set[str] | None = None) -> bool:
        """Does ``node`` name the request, itself or through the names it reads? Each name
        is followed once per question (``seen``): a name read many times, or a sandbox
        object of many fields, is not walked again for each reading."""
        if node is None or depth > MAX_DEPTH:
            return False
        seen = set() if seen is None else seen
        for n in jsast.walk(node):
            if n.type == "identifier":
                name = node_text(n)
                if name in REQUEST_NAMES:
                    return True
                if name in seen:
                    continue
                seen.add(name)
                for v in self.values.get(name, []):
                    if v is not node and self.from_request(v, depth + 1, seen):
                        return True
        return False


def describe(
    node: Node, imports: Imports, fn: Node | None, root: Node, scope: _Scope | None = None
) -> JsCall | None:
    """The sink ``node`` is, if any; ``scope``: ``_Scope(fn, root)`` when already built."""
    found = sink_of(node, imports)
    if found is None:
        return None
    kind, name, row = found
    picked: list[Node]
    if node.type in ("pair", "assignment_expression"):
        value = node.child_by_field_name("value" if node.type == "pair" else "right")
        picked = [value] if value is not None else []
    else:
        args = jsast.call_args(node)
        if row.arg == -1 and row.when == "url_host":
            # ``res.redirect([status,] url[, init])``: the URL is the first non-number
            picked = [a for a in args if a.type != "number"][:1]
        elif row.arg == -1:
            picked = args
        else:
            picked = args[row.arg : row.arg + 1] if row.arg is not None else []
    scope = scope or _Scope(fn, root)
    flows = {scope.classify(a) for a in picked} or {"const"}
    flow = "const" if flows == {"const"} else "built" if "built" in flows else "opaque"
    from_req = any(scope.from_request(a) for a in picked)
    args = jsast.call_args(node) if node.type.endswith("expression") else []
    parameterised = kind == "sql" and len(args) > 1 and args[1].type in ("array", "object")
    if kind == "sql" and node.type != "pair":
        dynamic = flow == "built" or (flow == "opaque" and from_req and not parameterised)
    elif kind == "sql":  # ``$where`` code: built from parts
        dynamic = flow == "built"
    elif kind == "command" and name.rsplit(".", 1)[-1].startswith("spawn"):
        options = jsast.object_props(args[2] if len(args) > 2 else None)
        dynamic = flow != "const" and "shell" in options
    else:
        dynamic = flow != "const"
    arg = picked[0] if picked else None
    return JsCall(kind, name, dynamic, flow, from_req, parameterised, jsast.line_of(node), arg)


FALSY = frozenset({"''", '""', "``", "null", "undefined", "false", "0"})


def jwt_settings(node: Node) -> list[tuple[str, str]]:
    """jsonwebtoken ``jwt.verify(token, key, {algorithms})`` misuse as Setting pairs."""
    name = jsast.callee(node)
    if name not in ("jwt.verify", "jsonwebtoken.verify", "jwt.sign", "jsonwebtoken.sign"):
        return []
    args = jsast.call_args(node)
    out: list[tuple[str, str]] = []
    if name.endswith("verify"):
        out.append(("jwt.verify", "true"))
        # the options written in place or held in a name (``const options = {...}``)
        algs = jsast.strings_of(
            jsast.object_props(jsast.literal_object(args[2]) if len(args) > 2 else None).get(
                "algorithms"
            )
        )
        # jsonwebtoken refuses an unsigned token whenever it is given a key ("jwt signature
        # is required"): ``none`` is accepted only with no key or a falsy one
        key_node = jsast.unwrap(args[1]) if len(args) > 1 else None
        keyless = key_node is None or node_text(key_node) in FALSY
        if algs and any(a.lower() == "none" for a in algs) and keyless:
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
    version = 5  # sinks are the claim catalog's JS rows; 4: xpath; 5: jwt options
    # The last name only: ``vm .runInNewContext`` may be split by spaces or lines.
    gate = re.compile("|".join(sorted(re.escape(w) for w in _gate_words())))

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

        imports = jsast.imports(root)
        for node in jsast.nodes_of(root, _SINK_TYPES):
            # Most nodes are no sink: name them before looking for their function.
            if sink_of(node, imports) is not None:
                fn = enclosing_function(node)
                info = describe(node, imports, fn, root, scope_of(fn))
                if info is not None:
                    start = jsast.line_of(fn) if fn is not None else None
                    sinks.append(
                        [info.kind, info.call, info.dynamic, info.line, function_name(fn), start]
                    )
            if node.type == "call_expression":
                for key, value in jwt_settings(node):
                    settings.append([key, value, jsast.line_of(node)])
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
