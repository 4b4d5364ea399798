"""What an unverified JWT payload decides (Python): identity, access, a response, or nothing.

``jwt.decode(token, options={"verify_signature": False})`` is harmless when its payload is
only read for a routing claim (``iss``, ``owner``, ``kid``: which verifier to use next) and
dangerous when it decides who the caller is or what they may do, or reaches a response.
``payload_use`` finds the unverified decode at a line, the name its payload is bound to (or
the claim read off the call itself: ``jwt.decode(t, ...).get("exp")``), and classifies
every use of that name in the enclosing function. A lifetime claim (``exp``, ``iat``,
``nbf``) is neither a routing claim nor an identity: when it is all that is read, what it
decides is left for a person.

A token its issuer accepted first is verified: the same function handed it to the
issuer's OAuth userinfo or token-introspection endpoint (``ISSUER_CHECKS``; OpenID Connect
Core 5.3, RFC 7662), where a forged token is refused, before decoding it unverified, and
leaves when that call fails (it raises, or every handler of its ``try`` leaves too). Its
claims are the issuer's, whatever they decide next. So is a token the function sent in an
HTTP request (``requests.post(VERIFY_URL, json={"token": token})``) and decodes only where
that response's status said 200 (``if resp.status_code == 200:``, ``if resp.ok:``): a
verification service of the deployment's own, answering as an introspection endpoint does.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from threatmodel.code.pyast import dotted, last, skips_verification, str_const
from threatmodel.code.pyparse import python_tree
from threatmodel.code.reader import PathRefused, RepoReader
from threatmodel.models import Location

# Claims that choose how to verify a token, not who the caller is.
ROUTING = frozenset({"iss", "issuer", "owner", "kid", "alg", "typ", "aud", "type", "token_type"})
# Claims that say when the token is valid, not who holds it.
LIFETIME = frozenset({"exp", "iat", "nbf"})
# Calls that hand a token to its issuer, which refuses one it did not sign: OpenID Connect's
# userinfo endpoint (authlib ``client.userinfo(token=...)``) and OAuth token introspection.
ISSUER_CHECKS = frozenset({"userinfo", "introspect_token", "introspect"})
_LOGS = ("print", "logger.", "logging.", "log.", "console.")
# Methods of an HTTP client (``requests``, ``httpx``, a session) that send a request.
_SENDS = frozenset({"get", "post", "put", "request"})
_OK = ("200", "HTTP_200_OK", "OK")


@dataclass(frozen=True)
class PayloadUse:
    decides: Location | None  # where the payload decides identity / access / a response
    what: str  # a short description of that use, or of the harmless uses
    verifying: Location | None  # a verifying decode in the same file
    routing_only: bool = False  # every claim read is a routing claim
    issuer: Location | None = None  # where the token's issuer accepted it first


def payload_use(reader: RepoReader, loc: Location) -> PayloadUse | None:
    """None when the line holds no unverified Python decode that can be analysed."""
    try:
        text = "\n".join(reader.lines(loc.path))
    except PathRefused:
        return None
    tree = python_tree(text)
    if tree is None:
        return None
    consts = {
        t.id: v
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name) and (v := str_const(n.value)) is not None
    }
    decodes = [
        n for n in ast.walk(tree) if isinstance(n, ast.Call) and dotted(n.func).endswith("decode")
    ]
    unverified = [n for n in decodes if skips_verification(n) and abs(n.lineno - loc.line) <= 3]
    verifying = next(
        (n for n in decodes if "jwt" in dotted(n.func) and not skips_verification(n)), None
    )
    verified_at = Location(path=loc.path, line=verifying.lineno) if verifying else None
    if not unverified:
        return None
    call = unverified[0]
    fn = _enclosing(tree, call)
    if fn is None:
        return None
    parents = {c: p for p in ast.walk(fn) for c in ast.iter_child_nodes(p)}
    accepted = _issuer_accepted(fn, call, parents)
    if accepted is not None:
        where = Location(path=loc.path, line=accepted.lineno)
        what = f"verified by its issuer first (`{dotted(accepted.func)}`)"
        return PayloadUse(None, what, verified_at, issuer=where)
    holder = parents.get(call)
    if isinstance(holder, ast.Return):
        return PayloadUse(Location(path=loc.path, line=call.lineno), "returned to the caller", None)
    direct = _key(holder, call, consts, parents)
    if direct is not None and direct.lower() in ROUTING | LIFETIME:
        return _claims(loc, {direct: call.lineno}, False, verified_at)  # ``decode(t)["exp"]``
    if direct is not None:
        what = f"its claim {direct!r} is read"
        return PayloadUse(Location(path=loc.path, line=call.lineno), what, verified_at)
    if not (isinstance(holder, ast.Assign) and isinstance(holder.targets[0], ast.Name)):
        return PayloadUse(Location(path=loc.path, line=call.lineno), "used directly", None)
    name = holder.targets[0].id
    read: dict[str, int] = {}
    logged = False
    for node in ast.walk(fn):
        if not (isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)):
            continue
        parent = parents.get(node)
        key = _key(parent, node, consts, parents)
        if key is not None and key.lower() in ROUTING | LIFETIME:
            read.setdefault(key, node.lineno)
            continue
        if isinstance(parent, ast.Call) and dotted(parent.func).startswith(_LOGS):
            logged = True
            continue
        what = f"`{name}[{key!r}]` is read" if key else f"`{name}` is used"
        return PayloadUse(Location(path=loc.path, line=node.lineno), what, verified_at)
    return _claims(loc, read, logged, verified_at)


def _claims(
    loc: Location, read: dict[str, int], logged: bool, verified: Location | None
) -> PayloadUse:
    """Only routing and lifetime claims read (and the payload maybe logged)."""
    keys = sorted(read)
    uses = [f"read for {', '.join(keys)}"] if keys else []
    uses += ["logged"] if logged else []
    routing = bool(keys) and all(k.lower() in ROUTING for k in keys)
    return PayloadUse(None, " and ".join(uses) or "never used", verified, routing)


def _issuer_accepted(
    fn: ast.AST, call: ast.Call, parents: dict[ast.AST, ast.AST]
) -> ast.Call | None:
    """A call before ``call`` (the unverified decode) in ``fn`` that hands the decoded token
    to its issuer (``ISSUER_CHECKS``), and whose failure leaves the function."""
    if not call.args:
        return None
    token = ast.unparse(call.args[0])
    # names that hold the token (``t = {"access_token": form.token}``): the call may be
    # handed one of them
    holders = {token}
    for node in ast.walk(fn):
        if not (isinstance(node, ast.Assign) and node.lineno < call.lineno):
            continue
        if any(ast.unparse(n) in holders for n in ast.walk(node.value)):
            holders |= {ast.unparse(t) for t in node.targets}
    for node in ast.walk(fn):
        if not (isinstance(node, ast.Call) and node.lineno < call.lineno):
            continue
        given = [*node.args, *(k.value for k in node.keywords)]
        if not any(ast.unparse(n) in holders for a in given for n in ast.walk(a)):
            continue
        name = last(dotted(node.func))
        if name in ISSUER_CHECKS and _fails_out(node, parents):
            return node
        if name in _SENDS and _status_gates(fn, node, call, parents):
            return node
    return None


def _status_gates(
    fn: ast.AST, send: ast.Call, call: ast.Call, parents: dict[ast.AST, ast.AST]
) -> bool:
    """Is ``call`` reached only where the response of ``send`` (an HTTP request) said 200:
    inside ``if resp.status_code == 200`` / ``if resp.ok`` (or a name holding the status)?"""
    bound = parents.get(send)
    if not (isinstance(bound, ast.Assign) and isinstance(bound.targets[0], ast.Name)):
        return False
    resp = bound.targets[0].id
    status = {f"{resp}.status_code"}
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and ast.unparse(node.value) in status:
            status |= {ast.unparse(t) for t in node.targets}

    def ok(test: ast.expr) -> bool:
        if ast.unparse(test) == f"{resp}.ok":
            return True
        return (
            isinstance(test, ast.Compare)
            and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Eq)
            and {ast.unparse(test.left), ast.unparse(test.comparators[0])} & status != set()
            and any(ast.unparse(side).endswith(_OK) for side in (test.left, test.comparators[0]))
        )

    child: ast.AST = call
    up = parents.get(call)
    while up is not None and up is not fn:
        if isinstance(up, ast.If) and child in up.body and ok(up.test):
            return True
        child, up = up, parents.get(up)
    return False


def _fails_out(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Does an exception ``node`` raises leave the function: no enclosing ``try`` has a
    handler that carries on (each one raises or returns)?"""
    child, up = node, parents.get(node)
    while up is not None:
        if isinstance(up, ast.Try) and child in up.body:
            for h in up.handlers:
                if not (h.body and isinstance(h.body[-1], ast.Raise | ast.Return)):
                    return False
        child, up = up, parents.get(up)
    return True


def _enclosing(tree: ast.Module, call: ast.Call) -> ast.AST | None:
    best: ast.AST | None = None
    for n in ast.walk(tree):
        inside = isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and (
            n.lineno <= call.lineno <= (n.end_lineno or n.lineno)
        )
        if inside:
            best = n  # the innermost wins: ast.walk visits outer functions first
    return best


def _key(
    parent: ast.AST | None, node: ast.expr, consts: dict[str, str], parents: dict[ast.AST, ast.AST]
) -> str | None:
    """The claim read: ``payload["k"]`` or ``payload.get("k")`` (constants resolved)."""

    def value(expr: ast.AST | None) -> str | None:
        if isinstance(expr, ast.Name):
            return consts.get(expr.id)
        return str_const(expr)

    if isinstance(parent, ast.Subscript) and parent.value is node:
        return value(parent.slice)
    if isinstance(parent, ast.Attribute) and parent.attr == "get":
        call = parents.get(parent)
        if isinstance(call, ast.Call) and call.args:
            return value(call.args[0])
    return None
