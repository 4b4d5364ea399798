"""Koa middleware, read the way Koa runs it: ``(ctx, next)``, errors thrown to refuse.

Koa's middleware takes the context and ``next`` (two parameters) and hands the request on by
calling ``next()``; everything before that call runs on the way in, everything after it (and
a ``catch`` around it) on the way out, once the route has already answered. It refuses a
request by throwing (``throw AuthenticationError()``, ``ctx.throw(401)``) or by setting
``ctx.status``, and throws for every other failure too: a missing parameter, a bad URL. So a
throw is a refusal of the caller only when what it throws says so (an authentication or
permission error, a 401/403, or the rethrow of an error a check raised), and a CSRF
check's refusal is no login: it refuses forged requests, whoever sends them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from threatmodel.code.jsast import FUNCTION_TYPES, call_args, callee, nodes_of
from threatmodel.code.treesitter import node_text

if TYPE_CHECKING:
    from tree_sitter import Node

_CALL = frozenset({"call_expression"})
_CALLER_REFUSED = re.compile(
    r"\b40[13]\b|auth|forbidden|permission|login|signin|sign_in|credential|suspended|"
    r"access\s*denied|not\s*allowed",
    re.IGNORECASE,
)
_CSRF = re.compile(r"csrf|xsrf", re.IGNORECASE)


def calls_next(fn: Node, nxt: str) -> bool:
    """Does the function hand the request on with ``next()`` (Koa's second parameter)?"""
    return bool(nxt) and any(callee(n) == nxt and not call_args(n) for n in nodes_of(fn, _CALL))


def refuses_caller(reject: Node, ctx: str) -> bool:
    """Is a Koa throw a refusal of who the caller is (not a validation error)?"""
    if reject.type == "throw_statement":
        thrown = reject.named_children[0] if reject.named_children else None
    elif reject.type == "call_expression" and callee(reject) == f"{ctx}.throw":
        args = call_args(reject)
        thrown = args[0] if args else None
    else:
        return True  # ctx.status = 401, ctx.redirect(...): the caller's rules already hold
    if thrown is None:
        return False
    if thrown.type == "identifier":
        return True  # a rethrow: the error of a check it called (judged by its words)
    text = node_text(thrown)[:200]
    return bool(_CALLER_REFUSED.search(text)) and not _CSRF.search(text)


def after_next(reject: Node, fn: Node, nxt: str) -> bool:
    """Does the refusal run only once ``next()`` has run: in the ``catch`` of a ``try``
    that begins with it, or after an ``await next()`` statement of the same block? Such code
    handles the route's own errors on the way out; it guards nothing."""
    if not nxt:
        return False
    node: Node | None = reject.parent
    child: Node = reject
    while node is not None and node != fn and node.type not in FUNCTION_TYPES:
        if node.type == "catch_clause" and node.parent is not None:
            # try { await next() } catch (err) { ... }: the errors of the route itself. A try
            # that checks something first (verify(token); next()) still refuses in its catch.
            body = node.parent.child_by_field_name("body")
            first = body.named_children[0] if body is not None and body.named_children else None
            if first is not None and _calls(first, nxt):
                return True
        if node.type == "statement_block":
            for sib in node.named_children:
                if sib.end_byte > child.start_byte:
                    break
                if sib.type == "expression_statement" and _calls(sib, nxt):
                    return True
        child = node
        node = node.parent
    return False


def _calls(node: Node, nxt: str) -> bool:
    return any(callee(n) == nxt and not call_args(n) for n in nodes_of(node, _CALL))
