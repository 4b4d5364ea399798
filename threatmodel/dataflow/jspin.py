"""Host pins: an exact test of a parsed URL's host against constants (JavaScript / TypeScript).

``const u = new URL(x); if (!HOSTS.has(u.hostname)) return`` (or ``u.host === 'a.com'``,
``['a.com'].includes(new URL(x).origin)``), HOSTS a constant collection, fixes the host ``x``
names: for the kinds whose danger is the host (``PINNED``) ``x`` is safe where the test holds.
A substring or suffix test (``.includes``/``.endsWith`` on the host) is no pin, nor is a set
built from request data. A repository function that returns such a test of its parameter
(``return p.protocol === 'https:' && HOSTS.has(p.hostname)``, ``false`` otherwise) says so in
its summary (``"pins": [i]``); a caller's ``if (!ok(x)) return`` marks ``x`` with a ``~pin``
name that ``jsweak.annotate`` resolves across files once every summary is known.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from threatmodel.code.jsast import call_args, string_value, unwrap
from threatmodel.code.treesitter import node_text
from threatmodel.dataflow.jsweak import PIN, PIN_KINDS, _elements

if TYPE_CHECKING:
    from tree_sitter import Node

PINNED = PIN_KINDS
__all__ = ["PIN", "PINNED", "pin_test", "pinned_params"]
HOST_FIELDS = frozenset({"hostname", "host", "origin"})
FUNCTIONS = frozenset(
    {"function_declaration", "function_expression", "arrow_function", "method_definition"}
    | {"function", "generator_function_declaration"}
)


def pin_test(node: Node | None) -> str | None:
    """The name whose URL's host ``node`` pins when it holds: ``SET.has(u.hostname)``,
    ``[...].includes(u.host)``, ``u.origin === 'https://a.com'``, ``u`` being ``new URL(x)``."""
    node = unwrap(node)
    if node is None:
        return None
    if node.type == "binary_expression":
        op = node_text(node.child_by_field_name("operator") or node)
        if op not in ("===", "=="):
            return None
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        for host, other in ((left, right), (right, left)):
            if other is not None and string_value(unwrap(other) or other) is not None:
                got = _host_of(host)
                if got is not None:
                    return got
        return None
    if node.type != "call_expression":
        return None
    fn = unwrap(node.child_by_field_name("function"))
    if fn is None or fn.type != "member_expression":
        return None
    prop = fn.child_by_field_name("property")
    if prop is None or node_text(prop) not in ("has", "includes"):
        return None
    args = call_args(node)
    if len(args) != 1 or not _elements(fn.child_by_field_name("object")):
        return None  # not a constant collection of strings
    return _host_of(args[0])


def _host_of(node: Node | None) -> str | None:
    """``x`` when ``node`` is ``u.hostname`` (``u = new URL(x)``) or ``new URL(x).host``."""
    node = unwrap(node)
    if node is None or node.type != "member_expression":
        return None
    prop = node.child_by_field_name("property")
    if prop is None or node_text(prop) not in HOST_FIELDS:
        return None
    obj = unwrap(node.child_by_field_name("object"))
    if obj is not None and obj.type == "identifier":
        obj = _bound(obj)
    return _url_arg(obj)


def _url_arg(node: Node | None) -> str | None:
    node = unwrap(node)
    if node is None or node.type != "new_expression":
        return None
    if node_text(node.child_by_field_name("constructor") or node) != "URL":
        return None
    args = node.child_by_field_name("arguments")
    first = unwrap(args.named_children[0]) if args is not None and args.named_children else None
    if first is None or args is None or first.type != "identifier" or len(args.named_children) > 1:
        return None  # ``new URL(path, base)``: the base decides the host
    return node_text(first)


def _bound(ident: Node) -> Node | None:
    """The value ``const <ident> = ...`` gives in the enclosing function (one binding only)."""
    name = node_text(ident)
    scope = ident.parent
    while scope is not None and scope.type not in FUNCTIONS and scope.parent is not None:
        scope = scope.parent
    if scope is None:
        return None
    found: list[Node] = []
    todo = [scope]
    seen = 0
    while todo and seen < 4000:
        n = todo.pop()
        seen += 1
        if n.type == "variable_declarator":
            target = n.child_by_field_name("name")
            if target is not None and node_text(target) == name:
                value = n.child_by_field_name("value")
                if value is None:
                    return None
                found.append(value)
        elif n.type == "assignment_expression":
            left = n.child_by_field_name("left")
            if left is not None and node_text(left) == name:
                return None  # reassigned: not known
        todo += n.named_children
    return found[0] if len(found) == 1 else None


def pinned_params(fn: Node, names: list[str]) -> list[int]:
    """The parameters whose host ``fn`` pins: every ``return`` is ``false`` or an ``&&``
    chain with a pin test of that parameter."""
    body = fn.child_by_field_name("body")
    if body is None:
        return []
    returns: list[Node | None] = []
    if body.type != "statement_block":
        returns.append(body)
    else:
        todo = list(body.named_children)
        while todo:
            n = todo.pop()
            if n.type in FUNCTIONS or n.type == "class_declaration":
                continue
            if n.type == "return_statement":
                returns.append(n.named_children[0] if n.named_children else None)
                continue
            todo += n.named_children
    pinned: set[str] | None = None
    for r in returns:
        r = unwrap(r)
        if r is None:
            return []
        if r.type == "false":
            continue
        got = {x for x in (pin_test(c) for c in _conjuncts(r)) if x is not None}
        pinned = got if pinned is None else pinned & got
    return [i for i, n in enumerate(names) if pinned and n in pinned]


def _conjuncts(node: Node) -> list[Node]:
    node = unwrap(node) or node
    if (
        node.type == "binary_expression"
        and node_text(node.child_by_field_name("operator") or node) == "&&"
    ):
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        return [
            *(_conjuncts(left) if left is not None else []),
            *(_conjuncts(right) if right is not None else []),
        ]
    return [node]
