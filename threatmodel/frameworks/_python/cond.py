"""Who gets through a check? The condition under which a guard lets a request pass.

A guard authenticates only if it rejects every caller without an identity. For
``if A or B: <serve> else: <reject>`` a caller passes when any of A, B holds, so each
disjunct must assert an identity (``ctftime() or is_admin()`` lets anyone in during the
event: not a guard). ``if T: <reject>`` passes on ``not T``: ``if not user or not
user.is_admin: abort(403)`` passes on ``user and user.is_admin``. A disjunct that asserts
the caller has *no* identity (``if user.is_authenticated: abort(403)``, a sign-up page
for guests only) is an inverted check: it authenticates no one.

Also here: what kind of gate a guard is when it is not a login (``gate_kind``: an API key,
a webhook signature), and a view that only hands over to other views (``dispatch_calls``).
"""

from __future__ import annotations

import ast
from typing import Any

from threatmodel.code.pyast import dotted
from threatmodel.frameworks._python.reject import (
    AUTH_WORDS,
    ROLE_WORDS,
    branch_reject,
    mentions,
    mentions_in,
    stmt_reject,
)

_GUEST_WORDS = ("anonymous", "guest", "is_none")
Literal = tuple[ast.expr, bool]  # an expression and whether it is asserted true


def _negated(node: ast.expr) -> tuple[ast.expr, bool]:
    """Strip ``not`` and ``is None`` / ``== None`` / ``is False``: (core, asserted true)."""
    positive = True
    while True:
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            node, positive = node.operand, not positive
        elif (
            isinstance(node, ast.Compare)
            and len(node.ops) == 1
            and isinstance(node.comparators[0], ast.Constant)
            and node.comparators[0].value in (None, False)
            and isinstance(node.ops[0], ast.Is | ast.Eq | ast.IsNot | ast.NotEq)
        ):
            flip = isinstance(node.ops[0], ast.Is | ast.Eq)
            node, positive = node.left, positive != flip
        else:
            return node, positive


def disjuncts(test: ast.expr, holds: bool) -> list[list[Literal]]:
    """``test`` (or ``not test`` when ``holds`` is False) as an OR of ANDs of literals."""
    core, positive = _negated(test)
    positive = positive == holds
    if isinstance(core, ast.BoolOp):
        is_or = isinstance(core.op, ast.Or) == positive  # De Morgan under a negation
        parts = [disjuncts(v, positive) for v in core.values]
        if is_or:
            return [d for p in parts for d in p]
        out: list[list[Literal]] = [[]]
        for p in parts:  # AND of ORs: distribute (small: tests have few terms)
            out = [a + b for a in out for b in p][:16]
        return out
    return [[(core, positive)]]


def _presence(lit: Literal) -> bool:
    """A header, cookie or parameter merely being there (``"X-Token" in request.headers``)."""
    node = lit[0]
    if isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.In | ast.NotIn):
        return mentions(node.comparators[0], ("headers", "cookies", "args", "meta", "query"))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "get" and mentions(node.func.value, ("headers", "cookies"))
    return False


# Which route or which form was asked for, or an anti-CSRF token: never who is calling.
_ROUTING_ATTRS = {"endpoint", "path", "method", "url_rule", "full_path", "url", "blueprint"}
_NOT_IDENTITY = ("csrf", "xsrf", "nonce")


def _not_identity(node: ast.expr) -> bool:
    return (
        mentions(node, _NOT_IDENTITY)
        or any(isinstance(n, ast.Attribute) and n.attr in _ROUTING_ATTRS for n in ast.walk(node))
        or config_only(node)
    )


def config_only(test: ast.AST) -> bool:
    """Does ``test`` read only the deployment's configuration? Literals, upper-case
    constants (``ENABLE_SIGNUP``, ``request.app.state.config.ENABLE_SIGNUP``), names rooted
    at a constant, class or settings object (``AuthMethods.password``, ``settings.x``) and
    calls of a settings object with such arguments (``not
    settings.is_auth_method_allowed(AuthMethods.password)``); nothing of the request or
    the caller. Such a test is the same for every caller (a feature switch), so it says
    nothing of who is calling, whatever its names say: a reject under it turns everyone
    away or no one (``if not ENABLE_OAUTH_LOGIN: raise 403``)."""

    def root(n: ast.AST) -> str:
        return (dotted(n) or "").split(".", 1)[0]

    def configured(name: str) -> bool:
        return name[:1].isupper() or any(w in name.lower() for w in _CONFIG_WORDS)

    def setting(n: ast.AST) -> bool:
        if isinstance(n, ast.Constant):
            return True
        if isinstance(n, ast.Name | ast.Attribute):
            name = dotted(n)
            return bool(name) and (name.rsplit(".", 1)[-1].isupper() or configured(root(n)))
        if isinstance(n, ast.Call):
            head = root(n.func)
            return (
                bool(head)
                and any(w in head.lower() for w in _CONFIG_WORDS)
                and all(map(setting, n.args))
                and all(setting(k.value) for k in n.keywords)
            )
        if isinstance(n, ast.UnaryOp):
            return setting(n.operand)
        if isinstance(n, ast.BoolOp):
            return all(map(setting, n.values))
        if isinstance(n, ast.Compare):
            return setting(n.left) and all(map(setting, n.comparators))
        if isinstance(n, ast.Tuple | ast.List | ast.Set):
            return all(map(setting, n.elts))
        return False

    return setting(test) and not isinstance(test, ast.Constant)


def _asserts_identity(lit: Literal) -> bool:
    node, positive = lit
    if _presence(lit) or _not_identity(node):
        return False
    if isinstance(node, ast.Compare):  # `role != "admin"` either way says who the caller is
        positive = True
    about = mentions(node, AUTH_WORDS) or mentions(node, ROLE_WORDS)
    if not about:
        return False
    guest = mentions(node, _GUEST_WORDS)
    return positive != guest  # "user.is_anonymous" asserted false is an identity


# The caller's identity, as compared with a list of who may pass.
_IDENTITY_ATTRS = ("id", "pk", "uid", "user_id", "email", "username", "sub", "pubkey")


def _configured(node: ast.expr) -> bool:
    """A value the deployment fixes, not the request: a setting (``settings.super_user``,
    ``config["ADMINS"]``, ``os.environ[...]``), an upper-case constant, or literals."""
    if isinstance(node, ast.Constant):
        return node.value is not None
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return bool(node.elts) and all(isinstance(e, ast.Constant) for e in node.elts)
    name = dotted(node.value if isinstance(node, ast.Subscript) else node)
    if not name:
        return False
    return mentions(node, _CONFIG_WORDS) or any(p.isupper() for p in name.split("."))


def allow_list(lit: Literal) -> bool:
    """``account.id == settings.super_user`` / ``user.email in ADMIN_EMAILS`` asserted true:
    only the callers the deployment lists pass. However the list is named, that is a
    restriction, not a login (the caller must be one of them)."""
    node, positive = lit
    if not isinstance(node, ast.Compare) or len(node.ops) != 1:
        return False
    op = node.ops[0]
    if not isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn):
        return False
    if positive != isinstance(op, ast.Eq | ast.In):
        return False  # passes when the caller is *not* the listed one
    left, right = node.left, node.comparators[0]
    sides = [(left, right)] if isinstance(op, ast.In) else [(left, right), (right, left)]
    return any(
        isinstance(who, ast.Attribute) and who.attr in _IDENTITY_ATTRS and _configured(listed)
        for who, listed in sides
    )


def listed_only(test: ast.expr, passes_when: bool) -> bool:
    """Does every way of passing ``test == passes_when`` require a listed caller?"""
    return all(any(map(allow_list, conj)) for conj in disjuncts(test, passes_when))


def pass_verdict(test: ast.expr, passes_when: bool, strong: bool) -> str | None:
    """ "restricted", "authenticated" or None: what requiring ``test == passes_when`` proves.

    ``strong``: the rejection itself says auth (401, a login redirect, an auth exception),
    so a lone condition that names nothing still counts (``if not check(x): abort(401)``).
    """
    ors = disjuncts(test, passes_when)
    role = True
    for conj in ors:
        ident = [lit for lit in conj if _asserts_identity(lit) or allow_list(lit)]
        if not ident:
            lone = len(ors) == 1 and not any(
                _inverted(x) or _presence(x) or _not_identity(x[0]) for x in conj
            )
            if strong and lone:
                role = False
                continue
            return None
        role = role and any(mentions(n, ROLE_WORDS) or allow_list((n, p)) for n, p in ident)
    return "restricted" if role else "authenticated"


def _inverted(lit: Literal) -> bool:
    node, positive = lit
    if isinstance(node, ast.Compare):
        return False
    about = mentions(node, AUTH_WORDS) or mentions(node, ROLE_WORDS)
    return about and positive == mentions(node, _GUEST_WORDS)


_STRONG = ("401", "login", "exc")
# A test on these decides by deployment, not by caller: a check under it is config-dependent.
_CONFIG_WORDS = ("config", "setting", "environ", "getenv", "feature", "visibility")
Path = list[tuple[ast.expr, bool]]  # the enclosing tests and the value each has on the way


def block_reject(block: list[ast.stmt], assigns: dict[str, ast.expr]) -> str | None:
    """A reject among a block's own statements, or an ``if`` of it whose both arms reject.

    A reject that says it is about a CSRF token (``HTTPForbidden(reason="CSRF ...")``) turns
    away forged requests, not anonymous callers: none.
    """
    r = branch_reject(block, assigns)
    if r:
        csrf = any(stmt_reject(s, assigns) and mentions(s, _NOT_IDENTITY) for s in block)
        return None if csrf else r
    for s in block:
        if isinstance(s, ast.If) and s.orelse:
            a, b = block_reject(s.body, assigns), block_reject(s.orelse, assigns)
            if a and b:
                return a if a in _STRONG else b
    return None


def _anonymous_reaches(path: Path) -> bool:
    """Can a caller with no identity get past every enclosing test on the way here?

    Not when one of them holds only for a caller who presented one (``if token and ...``:
    a hook that checks a token only when there is one logs callers in optionally).
    """
    for test, holds in path:
        if all(any(_asserts_identity(lit) for lit in conj) for conj in disjuncts(test, holds)):
            return False
    return True


def _guest_exit(block: list[ast.stmt], assigns: dict[str, ast.expr]) -> int | None:
    """The index after ``if is_anonymous(user): return user`` in ``block``: a caller with
    no identity is served there, so a reject further down never reaches one (optional
    auth, or a scope check only identified callers face)."""
    for i, s in enumerate(block):
        if (
            isinstance(s, ast.If)
            and not s.orelse
            and s.body
            and isinstance(s.body[-1], ast.Return)
            and block_reject(s.body, assigns) is None
            and not _anonymous_reaches([(s.test, False)])
        ):
            return i + 1
    return None


def guard_verdict(
    fn: ast.FunctionDef | ast.AsyncFunctionDef, assigns: dict[str, ast.expr]
) -> tuple[str | None, int]:
    """A guard function's verdict: a check that turns away every caller without an identity.

    Looks into the wrapper of a decorator; each ``if`` whose one arm rejects decides who
    passes (``pass_verdict``), unless an enclosing test already let only identified callers
    reach it. An ``except`` that rejects on an auth exception, and a reject with no test
    around it, guard as before. A test that says nothing by itself whose arm raises a
    permission-denied exception is a permission check (``_raises_denial``; the exception
    is read as ``_exc_kind`` reads an ``except``'s).
    """
    best: tuple[str | None, int] = (None, 0)
    stack: list[tuple[list[ast.stmt], Path]] = [(fn.body, [])]
    while stack:
        block, path = stack.pop()
        cut = _guest_exit(block, assigns)
        if cut:  # what follows is reached only by callers with an identity
            exit_test = block[cut - 1]
            assert isinstance(exit_test, ast.If)
            stack.append((block[cut:], [*path, (exit_test.test, False)]))
            block = block[:cut]
        if path == [] and block_reject([s for s in block if not isinstance(s, ast.If)], assigns):
            # Asked only here, at an unconditional reject: re-reading the words of every
            # function summarised cost a tenth of a Django app's collect.
            role_words = any(mentions(n, ROLE_WORDS) for n in fn.body)
            k: str | None = "restricted" if role_words else "authenticated"
            best = _better(best, (k, _reject_line(block, assigns)))
        for s in block:
            if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef):
                stack.append((s.body, []))
            elif isinstance(s, ast.If | ast.While):
                rb = block_reject(s.body, assigns)
                ro = block_reject(s.orelse, assigns) if s.orelse else None
                if (rb is None) != (ro is None) and _anonymous_reaches(path):
                    k = pass_verdict(s.test, rb is None, (rb or ro) in _STRONG)
                    if k is None and _raises_denial(s.body if rb else s.orelse):
                        # ``if missing_permissions: raise PermissionDenied(...)``: whatever
                        # the test's shape, the exception says who is turned away
                        k = "restricted"
                    if k and any(mentions(t, _CONFIG_WORDS) for t, _h in path):
                        k = "conditional"  # checked only in some configurations
                    best = _better(best, (k, s.lineno))
                stack.append((s.body, [*path, (s.test, True)]))
                stack.append((s.orelse, [*path, (s.test, False)]))
            elif isinstance(s, ast.Try):
                stack.append((s.body, path))
                stack.append((s.orelse, path))
                stack.append((s.finalbody, path))
                for h in s.handlers:
                    hr = branch_reject(h.body, assigns)
                    if hr and _anonymous_reaches(path):
                        best = _better(best, (_exc_kind(hr, h.type), h.lineno))
                    stack.append((h.body, path))
            elif isinstance(s, ast.With | ast.AsyncWith | ast.For | ast.AsyncFor):
                stack.append((s.body, path))
    return best


def _raises_denial(block: list[ast.stmt]) -> bool:
    """The block raises an exception whose name says permission is denied
    (``PermissionDenied``, ``NotAdmin``): a permission check by the exception's meaning."""
    for stmt in block:
        if isinstance(stmt, ast.Raise) and stmt.exc is not None:
            exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
            return mentions(exc, ROLE_WORDS)
    return False


def _exc_kind(reject: str, exc_type: ast.expr | None) -> str | None:
    if exc_type is not None and mentions(exc_type, ROLE_WORDS):
        return "restricted"
    strong = reject in _STRONG
    return "authenticated" if strong or (exc_type and mentions(exc_type, AUTH_WORDS)) else None


def _reject_line(block: list[ast.stmt], assigns: dict[str, ast.expr]) -> int:
    for s in block:
        if stmt_reject(s, assigns):
            return s.lineno
    return block[0].lineno if block else 0


def _better(a: tuple[str | None, int], b: tuple[str | None, int]) -> tuple[str | None, int]:
    rank = {None: 0, "conditional": 1, "authenticated": 2, "restricted": 3}
    return b if rank[b[0]] > rank[a[0]] else a


def inverted_check(test: ast.expr, passes_when: bool) -> bool:
    """Does some way through ``test`` require the caller to have *no* identity?

    ``if not open or user.is_authenticated: return 403`` passes guests only: a sign-up
    page, not a login check.
    """
    return any(
        any(_inverted(lit) for lit in conj) and not any(_asserts_identity(lit) for lit in conj)
        for conj in disjuncts(test, passes_when)
    )


# A guard that admits a caller by something other than a login: named in its mechanism so
# that no finding calls the route unauthenticated (the issue-17 vocabulary).
_GATES = (
    ("api_key", ("api_key", "apikey", "x-api-key")),
    ("webhook_signature", ("signature", "hmac", "compare_digest", "construct_event", "svix")),
)


# A guard that reads the caller's bearer token or decodes a JWT logs the caller in: a
# token's own signature (``jwt.decode(t, options={"verify_signature": False})``) is no
# webhook's.
_LOGIN_TOKEN = ("bearer", "jwt")


def gate_kind(words: list[ast.AST]) -> str | None:
    """ "api_key" or "webhook_signature" when a guard's names say that is what it checks."""
    for kind, markers in _GATES:
        if mentions_in(words, markers):
            if kind == "webhook_signature" and mentions_in(words, _LOGIN_TOKEN):
                return None
            return kind
    return None


def dispatch_calls(stmts: list[ast.AST]) -> list[list[Any]] | None:
    """``[[callee, line]]`` when every ``return`` of a view returns a call of another function.

    A view that hands each method to another view (``if POST: return create(request)``;
    ``return listing(request)``) is guarded when each of those is.
    """
    returns = [n for n in stmts if isinstance(n, ast.Return)]
    out: list[list[Any]] = []
    for r in returns:
        if not (isinstance(r.value, ast.Call) and dotted(r.value.func)):
            return None
        out.append([dotted(r.value.func), r.lineno])
    return out or None
