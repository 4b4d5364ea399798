"""What an Express-style file declares, read once from its tree-sitter tree.

App and router objects (``express()``, ``Router()``, Koa, Fastify) and their prefixes,
functions with the guard verdict ``jsguard`` gives them (so other files' routes can name
them), aliases (``const isLoggedIn = handler.isLoggedInMiddleware``), string constants and
arrays (for paths built from them), and what the module exports (CommonJS and ESM).
``express.py`` builds on this to read the registrations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from threatmodel.code.jsast import (
    FUNCTION_TYPES,
    body_of,
    call_args,
    callee,
    dotted,
    imports,
    line_of,
    nodes_of,
    object_props,
    params,
    string_value,
    strings_of,
    unwrap,
    walk_shallow,
)
from threatmodel.code.source import SourceFile
from threatmodel.code.treesitter import node_text
from threatmodel.frameworks._js.callers import owner_params
from threatmodel.frameworks._js.guard import analyse, known_call

if TYPE_CHECKING:
    from tree_sitter import Node

_APP_FACTORIES = {"express": "app", "Koa": "app", "Fastify": "app", "fastify": "app"}
_ROUTER_FACTORIES = frozenset({"Router", "express.Router", "KoaRouter"})
# Calls that return their router, so a chain of them registers on the one router.
_CHAINABLE = frozenset({"use", "get", "post", "put", "patch", "delete", "head", "options", "all"})
_DECLARATION_TYPES = frozenset(
    {
        "variable_declarator",
        "function_declaration",
        "assignment_expression",
        "pair",
        "method_definition",
        "export_statement",
        "field_definition",
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
        self.stars: list[str] = []  # modules re-exported whole (export * from ...)
        self.functions: dict[str, list[str]] = {}
        self.settings: list[list[Any]] = []
        self._params_seen: set[str] = set()
        # function name -> the router or app it returns (a router factory), for mounts of
        # ``require('./routes')()`` and ``makeRouter()``
        self.returns: dict[str, str] = {}
        self._fn_nodes: dict[str, Node] = {}
        # start byte of a factory call that heads a chain -> the receiver it makes
        self.anonymous: dict[int, str] = {}
        # function -> {param index: [line, quote]}: params it checks a record's owner against
        self.owners: dict[str, dict[str, list[Any]]] = {}

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
                elif value is not None and key is not None and value.type == "call_expression":
                    # { required: jwt({...}), optional: jwt({credentialsRequired: false}) }
                    found = known_call(value, self.imports)
                    if found is not None:
                        self.defs.setdefault(node_text(key), found)
            elif t == "method_definition":
                name = node.child_by_field_name("name")
                if name is not None:
                    self._function(node_text(name), node, public=False)
            elif t == "export_statement":
                self._export(node)
            elif t == "field_definition":
                self._field(node)
        for fname, fn in self._fn_nodes.items():
            recv = self._returned_receiver(fn)
            if recv is not None:
                self.returns[fname] = recv

    def _returned_receiver(self, fn: Node) -> str | None:
        body = unwrap(body_of(fn))
        if body is None:
            return None
        if body.type != "statement_block":
            return self._receiver_value(body)
        for node in walk_shallow(body):
            if node.type == "return_statement" and node.named_children:
                found = self._receiver_value(unwrap(node.named_children[0]))
                if found is not None:
                    return found
        return None

    def _receiver_value(self, node: Node | None) -> str | None:
        """The receiver an expression evaluates to: its name, or a chain rooted at one."""
        while node is not None and node.type == "call_expression":
            fn = node.child_by_field_name("function")
            if fn is None or fn.type != "member_expression":
                break
            node = unwrap(fn.child_by_field_name("object"))
        name = dotted(node) if node is not None else ""
        if name in self.receivers:
            return name
        if node is not None and node.type == "call_expression" and self._factory_kind(node):
            return self.anonymous_receiver(node)
        return None

    def anonymous_receiver(self, root: Node) -> str:
        """The name of the router a factory call makes when no variable holds it."""
        name = self.anonymous.setdefault(root.start_byte, f"<router@{line_of(root)}>")
        self.receivers.setdefault(
            name, {"kind": self._factory_kind(root) or "router", "prefix": ""}
        )
        return name

    def _field(self, node: Node) -> None:
        """``class C { router = express.Router() }``: the router is ``this.router``."""
        prop = node.child_by_field_name("property")
        value = unwrap(node.child_by_field_name("value"))
        if prop is None or value is None:
            return
        if value.type in ("call_expression", "new_expression") and (k := self._factory_kind(value)):
            self.receivers["this." + node_text(prop)] = {"kind": k, "prefix": ""}

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
                if self._koa_router(value):
                    self.receivers[name]["koa"] = True
            elif (root := self._chain_root(value)) is not None:
                self.anonymous[root.start_byte] = name  # Router().use(a).get(...)
                self.receivers[name] = {"kind": self._factory_kind(root), "prefix": ""}
            if callee(value) != "require":  # an import, not an alias: imports() has it
                self.aliases[name] = value
        elif value.type in ("member_expression", "identifier") and name not in self.imports:
            self.aliases[name] = value  # not ``require('./m').name``: imports() has it

    def _chain_root(self, value: Node) -> Node | None:
        """The factory call under ``Router().use(a).get(p, h)``, if the chain has one."""
        node: Node | None = value
        while node is not None and node.type == "call_expression":
            fn = node.child_by_field_name("function")
            if fn is None or fn.type != "member_expression":
                break
            if node_text(fn.child_by_field_name("property") or fn) not in _CHAINABLE:
                return None
            node = unwrap(fn.child_by_field_name("object"))
            if node is not None and node.type == "call_expression" and self._factory_kind(node):
                return node
        return None

    def _factory_kind(self, value: Node) -> str | None:
        fn = value.child_by_field_name("function") or value.child_by_field_name("constructor")
        name = dotted(fn)
        if not name and fn is not None:
            # require('express')() and require('express').Router()
            base = fn.child_by_field_name("object") if fn.type == "member_expression" else fn
            base = unwrap(base)
            if base is not None and base.type == "call_expression" and callee(base) == "require":
                args = call_args(base)
                spec = string_value(args[0]) if args else None
                if spec in ("express", "express-promise-router"):
                    return "router" if fn.type == "member_expression" else "app"
            return None
        root, imported = self.imports.get(name.split(".")[0], ("", ""))
        origin = root
        if name in _ROUTER_FACTORIES or name.endswith(".Router"):
            return "router"
        if origin == "express" and imported == "Router" and "." not in name:
            return "router"  # const { Router: R } = require('express'); R()
        if origin in ("koa-router", "@koa/router", "express-promise-router"):
            return "router"
        if name in _APP_FACTORIES and (origin in ("express", "koa", "fastify") or name == "Koa"):
            return "app"
        if origin == "express" and name.split(".")[0] == name:
            return "app"
        return None

    def _koa_router(self, value: Node) -> bool:
        """koa-router joins a prefix to a route path by plain concatenation (its
        ``Layer#setPrefix``), so ``router.post("users.list", h)`` mounted with
        ``use("/", r.routes())`` serves ``/users.list``: its paths need no leading slash."""
        fn = value.child_by_field_name("function") or value.child_by_field_name("constructor")
        origin = self.imports.get(dotted(fn).split(".")[0], ("", ""))[0]
        return origin in ("koa-router", "@koa/router")

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
            elif right.type == "call_expression" and (root := self._chain_root(right)):
                self._anonymous_export(root)
            elif right.type == "object":
                for key, value in object_props(right).items():
                    self.exports[key] = dotted(value) or key
            return
        if target.startswith("this.") and right.type in ("call_expression", "new_expression"):
            kind = self._factory_kind(right)
            if kind:  # this.router = express.Router() in a constructor
                self.receivers[target] = {"kind": kind, "prefix": ""}
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
            elif value is not None and value.type == "call_expression":
                root = self._chain_root(value)
                if root is not None:
                    self._anonymous_export(root)
        source = node.child_by_field_name("source")
        origin = string_value(source) if source is not None else None
        clauses = [c for c in node.named_children if c.type == "export_clause"]
        if origin is not None and not clauses and decl is None:
            self.stars.append(origin)  # export * from "./routes"
        for clause in clauses:
            for spec in clause.named_children:
                name, alias = spec.child_by_field_name("name"), spec.child_by_field_name("alias")
                if name is None:
                    continue
                local = node_text(name)
                if origin is not None:  # export { default } from "./x": an import, re-exported
                    local = f"<from {origin}>{local}"
                    self.imports[local] = (origin, node_text(name))
                self.exports[node_text(alias or name)] = local

    def _target(self, given: Node) -> list[str] | None:
        """What a mounted/registered value refers to: [kind, a, b]."""
        node = unwrap(given)
        if node is None:
            return None
        if node.type == "call_expression" and callee(node) == "require":
            args = call_args(node)
            spec = string_value(args[0]) if args else None
            return ["import", spec, "*"] if spec else None
        if node.type == "call_expression" and (recv := self._receiver_value(node)) is not None:
            return ["local", recv, ""]  # Router().post(...) handed over inline
        if node.type == "call_expression" and callee(node).endswith((".routes", ".middleware")):
            # koa-router's router.routes() (alias middleware()): the router itself
            base = callee(node).rsplit(".", 1)[0]
            return ["local", base, ""] if base in self.receivers else self._target_name(base)
        if node.type == "call_expression":
            # require('./routes/app')() / makeRouter(): the router the function returns
            made = self._target(node.child_by_field_name("function") or node)
            if made is not None and made[0] in ("import", "localfn"):
                return ["made", *made]
        if node.type == "member_expression":
            obj = unwrap(node.child_by_field_name("object"))
            prop = node.child_by_field_name("property")
            if obj is not None and obj.type == "identifier" and node_text(obj) in self.aliases:
                obj = self.aliases[node_text(obj)]  # const c = new Ctl(); app.use(c.router)
            if obj is not None and obj.type == "new_expression" and prop is not None:
                made = self._target_name(dotted(obj.child_by_field_name("constructor")))
                if made is not None:  # new ItemsController().router: that class's this.router
                    kind, a, _ = made
                    field = "this." + node_text(prop)
                    return ["import", a, field] if kind == "import" else ["local", field, ""]
        if node.type in ("identifier", "member_expression"):
            return self._target_name(dotted(node))
        return None

    def _target_name(self, name: str) -> list[str] | None:
        if not name:
            return None
        root, _, member = name.partition(".")
        if root in self.receivers and not member:
            return ["local", root, ""]
        if root in self.imports:
            spec, imported = self.imports[root]
            return ["import", spec, member or imported]
        if not member and root in self.functions:
            return ["localfn", root, ""]
        return None

    def made_by_package(self, name: str, depth: int = 0) -> bool:
        """Is ``name`` an object a package's factory made, configured by the app (``guard =
        require('express-jwt-permissions')(opts)``), not the app's own code? (A package
        imported as such, ``passport``, is not: its call may be the route's handler.)"""
        if depth and name in self.imports:
            return not self.imports[name][0].startswith((".", "@/", "~/"))
        value = unwrap(self.aliases.get(name))
        fn = unwrap(value.child_by_field_name("function")) if value is not None else None
        if fn is None or value is None or value.type != "call_expression" or depth > 3:
            return False
        if fn.type == "call_expression" and callee(fn) == "require":
            spec = string_value(unwrap(call_args(fn)[0])) if call_args(fn) else None
            return spec is not None and not spec.startswith((".", "@/", "~/"))
        return fn.type == "identifier" and self.made_by_package(node_text(fn), depth + 1)

    def _anonymous_export(self, root: Node) -> None:
        """``export default Router().use('/api', api)``: a receiver with no name of its own."""
        self.exports["default"] = self.anonymous_receiver(root)

    def _function(self, name: str, fn: Node, public: bool = True) -> None:
        if public:
            self.functions[name] = params(fn)
            self._fn_nodes.setdefault(name, fn)
            owners = owner_params(fn)
            if owners:
                self.owners[name] = owners
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
