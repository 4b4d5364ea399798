"""Auth checks a handler delegates to a repository helper that *reports* the caller.

Many apps read the caller in one helper every handler calls, and the handler refuses on
what it answers::

    const { auth, body, error } = await parseRequest(request, schema);
    if (error) return error();

where ``parseRequest`` calls ``checkAuth(request)`` and, when that comes back empty, sets
``error = () => unauthorized()`` (unless called with ``{ skipAuth: true }``). Neither side
decides alone, and the helper and the lookup usually sit in other files, so each function
gets a small summary here at extract time and the link step joins them (depth 2 at most:
handler -> helper -> lookup, repository functions only):

- ``lookup_functions``: functions that read a credential (an auth lookup call, or a
  function of the same file that makes one) and answer nothing (``return null``, a bare
  ``return``, ``false``) or throw on some path: ``checkAuth`` is one by what it does.
- ``reporter``: a function that calls some function, and when the result is empty
  rejects, or marks a variable it returns (``error``), or returns nothing. Its summary
  names the props of its answer that are truthy (``error``) or falsy (``auth``) for an
  anonymous caller, and the option parameters that skip the check (``options.skipAuth``).
- ``report_checks``: the calls a handler makes and the props of their answers it refuses
  on (``if (error) return ...``, ``if (!auth) throw ...``), with the arguments it passed.

A handler that never tests the report, or passes the option that skips the check, is not
guarded by it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from threatmodel.code.jsast import (
    FUNCTION_TYPES,
    body_of,
    call_args,
    callee,
    dotted,
    line_of,
    object_props,
    walk_shallow,
)
from threatmodel.code.treesitter import node_text
from threatmodel.frameworks._js.handler import anonymous, is_auth_lookup
from threatmodel.frameworks._js.reject import names_in, rejection, source_line

if TYPE_CHECKING:
    from tree_sitter import Node

_FALSY = frozenset({"null", "undefined", "false", "0", '""', "''"})
ROLE, ACCESS = 1, 2  # what a handler's test reads besides the caller (report_checks)
_ROLE_WORDS = ("role", "admin", "permission", "privilege", "superuser", "isstaff")


def _calls(body: Node) -> list[Node]:
    return [n for n in walk_shallow(body) if n.type == "call_expression"]


def lookup_functions(functions: dict[str, Node]) -> set[str]:
    """Functions of one file that look the caller up and answer nothing when there is none.

    A function reads a credential when it calls an auth lookup or a function of the same
    file that does (``checkAuth`` -> ``getBearerToken`` -> ``headers.get('authorization')``);
    it is a lookup when, besides, some path returns an empty value or throws."""
    readers: set[str] = set()
    for _ in range(3):  # a fixed point over the file's own call chains, depth 3 at most
        grown = {
            name
            for name, fn in functions.items()
            if name not in readers and _reads_credential(fn, readers)
        }
        if not grown:
            break
        readers |= grown
    return {name for name in readers if _answers_empty(functions[name])}


def _reads_credential(fn: Node, readers: set[str]) -> bool:
    body = body_of(fn)
    return body is not None and any(is_auth_lookup(c) or callee(c) in readers for c in _calls(body))


def _answers_empty(fn: Node) -> bool:
    body = body_of(fn)
    for n in walk_shallow(body) if body is not None else []:
        if n.type == "throw_statement":
            return True
        if n.type == "return_statement":
            value = n.named_children[0] if n.named_children else None
            if value is None or node_text(value) in _FALSY:
                return True
    return False


def reporters(fn: Node) -> list[dict[str, Any]]:
    """Summaries of the ways a function reports an empty answer of a call to its caller.

    Each is {"lookup": callee, "known": the callee is an auth lookup by itself, "rejects":
    it refuses itself, "truthy"/"falsy": props of its answer for an anonymous caller (""
    is the answer itself), "skip": [[param index, prop, negated], ...], "line", "s"}.
    ``lookup`` is resolved at link time: a summary whose callee is no lookup (a schema
    check reported the same way) says nothing."""
    body = body_of(fn)
    if body is None:
        return []
    results: dict[str, Node] = {}  # variable -> the call whose answer it holds
    for n in walk_shallow(body):
        name, value = _binding(n)
        if name is not None and value is not None and value.type == "call_expression":
            results[name] = value
    out: list[dict[str, Any]] = []
    for n in walk_shallow(body) if results else []:
        if n.type != "if_statement":
            continue
        cond = n.child_by_field_name("condition")
        for var, call in results.items():
            taken = anonymous(cond, {var})
            if taken is None or call.start_byte > n.start_byte:
                continue
            branch = n.child_by_field_name("consequence" if taken else "alternative")
            summary = _report(body, branch, var, call) if branch is not None else None
            if summary is not None and all(s["lookup"] != summary["lookup"] for s in out):
                summary["skip"] = _skips(fn, body, [call, n], cond)
                summary["line"], summary["s"] = line_of(n), source_line(n)
                out.append(summary)
    return out[:4]


def _binding(n: Node) -> tuple[str | None, Node | None]:
    """``name = await call()`` (declaration or assignment): (name, the unwrapped value)."""
    if n.type == "variable_declarator":
        target, value = n.child_by_field_name("name"), n.child_by_field_name("value")
    elif n.type == "assignment_expression":
        target, value = n.child_by_field_name("left"), n.child_by_field_name("right")
    else:
        return None, None
    if target is None or target.type != "identifier" or value is None:
        return None, None
    while value is not None and value.type in ("await_expression", "parenthesized_expression"):
        value = value.named_children[0] if value.named_children else None
    return node_text(target), value


def _report(body: Node, branch: Node, var: str, call: Node) -> dict[str, Any] | None:
    """What the anonymous branch does: refuse, flag a variable, or return nothing."""
    truthy: set[str] = set()
    rejects = _refuses(branch)
    for n in walk_shallow(branch):
        name, value = _binding(n)
        if n.type == "assignment_expression" and name and value and node_text(value) not in _FALSY:
            truthy.add(name)  # error = () => unauthorized()
        if n.type == "return_statement":
            value = n.named_children[0] if n.named_children else None
            if value is None or node_text(value) in _FALSY:
                return _summary(call, rejects, set(), {""})  # return null
            for key, v in object_props(value).items():
                if node_text(v) not in _FALSY:
                    return _summary(call, rejects, {key}, set())  # return { error: ... }
    props_t, props_f = _returned(body, truthy, {var} - truthy)
    if not (props_t or props_f or rejects):
        return None
    return _summary(call, rejects, props_t, props_f)


def _refuses(branch: Node) -> bool:
    """The branch itself refuses: ``error = () => unauthorized()`` only makes a refusal
    for the caller to return (code in a nested function does not run here)."""
    found = rejection(branch)
    cur = found.parent if found is not None else None
    while cur is not None and cur != branch:
        if cur.type in FUNCTION_TYPES:
            return False
        cur = cur.parent
    return found is not None


def _summary(call: Node, rejects: bool, truthy: set[str], falsy: set[str]) -> dict[str, Any]:
    return {
        "lookup": callee(call),
        "known": is_auth_lookup(call),
        "rejects": rejects,
        "truthy": sorted(truthy),
        "falsy": sorted(falsy),
    }


def _returned(body: Node, truthy: set[str], falsy: set[str]) -> tuple[set[str], set[str]]:
    """The props of the function's answer that carry the flagged variables."""
    props_t: set[str] = set()
    props_f: set[str] = set()
    for n in walk_shallow(body):
        if n.type != "return_statement" or not n.named_children:
            continue
        value = n.named_children[0]
        if value.type == "identifier":
            name = node_text(value)
            if name in falsy:
                props_f.add("")
            continue
        for key, v in object_props(value).items():
            name = node_text(v)
            if name in truthy:
                props_t.add(key)
            elif name in falsy:
                props_f.add(key)
    return props_t, props_f


def _skips(fn: Node, body: Node, inside: list[Node], cond: Node | None) -> list[list[Any]]:
    """Option parameters the check depends on: ``if (!options?.skipAuth) { ...lookup... }``
    skips it when the caller passes ``skipAuth`` truthy; ``if (!user && !opts.optional)``
    too. [[param index, prop ('' for the parameter itself), skipped when truthy]]."""
    names = _param_names(fn)
    conds = [cond] if cond is not None else []
    for node in inside:
        cur = node.parent
        while cur is not None and cur != body:
            if cur.type == "if_statement":
                c = cur.child_by_field_name("condition")
                if c is not None and c not in conds:
                    conds.append(c)
            cur = cur.parent
    out: list[list[Any]] = []
    for c in conds:
        for n in walk_shallow(c):
            if n.type not in ("identifier", "member_expression"):
                continue
            if n.parent is not None and n.parent.type == "member_expression":
                continue  # the outermost chain only
            path = dotted(n).replace("?.", ".")
            if not path and n.type == "member_expression":
                path = node_text(n).replace("?.", ".")
            root, _, prop = path.partition(".")
            if root not in names:
                continue
            index, field = names[root]
            negated = n.parent is not None and node_text(n.parent).startswith("!")
            entry = [index, field or prop.partition(".")[0], negated]
            if entry not in out:
                out.append(entry)
    return out


def _param_names(fn: Node) -> dict[str, tuple[int, str]]:
    """Parameter name -> (index, prop): ``(req, { skipAuth })`` gives skipAuth -> (1, ...)."""
    ps = fn.child_by_field_name("parameters")
    out: dict[str, tuple[int, str]] = {}
    for i, p in enumerate(ps.named_children if ps is not None else []):
        target = p.child_by_field_name("pattern") if p.type.endswith("_parameter") else p
        if target is not None and target.type == "assignment_pattern":
            target = target.child_by_field_name("left")
        if target is None:
            continue
        if target.type == "identifier":
            out[node_text(target)] = (i, "")
        else:
            for name in names_in(target):
                out[name] = (i, name)
    return out


def report_checks(fn: Node) -> list[list[Any]]:
    """Calls a handler refuses on the answer of: [[callee, prop, refuses when truthy,
    role, line, quote, args, the branch refuses (401/403, throw, redirect) rather than
    only returns]]; args is, per argument, its props (an object literal) or
    its text. A call whose answer is never tested is listed with prop None, so that a
    helper that refuses by itself can still be recognised at link time. ``role`` is
    ROLE when the test reads a role, ACCESS when the handler hands that answer to a
    predicate and refuses with 401/403 when it says no (``if (!(await
    canUpdateWebsite(auth, websiteId))) return unauthorized()``)."""
    body = body_of(fn)
    if body is None:
        return []
    bound: dict[str, tuple[Node, str]] = {}  # local name -> (call, prop of its answer)
    out: list[list[Any]] = []
    for n in walk_shallow(body):
        if n.type == "variable_declarator":
            value = n.child_by_field_name("value")
            while value is not None and value.type in (
                "await_expression",
                "parenthesized_expression",
            ):
                value = value.named_children[0] if value.named_children else None
            target = n.child_by_field_name("name")
            if value is None or target is None or value.type != "call_expression":
                continue
            if not callee(value) or is_auth_lookup(value):
                continue
            for local, prop in _destructured(target).items():
                bound[local] = (value, prop)
            if "." not in callee(value):
                out.append(_check(value, None, False, 0, value, False))
        elif n.type == "expression_statement" and n.named_children:
            call = n.named_children[0]
            if call.type == "await_expression" and call.named_children:
                call = call.named_children[0]
            if call.type == "call_expression" and "." not in callee(call) and callee(call):
                out.append(_check(call, None, False, 0, call, False))
    for n in walk_shallow(body):
        if n.type != "if_statement" or not bound:
            continue
        cond, then = n.child_by_field_name("condition"), n.child_by_field_name("consequence")
        if cond is None or then is None or not _ends(then):
            continue
        access = _access(cond, bound) if _refuses(then) else None
        if access is not None:
            call, prop = bound[access]
            out.append(_check(call, prop, False, ACCESS, n, True))
            continue
        role = ROLE if any(w in node_text(cond).lower() for w in _ROLE_WORDS) else 0
        refuses = _refuses(then)  # not just `return`: an empty answer may be served as such
        for local, path, truthy in _when(cond):
            if local in bound:
                call, prop = bound[local]
                full = ".".join(p for p in (prop, path) if p)
                out.append(_check(call, full, truthy, role, n, refuses))
    return out[:40]


def _access(cond: Node, bound: dict[str, tuple[Node, str]]) -> str | None:
    """``!(await canX(auth, id))``: the local holding a helper's answer that a predicate
    is asked about, refused when it says no."""
    inner = _bare(cond)
    if inner is None or inner.type != "unary_expression" or not node_text(inner).startswith("!"):
        return None
    call = _bare(inner.named_children[0] if inner.named_children else None)
    while call is not None and call.type in ("await_expression", "parenthesized_expression"):
        call = call.named_children[0] if call.named_children else None
    if call is None or call.type != "call_expression" or not callee(call):
        return None
    for a in call_args(call):
        root = dotted(a).partition(".")[0]
        if root in bound:
            return root
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
    cond = _bare(cond)
    if cond is None:
        return []
    if cond.type in ("identifier", "member_expression"):
        path = node_text(cond).replace("?.", ".").replace("!", "")
        local, _, rest = path.partition(".")
        return [(local, rest, True)]
    if cond.type == "unary_expression" and node_text(cond).startswith("!"):
        inner = _bare(cond.named_children[0] if cond.named_children else None)
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


def _bare(node: Node | None) -> Node | None:
    while node is not None and node.type == "parenthesized_expression" and node.named_children:
        node = node.named_children[0]
    return node


def _ends(branch: Node) -> bool:
    """The branch ends the request: it refuses, returns or throws before the work."""
    if _refuses(branch):
        return True
    if branch.type in ("return_statement", "throw_statement"):
        return True
    return any(c.type in ("return_statement", "throw_statement") for c in branch.named_children)


def skipped(summary: dict[str, Any], args: list[Any]) -> bool:
    """Does the call pass (or leave out) an option that skips the helper's check?

    A ``negated`` entry (``if (!options?.skipAuth)``) skips the check when the caller
    passes the option truthy; a plain one (``if (options.requireAuth)``) when it does not.
    An options value the call builds elsewhere counts as passed: the route stays public."""
    for index, prop, negated in summary.get("skip", []):
        arg = args[index] if index < len(args) else None
        if arg is None:
            given = False  # left out: the default
        elif isinstance(arg, dict):
            value = arg.get(prop) if prop else "{}"
            given = value is not None and value not in _FALSY
        else:
            given = True if prop else arg not in _FALSY
        if given == negated:
            return True
    return False
