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
- ``reporters``: a function that calls some function, and when the result is empty
  rejects, or marks a variable it returns (``error``), or returns nothing. Its summary
  names the props of its answer that are truthy (``error``) or falsy (``auth``) for an
  anonymous caller, and the option parameters that skip the check (``options.skipAuth``).
- ``skipped``: whether a call's arguments pass the option that skips the check.

What a handler refuses on of such an answer is ``_js/refusal.report_checks``.

A handler that never tests the report, or passes the option that skips the check, is not
guarded by it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from threatmodel.code.jsast import (
    FUNCTION_TYPES,
    body_of,
    callee,
    dotted,
    line_of,
    nodes_of,
    object_props,
    walk_shallow,
)
from threatmodel.code.treesitter import node_text
from threatmodel.frameworks._js.handler import AUTH_LOOKUPS, anonymous, is_auth_lookup
from threatmodel.frameworks._js.reject import (
    denies,
    mentions,
    names_in,
    rejection,
    source_line,
    stops_caller,
)

if TYPE_CHECKING:
    from tree_sitter import Node

_FALSY = frozenset({"null", "undefined", "false", "0", '""', "''"})


_CALL = frozenset({"call_expression"})
_CREDENTIAL_READS = ("cookies.get", "headers.get", "cookies")
_EXITS = frozenset({"return_statement", "throw_statement"})
_BINDINGS = frozenset({"variable_declarator", "assignment_expression"})
_IF = frozenset({"if_statement"})
_RETURN = frozenset({"return_statement"})
_BRANCH = _BINDINGS | {"return_statement"}


def own_nodes(node: Node, types: frozenset[str]) -> list[Node]:
    """``nodes_of`` (the indexed, fast walk) without what nested functions hold: their
    code runs elsewhere (``error = () => unauthorized()`` only builds a refusal)."""
    out = []
    for n in nodes_of(node, types):
        if n == node:
            out.append(n)
            continue
        cur = n.parent
        while cur is not None and cur != node and cur.type not in FUNCTION_TYPES:
            cur = cur.parent
        if cur is None or cur == node:
            out.append(n)
    return out


def _calls(body: Node) -> list[Node]:
    return nodes_of(body, _CALL)


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
    return body is not None and any(_credential(c) or callee(c) in readers for c in _calls(body))


def _credential(call: Node) -> bool:
    """A request credential read (``headers.get('authorization')``, a session cookie) or a
    library lookup named in AUTH_LOOKUPS. The looser half of ``is_auth_lookup`` (any name
    holding "session") is left out: ``prisma.session.findFirst`` in an analytics app reads
    visitor records, and a function of the repository is judged by what it does."""
    if not is_auth_lookup(call):
        return False
    name = callee(call)
    return name.rpartition(".")[2] in AUTH_LOOKUPS or name.lower().endswith(_CREDENTIAL_READS)


def _answers_empty(fn: Node) -> bool:
    """Some path throws or answers no caller: nothing, a falsy value, a message string in
    place of the caller (``return "You must be logged in."``), or a library lookup's own
    answer (``return getToken({ req })``: null when no one signed in)."""
    body = body_of(fn)
    for n in own_nodes(body, _EXITS) if body is not None else []:
        if n.type == "throw_statement":
            return True
        if n.type == "return_statement":
            value = unawait(n.named_children[0] if n.named_children else None)
            if value is None or node_text(value) in _FALSY or value.type == "string":
                return True
            if value.type == "call_expression" and _credential(value):
                return True
    return False


def reporters(fn: Node) -> list[dict[str, Any]]:
    """Summaries of the ways a function reports an empty answer of a call to its caller.

    Each is {"lookup": callee, "known": the callee is an auth lookup by itself, "rejects":
    it refuses itself, "stops": that refusal throws, so its caller stops too (not a
    ``res.status(401)`` answer followed by ``return null``), "truthy"/"falsy": props of
    its answer for an anonymous caller ("" is the answer itself), "skip": [[param index,
    prop, negated], ...], "line", "s"}.
    ``lookup`` is resolved at link time: a summary whose callee is no lookup (a schema
    check reported the same way) says nothing."""
    body = body_of(fn)
    if body is None:
        return []
    ifs = own_nodes(body, _IF)
    if not ifs:
        return []
    results: dict[str, Node] = {}  # variable -> the call whose answer it holds
    for n in own_nodes(body, _BINDINGS):
        name, value = _binding(n)
        if name is not None and value is not None and value.type == "call_expression":
            results[name] = value
    out: list[dict[str, Any]] = []
    for n in ifs if results else []:
        cond = n.child_by_field_name("condition")
        for var, call in results.items():
            if call.start_byte > n.start_byte:
                continue
            taken = anonymous(cond, {var})
            if taken is None and cond is not None and mentions(cond, {var}) and denies(n):
                # A test of the answer's shape (``typeof token === "string"``, a lookup that
                # answers an error message) whose branch answers 401/403: by the status's
                # meaning, that branch is the one taken when the caller is not known.
                taken = True
            if taken is None:
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
    return node_text(target), unawait(value)


def _report(body: Node, branch: Node, var: str, call: Node) -> dict[str, Any] | None:
    """What the anonymous branch does: refuse, flag a variable, or return nothing."""
    truthy: set[str] = set()
    rejects = refuses_here(branch)
    stops = rejects and stops_caller(branch)
    for n in own_nodes(branch, _BRANCH):
        name, value = _binding(n)
        if n.type == "assignment_expression" and name and value and node_text(value) not in _FALSY:
            truthy.add(name)  # error = () => unauthorized()
        if n.type == "return_statement":
            value = n.named_children[0] if n.named_children else None
            if value is None or node_text(value) in _FALSY:
                return _summary(call, rejects, set(), {""}, stops)  # return null
            for key, v in object_props(value).items():
                if node_text(v) not in _FALSY:
                    return _summary(call, rejects, {key}, set(), stops)  # { error: ... }
    props_t, props_f = _returned(body, truthy, {var} - truthy)
    if not (props_t or props_f or rejects):
        return None
    return _summary(call, rejects, props_t, props_f, stops)


def refuses_here(branch: Node) -> bool:
    """The branch itself refuses: ``error = () => unauthorized()`` only makes a refusal
    for the caller to return (code in a nested function does not run here)."""
    found = rejection(branch)
    cur = found.parent if found is not None else None
    while cur is not None and cur != branch:
        if cur.type in FUNCTION_TYPES:
            return False
        cur = cur.parent
    return found is not None


def _summary(
    call: Node, rejects: bool, truthy: set[str], falsy: set[str], stops: bool
) -> dict[str, Any]:
    return {
        "lookup": callee(call),
        "known": _credential(call),
        "rejects": rejects,
        "stops": stops,
        "truthy": sorted(truthy),
        "falsy": sorted(falsy),
    }


def _returned(body: Node, truthy: set[str], falsy: set[str]) -> tuple[set[str], set[str]]:
    """The props of the function's answer that carry the flagged variables."""
    props_t: set[str] = set()
    props_f: set[str] = set()
    for n in own_nodes(body, _RETURN):
        if not n.named_children:
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


def unawait(value: Node | None) -> Node | None:
    while value is not None and value.type in ("await_expression", "parenthesized_expression"):
        value = value.named_children[0] if value.named_children else None
    return value


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
