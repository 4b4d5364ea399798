"""Decide whether a JavaScript middleware function really guards a route.

A function named ``isLoggedIn`` proves nothing: what matters is whether it ends the request
before calling ``next()`` when the caller is not allowed in. This module reads the function
body and looks for a rejection: ``res.status(401|403)``, ``res.sendStatus(401|403)``,
``res.redirect(...)``, ``next(err)`` or ``throw``, the last three only when the function also
looks at something auth-related (session, user, token, header) so that a body-validation
middleware is not mistaken for a login check. A guard that also inspects a role, an admin
flag or a permission is ``restricted``. Known library guards (passport, express-jwt,
connect-ensure-login, express-openid-connect, Clerk, Keycloak) are recognised by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from threatmodel.code.jsast import (
    FUNCTION_TYPES,
    body_of,
    call_args,
    callee,
    line_of,
    nodes_of,
    object_props,
    params,
    string_value,
    unwrap,
    walk_shallow,
)
from threatmodel.code.treesitter import node_text
from threatmodel.code.vocab import says, word_text
from threatmodel.frameworks._js.handler import handler_auth
from threatmodel.frameworks._js.koa import after_next, calls_next, refuses_caller
from threatmodel.frameworks._js.waiver import forwards_options, waiving_option

if TYPE_CHECKING:
    from tree_sitter import Node

AUTHENTICATED = "authenticated"
RESTRICTED = "restricted"
NONE = "none"

# Library guards, by the last part of the callee (or the whole dotted name).
KNOWN_GUARDS = {
    "expressjwt": AUTHENTICATED,
    "expressJwt": AUTHENTICATED,
    "ensureLoggedIn": AUTHENTICATED,
    "ensureAuthenticated": AUTHENTICATED,
    "requiresAuth": AUTHENTICATED,
    "ClerkExpressRequireAuth": AUTHENTICATED,
    "ClerkExpressWithAuth": NONE,  # attaches the session, rejects nothing
    "keycloak.protect": AUTHENTICATED,
    "requiredScopes": RESTRICTED,
    "claimCheck": RESTRICTED,
    "claimIncludes": RESTRICTED,
    "claimEquals": RESTRICTED,
}
# Names that only count when imported from the package that gives them their meaning.
PACKAGE_GUARDS = {
    ("express-jwt", "jwt"): AUTHENTICATED,
    ("express-jwt", "default"): AUTHENTICATED,
    ("express-jwt", "*"): AUTHENTICATED,
    ("express-oauth2-jwt-bearer", "auth"): AUTHENTICATED,
    ("@clerk/express", "requireAuth"): AUTHENTICATED,
    ("connect-ensure-login", "*"): AUTHENTICATED,
}
# passport strategies that check a credential on every request (others start a login flow).
GUARD_STRATEGIES = frozenset(
    {"jwt", "bearer", "session", "basic", "headerapikey", "apikey", "oauthbearer", "digest"}
)
# Words in a strategy's own name that say it checks a credential (``jwt-refresh``, ``apiKey``).
_CREDENTIAL_WORDS = ("jwt", "bearer", "apikey", "token", "session")
# Matched on identifier words (``vocab.says``: "oauth" is not "auth").
_ROLE_WORDS = ("role", "admin", "permission", "privilege", "superuser", "super_user", "is_staff")
_AUTH_WORDS = (
    "session",
    "user",
    "token",
    "auth",
    "jwt",
    "login",
    "logged",
    "cookie",
    "bearer",
    "apikey",
    "api_key",
    "credential",
    "verify",
)
# A middleware whose code is not in the repository is "unknown" only if its name says auth.
AUTH_LIKE_NAMES = (
    "auth",
    "login",
    "logged",
    "jwt",
    "protect",
    "guard",
    "admin",
    "role",
    "permission",
    "signed_in",
    "verify_token",
    "check_token",
    "require_user",
    "ensure_user",
)


# The node types _middleware_verdict reads: its words, and what _rejects can accept.
_WORD_TYPES = (
    "identifier",
    "property_identifier",
    "shorthand_property_identifier",
    "string_fragment",
)
_VERDICT_TYPES = frozenset(
    {*_WORD_TYPES, "throw_statement", "assignment_expression", "call_expression"}
)
_CALL = frozenset({"call_expression"})


def name_looks_auth(name: str) -> bool:
    return says(word_text(name), AUTH_LIKE_NAMES)


def known_call(call: Node, imports: dict[str, tuple[str, str]]) -> dict[str, Any] | None:
    """Verdict for a call to a library guard, e.g. ``passport.authenticate('jwt')``."""
    found = _known_call(call, imports)
    if found is not None:
        found["next"] = True  # library guards hand accepted requests on
        found["line"] = line_of(call)
    return found


def _known_call(call: Node, imports: dict[str, tuple[str, str]]) -> dict[str, Any] | None:
    name = callee(call)
    if not name:
        return None
    if name.endswith(("passport.authenticate", "passport.authorize")) or name == "authenticate":
        args = call_args(call)
        strategies = _strategies(args[0]) if args else []
        if strategies and any(checks_credential(s) for s in strategies):
            return {"v": AUTHENTICATED, "why": f"passport.authenticate({', '.join(strategies)})"}
        return {"v": NONE, "why": "passport login strategy"} if strategies else None
    base, _, last = name.rpartition(".")
    root = name.split(".")[0]
    origin = imports.get(root)
    if origin is not None:
        key = (origin[0], origin[1] if not base else "*")
        if key in PACKAGE_GUARDS or (not base and origin[1] in KNOWN_GUARDS):
            verdict = PACKAGE_GUARDS.get(key) or KNOWN_GUARDS[origin[1]]
            if _optional(call):
                return {"v": NONE, "why": f"{name}() with credentialsRequired: false"}
            return {"v": verdict, "why": f"{name}() from {origin[0]}"}
    for candidate in (name, last):
        if candidate in KNOWN_GUARDS:
            verdict = KNOWN_GUARDS[candidate]
            if candidate == "keycloak.protect" and call_args(call):
                verdict = RESTRICTED
            return {"v": verdict, "why": f"{name}()"}
    return None


def _optional(call: Node) -> bool:
    """``expressjwt({credentialsRequired: false})`` reads a token if sent, rejects no one."""
    args = call_args(call)
    opts = object_props(args[0]) if args else {}
    flag = opts.get("credentialsRequired")
    return flag is not None and node_text(flag) == "false"


def _strategies(node: Node) -> list[str]:
    return strategy_names(node)


def strategy_names(node: Node) -> list[str]:
    """Passport strategy names as written: ``'jwt'``, ``['jwt', 'api-key']``, or an enum's
    member (``Strategies.GITHUB`` -> ``GITHUB``)."""
    one = string_value(node)
    if one is not None:
        return [one]
    if node.type == "member_expression":
        prop = node.child_by_field_name("property")
        return [node_text(prop)] if prop is not None else []
    if node.type == "array":
        return [s for c in node.named_children for s in strategy_names(c)]
    return []


def checks_credential(strategy: str) -> bool:
    """Does a passport strategy check a credential on every request (a token, key or session),
    rather than start or finish a login flow (``local``, ``github``, ``google``: the sign-in
    step, open to anyone)? Names are the app's own (``jwt-refresh``, ``subscriberJwt``,
    ``HEADER_API_KEY``): read by the credential they name."""
    norm = strategy.lower().replace("-", "").replace("_", "")
    return norm in GUARD_STRATEGIES or any(w in norm for w in _CREDENTIAL_WORDS)


def returned_function(fn: Node) -> Node | None:
    """The function a factory returns (``() => (req, res, next) => ...``), if any."""
    body = body_of(fn)
    if body is None:
        return None
    body = unwrap(body)
    if body is not None and body.type in FUNCTION_TYPES:
        return body
    if body is None or body.type != "statement_block":
        return None
    for node in walk_shallow(body):
        if node.type == "return_statement" and node.named_children:
            value = unwrap(node.named_children[0])
            if value is not None and value.type in FUNCTION_TYPES:
                return value
    return None


def returned_call(fn: Node) -> Node | None:
    """The call a factory returns (``() => expressJwt({...})``), if any."""
    body = unwrap(body_of(fn))
    if body is not None and body.type == "call_expression":
        return body
    if body is None or body.type != "statement_block":
        return None
    for node in walk_shallow(body):
        if node.type == "return_statement" and node.named_children:
            value = unwrap(node.named_children[0])
            if value is not None and value.type == "call_expression":
                return value
    return None


def analyse(fn: Node, imports: dict[str, tuple[str, str]]) -> dict[str, Any] | None:
    """Verdict {"v", "why", "line"} of a middleware function or middleware factory.

    None when the function does not look like middleware at all (so a caller may fall
    back to other evidence); ``{"v": "none"}`` when it is middleware that never rejects.
    """
    return _analyse(fn, imports, [])


def _analyse(
    fn: Node, imports: dict[str, tuple[str, str]], options: list[str]
) -> dict[str, Any] | None:
    names = params(fn)
    if len(names) >= 4:
        return None  # an error handler (err, req, res, next): not on the request's way in
    if len(names) == 3 or (len(names) == 2 and calls_next(fn, names[1])):
        # Express's (req, res, next); Koa's (ctx, next), whose context is also the response
        koa = len(names) == 2
        res, nxt = (names[1], names[2]) if not koa else (names[0], names[1])
        verdict = _middleware_verdict(fn, res, nxt, options, koa)
        hc = handler_auth(fn)
        return {**verdict, "hc": hc} if hc else verdict
    if len(names) == 2:
        # A plain (req, res) handler: only interesting when it checks auth itself.
        hc = handler_auth(fn)
        return {"v": NONE, "why": "", "line": line_of(fn), "next": False, "hc": hc} if hc else None
    inner = returned_function(fn)
    if inner is not None and inner is not fn:
        return _analyse(inner, imports, names)  # a factory: its parameters are options
    call = returned_call(fn)
    known = known_call(call, imports) if call is not None else None
    if known is not None or (call is not None and len(names) != 1):
        return known
    if len(names) == 1:
        # Koa's handler takes the context alone: interesting when it checks auth itself.
        hc = handler_auth(fn)
        return {"v": NONE, "why": "", "line": line_of(fn), "next": False, "hc": hc} if hc else None
    return None


def _middleware_verdict(
    fn: Node, res: str, nxt: str, options: list[str], koa: bool = False
) -> dict[str, Any]:
    body = body_of(fn)
    if body is None:
        return {"v": NONE, "why": "", "line": line_of(fn), "next": False}
    reject: Node | None = None  # the first statement that ends the request with a refusal
    words: set[str] = set()
    inverted: Node | None = None  # a refusal only of callers who are signed in
    for node in nodes_of(body, _VERDICT_TYPES):
        t = node.type
        if t in (
            "identifier",
            "property_identifier",
            "shorthand_property_identifier",
            "string_fragment",
        ):
            if not _option_read(node, options):
                words.add(node_text(node))
        elif (
            reject is None
            and _rejects(node, res, nxt)
            and not after_next(node, fn, nxt)
            and (not koa or refuses_caller(node, res))
        ):
            if _refuses_signed_in(node, nxt):
                inverted = inverted or node
            else:
                reject = node
    # Does it hand the request on (a middleware) or is it the endpoint itself?
    passes = any(callee(n) == nxt and not call_args(n) for n in nodes_of(body, _CALL))
    text = word_text(" ".join(sorted(words)))
    auth_related = says(text, _AUTH_WORDS)
    # Even a 401 needs an auth-related check behind it: a captcha or body validator that
    # answers 401 is not a login guard.
    if not auth_related:
        reject = None
    if reject is None and inverted is not None:
        why = "inverted check: it refuses only callers who are already signed in"
        return {"v": NONE, "why": why, "line": line_of(inverted), "next": passes}
    if reject is None:
        return {"v": NONE, "why": "never rejects the request", "line": line_of(fn), "next": passes}
    verdict = RESTRICTED if says(text, _ROLE_WORDS) else AUTHENTICATED
    how = node_text(reject).split("\n")[0][:60]
    out = {"v": verdict, "why": f"rejects with {how}", "line": line_of(reject), "next": passes}
    waived = waiving_option(reject, fn, options) if options else None
    if waived is not None:
        out["unless"] = waived  # auth({ optional: true }) refuses no one
    if verdict == AUTHENTICATED and forwards_options(fn, options):
        out["opts"] = True  # auth({ role: Role.Admin }) hands the role to its check
    return out


def _option_read(node: Node, options: list[str]) -> bool:
    """``options.role``'s ``role``: a factory option, which the registration decides."""
    parent = node.parent
    if node.type != "property_identifier" or parent is None or not options:
        return False
    obj = parent.child_by_field_name("object") if parent.type == "member_expression" else None
    return obj is not None and obj.type == "identifier" and node_text(obj) in options


def names_role(key: str) -> bool:
    """Does an option's name say it requires a role (``role``, ``admin``, ``permission``)?"""
    return says(word_text(key), _ROLE_WORDS)


_IDENTITY_WORDS = ("authenticated", "user", "session", "logged", "signed_in", "token", "auth")
_NEGATIONS = ("!", "== null", "=== null", "== undefined", "=== undefined")


def _refuses_signed_in(reject: Node, nxt: str) -> bool:
    """Is this refusal reached only when the caller *has* an identity?

    ``if (req.isAuthenticated()) return res.redirect('/home')`` or
    ``if (!req.user) return next(); res.redirect('/')`` let anonymous callers through:
    a guard for the login page, not an authentication. Decided by the nearest condition
    that names an identity: its polarity, and which side of it the refusal stands on.
    """
    node: Node | None = reject.parent
    child: Node = reject
    while node is not None and node.type not in FUNCTION_TYPES:
        if node.type == "if_statement":
            cond = node.child_by_field_name("condition")
            if cond is not None and _names_identity(cond):
                in_else = child == node.child_by_field_name("alternative")
                return _positive(cond) != in_else
            return False
        if node.type == "statement_block":
            # A refusal after `if (cond) return next()` runs when cond is false.
            for sib in reversed([c for c in node.named_children if c.end_byte <= child.start_byte]):
                if sib.type != "if_statement":
                    continue
                cond, then = (
                    sib.child_by_field_name("condition"),
                    sib.child_by_field_name("consequence"),
                )
                if cond is None or then is None or not _names_identity(cond):
                    return False
                hands_on = any(callee(n) == nxt for n in nodes_of(then, _CALL)) and bool(nxt)
                return hands_on and not _positive(cond)
        child = node
        node = node.parent
    return False


def _names_identity(cond: Node) -> bool:
    said = word_text(node_text(cond))
    return says(said, _IDENTITY_WORDS) and not says(said, _ROLE_WORDS)


def _positive(cond: Node) -> bool:
    """Does the condition hold when the caller is signed in (no negation in it)?"""
    text = node_text(cond).replace(" ", "")
    return not any(n.replace(" ", "") in text for n in _NEGATIONS) and "!=" not in text


def _rejects(node: Node, res: str, nxt: str) -> bool:
    """Does this node end the request: a 4xx status, a redirect, next(err) or throw?"""
    t = node.type
    if t == "throw_statement":
        return True
    if t == "assignment_expression":  # res.statusCode = 401; Koa's ctx.status = 401
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        return (
            left is not None
            and right is not None
            and node_text(left).endswith((".statusCode", ".status"))
            and node_text(right) in ("401", "403")
        )
    if t != "call_expression":
        return False
    name = callee(node)
    last = name.rpartition(".")[2]
    args = call_args(node)
    if last in ("status", "sendStatus", "writeHead") and args:
        code = node_text(args[0])
        return len(code) == 3 and code.startswith("4")
    if name == f"{res}.throw" and res:
        return True  # Koa's ctx.throw(401) / ctx.throw(new AuthenticationError())
    if last == "redirect":
        return name.startswith((res, "res")) if res else name.startswith("res")
    return bool(nxt) and name == nxt and bool(args) and string_value(args[0]) != "route"
