"""Yes/no checks of the repository's own the JavaScript / TypeScript engine cannot read.

The JS side of one notion (``dataflow/checks.py``, ``decided_params``): a function that
answers only yes or no about its parameter (``isValidInternalRedirect({redirectPath,
currentUrl})``, ``isSafe(url)``) decides on it even when the engine has no rule for how
(here: comparing two parsed URLs' origins). A caller's ``if (isSafe(x)) redirect(x)`` marks
``x`` in the branch where the check held (``jsbind.guard``, a ``~pin`` mark); when the
function pins nothing the engine can read but ``decides`` on that argument (its summary), the
flow names it in ``Flow.unread_checks`` (``jsweak.annotate``): not proof, a reviewer reads
the check. A function answering anything else (a string, a row, a match) is no such check:
what callers test is then its value.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from threatmodel.code.jsast import unwrap
from threatmodel.code.treesitter import node_text
from threatmodel.dataflow.jsnodes import fn_params

if TYPE_CHECKING:
    from tree_sitter import Node

COMPARISONS = frozenset({"===", "!==", "==", "!=", "<", ">", "<=", ">=", "instanceof", "in"})
FUNCTIONS = frozenset(
    {"function_declaration", "function_expression", "arrow_function", "method_definition"}
    | {"function", "generator_function_declaration", "class_declaration"}
)
TESTS = frozenset({"if_statement", "while_statement", "ternary_expression", "switch_statement"})
MAX_NODES = 4000
# methods whose answer is a boolean, whatever they are called on
BOOLEAN_METHODS = frozenset({"startsWith", "endsWith", "includes", "has", "test", "some", "every"})
PREDICATE = re.compile(r"[A-Za-z_$][\w$]*\s+is\s+\S.*")
NAMES = frozenset(
    {"identifier", "shorthand_property_identifier", "shorthand_property_identifier_pattern"}
)


def decided_params(fn: Node) -> list[int]:
    """The parameters (by position) ``fn`` is a yes/no check of: it is declared to return
    ``boolean`` (``Promise<boolean>``), or every ``return`` gives a boolean (``true``,
    ``false``, a comparison, a negation, ``&&`` / ``||`` of those) and not always the same
    literal; and a return or a test reads the parameter (a name its pattern binds) or a
    local computed from it."""
    body = fn.child_by_field_name("body")
    if body is None:
        return []
    returns: list[Node | None] = []
    reads: list[Node] = []  # returns' values and tests: what the answer depends on
    binds: list[tuple[str, Node]] = []  # local name -> the value it was given
    todo = [body] if body.type == "statement_block" else []
    if body.type != "statement_block":
        returns.append(body)
    seen = 0
    while todo and seen < MAX_NODES:
        n = todo.pop()
        seen += 1
        if n.type in FUNCTIONS:
            continue
        if n.type == "return_statement":
            value = n.named_children[0] if n.named_children else None
            returns.append(value)
        elif n.type in TESTS:
            test = n.child_by_field_name("condition") or n.child_by_field_name("value")
            if test is not None:
                reads.append(test)
        elif n.type == "variable_declarator":
            name, value = n.child_by_field_name("name"), n.child_by_field_name("value")
            if name is not None and value is not None:
                binds += [(x, value) for x in _names(name)]
        todo += n.named_children
    if not returns or not _yes_no(fn, returns):
        return []
    reads += [r for r in returns if r is not None]
    out = []
    for i, p in enumerate(fn_params(fn)):
        target = p.child_by_field_name("pattern") if p.type.endswith("_parameter") else p
        names = _names(target if target is not None else p)
        # a local computed from the parameter carries it (``const u = new URL(p)``)
        for _ in range(4):
            grown = {x for x, value in binds if _names(value) & names} - names
            if not grown:
                break
            names |= grown
        if any(_names(r) & names for r in reads):
            out.append(i)
    return out


def _yes_no(fn: Node, returns: list[Node | None]) -> bool:
    kind = fn.child_by_field_name("return_type")
    if kind is not None:
        text = node_text(kind).lstrip(":").strip()
        # ``boolean``, ``Promise<boolean>``, a type predicate ``u is SafeUrl``
        return text.replace(" ", "") in ("boolean", "Promise<boolean>") or bool(
            PREDICATE.fullmatch(text)
        )
    literals = set()
    for r in returns:
        r = unwrap(r)
        if r is None or not _boolean(r):
            return False
        literals.add(r.type if r.type in ("true", "false") else "test")
    return literals != {"true"} and literals != {"false"}


def _boolean(node: Node) -> bool:
    """Is ``node`` a boolean by its form alone?"""
    node = unwrap(node) or node
    if node.type in ("true", "false"):
        return True
    if node.type == "unary_expression":
        return node_text(node).startswith("!")
    if node.type == "call_expression":
        fn = unwrap(node.child_by_field_name("function"))
        prop = fn.child_by_field_name("property") if fn is not None else None
        return (
            fn is not None
            and fn.type == "member_expression"
            and (prop is not None and node_text(prop) in BOOLEAN_METHODS)
        )
    if node.type == "binary_expression":
        op = node_text(node.child_by_field_name("operator") or node)
        if op in COMPARISONS:
            return True
        if op in ("&&", "||"):
            sides = (node.child_by_field_name("left"), node.child_by_field_name("right"))
            return all(s is not None and _boolean(s) for s in sides)
    return False


def _names(node: Node | None) -> set[str]:
    """The identifiers ``node`` reads or binds (a pattern's names, an expression's names)."""
    out: set[str] = set()
    todo = [node] if node is not None else []
    while todo and len(out) < 256:
        n = todo.pop()
        if n.type in NAMES:
            out.add(node_text(n))
        if n.type == "pair_pattern":
            value = n.child_by_field_name("value")
            todo += [value] if value is not None else []
            continue
        if n.type == "member_expression":
            obj = n.child_by_field_name("object")
            todo += [obj] if obj is not None else []
            continue
        todo += n.named_children
    return out
