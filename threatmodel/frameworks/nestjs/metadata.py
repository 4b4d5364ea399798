"""NestJS route metadata: what decorators set and what a guard reads back (routes.py).

A guard learns about a route only through metadata: ``SetMetadata(key, value)`` (or a
decorator made with ``Reflector.createDecorator()``, its own key) sets it on the handler or
the controller, and the guard's ``canActivate`` reads it with ``reflector.get(key,
context.getHandler())`` (the handler only), ``getClass()`` (the controller only) or
``getAllAndOverride(key, [handler, class])`` (both). Two readings decide who the guard
stops:

- ``if (!roles) return true``: the guard lets every route through unless the key is set:
  it guards only the routes that carry it (``needs``);
- ``if (isPublic) return true``: the key lifts it (``skip``), the ``@Public()`` idiom.

Decorators are often composed: ``applyDecorators(UseGuards(AuthGuard), ApiBearerAuth())``,
``const Public = () => SetMetadata(IS_PUBLIC_KEY, true)``. ``composed()`` reads such a
factory into the guards, keys and other decorators it applies, so a route decorated with
it gets them. A key is ``s:<text>`` for a string and ``i:<name>`` for a name, which link
resolves through the module constants (``const IS_PUBLIC_KEY = 'isPublic'``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from threatmodel.code.jsast import call_args, callee, nodes_of, string_value, unwrap
from threatmodel.code.treesitter import node_text
from threatmodel.frameworks._js.guard import strategy_names

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tree_sitter import Node

_READS = (".get", ".getAllAndOverride", ".getAllAndMerge")
_IFS = frozenset({"if_statement"})
_DECLS = frozenset({"variable_declarator"})
_CALLS = frozenset({"call_expression"})
_FACTORIES = frozenset({"arrow_function", "function_expression"})
BOTH = ("handler", "class")
_LEVELS = (("handler", "getHandler"), ("class", "getClass"))


def key_of(node: Node | None) -> str | None:
    """``s:isPublic`` for ``'isPublic'``, ``i:IS_PUBLIC_KEY`` for a name (or ``Roles``)."""
    if node is None:
        return None
    value = string_value(node)
    if value is not None:
        return "s:" + value
    if node.type in ("identifier", "member_expression"):
        return "i:" + node_text(node)
    return None


def resolve(key: str, consts: Mapping[str, str]) -> str:
    """A name's key as the string it holds, when a module constant says so."""
    if key.startswith("i:") and key[2:] in consts:
        return "s:" + consts[key[2:]]
    return key


def _reflector_read(node: Node | None) -> tuple[str, list[str]] | None:
    """``this.reflector.get(KEY, context.getHandler())``: the key and the levels it reads."""
    node = unwrap(node)
    if node is not None and node.type == "await_expression" and node.named_children:
        node = unwrap(node.named_children[0])
    if node is None or node.type != "call_expression":
        return None
    name = callee(node)
    if not name.endswith(_READS) or "reflector" not in name.lower():
        return None
    args = call_args(node)
    key = key_of(args[0]) if args else None
    if key is None:
        return None
    where = node_text(args[1]) if len(args) > 1 else ""
    levels = [
        lvl for lvl, word in (("handler", "getHandler"), ("class", "getClass")) if word in where
    ]
    return key, levels or list(BOTH)


def guard_reads(method: Node) -> dict[str, list[list[Any]]]:
    """What ``canActivate`` lets through on metadata alone: ``{"needs": [[key, levels]],
    "skip": [[key, levels]]}`` (empty lists when it reads none)."""
    held: dict[str, tuple[str, list[str]]] = {}
    for decl in nodes_of(method, _DECLS):
        name = decl.child_by_field_name("name")
        read = _reflector_read(decl.child_by_field_name("value"))
        if name is not None and read is not None:
            held[node_text(name)] = read
    out: dict[str, list[list[Any]]] = {"needs": [], "skip": []}
    for stmt in nodes_of(method, _IFS):
        if not _returns_true(stmt.child_by_field_name("consequence")):
            continue
        for negated, operand in _disjuncts(stmt.child_by_field_name("condition")):
            if operand.type == "member_expression" and node_text(
                operand.child_by_field_name("property") or operand
            ) in ("length", "size"):
                operand = unwrap(operand.child_by_field_name("object")) or operand  # !roles?.length
            read = held.get(node_text(operand)) if operand.type == "identifier" else None
            read = read or _reflector_read(operand)
            if read is not None:
                out["needs" if negated else "skip"].append([read[0], read[1]])
    return out


def _returns_true(node: Node | None) -> bool:
    """``return true`` alone, or a block holding only that."""
    if node is None:
        return False
    if node.type == "statement_block":
        kids = [c for c in node.named_children if c.type != "comment"]
        return len(kids) == 1 and _returns_true(kids[0])
    if node.type == "return_statement":
        value = node.named_children[0] if node.named_children else None
        return value is not None and value.type == "true"
    return False


def _disjuncts(cond: Node | None) -> list[tuple[bool, Node]]:
    """``!a || b`` -> [(True, a), (False, b)]: each operand whose truth alone lets through."""
    node = unwrap(cond)
    if node is None:
        return []
    if node.type == "binary_expression":
        op = node.child_by_field_name("operator")
        if op is not None and node_text(op) == "||":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            return _disjuncts(left) + _disjuncts(right)
        return []
    if node.type == "unary_expression" and node_text(node).startswith("!"):
        inner = unwrap(node.child_by_field_name("argument"))
        return [(True, inner)] if inner is not None else []
    return [(False, node)]


def factory_body(value: Node | None) -> Node | None:
    """The expression an arrow function or function returns, when it is one call."""
    value = unwrap(value)
    if value is None or value.type not in _FACTORIES:
        return None
    body = value.child_by_field_name("body")
    return _returned(body)


def _returned(body: Node | None) -> Node | None:
    body = unwrap(body)
    if body is None:
        return None
    if body.type == "statement_block":
        rets = [c for c in body.named_children if c.type == "return_statement"]
        if len(rets) != 1 or not rets[0].named_children:
            return None
        return unwrap(rets[0].named_children[0])
    return body


def composed(expr: Node | None, name: str) -> list[list[str]] | None:
    """What a decorator factory's returned call applies: ``[["guard", G], ["meta", key],
    ["deco", D]]``; None when it is not a decorator (no applyDecorators / SetMetadata /
    UseGuards / createDecorator)."""
    if expr is None or expr.type != "call_expression":
        return None
    fn = callee(expr)
    if fn.endswith("createDecorator"):  # Reflector.createDecorator(): the decorator is its key
        return [["meta", "i:" + name]]
    if fn == "SetMetadata":
        key = key_of(call_args(expr)[0]) if call_args(expr) else None
        return [["meta", key]] if key else None
    if fn == "UseGuards":
        return [["guard", g] for g in guard_names(call_args(expr))]
    if fn != "applyDecorators":
        return None
    out: list[list[str]] = []
    for arg in call_args(expr):
        inner = unwrap(arg)
        if inner is None or inner.type != "call_expression":
            continue
        got = composed(inner, name)
        out += got if got is not None else [["deco", callee(inner)]]
    return out


def guard_names(args: list[Node]) -> list[str]:
    """``UseGuards(AuthGuard('jwt'), RolesGuard, new KeyGuard())`` -> the guards' names."""
    names = []
    for a in args:
        if a.type == "call_expression":  # AuthGuard('jwt'), AuthGuard(['jwt', 'api-key'])
            strategies = strategy_names(call_args(a)[0]) if call_args(a) else []
            names.append(f"{callee(a)}({','.join(strategies)})")
        elif a.type == "new_expression":
            names.append(node_text(a.child_by_field_name("constructor") or a))
        else:
            names.append(node_text(a))
    return names


def decorator_factories(root: Node) -> tuple[dict[str, list[list[str]]], dict[str, str]]:
    """A file's decorator factories (name -> what they apply) and its string constants."""
    factories: dict[str, list[list[str]]] = {}
    consts: dict[str, str] = {}
    for node in root.named_children:
        decl = (
            node.named_children[0]
            if node.type == "export_statement" and node.named_children
            else node
        )
        if decl.type == "function_declaration":
            name = node_text(decl.child_by_field_name("name") or decl)
            got = composed(_returned(decl.child_by_field_name("body")), name)
            if got is not None:
                factories[name] = got
        elif decl.type == "lexical_declaration":
            for d in decl.named_children:
                if d.type != "variable_declarator":
                    continue
                name = node_text(d.child_by_field_name("name") or d)
                value = unwrap(d.child_by_field_name("value"))
                text = string_value(value) if value is not None else None
                if text is not None:
                    consts[name] = text
                    continue
                body = factory_body(value)
                got = composed(body if body is not None else value, name)
                if got is not None:
                    factories[name] = got
    return factories, consts
