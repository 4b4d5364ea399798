"""What a Next.js handler refuses on of a helper's answer (see ``_js/report``).

``report_checks`` lists the calls a handler makes and the props of their answers it refuses
on (``if (error) return error()``, ``if (!auth) throw ...``), with the arguments it passed
(so that link time can tell a ``{ skipAuth: true }`` from the default), and the conditions
over such an answer it refuses on (``if (!(await canUpdateWebsite(auth, id))) return
unauthorized()``, ``if (auth.user.id !== userId && !auth.user.isAdmin) ...``). Link time
(``nextjs/link.reported``) joins them with the helpers' summaries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from threatmodel.code.jsast import body_of, call_args, callee, line_of, object_props, walk
from threatmodel.code.treesitter import node_text
from threatmodel.frameworks._js.handler import is_auth_lookup
from threatmodel.frameworks._js.reject import denies, leaving, refusing, source_line
from threatmodel.frameworks._js.report import own_nodes, refuses_here, unawait

if TYPE_CHECKING:
    from tree_sitter import Node

ROLE, ACCESS = 1, 2  # what a handler's test reads besides the caller
_ROLE_WORDS = ("role", "admin", "permission", "privilege", "superuser", "isstaff")
_IF = frozenset({"if_statement"})
_HANDLER = frozenset({"variable_declarator", "assignment_expression", "call_expression"})


def report_checks(fn: Node) -> list[list[Any]]:
    """Calls a handler refuses on the answer of: [[callee, prop, refuses when truthy,
    role, line, quote, args, the branch refuses (401/403, throw, redirect, or for a
    signed-out caller a 404 or an answer saying no) rather than only returns]]; args
    is, per argument, its props (an object literal) or its text. A call whose answer is
    never tested is listed with prop None, so that a helper that refuses by itself can
    still be recognised at link time. ``role`` is ROLE when the test reads a role, ACCESS
    when the handler hands that answer to a predicate and refuses when it says no (``if
    (!(await canUpdateWebsite(auth, websiteId))) return unauthorized()``)."""
    body = body_of(fn)
    if body is None:
        return []
    bound: dict[str, tuple[Node, str]] = {}  # local name -> (call, prop of its answer)
    plain: list[list[Any]] = []  # calls whose answer is not tested
    out: list[list[Any]] = []
    for n in own_nodes(body, _HANDLER):
        if n.type == "variable_declarator":
            value = unawait(n.child_by_field_name("value"))
            target = n.child_by_field_name("name")
            if value is None or target is None or value.type != "call_expression":
                continue
            if not callee(value) or is_auth_lookup(value):
                continue
            for local, prop in _destructured(target).items():
                bound[local] = (value, prop)
            if "." not in callee(value):
                plain.append(_check(value, None, False, 0, value, False))
        elif n.type == "call_expression" and _statement(n) and "." not in callee(n) and callee(n):
            plain.append(_check(n, None, False, 0, n, False))  # await requireCaller(req)
    for n in own_nodes(body, _IF) if bound else []:
        cond, then = n.child_by_field_name("condition"), n.child_by_field_name("consequence")
        if cond is None or then is None or not _ends(then):
            continue
        role = ROLE if any(w in node_text(cond).lower() for w in _ROLE_WORDS) else 0
        # not just `return`: an empty answer may be served as such (a public feed). Where
        # the answer is empty (no caller), a 404 or an answer saying no refuses too
        # (``reject.refusing``, as handler.py reads); a predicate's "no" needs a refusal
        refuses = refuses_here(then)
        refuses_anonymous = refuses or refusing(then) is not None
        tested = [(local, path, truthy) for local, path, truthy in _when(cond) if local in bound]
        if not tested and _shape_test(cond, bound) and denies(n):
            # `if (typeof pass === "string") return res.status(401)...`: a test of the
            # answer's shape whose branch answers 401/403 is the anonymous caller's
            local = next(iter(_shape_test(cond, bound)))
            tested = [(local, "", False)]
        for local, path, truthy in tested:
            call, prop = bound[local]
            full = ".".join(p for p in (prop, path) if p)
            out.append(
                _check(call, full, truthy, role, n, refuses or (not truthy and refuses_anonymous))
            )
        access = _access(cond, bound) if refuses and not tested else None
        if access is not None:
            call, prop = bound[access]
            out.append(_check(call, prop, False, ACCESS, n, True))
    return out[:30] + plain[:20]  # the tests first: a long handler makes many calls


def _shape_test(cond: Node, bound: dict[str, tuple[Node, str]]) -> set[str]:
    """The helper answers a condition tests without calling anything on them (``typeof``,
    a comparison): a predicate call over them is an access check (``_access``)."""
    if any(n.type == "call_expression" for n in walk(cond)):
        return set()
    return {node_text(n) for n in walk(cond) if n.type == "identifier" and node_text(n) in bound}


def _statement(call: Node) -> bool:
    """A call made for its effect: ``await f(x);`` as a statement of its own."""
    up = call.parent
    if up is not None and up.type == "await_expression":
        up = up.parent
    return up is not None and up.type == "expression_statement"


def _access(cond: Node, bound: dict[str, tuple[Node, str]]) -> str | None:
    """The local holding a helper's answer that a refused condition asks about beyond
    its being there: a predicate over it (``!(await canX(auth, id))``) or its fields
    (``auth.user.id !== userId && !auth.user.isAdmin``). Some signed-in callers are
    turned away: an access check."""
    for n in walk(cond):
        if n.type == "identifier" and node_text(n) in bound:
            return node_text(n)
    return None


def _check(
    call: Node, prop: str | None, truthy: bool, role: int, at: Node, refuses: bool
) -> list[Any]:
    args: list[Any] = []
    for a in call_args(call):
        props = object_props(a) if a.type == "object" else None
        args.append(
            {k: node_text(v)[:40] for k, v in props.items()}
            if props is not None
            else node_text(a)[:40]
        )
    return [callee(call), prop, truthy, role, line_of(at), source_line(at), args, refuses]


def _destructured(target: Node) -> dict[str, str]:
    """Local name -> the prop of the answer it holds ('' for the answer itself)."""
    if target.type == "identifier":
        return {node_text(target): ""}
    out: dict[str, str] = {}
    if target.type != "object_pattern":
        return out
    for p in target.named_children:
        if p.type == "shorthand_property_identifier_pattern":
            out[node_text(p)] = node_text(p)
        elif p.type == "pair_pattern":
            key, value = p.child_by_field_name("key"), p.child_by_field_name("value")
            if key is not None and value is not None and value.type == "identifier":
                out[node_text(value)] = node_text(key)
    return out


def _when(cond: Node | None) -> list[tuple[str, str, bool]]:
    """(local, prop path, truthy): the condition holds whenever that value has that
    truthiness. ``a || b`` holds when either does; ``a && b`` is left out (it needs both)."""
    cond = unawait(cond)
    if cond is None:
        return []
    if cond.type in ("identifier", "member_expression"):
        path = node_text(cond).replace("?.", ".").replace("!", "")
        local, _, rest = path.partition(".")
        return [(local, rest, True)]
    if cond.type == "unary_expression" and node_text(cond).startswith("!"):
        inner = unawait(cond.named_children[0] if cond.named_children else None)
        if inner is None or inner.type not in ("identifier", "member_expression"):
            return []  # !(a || b) needs both: not one value's truthiness
        return [(local, path, not truthy) for local, path, truthy in _when(inner)]
    if cond.type == "binary_expression":
        op = node_text(cond.child_by_field_name("operator") or cond)
        left, right = cond.child_by_field_name("left"), cond.child_by_field_name("right")
        if op == "||":
            return _when(left) + _when(right)
        if op in ("===", "==") and right is not None and node_text(right) in ("null", "undefined"):
            return [(local, path, False) for local, path, truthy in _when(left) if truthy]
    return []


def _ends(branch: Node) -> bool:
    """The branch ends the request: it refuses, returns or throws before the work."""
    return refuses_here(branch) or leaving(branch) is not None
