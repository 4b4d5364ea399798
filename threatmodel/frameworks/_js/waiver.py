"""A guard factory's option that waives its refusal: ``auth({ optional: true })``.

A middleware factory often takes options and returns the middleware; the same factory
guards one route and merely reads the caller on another, depending on a flag it is given.
When the refusal the guard verdict rests on stands only where an option of the factory is
false (``if (options.optional && ...) { ... } else { throw err }``, ``if (!opts.optional)
throw ...``, or after ``if (options.optional) return next()``), the verdict names that
option, and a registration that passes it as ``true`` guards nothing. A factory whose
middleware hands its options to the check it runs is marked too: a registration that
passes it a role (``auth({ role: Role.Admin })``) restricts the route to that role.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from threatmodel.code.jsast import call_args, nodes_of, object_props
from threatmodel.code.treesitter import node_text

if TYPE_CHECKING:
    from tree_sitter import Node


def waiving_option(reject: Node, fn: Node, options: list[str]) -> str | None:
    """The option of ``options`` (the factory's parameters) whose truth skips ``reject``."""
    node: Node | None = reject.parent
    child: Node = reject
    while node is not None and node != fn:
        if node.type == "if_statement":
            cond = node.child_by_field_name("condition")
            in_alt = _contains(node.child_by_field_name("alternative"), child)
            found = _option_in(cond, options) if cond is not None else None
            if found is not None:
                name, negated = found
                if in_alt != negated:  # else-branch of `opt &&`, then-branch of `!opt`
                    return name
        elif node.type == "statement_block":
            for sib in [c for c in node.named_children if c.end_byte <= child.start_byte]:
                early = _early_exit(sib, options)
                if early is not None:
                    return early
        child = node
        node = node.parent
    return None


def _contains(branch: Node | None, child: Node) -> bool:
    return branch is not None and branch.start_byte <= child.start_byte < branch.end_byte


def _option_in(cond: Node, options: list[str]) -> tuple[str, bool] | None:
    """``options.optional`` in a condition, and whether it stands negated there."""
    text = node_text(cond)
    for param in (p for p in options if p):
        m = re.search(rf"(!?)\s*\b{re.escape(param)}\??\.(\w+)\b", text)
        if m is not None:
            return m.group(2), bool(m.group(1))
    return None


def _early_exit(stmt: Node, options: list[str]) -> str | None:
    """``if (options.optional) return next();``: later code runs only when it is false."""
    if stmt.type != "if_statement":
        return None
    cond, then = stmt.child_by_field_name("condition"), stmt.child_by_field_name("consequence")
    found = _option_in(cond, options) if cond is not None else None
    if found is None or found[1] or then is None:
        return None
    text = node_text(then)
    return found[0] if "return" in text or "next" in text else None


def passed_options(call: Node) -> tuple[list[str], list[str]]:
    """The options a registration passes a guard factory: those given as literal ``true``
    (``auth({ optional: true })``) and every key (``auth({ role: Role.Admin })``)."""
    args = call_args(call)
    props = object_props(args[0]) if args and args[0].type == "object" else {}
    return sorted(k for k, v in props.items() if node_text(v) == "true"), sorted(props)


def forwards_options(fn: Node, options: list[str]) -> bool:
    """Does the middleware a factory returns read the factory's options (handing them to
    the check it runs, ``validateAuthentication(ctx, options)``)? Then what a registration
    passes there (a role) shapes the check."""
    names = {p for p in options if p}
    return bool(names) and any(
        n.type == "identifier" and node_text(n) in names for n in nodes_of(fn, _IDS)
    )


_IDS = frozenset({"identifier"})
