"""What an Express-style file declares, read once from its tree-sitter tree.

App and router objects (``express()``, ``Router()``, Koa, Fastify) and their prefixes,
functions with the guard verdict ``jsguard`` gives them (so other files' routes can name
them), aliases (``const isLoggedIn = handler.isLoggedInMiddleware``), string constants and
arrays (for paths built from them), and what the module exports (CommonJS and ESM).
``express.py`` builds on this to read the registrations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from threatmodel.collect.jsast import (
    FUNCTION_TYPES,
    call_args,
    dotted,
    imports,
    line_of,
    nodes_of,
    object_props,
    params,
    string_value,
    strings_of,
    unwrap,
)
from threatmodel.collect.jsguard import analyse
from threatmodel.collect.source import SourceFile
from threatmodel.collect.treesitter import node_text

if TYPE_CHECKING:
    from tree_sitter import Node

_APP_FACTORIES = {"express": "app", "Koa": "app", "Fastify": "app", "fastify": "app"}
_ROUTER_FACTORIES = frozenset({"Router", "express.Router", "KoaRouter"})
_DECLARATION_TYPES = frozenset(
    {
        "variable_declarator",
        "function_declaration",
        "assignment_expression",
        "pair",
        "method_definition",
        "export_statement",
    }
)


class Declarations:
    """What one file declares: receivers, functions (with guard verdicts), exports, constants."""

    def __init__(self, src: SourceFile, root: Node) -> None:
        self.src = src
        self.root = root
        self.imports = imports(root)
        self.receivers: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.defs: dict[str, dict[str, Any]] = {}
        self.aliases: dict[str, Node] = {}
        self.consts: dict[str, str] = {}
        self.arrays: dict[str, list[str]] = {}
        self.exports: dict[str, str] = {}
        self.functions: dict[str, list[str]] = {}
        self.settings: list[list[Any]] = []
        self._params_seen: set[str] = set()

    # ------------------------------------------------------------------ declarations
    def scan_declarations(self) -> None:
        for node in nodes_of(self.root, _DECLARATION_TYPES):
            t = node.type
            if t == "variable_declarator":
                self._declarator(node)
            elif t == "function_declaration":
                name = node.child_by_field_name("name")
                if name is not None:
                    self._function(node_text(name), node)
            elif t == "assignment_expression":
                self._assignment(node)
            elif t == "pair":
                value = unwrap(node.child_by_field_name("value"))
                key = node.child_by_field_name("key")
                if value is not None and key is not None and value.type in FUNCTION_TYPES:
                    self._function(node_text(key), value, public=False)
            elif t == "method_definition":
                name = node.child_by_field_name("name")
                if name is not None:
                    self._function(node_text(name), node, public=False)
            elif t == "export_statement":
                self._export(node)

    def _declarator(self, node: Node) -> None:
        name_node = node.child_by_field_name("name")
        value = unwrap(node.child_by_field_name("value"))
        if name_node is None or value is None or name_node.type != "identifier":
            return
        name = node_text(name_node)
        if value.type in FUNCTION_TYPES:
            self._function(name, value)
            return
        text = string_value(value)
        if text is not None:
            self.consts[name] = text
        elif value.type == "array" and (items := strings_of(value)) is not None:
            self.arrays[name] = items
        elif value.type in ("call_expression", "new_expression"):
            kind = self._factory_kind(value)
            if kind:
                self.receivers[name] = {"kind": kind, "prefix": self._router_prefix(value)}
            self.aliases[name] = value
        elif value.type in ("member_expression", "identifier"):
            self.aliases[name] = value

    def _factory_kind(self, value: Node) -> str | None:
        fn = value.child_by_field_name("function") or value.child_by_field_name("constructor")
        name = dotted(fn)
        origin = self.imports.get(name.split(".")[0], ("", ""))[0]
        if name in _ROUTER_FACTORIES or name.endswith(".Router"):
            return "router"
        if origin in ("koa-router", "@koa/router", "express-promise-router"):
            return "router"
        if name in _APP_FACTORIES and (origin in ("express", "koa", "fastify") or name == "Koa"):
            return "app"
        if origin == "express" and name.split(".")[0] == name:
            return "app"
        return None

    def _router_prefix(self, value: Node) -> str:
        args = call_args(value)
        props = object_props(args[0]) if args else {}
        return string_value(props.get("prefix")) or ""

    def _assignment(self, node: Node) -> None:
        left, right = node.child_by_field_name("left"), unwrap(node.child_by_field_name("right"))
        if left is None or right is None:
            return
        target = dotted(left)
        if target in ("module.exports", "exports.default"):
            if right.type in FUNCTION_TYPES:
                self._function("<default>", right)
                self.exports["default"] = "<default>"
            elif right.type == "identifier":
                self.exports["default"] = node_text(right)
            elif right.type == "object":
                for key, value in object_props(right).items():
                    self.exports[key] = dotted(value) or key
            return
        if left.type == "member_expression" and right.type in FUNCTION_TYPES:
            name = target.rpartition(".")[2]
            self._function(name, right)
            if target.startswith(("exports.", "module.exports.")):
                self.exports[name] = name
        elif target.startswith(("exports.", "module.exports.")) and right.type == "identifier":
            self.exports[target.rpartition(".")[2]] = node_text(right)

    def _export(self, node: Node) -> None:
        decl = node.child_by_field_name("declaration")
        value = node.child_by_field_name("value")
        is_default = any(c.type == "default" for c in node.children)
        if decl is not None:
            if decl.type == "function_declaration" and (n := decl.child_by_field_name("name")):
                self.exports["default" if is_default else node_text(n)] = node_text(n)
            elif decl.type in ("lexical_declaration", "variable_declaration"):
                for d in decl.named_children:
                    n = d.child_by_field_name("name")
                    if d.type == "variable_declarator" and n is not None:
                        self.exports[node_text(n)] = node_text(n)
        elif value is not None and is_default:
            value = unwrap(value)
            if value is not None and value.type in FUNCTION_TYPES:
                self._function("<default>", value)
                self.exports["default"] = "<default>"
            elif value is not None and value.type == "identifier":
                self.exports["default"] = node_text(value)
        for clause in (c for c in node.named_children if c.type == "export_clause"):
            for spec in clause.named_children:
                name, alias = spec.child_by_field_name("name"), spec.child_by_field_name("alias")
                if name is not None:
                    self.exports[node_text(alias or name)] = node_text(name)

    def _function(self, name: str, fn: Node, public: bool = True) -> None:
        if public:
            self.functions[name] = params(fn)
        verdict = analyse(fn, self.imports)
        if verdict is not None and name not in self.defs:
            verdict.setdefault("line", line_of(fn))
            self.defs[name] = verdict


def alias_name(node: Node) -> str:
    """``x = new Handler(db)`` / ``x = factory()`` / ``x = a.b``: the name ``x`` stands for."""
    if node.type in ("call_expression", "new_expression"):
        fn = node.child_by_field_name("function") or node.child_by_field_name("constructor")
        return dotted(fn)
    return dotted(node)
