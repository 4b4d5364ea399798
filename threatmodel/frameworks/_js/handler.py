"""Auth checks made inside a request handler rather than by middleware.

Many handlers guard themselves: ``const session = await getServerSession(); if (!session)
return new Response(null, {status: 401})``, ``const { data: { user } } = await
supabase.auth.getUser(); if (!user) redirect('/login')``, or Juice Shop's
``const u = security.authenticatedUsers.get(token); if (u) {...} else next(new Error(..))``.
A handler counts as guarded only when an ``if`` whose condition looks at the result of an
auth lookup (or at ``req.user`` / ``req.session`` / ``req.auth``) has a branch that rejects:
401/403, a redirect, ``notFound()``, ``next(err)`` or ``throw``; on the branch a signed-out
caller takes, also a 404, or a ``return`` whose answer says no (``return new
AppError("unauthorized").toResponse()``). A branch serving signed-out visitors something
else (a public feed) is no refusal: the route serves anonymous callers.
Calling an auth lookup without acting on it guards nothing. A condition that checks a role,
an admin flag or a permission makes the handler ``restricted``. Clerk's ``auth.protect()``
counts as a check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from threatmodel.code.jsast import (
    body_of,
    call_args,
    callee,
    dotted,
    line_of,
    memo,
    nodes_of,
    string_value,
    unwrap,
    walk,
)
from threatmodel.code.treesitter import node_text
from threatmodel.frameworks._js.callers import by_link_token, owned_lookup, signature_check
from threatmodel.frameworks._js.reject import (
    NOT_YOURS,
    REQUEST_AUTH,
    denies,
    mentions,
    names_in,
    refusing,
    rejection,
    source_line,
)

if TYPE_CHECKING:
    from tree_sitter import Node

AUTH_LOOKUPS = frozenset(
    {
        "getServerSession",
        "getSession",
        "auth",
        "currentUser",
        "getUser",
        "getToken",
        "getKindeServerSession",
        "validateRequest",
        "getIronSession",
        "getAuth",
        "verifyToken",
        "verifyIdToken",
        "jwtVerify",
        "verify",
        "getServerAuthSession",
        "getCurrentUser",
        "requireUser",
        "getUserFromRequest",
    }
)
_ACCESS_CHECKS = ("hasaccess", "permission", "authoriz", "isowner", "canaccess", "currentuser")
_NOT_LOOKUPS = (
    "login",
    "signin",
    "signup",
    "register",
    "logout",
    "signout",
    "callback",
    "exchange",  # exchangeCodeForSession: the sign-in step itself
    "create",
    "set",
    "update",
    "refresh",
    "destroy",
)
_ROLE_WORDS = ("role", "admin", "permission", "privilege", "superuser", "isstaff")
_AUTH_COOKIES = ("token", "session", "auth", "jwt", "sid")
_HANDLER_TYPES = frozenset(
    {
        "variable_declarator",
        "assignment_expression",
        "call_expression",
        "if_statement",
        "ternary_expression",
    }
)


def is_auth_lookup(call: Node) -> bool:
    name = callee(call)
    if not name:
        return False
    last = name.rpartition(".")[2]
    low = name.lower()
    if any(w in last.lower() for w in _NOT_LOOKUPS):
        return False
    if low.endswith(("cookies.get", "headers.get", "cookies")):
        # req.cookies.get('token'), headers().get('authorization'), requestHeaders.get(...):
        # a credential read (any casing of the receiver's name)
        args = call_args(call)
        value = (string_value(args[0]) or "").lower() if args else ""
        return any(w in value for w in (*_AUTH_COOKIES, "authorization"))
    if any(w in last.lower() for w in _ACCESS_CHECKS):
        return True  # verifyCurrentUserHasAccessToPost(id), isAuthorized(req), canEdit(...)
    return last in AUTH_LOOKUPS or "session" in low or ".auth." in low or "authenticated" in low


_FUNCTIONS = frozenset({"arrow_function", "function_expression", "function"})
_CALLS = frozenset({"call_expression"})


def handler_auth(fn: Node) -> dict[str, Any] | None:
    """{"v", "why", "line"} when the function rejects unauthenticated callers itself."""
    slot = memo("handler_auth", fn)
    if slot is not None and slot[1] in slot[0]:
        known = slot[0][slot[1]]
        return dict(known) if known is not None else None  # a copy: callers may add keys
    found = _handler_auth(fn)
    if found is None or found["v"] != "restricted":
        # A verified signature names its mechanism, where `isValid = receiver.verify()`
        # alone reads as a login check.
        found = signature_check(fn) or found
    if slot is not None:
        slot[0][slot[1]] = dict(found) if found is not None else None
    return found


def wrapper_auth(value: Node) -> dict[str, Any] | None:
    """The strongest check among the functions a call is built from (``client.use(fn)``)."""
    best: dict[str, Any] | None = None
    for node in nodes_of(value, _FUNCTIONS):
        found = handler_auth(node) if node.child_count else None
        if found is not None:
            best = _stronger(best, found)
    return best


def _handler_auth(fn: Node) -> dict[str, Any] | None:
    body = body_of(fn)
    if body is None:
        return None
    auth_vars: set[str] = set()
    owned: set[str] = set()  # records fetched for the caller (see owned_lookup)
    linked: set[str] = set()  # records fetched by a secret token from the URL
    best: dict[str, Any] | None = None
    for node in nodes_of(body, _HANDLER_TYPES):
        t = node.type
        if t == "variable_declarator":
            value = unwrap(node.child_by_field_name("value"))
            name = node.child_by_field_name("name")
            if value is not None and name is not None and _has_lookup(value):
                auth_vars |= names_in(name)
            elif value is not None and name is not None and owned_lookup(value, auth_vars):
                owned |= names_in(name)
            elif value is not None and name is not None and by_link_token(value):
                linked |= names_in(name)
            elif (
                name is not None
                and value is not None
                and any(w in node_text(name).lower() for w in _ROLE_WORDS)
                and mentions(value, auth_vars)
            ):
                owned |= names_in(name)  # adminRole = await getAdminRole(session.user.id)
        elif t == "assignment_expression":
            right = unwrap(node.child_by_field_name("right"))
            left = node.child_by_field_name("left")
            if right is not None and left is not None and _has_lookup(right):
                auth_vars |= names_in(left)
            elif right is not None and left is not None and owned_lookup(right, auth_vars):
                owned |= names_in(left)
        elif t == "call_expression":
            called = callee(node)
            if called.endswith("auth.updateUser"):
                # Supabase answers an error unless the request carries a signed-in session.
                best = _stronger(best, _verdict(node, "supabase.auth.updateUser()", []))
            elif called.endswith(("auth.protect", "auth().protect")):
                found = _verdict(node, "auth.protect()", call_args(node))
                best = _stronger(best, found)
            elif (
                called == ""
                and node_text(node).startswith("auth()")
                and node_text(node).replace(" ", "").startswith("auth().protect(")
            ):
                best = _stronger(best, _verdict(node, "auth().protect()", call_args(node)))
        elif t in ("if_statement", "ternary_expression"):
            cond = node.child_by_field_name("condition")
            if cond is not None and best is not None and mentions(cond, owned):
                # a record looked up by the caller's identity and the request's choice
                # (workspace, post) and refused when absent: an ownership check
                then = node.child_by_field_name("consequence")
                reject = rejection(then, NOT_YOURS) if then is not None else None
                if reject is not None:
                    found = _verdict(reject, node_text(cond)[:80], [])
                    best = _stronger(best, {**found, "v": "restricted"})
                continue
            if cond is not None and best is None and mentions(cond, linked):
                then = node.child_by_field_name("consequence")
                reject = rejection(then) if then is not None else None
                if reject is not None:  # the record the link's secret token names
                    found = _verdict(reject, node_text(cond)[:80], [])
                    best = {**found, "mechanism": "url_token"}
                    best["why"] = f"looks up the link's secret token and {best['why']}"
                continue
            if cond is None or not _auth_condition(cond, auth_vars):
                continue
            # Which branch does a signed-out caller take? When the condition also depends on
            # something else (a view name, a token type) the refusal is not a login guard.
            taken = anonymous(cond, auth_vars)
            if taken is None and node.type == "if_statement" and denies(node):
                taken = True  # `if (typeof token === "string") return res.status(401)...`
            if taken is None:
                continue
            for field in ["consequence"] if taken else ["alternative"]:
                branch = node.child_by_field_name(field)
                if branch is not None and branch.type == "else_clause":
                    first = branch.named_children[0] if branch.named_children else None
                    if first is not None and first.type == "if_statement":
                        continue  # else-if: that `if` is judged on its own
                reject = refusing(branch) if branch is not None else None
                if reject is not None:
                    best = _stronger(best, _verdict(reject, node_text(cond)[:80], [cond]))
                    break
    return best


def anonymous(cond: Node | None, auth_vars: set[str]) -> bool | None:
    """The condition's value for a signed-out caller (every auth lookup empty), if decidable."""
    cond = unwrap(cond)
    if cond is None:
        return None
    t = cond.type
    if t == "identifier":
        return False if node_text(cond) in auth_vars else None
    if t == "member_expression":
        name = dotted(cond)
        if name.split(".")[0] in auth_vars or name.startswith(REQUEST_AUTH):
            return False
        return None
    if t == "call_expression":
        return False if is_auth_lookup(cond) or callee(cond).endswith("isAuthenticated") else None
    if t == "unary_expression" and node_text(cond).startswith("!") and cond.named_children:
        inner = anonymous(cond.named_children[0], auth_vars)
        return None if inner is None else not inner
    if t == "binary_expression":
        op = node_text(cond.child_by_field_name("operator") or cond)
        left = anonymous(cond.child_by_field_name("left"), auth_vars)
        right = anonymous(cond.child_by_field_name("right"), auth_vars)
        if op == "&&":
            return False if False in (left, right) else (None if None in (left, right) else True)
        if op == "||":
            return True if True in (left, right) else (None if None in (left, right) else False)
        if op in ("===", "==", "!==", "!="):
            return _compare(cond, op, auth_vars)
    return None


def _compare(cond: Node, op: str, auth_vars: set[str]) -> bool | None:
    """``session?.user?.role !== 'admin'`` for a signed-out caller: undefined vs a literal."""
    left, right = cond.child_by_field_name("left"), cond.child_by_field_name("right")
    for a, b in ((left, right), (right, left)):
        if a is None or b is None or a.type not in ("identifier", "member_expression"):
            continue
        if anonymous(a, auth_vars) is not False:
            continue
        if node_text(b) in ("null", "undefined"):
            return op in ("===", "==")
        if b.type in ("string", "number", "true"):
            return op in ("!==", "!=")
    return None


def _has_lookup(value: Node) -> bool:
    return any(n.type == "call_expression" and is_auth_lookup(n) for n in walk(value))


def _auth_condition(cond: Node, auth_vars: set[str]) -> bool:
    for n in walk(cond):
        if n.type == "identifier" and node_text(n) in auth_vars:
            return True
        if n.type == "member_expression" and dotted(n).startswith(REQUEST_AUTH):
            return True
        if n.type == "call_expression" and (
            is_auth_lookup(n) or callee(n).endswith("isAuthenticated")
        ):
            return True
    return False


def _verdict(node: Node, what: str, context: list[Node]) -> dict[str, Any]:
    text = " ".join(node_text(c) for c in context).lower()
    role = any(w in text for w in _ROLE_WORDS)
    return {
        "v": "restricted" if role else "authenticated",
        "why": f"checks {what.splitlines()[0]} in the handler",
        "line": line_of(node),
        "s": source_line(node),
    }


def _stronger(a: dict[str, Any] | None, b: dict[str, Any]) -> dict[str, Any]:
    if a is None or (b["v"] == "restricted" and a["v"] != "restricted"):
        return b
    return a
