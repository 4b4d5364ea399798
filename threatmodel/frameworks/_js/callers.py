"""Gates on callers that are not logins, and ownership checks a route delegates.

A verified webhook signature (Stripe ``constructEvent``, Svix / QStash ``verify``, an HMAC
compared with ``timingSafeEqual`` or ``!==``), an API key compared in constant time, and a
secret token from the URL that a record is looked up by all gate who may call a route;
each is reported with its mechanism named (``webhook_signature``, ``api_key``,
``url_token``). ``owner_params`` and ``identity_calls`` let a route's handler be judged by
the service it hands the caller's id to (``if (article.author.id !== userId) throw 403``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from threatmodel.code.jsast import (
    body_of,
    call_args,
    callee,
    dotted,
    line_of,
    nodes_of,
    params,
    unwrap,
    walk,
)
from threatmodel.code.treesitter import node_text

if TYPE_CHECKING:
    from tree_sitter import Node
from threatmodel.frameworks._js.reject import (
    NOT_YOURS,
    REQUEST_AUTH,
    mentions,
    names_in,
    rejection,
    source_line,
)

_CALLS = frozenset({"call_expression"})

# Library calls that verify a webhook sender's signature and fail (throw or answer false,
# which callers turn into a refusal) when it does not match: Stripe, Svix, QStash, Slack,
# GitHub-style HMAC compares.
_SIGNATURE_CALLS = frozenset({"constructEvent", "constructEventAsync", "verifySlackRequest"})
# A constant-time comparison exists to compare a secret: crypto.timingSafeEqual and the
# helpers and packages that wrap it (safeEqual, secureCompare, safe-compare, tsscmp, scmp).
CONSTANT_TIME = re.compile(
    r"^(?:timing_?safe_?(?:equal|compare)s?|safe_?(?:equal|compare)s?|secure_?(?:equal|compare)s?"
    r"|constant_?time_?(?:equal|compare)s?|tsscmp|scmp)$",
    re.IGNORECASE,
)
_SIGNATURE_WORDS = ("signature", "svix", "webhook", "hmac", "upstash")


def signature_check(fn: Node) -> dict[str, Any] | None:
    """A handler (or wrapper) that verifies a webhook signature before acting."""
    body = body_of(fn)
    if body is None:
        return None
    shared = _env_secret_compare(body)
    if shared is not None:
        return {
            "v": "authenticated",
            "why": "compares a request header with a secret from the environment",
            "mechanism": "api_key",
            "line": line_of(shared),
            "s": source_line(shared),
        }
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
        constant_time = bool(CONSTANT_TIME.match(last))
        found = last in _SIGNATURE_CALLS or constant_time
        if not found and last == "verify":
            # receiver.verify({signature, body}) / wh.verify(payload, headers): a signature
            # verifier, unlike jwt.verify, is handed the signature or the svix headers
            text = node_text(node).lower()
            found = any(w in text or w in name.lower() for w in _SIGNATURE_WORDS)
        if found:
            mechanism, what = _secret_kind(body) if constant_time else _WEBHOOK
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
            digests |= names_in(name)
    if not digests:
        return None
    for node in nodes_of(body, _IFS):
        cond, then = node.child_by_field_name("condition"), node.child_by_field_name("consequence")
        if cond is not None and then is not None and mentions(cond, digests):
            found = rejection(then)
            if found is not None:
                return found
    return None


_ENV_SECRET = re.compile(r"process\.env\.\w*(?:SECRET|TOKEN|KEY|PASSWORD)\w*", re.IGNORECASE)
_UNEQUAL = frozenset({"!==", "!="})


def _env_secret_compare(body: Node) -> Node | None:
    """``const secret = process.env.CRON_SECRET; if (auth !== `Bearer ${secret}`) return
    401``: a header the caller sends must equal a secret only the server knows (a shared
    API key, a cron secret). The refusal is returned; the header must be read in the
    handler (``req.headers.get(...)``) so that a secret compared with a body field or a
    constant is not taken for a gate."""
    text = node_text(body)
    if "headers" not in text or not _ENV_SECRET.search(text):
        return None
    secrets: set[str] = set()
    for d in nodes_of(body, _DIGESTS):
        value, name = d.child_by_field_name("value"), d.child_by_field_name("name")
        if value is not None and name is not None and _ENV_SECRET.search(node_text(value)):
            secrets |= names_in(name)
    for node in nodes_of(body, _IFS):
        cond, then = node.child_by_field_name("condition"), node.child_by_field_name("consequence")
        if cond is None or then is None:
            continue
        for cmp in walk(cond):
            op = cmp.child_by_field_name("operator")
            if cmp.type != "binary_expression" or op is None or node_text(op) not in _UNEQUAL:
                continue
            if mentions(cmp, secrets) or _ENV_SECRET.search(node_text(cmp)):
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


def owned_lookup(value: Node, auth_vars: set[str]) -> bool:
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
        if mentions(v, auth_vars):
            identity = True
        elif v.type != "binary_expression" or v.named_children:
            other = True
    return identity and other


_SECRET_PARAMS = ("token", "secret")


def by_link_token(value: Node) -> bool:
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
                    reject = rejection(then, NOT_YOURS)
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
            if name and text.startswith(REQUEST_AUTH):
                out.append([name, i, line_of(call)])
    return out[:20]
