"""Does this Python function reject a request? The auth analysis shared by every framework.

A decorator, a FastAPI dependency, a ``before_request`` hook or a helper the handler calls
guards a route only if it *rejects* an unauthorised request: raises an auth exception or an
HTTP 401/403, calls ``abort(401)``, returns a 401/403 response, or redirects to a login
page. One that only logs, or returns None, guards nothing, whatever its name says. A guard
is ``restricted`` when the condition it rejects on names a role, a permission, staff or
admin; otherwise ``authenticated``.

``summarize`` turns every function of a file into a small JSON-able summary; link time
follows the ``calls`` and ``deps`` of a summary into other files (see pyweb_link.py). It walks
each function's tree once and sorts the nodes in one pass into the few lists each question
reads (``walked.Walked``): walking is most of the cost, and a file's functions are
summarised on every cold scan.
"""

from __future__ import annotations

import ast
from bisect import bisect_left
from typing import Any

from threatmodel.code.pyast import FuncDef, dotted, last
from threatmodel.code.pyast import walk as walk_nodes
from threatmodel.code.secret_scan import scan_python
from threatmodel.code.secret_values import MASK, looks_like_secret, mask_tokens
from threatmodel.frameworks._python.calls import (
    annotation_refs,
    client_values,
    depends_of,
    is_decorator_shaped,
    param_calls,
    top_calls,
    top_level,
)
from threatmodel.frameworks._python.cond import (
    config_only,
    dispatch_calls,
    gate_kind,
    guard_verdict,
    inverted_check,
    listed_only,
)
from threatmodel.frameworks._python.configured import configured, flag_check
from threatmodel.frameworks._python.owner import CALLER_WORDS, ownership_line
from threatmodel.frameworks._python.reject import (
    AUTH_WORDS,
    ROLE_WORDS,
    branch_reject,
    identity_redirect,
    mentions,
    secret_refusal,
    session_identity,
)
from threatmodel.frameworks._python.rows import row_facts
from threatmodel.frameworks._python.stored_flag import stored_flag_check
from threatmodel.frameworks._python.tokens import TOKEN_WORDS, token_lookup
from threatmodel.frameworks._python.walked import Walked

AUTHENTICATED, RESTRICTED, CONDITIONAL = "authenticated", "restricted", "conditional"


# Words that make a *positive* test an auth test when the whole handler sits under it.
_STRONG_AUTH = ("is_authenticated", "current_user", "logged", "auth", "token", "jwt", "user_id")


def _kind(
    reject: str,
    test: ast.AST | None,
    assigns: dict[str, ast.expr] | None = None,
    strict: bool = False,
    client: frozenset[str] = frozenset(),
) -> str | None:
    """Status a reject on ``test`` proves; None when it is not about auth.

    With ``assigns`` (a handler's own check) the test itself, or what the names in it were
    assigned from (``resp = token_validator(request.headers...)``), must be about auth even
    for a 401: a handler rejecting a bad form with 401 is not guarded by that.
    """
    if reject == "secret":  # the caller must hold the shared secret
        return AUTHENTICATED
    if test is not None and config_only(test):
        return None  # a feature switch: the same for every caller
    if test is not None and mentions(test, ROLE_WORDS) and not _sent_only(test, client):
        return RESTRICTED
    if assigns is None:
        strong = reject in ("401", "login", "exc")
        return AUTHENTICATED if strong or (test and mentions(test, AUTH_WORDS)) else None
    if test is None:
        return None
    sources: list[ast.AST] = [test]
    sources += [
        assigns[n.id] for n in walk_nodes(test) if isinstance(n, ast.Name) and n.id in assigns
    ]
    # the caller's identity read from the session (``'username' not in g.session``): a
    # login check however the app names its session, in a handler that logs in too (a
    # password change that checks the current password by calling ``login``)
    identity = any(map(session_identity, walk_nodes(test)))
    if strict:  # the test alone must say auth
        return AUTHENTICATED if identity or mentions(test, _STRONG_AUTH) else None
    if reject == "login":
        # A redirect to the login page: the test, or what its names were assigned from
        # (``username = await authorized_userid(request)``), must say auth strongly.
        strong = any(mentions(s, _STRONG_AUTH) for s in sources)
        return AUTHENTICATED if strong or identity else None
    if any(mentions(s, AUTH_WORDS) for s in sources):
        return AUTHENTICATED
    return None


def _sent_only(test: ast.AST, client: frozenset[str]) -> bool:
    """A test of values the client sent alone (``if not admin_access_token``, a cookie
    parameter): a role word in their names proves no role, the client chose them."""
    names = [n.id for n in walk_nodes(test) if isinstance(n, ast.Name)]
    return bool(names) and all(n in client for n in names)


def _gated_body(fn: FuncDef) -> tuple[str | None, int]:
    """``if request.user.is_authenticated: <all the work>`` with nothing served otherwise."""
    body = [
        s for s in fn.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
    ]
    if not body or not isinstance(body[-1], ast.If):
        return None, 0
    last_if = body[-1]
    test = last_if.test
    if isinstance(test, ast.UnaryOp) or not mentions(test, _STRONG_AUTH):
        return None, 0
    if any(
        isinstance(s, ast.Return) and s.value is not None
        for n in last_if.orelse
        for s in walk_nodes(n)
    ):
        return None, 0
    if any(not isinstance(s, ast.Assign | ast.AnnAssign | ast.Expr) for s in body[:-1]):
        return None, 0
    return (RESTRICTED if mentions(test, ROLE_WORDS) else AUTHENTICATED), last_if.lineno


_ISSUERS = (
    "login_user",
    "login",
    "create_access_token",
    "create_refresh_token",
    "encode_auth_token",
    "remember",
    "set_access_cookies",
)


def issues_call(callee: str) -> bool:
    """Does a call of ``callee`` (dotted) log a caller in or hand them a session token?"""
    name = last(callee)
    low = name.lower()
    if name in _ISSUERS or callee == "jwt.encode":
        return True
    return "token" in low and any(w in low for w in ("create", "generate", "issue", "encode"))


def issues_credentials(fn: FuncDef, nodes: list[ast.AST] | Walked | None = None) -> bool:
    """Does the handler log the caller in (a login endpoint)? Its checks are the login itself."""
    w = nodes if isinstance(nodes, Walked) else Walked(fn, nodes)
    for n in w.issuers:
        if isinstance(n, ast.Call):
            if issues_call(dotted(n.func)):
                return True
        elif isinstance(n, ast.Assign):
            for t in (
                e for t0 in n.targets for e in (t0.elts if isinstance(t0, ast.Tuple) else [t0])
            ):
                if (
                    isinstance(t, ast.Subscript)
                    and dotted(t.value).endswith("session")
                    and mentions(t.slice, ("user", "auth", "login", "token", "role", "id"))
                ):
                    return True
    return False


def guard_anywhere(
    fn: FuncDef, nodes: list[ast.AST] | Walked | None = None
) -> tuple[str | None, int]:
    """A guard function's verdict: rejects anywhere in it (wrapper, except branch...).

    ``nodes``: ``walk(fn)`` or its ``Walked``, when the caller has it.
    """
    w = nodes if isinstance(nodes, Walked) else Walked(fn, nodes)
    found = guard_verdict(fn, w.assigns)
    if found[0] != RESTRICTED:
        owner = w.owner()
        found = (RESTRICTED, owner) if owner else found
    return found


def _better(a: tuple[str | None, int], b: tuple[str | None, int]) -> tuple[str | None, int]:
    rank = {None: 0, AUTHENTICATED: 1, RESTRICTED: 2}
    return b if rank[b[0]] > rank[a[0]] else a


def inline_guard(
    fn: FuncDef,
    strict: bool = False,
    nodes: list[ast.AST] | Walked | None = None,
) -> tuple[str | None, int]:
    """A handler's own check: a top-level ``if`` that rejects on an auth condition.

    ``CONDITIONAL`` when an auth rejection only happens deeper (under another branch):
    some requests are checked, others may not be, and the code does not say which.
    """
    w = nodes if isinstance(nodes, Walked) else Walked(fn, nodes)
    assigns = w.assigns
    client = client_values(fn)
    best: tuple[str | None, int] = (None, 0)
    top = list(w.top())  # a copy: it grows below
    i = 0
    while i < len(top):  # grows: the branch that survives a check is top level too
        stmt = top[i]
        i += 1
        if not isinstance(stmt, ast.If):
            continue
        for body, other in ((stmt.body, stmt.orelse), (stmt.orelse, stmt.body)):
            r = branch_reject(body, assigns) or secret_refusal(stmt.test, body is stmt.body, body)
            r = r or identity_redirect(stmt.test, body, body is stmt.body)
            kind = _kind(r, stmt.test, assigns, strict, client) if r else None
            if kind and inverted_check(stmt.test, body is stmt.orelse):
                kind = None  # turns away callers who are logged in
            if kind == AUTHENTICATED and listed_only(stmt.test, body is stmt.orelse):
                kind = RESTRICTED  # only the callers a setting lists pass
            if kind:
                best = _better(best, (kind, stmt.lineno))
                top.extend(top_level(other))
    if best[0] != RESTRICTED:
        # top now holds what survives each check (only appended to: the same length is
        # the same statements, whose answer the guard test may already have asked)
        grew = len(top) != len(w.top())
        owner = ownership_line(top, assigns, fn.body, w.lookups()) if grew else w.owner()
        best = (RESTRICTED, owner) if owner else best
    if best[0] is not None:
        return best
    gated = _gated_body(fn)
    if gated[0]:
        return gated
    top_ids = {id(s) for s in top}
    for node in w.branches:
        if isinstance(node, ast.If) and id(node) not in top_ids:
            for body in (node.body, node.orelse):
                r = branch_reject(body, assigns) or secret_refusal(
                    node.test, body is node.body, body
                )
                if r and _kind(r, node.test, assigns, strict):
                    return (CONDITIONAL, node.lineno)
    return best


def summarize(
    fn: FuncDef,
    nodes: list[ast.AST] | Walked | None = None,
    guard_of: tuple[str | None, int] | None = None,
) -> dict[str, Any]:
    """The JSON-able summary link time needs to judge ``fn`` as a guard or as a handler.

    ``guard_of``: ``guard_anywhere(fn)`` when the caller has already asked it.
    """
    w = nodes if isinstance(nodes, Walked) else Walked(fn, nodes)
    guard, gline = guard_anywhere(fn, w) if guard_of is None else guard_of
    issues = issues_credentials(fn, w)
    inline, iline = inline_guard(fn, issues, w)
    # the same checks read as a login's, for link to use if a helper it calls logs in
    as_login = inline_guard(fn, True, w) if inline and not issues else None
    top = w.top()
    flag = flag_check(top, w.assigns) if not inline else None
    if inline in (None, CONDITIONAL) and flag is None:
        flag, inline = _stored_flag(fn, top, w.assigns, issues, (inline, iline))
    calls = top_calls(fn)
    under_params = param_calls(fn)
    for inner in fn.body:  # a decorator's wrapper: its top-level calls are the decorator's
        if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef):
            calls.extend(top_calls(inner))
            for deeper in inner.body:
                if isinstance(deeper, ast.FunctionDef | ast.AsyncFunctionDef):
                    calls.extend(top_calls(deeper))
    return {
        "line": fn.lineno,
        "guard": [guard, gline] if guard else None,
        "inline": [inline, iline] if inline else None,
        "inline_login": [as_login[0], as_login[1]] if as_login and as_login[0] else None,
        "calls": calls,
        "deps": depends_of(fn),
        "annotated": annotation_refs(fn),  # ``user: CurrentUser``: an Annotated alias's deps
        "decorator": is_decorator_shaped(fn),
        "role": w.mentions(ROLE_WORDS),
        "issues": issues,
        "gate": _gate(fn, w, guard, (inline, iline) if inline else (flag or [None, None, 0])[1:3]),
        # a dispatch on a setting whose arms check differently (or, under the default,
        # reject on a line of their own): the arms decide, whatever guard_verdict saw
        "config": configured(fn) if guard in (CONDITIONAL, None) else None,
        "token": _token(fn, w),
        "flag": flag,
        "dispatch": dispatch_calls(w.stmts),
        "param_calls": under_params,
        **row_facts(
            w.stmts, w.branches, w.assigns, w.mentions(CALLER_WORDS)
        ),  # rows.py: scoped queries, registries
    }


def _stored_flag(
    fn: FuncDef,
    top: list[ast.stmt],
    assigns: dict[str, ast.expr],
    issues: bool,
    inline: tuple[str | None, int],
) -> tuple[list[Any] | None, str | None]:
    """(flag, inline): a check the handler makes only under a model row's flag
    (stored_flag.py) replaces the "on some paths only" it was read as."""

    def arm(block: list[ast.stmt]) -> tuple[str | None, int]:
        fake = ast.FunctionDef(name=fn.name, args=fn.args, body=block, decorator_list=[])
        return inline_guard(fake, issues)

    hit = stored_flag_check(top, assigns, arm)
    if hit is None or (inline[0] and not hit[1] <= inline[1] <= hit[2]):
        return None, inline[0]
    return hit[0], None


def _token(fn: FuncDef, w: Walked) -> list[Any] | None:
    """[key, line] of a request token the function's top level looks up (tokens.py)."""
    if not w.mentions(TOKEN_WORDS):
        return None
    params = frozenset(a.arg for a in [*fn.args.args, *fn.args.kwonlyargs])
    hit = token_lookup(w.top(), params)
    return list(hit) if hit else None


def _gate(
    fn: FuncDef, w: Walked, guard: str | None, check: list[Any] | tuple[Any, ...]
) -> str | None:
    """What kind of gate a guard is when it is not a login: an API key, a webhook signature,
    an ownership check (``owner.py``), or a shared secret the handler compares.
    ``check``: (status, line) of the handler's own check, or of its check under a
    setting's flag."""
    inline, line = check
    if not guard and not inline:
        return None
    kind = gate_kind(w.words) if guard else None
    if kind is None and RESTRICTED in (guard, inline) and w.owner():
        kind = "ownership"
    if kind is None and inline and _secret_check(w, line):
        kind = "shared_secret"  # the caller must send a secret it was given, not a cookie
    return kind


def _secret_check(w: Walked, line: int) -> bool:
    """Is the check at ``line`` one that turns away a caller whose value is not the stored
    secret (``reject.secret_refusal``), at any depth (under a setting's flag too)?"""
    return any(
        isinstance(n, ast.If)
        and n.lineno == line
        and any(secret_refusal(n.test, body is n.body, body) for body in (n.body, n.orelse))
        for n in w.branches
    )


def summarize_with_text(
    fn: FuncDef,
    lines: list[str],
    nodes: list[ast.AST] | Walked | None = None,
    guard_of: tuple[str | None, int] | None = None,
    masked: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``summarize`` plus the text of every line it cites (link time cannot read files).

    ``masked``: ``mask_tokens`` answers already computed for this file's lines (a file
    repeats many lines: ``def get_queryset(self):``, ``return super()...``), filled here.
    """
    w = nodes if isinstance(nodes, Walked) else Walked(fn, nodes)
    s = summarize(fn, w, guard_of)
    s["decorators"] = [[dotted(d), d.lineno, _line(lines, d.lineno)] for d in fn.decorator_list]
    at = [s["line"], *(c[1] for c in s["calls"]), *(c[2] for c in s["param_calls"])]
    at += [s[k][1] for k in ("inline", "guard", "token") if s[k]]
    at += [s["flag"][2]] if s["flag"] else []
    s["text"] = {str(n): _line(lines, n) for n in sorted(set(at))}
    # Extracts are cached on disk and quoted as evidence: never keep a secret value in them.
    # Only nodes spanning a cited line can yield a pair masked below: every line scan_python
    # reports for a node lies within that node's lines.
    cited = [int(n) for n in s["text"]]  # sorted
    near = [n for n in w.secrets if _spans(n, cited)]
    for name, n, value in scan_python(fn, near):
        if str(n) in s["text"] and value and looks_like_secret(value, name):
            s["text"][str(n)] = s["text"][str(n)].replace(value, MASK)
    memo = {} if masked is None else masked
    for n, text in s["text"].items():
        if text not in memo:
            memo[text] = mask_tokens(text)
        s["text"][n] = memo[text]
    return s


def _spans(node: ast.AST, lines: list[int]) -> bool:
    """Does ``node`` (a statement or an expression) span one of ``lines`` (sorted)?"""
    first: int = getattr(node, "lineno", 0)
    end: int = getattr(node, "end_lineno", None) or first
    i = bisect_left(lines, first)  # the first cited line at or after the node's first
    return i < len(lines) and lines[i] <= end


def _line(lines: list[str], n: int) -> str:
    return lines[n - 1].strip() if 0 < n <= len(lines) else ""


GUARD_MARKERS = (
    "401",
    "403",
    "abort(",
    "redirect",
    "Unauthori",
    "Forbidden",
    "login",
    "Permission",
    "Auth",
    "Depends",
)


def maybe_guards(text: str) -> bool:
    """Cheap text test: could any function of this file reject a request?"""
    return any(m in text for m in GUARD_MARKERS)
