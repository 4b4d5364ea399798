"""What an ``if`` test tells about a value in one of its branches, by the test's form
(JavaScript / TypeScript; ``jsbind.guard`` turns each into a guard).

``x === 'a'`` (``==``; ``!==`` on the other branch) leaves ``x`` equal to the literal where
it holds, whether ``x`` is a variable or a member expression of names
(``if (ctx.headers.host === 'example.com') ctx.redirect(`https://www.${ctx.headers.host}/`)``
redirects to one fixed host). A repository function called in a test checks the values it
is handed: an argument itself, or the fields of an object literal passed
(``isValidRedirect({path: req.query.next, base: req.url})``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from threatmodel.code.jsast import object_props, string_value, unwrap
from threatmodel.code.treesitter import node_text

if TYPE_CHECKING:
    from tree_sitter import Node

EQUALS = "="  # a guard's kind ``=a``: where the test holds the value is the string 'a'
SUBJECTS = frozenset({"identifier", "member_expression", "shorthand_property_identifier"})


def equality(cond: Node | None) -> tuple[Node, str, bool] | None:
    """(the tested value, the literal, whether they are equal where the test holds) of
    ``v === 'lit'`` / ``'lit' == v`` / ``v !== 'lit'``, ``v`` a name or a member expression."""
    if cond is None or cond.type != "binary_expression":
        return None
    op = node_text(cond.child_by_field_name("operator") or cond)
    if op not in ("===", "==", "!==", "!="):
        return None
    left, right = cond.child_by_field_name("left"), cond.child_by_field_name("right")
    for subject, other in ((left, right), (right, left)):
        subject = unwrap(subject)
        literal = string_value(unwrap(other) or other) if other is not None else None
        if subject is not None and subject.type in SUBJECTS and literal is not None:
            return subject, literal, op in ("===", "==")
    return None


def checked_values(arg: Node) -> list[Node]:
    """The values a call's argument hands a check: the argument, or an object literal's
    fields that are names or member expressions."""
    arg = unwrap(arg) or arg
    if arg.type in SUBJECTS:
        return [arg]
    if arg.type == "object":
        return [v for v in object_props(arg).values() if v.type in SUBJECTS]
    return []
