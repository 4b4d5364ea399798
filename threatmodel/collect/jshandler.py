"""Auth checks made inside a request handler rather than by middleware.

Many handlers guard themselves: ``const session = await getServerSession(); if (!session)
return new Response(null, {status: 401})``, ``const { data: { user } } = await
supabase.auth.getUser(); if (!user) redirect('/login')``, or Juice Shop's
``const u = security.authenticatedUsers.get(token); if (u) {...} else next(new Error(..))``.
A handler counts as guarded only when an ``if`` whose condition looks at the result of an
auth lookup (or at ``req.user`` / ``req.session`` / ``req.auth``) has a branch that rejects:
401/403, a redirect, ``notFound()``, ``next(err)`` or ``throw``. Calling an auth lookup
without acting on it guards nothing. A condition that checks a role, an admin flag or a
permission makes the handler ``restricted``. Clerk's ``auth.protect()`` counts as a check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from threatmodel.collect.jsast import (
    body_of,
    call_args,
    callee,
    dotted,
    line_of,
    memo,
    nodes_of,
    params,
    string_value,
    unwrap,
    walk,
)
from threatmodel.collect.treesitter import node_text

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
_REQUEST_AUTH = ("req.user", "req.session", "req.auth", "request.user", "request.auth")
_ROLE_WORDS = ("role", "admin", "permission", "privilege", "superuser", "isstaff")
_DENY = ("401", "403")
_NOT_YOURS = (*_DENY, "404")  # a record the caller may not reach is often "not found"
_REJECT_CALLS = frozenset(
    {"redirect", "notFound", "unauthorized", "forbidden", "permanentRedirect", "rewrite"}
)
_AUTH_COOKIES = ("token", "session", "auth", "jwt", "sid")
# The node types each pass reads (jsast.nodes_of): the others cannot change its answer.
_REJECTION_TYPES = frozenset(
    {"throw_statement", "call_expression", "pair", "assignment_expression"}
)
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
    if name.endswith(("cookies.get", "headers.get", "cookies")):
        # req.cookies.get('token'), headers().get('authorization'): a credential read
        args = call_args(call)
        value = (string_value(args[0]) or "").lower() if args else ""
        return any(w in value for w in (*_AUTH_COOKIES, "authorization"))
    if any(w in last.lower() for w in _ACCESS_CHECKS):
        return True  # verifyCurrentUserHasAccessToPost(id), isAuthorized(req), canEdit(...)
    return last in AUTH_LOOKUPS or "session" in low or ".auth." in low or "authenticated" in low


def _names_in(pattern: Node) -> set[str]:
    return {
        node_text(n)
        for n in walk(pattern)
        if n.type in ("identifier", "shorthand_property_identifier_pattern")
    }


def rejection(branch: Node, deny: tuple[str, ...] = _DENY) -> Node | None:
    """The first statement in ``branch`` that ends the request with a refusal."""
    for node in nodes_of(branch, _REJECTION_TYPES):
        t = node.type
        if t == "throw_statement":
            return node
        if t == "call_expression":
            name = callee(node)
            last = name.rpartition(".")[2]
            args = call_args(node)
            if last in _REJECT_CALLS:
                return node
            status = last in ("status", "sendStatus", "writeHead") and bool(args)
            if (status and node_text(args[0]) in deny) or (last == "next" and args):
                return node
            if last == "protect":
                return node
        if t == "pair" and node_text(node.child_by_field_name("key") or node) == "redirect":
            return node  # getServerSideProps: return { redirect: { destination: '/login' } }
        if t in ("pair", "assignment_expression"):
            key = node.child_by_field_name("key" if t == "pair" else "left")
            value = node.child_by_field_name("value" if t == "pair" else "right")
            denied = value is not None and node_text(value) in deny
            if denied and key is not None and node_text(key).endswith("status"):
                return node
    return None


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
        found = _signature_check(fn) or found
    if slot is not None:
        slot[0][slot[1]] = dict(found) if found is not None else None
    return found


# Library calls that verify a webhook sender's signature and fail (throw or answer false,
# which callers turn into a refusal) when it does not match: Stripe, Svix, QStash, Slack,
# GitHub-style HMAC compares.
_SIGNATURE_CALLS = frozenset(
    {"constructEvent", "constructEventAsync", "timingSafeEqual", "verifySlackRequest"}
)
_SIGNATURE_WORDS = ("signature", "svix", "webhook", "hmac", "upstash")


def _signature_check(fn: Node) -> dict[str, Any] | None:
    """A handler (or wrapper) that verifies a webhook signature before acting."""
    body = body_of(fn)
    if body is None:
        return None
    hmac = _hmac_compare(body)
    if hmac is not None:
        mechanism, what = _secret_kind(body)
        return {
            "v": "authenticated",
            "why": f"compares {what} with an HMAC it computes",
            "mechanism": mechanism,
            "line": line_of(hmac),
            "s": source_line(hmac),
        }
    for node in nodes_of(body, _CALLS):
        name = callee(node)
        last = name.rpartition(".")[2]
        found = last in _SIGNATURE_CALLS
        if not found and last == "verify":
            # receiver.verify({signature, body}) / wh.verify(payload, headers): a signature
            # verifier, unlike jwt.verify, is handed the signature or the svix headers
            text = node_text(node).lower()
            found = any(w in text or w in name.lower() for w in _SIGNATURE_WORDS)
        if found:
            mechanism, what = _secret_kind(body) if last == "timingSafeEqual" else _WEBHOOK
            return {
                "v": "authenticated",
                "why": f"verifies {what} with {name}()",
                "mechanism": mechanism,
                "line": line_of(node),
                "s": source_line(node),
            }
    return None


_WEBHOOK = ("webhook_signature", "the caller's signature")
_DIGESTS = frozenset({"variable_declarator"})
_IFS = frozenset({"if_statement"})


def _hmac_compare(body: Node) -> Node | None:
    """``expected = hmac.digest('hex'); if (sig !== expected) throw``: the refusal."""
    digests = set()
    for d in nodes_of(body, _DIGESTS):
        value, name = d.child_by_field_name("value"), d.child_by_field_name("name")
        if value is not None and name is not None and ".digest(" in node_text(value):
            digests |= _names_in(name)
    if not digests:
        return None
    for node in nodes_of(body, _IFS):
        cond, then = node.child_by_field_name("condition"), node.child_by_field_name("consequence")
        if cond is not None and then is not None and _mentions(cond, digests):
            found = rejection(then)
            if found is not None:
                return found
    return None


def _secret_kind(body: Node) -> tuple[str, str]:
    """What a constant-time compare checks: a signature header, an API key, or a token
    the caller got in a link (reset, confirm, unsubscribe)."""
    text = node_text(body).lower()
    if "signature" in text and "header" in text:
        return _WEBHOOK
    if any(w in text for w in ("apikey", "api_key", "api-key", "authorization", "x-auth")):
        return "api_key", "an API key"
    return "url_token", "a secret token from the link"


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
    owned: set[str] = set()  # records fetched for the caller (see _owned)
    linked: set[str] = set()  # records fetched by a secret token from the URL
    best: dict[str, Any] | None = None
    for node in nodes_of(body, _HANDLER_TYPES):
        t = node.type
        if t == "variable_declarator":
            value = unwrap(node.child_by_field_name("value"))
            name = node.child_by_field_name("name")
            if value is not None and name is not None and _has_lookup(value):
                auth_vars |= _names_in(name)
            elif value is not None and name is not None and _owned(value, auth_vars):
                owned |= _names_in(name)
            elif value is not None and name is not None and _by_link_token(value):
                linked |= _names_in(name)
            elif (
                name is not None
                and value is not None
                and any(w in node_text(name).lower() for w in _ROLE_WORDS)
                and _mentions(value, auth_vars)
            ):
                owned |= _names_in(name)  # adminRole = await getAdminRole(session.user.id)
        elif t == "assignment_expression":
            right = unwrap(node.child_by_field_name("right"))
            left = node.child_by_field_name("left")
            if right is not None and left is not None and _has_lookup(right):
                auth_vars |= _names_in(left)
            elif right is not None and left is not None and _owned(right, auth_vars):
                owned |= _names_in(left)
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
            if cond is not None and best is not None and _mentions(cond, owned):
                # a record looked up by the caller's identity and the request's choice
                # (workspace, post) and refused when absent: an ownership check
                then = node.child_by_field_name("consequence")
                reject = rejection(then, _NOT_YOURS) if then is not None else None
                if reject is not None:
                    found = _verdict(reject, node_text(cond)[:80], [])
                    best = _stronger(best, {**found, "v": "restricted"})
                continue
            if cond is not None and best is None and _mentions(cond, linked):
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
            taken = _anonymous(cond, auth_vars)
            if taken is None:
                continue
            for field in ["consequence"] if taken else ["alternative"]:
                branch = node.child_by_field_name(field)
                if branch is not None and branch.type == "else_clause":
                    first = branch.named_children[0] if branch.named_children else None
                    if first is not None and first.type == "if_statement":
                        continue  # else-if: that `if` is judged on its own
                reject = rejection(branch) if branch is not None else None
                if reject is not None:
                    best = _stronger(best, _verdict(reject, node_text(cond)[:80], [cond]))
                    break
    return best


def _anonymous(cond: Node | None, auth_vars: set[str]) -> bool | None:
    """The condition's value for a signed-out caller (every auth lookup empty), if decidable."""
    cond = unwrap(cond)
    if cond is None:
        return None
    t = cond.type
    if t == "identifier":
        return False if node_text(cond) in auth_vars else None
    if t == "member_expression":
        name = dotted(cond)
        if name.split(".")[0] in auth_vars or name.startswith(_REQUEST_AUTH):
            return False
        return None
    if t == "call_expression":
        return False if is_auth_lookup(cond) or callee(cond).endswith("isAuthenticated") else None
    if t == "unary_expression" and node_text(cond).startswith("!") and cond.named_children:
        inner = _anonymous(cond.named_children[0], auth_vars)
        return None if inner is None else not inner
    if t == "binary_expression":
        op = node_text(cond.child_by_field_name("operator") or cond)
        left = _anonymous(cond.child_by_field_name("left"), auth_vars)
        right = _anonymous(cond.child_by_field_name("right"), auth_vars)
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
        if _anonymous(a, auth_vars) is not False:
            continue
        if node_text(b) in ("null", "undefined"):
            return op in ("===", "==")
        if b.type in ("string", "number", "true"):
            return op in ("!==", "!=")
    return None


def _owned(value: Node, auth_vars: set[str]) -> bool:
    """A lookup filtered both by the caller's identity (``userId: session.user.id``) and
    by something else the request chose (``id: workspaceId``): the record exists only when
    the caller may reach it. A lookup by identity alone is the caller's own profile."""
    identity = other = False
    for n in walk(value):
        if n.type != "pair":
            continue
        v = unwrap(n.child_by_field_name("value"))
        if v is None or v.type not in ("identifier", "member_expression", "binary_expression"):
            continue
        if _mentions(v, auth_vars):
            identity = True
        elif v.type != "binary_expression" or v.named_children:
            other = True
    return identity and other


_SECRET_PARAMS = ("token", "secret")


def _by_link_token(value: Node) -> bool:
    """A lookup keyed by a secret token from the URL (``req.params.token``): reset,
    confirm and unsubscribe links."""
    return any(
        n.type == "member_expression"
        and ".params." in f".{dotted(n)}"
        and any(w in dotted(n).rpartition(".")[2].lower() for w in _SECRET_PARAMS)
        for n in walk(value)
    ) and any(n.type == "call_expression" for n in walk(value))


_BINARY = frozenset({"binary_expression"})


def owner_params(fn: Node) -> dict[str, list[Any]]:
    """Parameters a function compares to a record's field and refuses on mismatch:
    ``if (article.author.id !== userId) throw new HttpException(403)``. A caller that
    passes the signed-in user's id there is checking ownership. {index: [line, quote]}."""
    names = params(fn)
    body = body_of(fn)
    out: dict[str, list[Any]] = {}
    if body is None or not any(names):
        return out
    for node in nodes_of(body, _IFS):
        cond, then = node.child_by_field_name("condition"), node.child_by_field_name("consequence")
        if cond is None or then is None:
            continue
        for b in nodes_of(cond, _BINARY):
            op = node_text(b.child_by_field_name("operator") or b)
            left, right = b.child_by_field_name("left"), b.child_by_field_name("right")
            if op not in ("!==", "!=") or left is None or right is None:
                continue
            for a, other in ((left, right), (right, left)):
                name = node_text(a)
                if a.type == "identifier" and name in names and other.type == "member_expression":
                    reject = rejection(then, _NOT_YOURS)
                    if reject is not None:
                        out.setdefault(
                            str(names.index(name)), [line_of(reject), source_line(reject)]
                        )
    return out


def identity_calls(fn: Node) -> list[list[Any]]:
    """Calls a handler makes with the signed-in user's identity as an argument:
    [[callee, argument index, line], ...] (``updateArticle(body, slug, req.auth.user.id)``)."""
    out: list[list[Any]] = []
    body = body_of(fn)
    for call in nodes_of(body, _CALLS) if body is not None else []:
        name = callee(call)
        for i, arg in enumerate(call_args(call)):
            text = node_text(arg).replace("?.", ".")
            if name and text.startswith(_REQUEST_AUTH):
                out.append([name, i, line_of(call)])
    return out[:20]


def _mentions(node: Node, names: set[str]) -> bool:
    return bool(names) and any(n.type == "identifier" and node_text(n) in names for n in walk(node))


def _has_lookup(value: Node) -> bool:
    return any(n.type == "call_expression" and is_auth_lookup(n) for n in walk(value))


def _auth_condition(cond: Node, auth_vars: set[str]) -> bool:
    for n in walk(cond):
        if n.type == "identifier" and node_text(n) in auth_vars:
            return True
        if n.type == "member_expression" and dotted(n).startswith(_REQUEST_AUTH):
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


def source_line(node: Node) -> str:
    """The whole stripped source line ``node`` starts on (for evidence quotes)."""
    root = node
    while root.parent is not None:
        root = root.parent
    lines = (root.text or b"").split(b"\n")
    row = node.start_point[0]
    return lines[row].decode("utf-8", "replace").strip()[:300] if row < len(lines) else ""


def _stronger(a: dict[str, Any] | None, b: dict[str, Any]) -> dict[str, Any]:
    if a is None or (b["v"] == "restricted" and a["v"] != "restricted"):
        return b
    return a
