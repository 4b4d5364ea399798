"""What ends a request with a refusal, shared by the JS handler and gate analyses.

``rejection`` finds the statement in a branch that refuses the caller (401/403, a redirect,
``notFound()``, ``next(err)``, ``throw``); ``source_line`` quotes it for evidence.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from threatmodel.code.jsast import call_args, callee, nodes_of, walk
from threatmodel.code.treesitter import node_text

if TYPE_CHECKING:
    from tree_sitter import Node

# Where a signed-in caller's identity sits on the request: Express (passport, express-jwt,
# express-session) and Koa (koa-passport and koa-jwt set ctx.state.user, koa-session
# ctx.session).
REQUEST_AUTH = (
    "req.user",
    "req.session",
    "req.auth",
    "request.user",
    "request.auth",
    "ctx.state.user",
    "ctx.session",
)
_DENY = ("401", "403")
NOT_YOURS = (*_DENY, "404")  # a record the caller may not reach is often "not found"
# What an answer says when it refuses without a status in sight: an error object of the
# app's own making, or a refusal's words (``new AppError("unauthorized:chat").toResponse()``)
_SAYS_NO = re.compile(
    r"\bnew\s+\w*(Error|Exception)\b|unauthori[sz]ed|unauthenticated|forbidden"
    r"|not (logged|signed) in|log ?in required|access denied|permission denied",
    re.I,
)
_REJECT_CALLS = frozenset(
    {"redirect", "notFound", "unauthorized", "forbidden", "permanentRedirect", "rewrite"}
)
# The node types each pass reads (jsast.nodes_of): the others cannot change its answer.
_REJECTION_TYPES = frozenset(
    {"throw_statement", "call_expression", "pair", "assignment_expression"}
)


def names_in(pattern: Node) -> set[str]:
    return {
        node_text(n)
        for n in walk(pattern)
        if n.type in ("identifier", "shorthand_property_identifier_pattern")
    }


def rejection(branch: Node, deny: tuple[str, ...] = _DENY) -> Node | None:
    """The first statement in ``branch`` that ends the request with a refusal."""
    for node in nodes_of(branch, _REJECTION_TYPES):
        t = node.type
        if t == "throw_statement":
            return node
        if t == "call_expression":
            name = callee(node)
            last = name.rpartition(".")[2]
            args = call_args(node)
            if last in _REJECT_CALLS or (last == "throw" and name == "ctx.throw" and args):
                return node  # Koa's ctx.throw(401) raises the refusal
            status = last in ("status", "sendStatus", "writeHead") and bool(args)
            if (status and node_text(args[0]) in deny) or (last == "next" and args):
                return node
            if last == "protect":
                return node
        if t == "pair" and node_text(node.child_by_field_name("key") or node) == "redirect":
            return node  # getServerSideProps: return { redirect: { destination: '/login' } }
        if t in ("pair", "assignment_expression"):
            key = node.child_by_field_name("key" if t == "pair" else "left")
            value = node.child_by_field_name("value" if t == "pair" else "right")
            denied = value is not None and node_text(value) in deny
            if denied and key is not None and node_text(key).endswith("status"):
                return node
    return None


def leaving(branch: Node) -> Node | None:
    """The ``return`` or ``throw`` that ends ``branch`` (the statement itself, or one of its
    block's statements): nothing after the ``if`` runs on this way. Not a ``return`` that
    hands the request on (``return next()``, ``NextResponse.next()``): the work still runs."""
    if branch.type == "else_clause" and branch.named_children:
        branch = branch.named_children[0]
    for node in [branch] if branch.type != "statement_block" else branch.named_children:
        if node.type == "throw_statement":
            return node
        if node.type == "return_statement":
            value = node.named_children[0] if node.named_children else None
            if value is not None and value.type == "await_expression" and value.named_children:
                value = value.named_children[0]
            if _hands_on(value):
                return None
            return node
    return None


def refusing(branch: Node) -> Node | None:
    """How the branch a signed-out caller takes refuses: a refusal (``rejection``, a 404
    too: ``res.status(404).json({ response: "Token invalid." })`` hides the rest from one
    the server does not know), or a ``return`` that ends the handler with an answer saying
    no (an error object, a refusal's words). Not one serving something else (a public feed
    for signed-out visitors): that route serves anonymous callers. A 400 is the caller's
    input refused, not the caller."""
    found = rejection(branch, NOT_YOURS)
    if found is not None:
        return found
    node = leaving(branch)
    if node is not None and node.type == "return_statement" and _SAYS_NO.search(node_text(node)):
        return node
    return None


def _hands_on(value: Node | None) -> bool:
    """``next()`` / ``NextResponse.next()``: the request goes on to the work."""
    if value is None or value.type != "call_expression":
        return False
    return callee(value).rpartition(".")[2] == "next" and not call_args(value)


# Next.js's navigation functions end the render by throwing: the caller's code stops there.
_THROWING_CALLS = frozenset({"redirect", "permanentRedirect", "notFound", "unauthorized"})
_THROWING_CALLS |= {"forbidden"}


def stops_caller(branch: Node) -> bool:
    """The branch's refusal ends the code that called it too: a ``throw``, or a Next.js
    navigation call (which throws). ``res.status(401).json(...)`` then ``return null``
    answers the request but hands control back: a caller that goes on still runs."""
    found = rejection(branch)
    if found is None:
        return False
    if found.type == "throw_statement":
        return True
    return found.type == "call_expression" and callee(found).rpartition(".")[2] in _THROWING_CALLS


def denies(if_node: Node) -> bool:
    """The ``if``'s consequence answers 401 or 403 itself (``res.status(401)``): by the
    status's meaning, the branch a caller the server does not know takes. Said of a test
    whose shape tells nothing by itself (``typeof token === "string"``, a lookup that
    answers an error message in place of the caller)."""
    then = if_node.child_by_field_name("consequence")
    found = rejection(then) if then is not None else None
    return (
        found is not None
        and found.type == "call_expression"
        and callee(found).endswith(("status", "sendStatus", "writeHead"))
    )


def mentions(node: Node, names: set[str]) -> bool:
    return bool(names) and any(n.type == "identifier" and node_text(n) in names for n in walk(node))


def source_line(node: Node) -> str:
    """The whole stripped source line ``node`` starts on (for evidence quotes)."""
    root = node
    while root.parent is not None:
        root = root.parent
    lines = (root.text or b"").split(b"\n")
    row = node.start_point[0]
    return lines[row].decode("utf-8", "replace").strip()[:300] if row < len(lines) else ""
