"""NextAuth v5 (Auth.js) as a Next.js middleware: its ``authorized`` callback decides.

``export { auth as middleware } from "./auth"`` and ``export default auth((req) => ...)``
run the ``callbacks.authorized`` of the config handed to ``NextAuth({...})`` (often spread
from an ``authConfig`` object in another file) before anything else; a falsy return sends
the visitor to sign-in. With no such callback, ``auth`` refuses no one. This module gives,
per file, the programs (``nextjs_flow``) of the names that carry such a callback: the
names ``NextAuth(...)`` is destructured into (``auth``) and config objects (``authConfig``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from threatmodel.code.jsast import callee, nodes_of, object_props, unwrap
from threatmodel.code.treesitter import node_text
from threatmodel.frameworks.nextjs.flow import Program, compile_authorized

if TYPE_CHECKING:
    from tree_sitter import Node

_DECLS = frozenset({"variable_declarator"})
_FUNCTIONS = ("function_expression", "arrow_function", "function", "method_definition")


def authorized_program(obj: Node | None) -> Program | None:
    """The program of ``{ callbacks: { authorized } }``, or a call of the config spread in."""
    obj = unwrap(obj)
    if obj is None:
        return None
    if obj.type == "identifier":
        return [["call", node_text(obj)]]
    if obj.type != "object":
        return None
    callbacks = unwrap(object_props(obj).get("callbacks"))
    for member in callbacks.named_children if callbacks is not None else []:
        fn: Node | None
        if member.type == "method_definition":
            fn, key = member, member.child_by_field_name("name")
        elif member.type == "pair":
            fn, key = unwrap(member.child_by_field_name("value")), member.child_by_field_name("key")
        else:
            continue
        if (
            key is not None
            and node_text(key) == "authorized"
            and fn is not None
            and fn.type in _FUNCTIONS
        ):
            return compile_authorized(fn)
    for spread in (c for c in obj.named_children if c.type == "spread_element"):
        inner = spread.named_children[0] if spread.named_children else None
        if inner is not None and inner.type == "identifier":
            return [["call", node_text(inner)]]  # { ...authConfig, providers }
    return None


def nextauth_programs(root: Node) -> dict[str, Program]:
    out: dict[str, Program] = {}
    for d in nodes_of(root, _DECLS):
        name, value = d.child_by_field_name("name"), unwrap(d.child_by_field_name("value"))
        if name is None or value is None:
            continue
        if value.type in ("satisfies_expression", "as_expression"):
            value = unwrap(value.named_children[0]) if value.named_children else None
        if value is None:
            continue
        if value.type == "call_expression" and callee(value) == "NextAuth":
            args = value.child_by_field_name("arguments")
            first = args.named_children[0] if args is not None and args.named_children else None
            program = authorized_program(first)
            targets = (
                [p for p in name.named_children if node_text(p) == "auth"]
                if name.type == "object_pattern"
                else []
            )
            if program is not None and targets:
                out["auth"] = program
        elif (
            value.type == "object"
            and name.type == "identifier"
            and "callbacks" in object_props(value)
        ):
            program = authorized_program(value)
            if program is not None:
                out[node_text(name)] = program
    return out
