"""When a JavaScript catalog row's call is a sink, evaluated at the call (``SinkRow.when``).

``check`` answers with the dangerous value, ``None`` when the call is not a sink as written
(a Mongo filter of typed fields, ``res.send`` of an object: JSON), or a sentence when it is
safe as called (kept, so a claim there is refuted with that reason): a URL whose scheme and
host are fixed before any input, ``res.sendFile`` under a ``root``, an XML parse without
``noent``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from threatmodel.collect.jsast import dotted, object_props, string_value, unwrap
from threatmodel.collect.treesitter import node_text
from threatmodel.dataflow.frame import Frame
from threatmodel.dataflow.values import Value, tainted

if TYPE_CHECKING:
    from tree_sitter import Node

Eval = Callable[["Node | None", Frame], Value]
RESPONSES = frozenset({"res", "response", "resp", "reply"})
FIXED = re.compile(r"^(/(?![/\\])|[?#]|https?://[^/?#${}]+[/?#])")  # a path, or a fixed host
QUERY_SHAPES = frozenset({"where", "data", "include", "select", "attributes", "order"})


def check(
    when: str, values: list[Value], call: Node, args: list[Node], f: Frame, expr: Eval
) -> Value | str | None:
    if not values and when != "":
        return None
    value = values[0] if len(values) == 1 else tainted(*values)
    if not values:
        return None
    if when == "response":
        opts = object_props(unwrap(args[1])) if len(args) > 1 else {}
        if "root" in opts:
            return "the file is served under the root option, which refuses paths leaving it"
        return value
    if when == "html_response":
        obj = unwrap(_receiver(call))
        if obj is None or dotted(obj).split(".")[-1] not in RESPONSES:
            return None
        first = unwrap(args[0]) if args else None
        if first is None or first.type in ("object", "array"):
            return None  # an object is sent as JSON
        return value
    if when == "mongo_filter":
        return _mongo(value, args, f, expr)
    if when == "url_host":
        if not value.all_labels():
            return value  # a constant URL
        for node in args:
            if _fixed(node, f, expr):
                return "the URL's scheme and host are fixed before any input"
        return value
    if when == "noent":
        opts = object_props(unwrap(args[1])) if len(args) > 1 else {}
        if "noent" in opts and node_text(opts["noent"]) == "true":
            return value
        return "parsed without noent: external entities are not substituted"
    return value


def _receiver(call: Node) -> Node | None:
    fn = unwrap(call.child_by_field_name("function"))
    return fn.child_by_field_name("object") if fn is not None and fn.type == "member_expression" else None


def _parsed(value: Value) -> Value | None:
    """The request labels of ``value`` that may hold a parsed object: a JSON body's or a
    query string's field (``{"$ne": 1}``, ``?id[$ne]=1``), not a route parameter (a string)."""
    got = frozenset(
        x for x in value.labels if x.kind == "request" and "params" not in x.origin.split(".")
    )
    return Value(got) if got else None


def _mongo(value: Value, args: list[Node], f: Frame, expr: Eval) -> Value | None:
    for node in args:
        inner = unwrap(node)
        if inner is not None and inner.type == "object" and QUERY_SHAPES & object_props(inner).keys():
            return None  # Sequelize / Prisma: ``where`` holds typed values, not Mongo operators
    first = unwrap(args[0]) if args else None
    if first is None:
        return None
    if first.type != "object":
        # the whole filter is request data (``find(req.body)``): operators included. Only
        # a value read from the request here counts: a parameter may be any string
        return _parsed(value)
    direct: list[Value] = []
    for node in object_props(first).values():
        inner = unwrap(node)
        # a request field as parsed; a value built into a string is typed
        if inner is not None and inner.type in ("member_expression", "subscript_expression"):
            got = _parsed(expr(inner, f))
            if got is not None:
                direct.append(got)
    return tainted(*direct) if direct else None


def _fixed(node: Node, f: Frame, expr: Eval) -> bool:
    """Does the URL ``node`` builds start with a constant path or scheme + host?"""
    node = unwrap(node) or node
    while node.type == "binary_expression":
        left = node.child_by_field_name("left")
        if left is None:
            return False
        node = unwrap(left) or left
    if node.type == "template_string":
        text = node_text(node)[1:]
        if not text.startswith("${"):
            return bool(FIXED.match(text))
        subs = [c for c in node.named_children if c.type == "template_substitution"]
        head = expr(subs[0].named_children[0] if subs and subs[0].named_children else None, f)
        rest = text[text.find("}") + 1 :]
        # ``${API_BASE}/users/${id}``: a configured or constant base, then a path
        base = (head.known and not head.labels) or (
            bool(head.labels) and all(x.kind == "config" for x in head.labels)
        )
        return base and rest.startswith("/")
    text = string_value(node)
    if text is not None:
        return bool(FIXED.match(text))
    return False
