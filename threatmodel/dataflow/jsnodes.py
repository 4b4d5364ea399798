"""Small readings of JavaScript / TypeScript nodes the taint engine makes: a literal's
constant, a call's arguments, the callee's text, the origin a request read is named by, a
function's parameters, whether it is exported, and its ``"use server"`` directive."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from threatmodel.code.jsast import dotted, string_value, unwrap
from threatmodel.code.treesitter import node_text
from threatmodel.dataflow.values import UNKNOWN

if TYPE_CHECKING:
    from tree_sitter import Node


def const_of(node: Node) -> Any:
    if node.type == "number":
        try:
            return float(node_text(node))
        except ValueError:
            return UNKNOWN
    return {"true": True, "false": False, "null": None, "undefined": None}.get(node.type, UNKNOWN)


def call_args(node: Node) -> list[Node]:
    args = node.child_by_field_name("arguments")
    if args is None:
        return []
    if args.type == "template_string":  # tagged template: sql`...` is parameterised
        return []
    return [a for a in args.named_children if a.type != "comment"]


def callee_text(node: Node) -> str:
    if node.type == "pair":  # a catalog key (``{$where: ...}``): the key as written
        key = node.child_by_field_name("key")
        return (string_value(key) or node_text(key)) if key is not None else ""
    fn = node.child_by_field_name("function") or node.child_by_field_name("constructor")
    text = dotted(unwrap(fn)) or (node_text(fn) if fn is not None else "")
    return text[:80]


def origin(node: Node) -> str:
    """``req.body.email`` for a read of the request: the first three parts of its text."""
    text = dotted(node) or node_text(node).split("(")[0]
    return ".".join(text.split(".")[:3])[:60]


def fn_params(fn: Node) -> list[Node]:
    ps = fn.child_by_field_name("parameters")
    if ps is None:
        p = fn.child_by_field_name("parameter")
        return [p] if p is not None else []
    return [p for p in ps.named_children if p.type not in ("comment", "decorator")]


def is_exported(fn: Node) -> bool:
    node = fn.parent
    for _ in range(3):
        if node is None:
            return False
        if node.type == "export_statement":
            return True
        node = node.parent
    return False


def use_server_directive(fn: Node) -> bool:
    body = fn.child_by_field_name("body")
    first = body.named_children[0] if body is not None and body.named_children else None
    if first is None or first.type != "expression_statement" or not first.named_children:
        return False
    return string_value(first.named_children[0]) == "use server"
