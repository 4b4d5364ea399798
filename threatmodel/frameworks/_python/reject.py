"""Is this statement a rejection of the request? The words and shapes that say so.

A rejection is raising an auth exception or an HTTP 401/403, ``abort(401)``, returning a
401/403 response (``jsonify(...), 401``, ``Response(status=403)``), or redirecting to a login
page. ``mentions`` tells whether an expression is about auth (or about roles), from its
identifiers and short strings, word by word (``vocab.py``: "oauth" is not "auth"):
comments never count, they are not in the tree.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from threatmodel.code.pyast import dotted, last, str_const, walk
from threatmodel.code.vocab import says, words_text

# Exception names (lower case, substrings) that only an auth failure raises.
_AUTH_EXC = (
    "unauthori",
    "forbidden",
    "permissiondenied",
    "notauthenticated",
    "authenticationfailed",
    "autherror",
    "authenticationerror",
    "authorizationerror",
    "authexception",
    "invalidtoken",
    "tokenerror",
    "expiredsignature",
    "loginrequired",
    "accessdenied",
    "credential",
    "notauthorized",
    "nopermission",
    "notpermitted",
)
_HTTP_EXC = ("httpexception", "httperror", "abort", "problem", "apierror", "exception", "response")
_REDIRECTS = {
    "redirect",
    "HttpResponseRedirect",
    "RedirectResponse",
    "HTTPFound",
    "redirect_to_login",
}
_LOGIN_WORDS = ("login", "signin", "sign_in", "sign-in", "auth")
# Words that make a test an auth test (identifiers and strings; ``vocab.says``).
AUTH_WORDS = (
    "auth",
    "token",
    "session",
    "user",
    "login",
    "jwt",
    "api_key",
    "apikey",
    "credential",
    "password",
    "identity",
    "bearer",
    "logged",
    "anonymous",
    "verify",
    "signature",
)
ROLE_WORDS = (
    "role",
    "admin",
    "permission",
    "has_perm",
    "is_staff",
    "superuser",
    "group",
    "scope",
    "privilege",
    "is_owner",
)


def _words(node: ast.AST) -> str:
    """Identifiers, attributes and strings of an expression, lower case, space separated."""
    return words_of(walk(node))


def words_of(nodes: Iterable[ast.AST]) -> str:
    """The nodes' identifiers and short strings as a ``vocab.word_text``."""
    out = []
    for n in nodes:
        if isinstance(n, ast.Name):
            out.append(n.id)
        elif isinstance(n, ast.Attribute):
            out.append(n.attr)
        elif isinstance(n, ast.Constant) and isinstance(n.value, str) and len(n.value) < 80:
            out.append(n.value)
        elif isinstance(n, ast.arg):
            out.append(n.arg)
    return words_text(out)


def mentions(node: ast.AST, words: tuple[str, ...]) -> bool:
    return says(_words(node), words)


def mentions_in(nodes: Iterable[ast.AST], words: tuple[str, ...]) -> bool:
    """``mentions`` over nodes already walked (``list(ast.walk(node))``): no second walk."""
    return says(words_of(nodes), words)


# Session keys that name who is logged in (lower case, substrings of the key).
_IDENTITY_KEYS = ("user", "auth", "login", "logged", "token", "uid", "account")


def session_identity(node: ast.AST) -> bool:
    """Does ``node`` read who is logged in from the server's session: ``'username' in
    g.session``, ``session['user_id']``, ``session.get('logged_in')``? The session is the
    store a login writes the caller's identity to, so a test of it at an identity key is
    a login check, however the app names its session object."""
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        if not isinstance(node.ops[0], ast.In | ast.NotIn):
            return False
        base, key = node.comparators[0], node.left
    elif isinstance(node, ast.Subscript):
        base, key = node.value, node.slice
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
        if node.func.attr != "get":
            return False
        base, key = node.func.value, node.args[0]
    else:
        return False
    name = str_const(key)
    return (
        last(dotted(base)) == "session"
        and name is not None
        and any(w in name.lower() for w in _IDENTITY_KEYS)
    )


def _status(node: ast.AST | None) -> int | None:
    """401 / 403 from a literal or a named constant (``status.HTTP_401_UNAUTHORIZED``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    # ``HTTPStatus.FORBIDDEN.value``: an enum member's value is the member's status
    name = dotted(node).upper().removesuffix(".VALUE")
    if "401" in name or name.endswith("UNAUTHORIZED"):
        return 401
    if "403" in name or name.endswith("FORBIDDEN"):
        return 403
    return None


def _call_status(call: ast.Call) -> int | None:
    for k in call.keywords:
        if k.arg in ("status", "status_code", "code"):
            return _status(k.value)
    for a in call.args[:3]:
        s = _status(a)
        if s is not None and 100 <= s < 600:
            return s
    return None


def _login_target(call: ast.Call) -> bool:
    return any(
        (s := str_const(n)) is not None and any(w in s.lower() for w in _LOGIN_WORDS)
        for a in [*call.args, *(k.value for k in call.keywords)]
        for n in ast.walk(a)
    )


def reject_of(expr: ast.AST | None, assigns: dict[str, ast.expr]) -> str | None:
    """What rejecting an expression (raised, returned or called) amounts to.

    "401", "403", "login" (redirect to a login page) or "exc" (an auth-named exception),
    None when it is not a rejection. ``assigns`` resolves ``raise credentials_exception``.
    """
    if isinstance(expr, ast.Name) and expr.id in assigns:
        expr = assigns[expr.id]
    if isinstance(expr, ast.Tuple) and len(expr.elts) >= 2:
        s = _status(expr.elts[1])
        return str(s) if s in (401, 403) else None
    name = dotted(expr)
    low = last(name).lower()
    if isinstance(expr, ast.Call):
        if last(name) in _REDIRECTS:
            return "login" if last(name) == "redirect_to_login" or _login_target(expr) else None
        if low in ("unauthorized", "login_required", "handle_no_permission", "needs_refresh"):
            # flask-login's login_manager.unauthorized() and .needs_refresh() (a stale
            # session sent to sign in again), Django mixins
            return "401"
        s = _call_status(expr)
        if s in (401, 403):
            return str(s)
        if s is None and low in ("abort", "make_response", "jsonresponse", "httpresponse"):
            return None
    if any(w in low for w in _AUTH_EXC):
        return "401" if "unauthori" in low or "authenticat" in low else "exc"
    if isinstance(expr, ast.Name | ast.Attribute) and any(w in low for w in ("401", "403")):
        return "exc"
    return None


def stmt_reject(stmt: ast.stmt, assigns: dict[str, ast.expr]) -> str | None:
    if isinstance(stmt, ast.Raise):
        return reject_of(stmt.exc, assigns)
    if isinstance(stmt, ast.Return):
        return reject_of(stmt.value, assigns)
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        if last(dotted(stmt.value)) in ("abort", "raise_for_status"):
            return reject_of(stmt.value, assigns)
        if last(dotted(stmt.value)).lower() in ("unauthorized", "handle_no_permission"):
            return "401"
    return None


def secret_refusal(test: ast.expr, in_body: bool, body: list[ast.stmt]) -> str | None:
    """``if sent != stored_secret: return ...``: a branch that ends the handler when a value
    the caller sent fails to equal a secret turns the caller away whatever it returns (a
    webhook answers 200 so the sender stops retrying, and does nothing). "secret" then."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return None
    unequal = (ast.NotEq, ast.IsNot) if in_body else (ast.Eq, ast.Is)
    sides = [test.left, test.comparators[0]]
    if not isinstance(test.ops[0], unequal) or any(isinstance(x, ast.Constant) for x in sides):
        return None
    if not any(mentions(x, ("secret",)) for x in sides):
        return None
    return "secret" if any(isinstance(x, ast.Return | ast.Raise) for x in body) else None


def identity_redirect(test: ast.expr, body: list[ast.stmt], in_body: bool) -> str | None:
    """``if 'username' not in g.session: return redirect('/')``: a branch that runs when the
    session holds no identity and sends the caller away turns away who is not logged in,
    wherever to ("login", as a redirect to the login page would). ``in_body``: ``body`` is
    the ``if``'s own arm (else its ``else``). One that runs when the session *does* hold an
    identity (``if 'user_id' in session: return redirect('/home')``, a login page) guards
    nothing."""
    absent = _absent_when_true(test)
    if absent is None or absent != in_body:
        return None
    for stmt in body:
        if (
            isinstance(stmt, ast.Return)
            and isinstance(stmt.value, ast.Call)
            and last(dotted(stmt.value.func)) in _REDIRECTS
        ):
            return "login"
    return None


def _absent_when_true(test: ast.expr) -> bool | None:
    """Whether ``test`` is true when the session holds no identity (``'u' not in session``,
    ``not session.get('u')``), false when it holds one, None when it is no such test."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _absent_when_true(test.operand)
        return None if inner is None else not inner
    if not session_identity(test):
        return None
    return isinstance(test, ast.Compare) and isinstance(test.ops[0], ast.NotIn)


def branch_reject(body: list[ast.stmt], assigns: dict[str, ast.expr]) -> str | None:
    """A reject among a branch's own statements (not nested deeper)."""
    for stmt in body:
        r = stmt_reject(stmt, assigns)
        if r:
            return r
    return None
