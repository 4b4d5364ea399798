"""A secret token the request carries in its body or query, which the handler looks up.

The same notion as a token in the path (``/reset/{token}``, collect/pyweb.py's
``url_token``): a password-reset, confirm or invite link whose token arrives as
``?token=...`` or a form field. The caller is admitted by holding the token, not by a
login. It counts only when the handler itself reads the token at its top level and hands
it to a lookup (``User.objects.get(reset_token=token)``, ``serializer.loads(token)``,
``verify_reset_token(token)``): a token read and then ignored, or read only on some paths,
admits nobody in particular.
"""

from __future__ import annotations

import ast
import re

from threatmodel.code.pyast import dotted, last, skips_verification, str_const, walk

# A reset, invite or confirmation link's key is a token by its name too (``reset_key``,
# ``invite_code``); a bare ``key`` or ``code`` is not (an API key, an OAuth code).
_TOKEN_KEY = re.compile(
    r"^(?:\w*_)?token$|^signed_\w+$|^\w*signature$|^uidb64$"
    r"|^(?:reset|invite|invitation|confirm\w*|verification|activation|magic)_(?:key|code)$",
    re.I,
)


def is_token_key(name: str) -> bool:
    """A request field that names a secret link's token (``_TOKEN_KEY``); a camelCase name
    (``inviteToken``, JavaScript's spelling) is read as its snake_case one. An anti-forgery
    token says nothing about who calls."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return bool(_TOKEN_KEY.match(snake)) and not any(w in snake.lower() for w in ("csrf", "xsrf"))


# Words one of those keys says (``vocab.says``): a function saying none reads no token.
TOKEN_WORDS = (
    "token",
    "signature",
    "uidb64",
    "signed",
    "reset",
    "invite",
    "invitation",
    "confirm",
    "verification",
    "activation",
    "magic",
)
# Where request data arrives, as the last attribute read (``request.form``, ``request.GET``).
_CARRIERS = {"form", "args", "values", "GET", "POST", "data", "json", "query_params", "query"}
_LOOKUP_WORDS = (
    "get",
    "filter",
    "find",
    "load",
    "verify",
    "check",
    "decode",
    "unsign",
    "confirm",
    "lookup",
    "validate",
    "first",
    "decrypt",
)
# Decoders of a transport encoding: what they return is the token still, checked by no one
# (``bytes.decode`` too: called on the token, it is handed none).
_TRANSPORT = {"b64decode", "urlsafe_b64decode", "a2b_base64", "unquote", "unquote_plus"}
_ENCODINGS = _TRANSPORT | {"decode"}


def _request_key(node: ast.AST, params: frozenset[str] = frozenset()) -> str | None:
    """The key of ``request.form["token"]`` / ``request.args.get("token")``, if token-like.

    ``params``: the handler's parameters, which FastAPI fills from the request: a
    ``token`` query parameter, or the ``token`` field of a body model (``body.token``).
    """
    if isinstance(node, ast.Name) and node.id in params and _TOKEN_KEY.match(node.id):
        return node.id
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in params
        and node.value.id not in ("request", "self", "cls")
        and _TOKEN_KEY.match(node.attr)
        and not any(w in node.attr.lower() for w in ("csrf", "xsrf"))
    ):
        return node.attr
    key: str | None = None
    carrier: ast.AST | None = None
    if isinstance(node, ast.Subscript):
        key, carrier = str_const(node.slice), node.value
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and node.args
    ):
        key, carrier = str_const(node.args[0]), node.func.value
    if key is None or carrier is None or not _TOKEN_KEY.match(key):
        return None
    if any(w in key.lower() for w in ("csrf", "xsrf")):
        return None  # an anti-forgery token says nothing about who calls
    name = dotted(carrier)
    if isinstance(carrier, ast.Call):  # request.get_json()
        name = dotted(carrier.func)
    parts = name.split(".")
    if "request" not in name.lower() or not (
        parts[-1] in _CARRIERS or parts[-1] in ("get_json", "json")
    ):
        return None
    return key


def _lookup(call: ast.Call) -> bool:
    """A call that checks a token: a lookup, a verification, a decryption; not a transport
    decoding, nor a decode that says it verifies nothing (``verify_signature: False``)."""
    name = call.func.attr if isinstance(call.func, ast.Attribute) else last(dotted(call.func))
    low = name.lower()
    return (
        low not in _TRANSPORT
        and any(w in low for w in _LOOKUP_WORDS)
        and not skips_verification(call)
    )


def _uses(call: ast.Call, names: set[str], params: frozenset[str]) -> str | None:
    """The token a lookup call is handed: a variable holding it or the read itself."""
    for arg in [*call.args, *(k.value for k in call.keywords)]:
        for n in walk(arg):
            if isinstance(n, ast.Name) and n.id in names:
                return n.id
            key = _request_key(n, params)
            if key:
                return key
    return None


def _decoded(
    value: ast.expr, names: set[str], params: frozenset[str], held: dict[str, str]
) -> str | None:
    """The token a transport decoding of it holds (``_ENCODINGS`` calls only)."""
    if not isinstance(value, ast.Call):
        return None
    calls = [n for n in walk(value) if isinstance(n, ast.Call)]
    if not all(_encoding(c) for c in calls):
        return None
    for c in calls:
        used = _uses(c, names, params)
        if used:
            return held.get(used, used)
    return None


def _encoding(call: ast.Call) -> bool:
    func = call.func
    return (func.attr if isinstance(func, ast.Attribute) else last(dotted(func))) in _ENCODINGS


def token_lookup(
    top: list[ast.stmt], params: frozenset[str] = frozenset()
) -> tuple[str, int] | None:
    """(token key, line of the lookup) when the handler's top level looks a request token up.

    ``top``: the handler's top-level statements (looking through ``try`` / ``with``);
    ``params``: its parameter names.
    """
    held: dict[str, str] = {}  # variable -> request key it holds
    for stmt in top:
        if not isinstance(stmt, ast.Assign | ast.AnnAssign | ast.Expr | ast.Return):
            continue
        value = stmt.value
        if isinstance(value, ast.Await):
            value = value.value
        if value is None:
            continue
        for n in walk(value):
            if isinstance(n, ast.Call) and _lookup(n) and _request_key(n, params) is None:
                used = _uses(n, set(held), params)
                if used:
                    return held.get(used, used), stmt.lineno
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            # the token itself, or the token decoded (``b64decode(body.reset_key).decode()``)
            key = _request_key(value, params) or _decoded(value, set(held), params, held)
            if isinstance(target, ast.Name) and key:
                held[target.id] = key
    return None
