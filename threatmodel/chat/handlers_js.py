"""The JavaScript/TypeScript half of handlers.py: a route's handler function, parsed with
tree-sitter, and the tables it writes or reads (SQL strings, query-builder chains, ORM calls).

Kept apart from the Python half so each stays small; the patterns are the same and are
documented in handlers.py.
"""

from __future__ import annotations

import tree_sitter

from threatmodel.chat.handlers import (
    FUNCTION_NODES,
    READ_METHODS,
    SOURCE_METHODS,
    Access,
    HandlerCode,
    dedupe,
    is_write,
    short,
    sql_accesses,
)
from threatmodel.code.treesitter import node_text, parse_js


def js_handler(path: str, text: str, line: int, lang: str) -> HandlerCode | None:
    tree = parse_js(text, lang)
    node = _js_function_at(tree.root_node, line)
    if node is None:
        return None
    accesses: list[Access] = []
    stack = [node]
    while stack:
        cur = stack.pop()
        stack.extend(cur.children)
        row = cur.start_point[0] + 1
        if cur.type in ("string", "template_string"):
            sql = "".join(
                " x " if c.type == "template_substitution" else node_text(c)
                for c in cur.children
                if c.type not in ('"', "'", "`")
            )
            accesses += [Access(t, w, row, f"SQL {v}") for t, w, v in sql_accesses(sql)]
        elif cur.type == "call_expression":
            accesses += _js_call(cur, row)
    end = node.end_point[0] + 1
    wrappers: tuple[tuple[str, int], ...] = ()
    args = node.parent
    if args is not None and args.type == "arguments" and len(args.named_children) > 2:
        wrappers = tuple(  # router.get(path, requireUser, handler): the middle arguments
            (short(node_text(a)), a.start_point[0] + 1) for a in args.named_children[1:-1]
        )
    return HandlerCode(path, node.start_point[0] + 1, end, dedupe(accesses), wrappers)


def _js_function_at(root: tree_sitter.Node, line: int) -> tree_sitter.Node | None:
    """The function whose text holds ``line``; for `app.get(path, fn)` on that line, fn."""
    best: tree_sitter.Node | None = None
    stack = [root]
    while stack:
        cur = stack.pop()
        first, last = cur.start_point[0] + 1, cur.end_point[0] + 1
        if not first <= line <= last:
            continue
        if cur.type in FUNCTION_NODES:
            best = cur
        stack.extend(cur.children)
    if best is not None:
        return best
    for cur in _iter(root):  # the route call sits on the line and passes a function later
        if cur.type == "call_expression" and cur.start_point[0] + 1 == line:
            args = cur.child_by_field_name("arguments")
            fns = [a for a in (args.named_children if args else []) if a.type in FUNCTION_NODES]
            if fns:
                return fns[-1]
    return None


def _iter(root: tree_sitter.Node) -> list[tree_sitter.Node]:
    out, stack = [], [root]
    while stack:
        cur = stack.pop()
        out.append(cur)
        stack.extend(cur.children)
    return out


def _js_call(call: tree_sitter.Node, row: int) -> list[Access]:
    func = call.child_by_field_name("function")
    if func is None or func.type != "member_expression":
        return []
    prop = func.child_by_field_name("property")
    method = node_text(prop) if prop is not None else ""
    write = is_write(method)
    if not write and method not in READ_METHODS:
        return []
    receiver = func.child_by_field_name("object")
    while receiver is not None:
        if receiver.type == "call_expression":
            inner = receiver.child_by_field_name("function")
            args = receiver.child_by_field_name("arguments")
            first = args.named_children[0] if args and args.named_children else None
            name = _js_string(first)
            inner_prop = inner.child_by_field_name("property") if inner else None
            if name and (
                (inner_prop is not None and node_text(inner_prop) in SOURCE_METHODS)
                or (inner is not None and inner.type == "identifier")  # knex("orders")
            ):
                return [Access(name, write, row, f"{method}()")]
            receiver = inner
        elif receiver.type == "member_expression":
            obj = receiver.child_by_field_name("object")
            rprop = receiver.child_by_field_name("property")
            if obj is not None and node_text(obj) == "prisma" and rprop is not None:
                return [Access(node_text(rprop), write, row, f"prisma {method}")]
            receiver = obj
        elif receiver.type == "identifier":
            ident = node_text(receiver)
            if receiver == func.child_by_field_name("object") and ident[:1].isupper():
                return [Access(ident, write, row, f"orm {method}")]  # Order.create(...)
            return []
        else:
            return []
    return []


def _js_string(node: tree_sitter.Node | None) -> str | None:
    if node is None or node.type != "string":
        return None
    return "".join(node_text(c) for c in node.children if c.type == "string_fragment") or None
