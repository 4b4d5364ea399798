"""REST routes that finale-rest (formerly epilogue) generates on an Express app.

``finale.initialize({ app, sequelize })`` then ``finale.resource({ model, endpoints:
['/api/Users', '/api/Users/:id'] })`` registers, on that app and at that point of its
middleware order, five handlers: list (GET) and create (POST) on the collection path, read
(GET), update (PUT, or the ``updateMethod`` given) and delete (DELETE) on the item path;
``actions: [...]`` keeps only those named. Endpoints built in a loop over a constant list
(``for (const { name } of models) finale.resource({ endpoints: [`/api/${name}s`] })``)
are unrolled. The registrations are ordinary route events for ``express_link``, so the
guards the app mounts in front of them (``app.use('/api/Users', isAuthorized())``) apply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from threatmodel.code.jsast import (
    call_args,
    callee,
    nodes_of,
    object_props,
    string_value,
    strings_of,
    unwrap,
)
from threatmodel.code.treesitter import node_text

if TYPE_CHECKING:
    from tree_sitter import Node

LIBRARIES = ("finale-rest", "epilogue")
_COLLECTION = (("list", "get"), ("create", "post"))
_ITEM = (("read", "get"), ("update", "put"), ("delete", "delete"))
_DECLS = frozenset({"variable_declarator"})
_CALLS = frozenset({"call_expression"})


def library_names(imports: dict[str, tuple[str, str]]) -> set[str]:
    """Local names bound to finale-rest (``import * as finale from 'finale-rest'``)."""
    return {local for local, (spec, _name) in imports.items() if spec in LIBRARIES}


def initialized_app(root: Node, names: set[str]) -> Node | None:
    """The ``app`` handed to ``finale.initialize({ app })``."""
    for call in nodes_of(root, _CALLS):
        name = callee(call)
        if name.rpartition(".")[0] in names and name.endswith(".initialize"):
            args = call_args(call)
            app = object_props(args[0]).get("app") if args else None
            if app is None and args and args[0].type == "object":
                shorthand = [
                    c for c in args[0].named_children if c.type == "shorthand_property_identifier"
                ]
                app = next((c for c in shorthand if node_text(c) == "app"), None)
            return app
    return None


def resource_routes(call: Node, root: Node) -> list[tuple[str, str]]:
    """(method, path) pairs one ``finale.resource({...})`` call registers."""
    args = call_args(call)
    opts = object_props(args[0]) if args else {}
    endpoints = unwrap(opts.get("endpoints"))
    if endpoints is None or endpoints.type != "array":
        return []
    paths = [_expand(e, call, root) for e in endpoints.named_children]
    actions = strings_of(unwrap(opts.get("actions")))
    update = string_value(unwrap(opts.get("updateMethod"))) or "put"
    out: list[tuple[str, str]] = []
    for i, options in enumerate(paths):
        table = _COLLECTION if i == 0 else _ITEM
        for action, method in table:
            if actions is not None and action not in actions:
                continue
            verb = update if action == "update" else method
            out.extend((verb.upper(), p) for p in options)
    return out


def _expand(node: Node, call: Node, root: Node) -> list[str]:
    """A literal or a template endpoint, with ``${name}`` taken from the enclosing loop."""
    node = unwrap(node) or node
    plain = string_value(node)
    if plain is not None:
        return [plain]
    if node.type != "template_string":
        return []
    results = [""]
    for part in node.named_children:
        if part.type == "string_fragment":
            results = [r + node_text(part) for r in results]
        elif part.type == "template_substitution":
            expr = part.named_children[0] if part.named_children else None
            values = _loop_values(node_text(expr) if expr is not None else "", call, root)
            if not values:
                return []
            results = [r + v for r in results for v in values]
    return results


def _loop_values(name: str, call: Node, root: Node) -> list[str]:
    """``for (const { name } of models)``: the ``name`` of each object in ``models``."""
    node: Node | None = call.parent
    while node is not None:
        if node.type == "for_in_statement":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if left is not None and right is not None and _binds(left, name):
                return _field_values(right, name, root)
        node = node.parent
    return []


def _binds(left: Node, name: str) -> bool:
    return any(
        c.type in ("shorthand_property_identifier_pattern", "identifier") and node_text(c) == name
        for c in ([left] if left.type == "identifier" else left.named_children)
    )


def _field_values(right: Node, name: str, root: Node) -> list[str]:
    right = unwrap(right) or right
    if right.type == "identifier":
        found = next(
            (
                unwrap(d.child_by_field_name("value"))
                for d in nodes_of(root, _DECLS)
                if node_text(d.child_by_field_name("name") or d) == node_text(right)
            ),
            None,
        )
        right = found if found is not None else right
    if right.type != "array":
        return []
    out: list[str] = []
    for item in right.named_children:
        value = (
            string_value(unwrap(object_props(item).get(name))) if item.type == "object" else None
        )
        if value is None:
            return []  # a member the loop cannot name: no guess
        out.append(value)
    return out


def ref(call: Node, line_text: str) -> dict[str, Any]:
    """The generated handler, as a registration's handler reference."""
    line = call.start_point[0] + 1
    return {"t": "finale.resource(...)", "line": line, "s": line_text, "name": "finale.resource"}
