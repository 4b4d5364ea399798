"""Who a JS GraphQL resolver, or a guard resolver before it, turns away.

A resolver receives ``(parent, args, context, info)``; the caller is in the context, named
(``ctx.user``, ``context.session``) or destructured (``{ me }``, ``{ me: { role } }``).
A function refuses an anonymous caller when a test of that identity leads to a ``throw``
(``if (!ctx.user) throw new GraphQLError(...)``) or, as graphql-resolvers' guards do, to
returning an error instead of ``skip`` (``me ? skip : new ForbiddenError(...)``). A test
that also names a role, or compares the caller with a record's owner
(``message.userId !== me.id``), makes it ``restricted``.

``combineResolvers(isAuthenticated, isOwner, resolver)`` (graphql-resolvers) runs each
guard first: the field takes the strongest of them, followed through imports at link time
(``refs``), as are guards built the same way (``isAdmin = combineResolvers(...)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from threatmodel.code.jsast import FUNCTION_TYPES, call_args, callee, line_of, unwrap, walk
from threatmodel.code.treesitter import node_text
from threatmodel.frameworks._js.reject import rejection, source_line

if TYPE_CHECKING:
    from tree_sitter import Node

IDENTITY = ("user", "currentuser", "session", "userid", "viewer", "me", "auth", "account")
ROLE = ("role", "admin", "permission", "isstaff", "scope")
_RANK = {"authenticated": 1, "restricted": 2}


def _context(fn: Node) -> tuple[str, set[str]]:
    """(the context's name, or the identity names destructured from it)."""
    ps = fn.child_by_field_name("parameters")
    third = ps.named_children[2] if ps is not None and len(ps.named_children) > 2 else None
    if third is not None and third.type.endswith("_parameter"):
        third = third.child_by_field_name("pattern")
    if third is not None and third.type == "assignment_pattern":
        third = third.child_by_field_name("left")
    if third is None:
        return "", set()
    if third.type == "identifier":
        return node_text(third), set()
    names: set[str] = set()
    for p in third.named_children if third.type == "object_pattern" else []:
        if p.type == "shorthand_property_identifier_pattern":
            if node_text(p).lower() in IDENTITY:
                names.add(node_text(p))
        elif (
            p.type == "pair_pattern"
            and (key := p.child_by_field_name("key")) is not None
            and node_text(key).lower() in IDENTITY
        ):
            value = p.child_by_field_name("value") or p
            names |= {
                node_text(n)
                for n in walk(value)
                if n.type in ("identifier", "shorthand_property_identifier_pattern")
            }
    return "", names


def mentions_caller(node: Node, ctx: str, names: set[str]) -> bool:
    for n in walk(node):
        if n.type == "identifier" and node_text(n) in names:
            return True
        if n.type == "member_expression" and ctx:
            parts = node_text(n).replace("?.", ".").split(".")
            if parts[0] == ctx and len(parts) > 1 and parts[1].lower() in IDENTITY:
                return True
    return False


def restricts(cond: Node, ctx: str, names: set[str]) -> bool:
    text = node_text(cond).lower()
    if any(w in text for w in ROLE) or any(n.lower() in ROLE for n in names if n in text):
        return True
    for n in walk(cond):  # message.userId !== me.id: the caller against a record's owner
        if n.type != "binary_expression":
            continue
        left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
        sides = [s for s in (left, right) if s is not None]
        mine = [s for s in sides if mentions_caller(s, ctx, names)]
        other = [s for s in sides if s not in mine and s.type == "member_expression"]
        if mine and other:
            return True
    return False


def _is_error(node: Node | None) -> bool:
    node = unwrap(node)
    if node is None or node.type != "new_expression":
        return False
    ctor = node.child_by_field_name("constructor")
    return ctor is not None and node_text(ctor).endswith("Error")


def guard_verdict(fn: Node) -> dict[str, Any] | None:
    """{"v", "why", "line", "s"} when the function refuses a caller without identity."""
    ctx, names = _context(fn)
    if not ctx and not names:
        return None
    for node in walk(fn):
        if node.type == "if_statement":
            cond = node.child_by_field_name("condition")
            then = node.child_by_field_name("consequence")
            found = rejection(then) if then is not None else None
        elif node.type == "ternary_expression":
            cond = node.child_by_field_name("condition")
            yes, no = (
                node.child_by_field_name("consequence"),
                node.child_by_field_name("alternative"),
            )
            found = no if _is_error(no) else yes if _is_error(yes) else None
        else:
            continue
        if cond is None or found is None or not mentions_caller(cond, ctx, names):
            continue
        if node.type == "if_statement" and not any(
            c in node_text(cond) for c in ("!", "null", "undefined")
        ):
            continue  # `if (ctx.user) throw`: refuses only signed-in callers
        return {
            "v": "restricted" if restricts(cond, ctx, names) else "authenticated",
            "why": f"refuses the caller on the test `{node_text(cond)[:80]}`",
            "line": line_of(found),
            "s": source_line(found),
        }
    return None


def refs(value: Node) -> list[list[Any]]:
    """What a guard or field value is made of: [["v", verdict]] for a function,
    [["ref", name]] for a name, and both for ``combineResolvers(a, b, fn)``'s arguments."""
    value = unwrap(value) or value
    if value.type in (*FUNCTION_TYPES, "method_definition"):
        v = guard_verdict(value)
        return [["v", v]] if v is not None else []
    if value.type == "identifier":
        return [["ref", node_text(value)]]
    if value.type == "call_expression" and callee(value).endswith("combineResolvers"):
        return [r for a in call_args(value) for r in refs(a)]
    return []


def strongest(verdicts: list[dict[str, Any]]) -> dict[str, Any] | None:
    best = None
    for v in verdicts:
        if best is None or _RANK.get(v["v"], 0) > _RANK.get(best["v"], 0):
            best = v
    return best
