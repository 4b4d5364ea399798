"""Ownership checks inside a Next.js handler that an auth wrapper hands the caller to.

``withPartnerProfile(async ({ partner, params }) => { await
getProgramEnrollmentOrThrow({ partnerId: partner.id, programId }) ... })``: the wrapper
authenticates; the handler then fetches the record the URL names *for that caller* and
stops when there is none. That makes the route ``restricted`` (the caller reaches only what
is theirs), provided the called function really refuses: it is followed at link time to its
definition, which must ``throw`` (or call ``notFound()``), or it is Prisma's own
``findUniqueOrThrow`` / ``findFirstOrThrow``.

Extract time records, per handler, the calls whose arguments name both the identity the
wrapper passes in (a destructured parameter other than the request's own parts) and
something the request chose (a route parameter); link time decides with ``throwers``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from threatmodel.code.jsast import callee, dotted, line_of, nodes_of, unwrap, walk
from threatmodel.code.treesitter import node_text
from threatmodel.frameworks._js.reject import source_line

if TYPE_CHECKING:
    from tree_sitter import Node

# The parts of the request a wrapper hands a handler: not who the caller is.
_REQUEST_PARTS = frozenset(
    {"req", "request", "params", "searchParams", "body", "headers", "query", "ctx", "context"}
)
_CHOSEN_ROOTS = ("params", "searchParams", "query")
_PRISMA_THROWING = ("findUniqueOrThrow", "findFirstOrThrow")
_CALLS = frozenset({"call_expression"})
_DECLS = frozenset({"variable_declarator"})


def _names(pattern: Node) -> list[str]:
    out = []
    for p in pattern.named_children:
        if p.type == "shorthand_property_identifier_pattern":
            out.append(node_text(p))
        elif p.type == "pair_pattern" and (key := p.child_by_field_name("key")) is not None:
            out.append(node_text(key))
    return out


def _identity(fn: Node) -> set[str]:
    """Destructured parameters other than the request's parts (``{ partner, session }``)."""
    params = fn.child_by_field_name("parameters")
    if params is None:
        return set()
    out: set[str] = set()
    for p in walk(params):
        if p.type == "object_pattern" and p.parent is not None and p.parent.type != "pair_pattern":
            out |= {n for n in _names(p) if n not in _REQUEST_PARTS}
    return out


def _chosen(body: Node) -> set[str]:
    """Names destructured from the route's parameters (``const { programId } = params``)."""
    out: set[str] = set()
    for d in nodes_of(body, _DECLS):
        name, value = d.child_by_field_name("name"), unwrap(d.child_by_field_name("value"))
        if (
            name is not None
            and name.type == "object_pattern"
            and value is not None
            and dotted(value).split(".")[0] in _CHOSEN_ROOTS
        ):
            out |= set(_names(name))
    return out


def owned_calls(fn: Node) -> list[list[Any]]:
    """[[callee, line, quote]] of calls keyed by the caller's identity and a route choice."""
    identity = _identity(fn)
    body = fn.child_by_field_name("body")
    if not identity or body is None:
        return []
    chosen = _chosen(body)
    out: list[list[Any]] = []
    for call in nodes_of(body, _CALLS):
        name = callee(call)
        args = call.child_by_field_name("arguments")
        if not name or args is None:
            continue
        ids = [n for n in walk(args) if n.type in ("identifier", "shorthand_property_identifier")]
        mine = any(
            node_text(n) in identity
            and n.parent is not None
            and n.parent.type == "member_expression"
            for n in ids
        )
        picked = any(node_text(n) in chosen for n in ids) or any(
            n.type == "member_expression" and dotted(n).split(".")[0] in _CHOSEN_ROOTS
            for n in walk(args)
        )
        if mine and picked:
            out.append([name, line_of(call), source_line(call)])
    return out


def throws(fn: Node) -> bool:
    """Does the function refuse (``throw``, ``notFound()``) somewhere in its body?"""
    return any(
        n.type == "throw_statement"
        or (n.type == "call_expression" and callee(n) in ("notFound", "forbidden"))
        for n in walk(fn)
    )


def library_throws(name: str) -> bool:
    return name.rpartition(".")[2] in _PRISMA_THROWING
