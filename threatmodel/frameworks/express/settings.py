"""Security middleware of Node web apps and the settings they are built with.

Which package a middleware call comes from decides its kind (``helmet`` -> security
headers, ``cors``, ``csurf`` -> csrf, ``express-session`` -> session, ``express-rate-limit``
-> rate limit, ...), found through the file's imports rather than by guessing from names.
The options object of the call gives the stable settings the rules read:
``cors.allow_origins``, ``cors.allow_credentials``, ``session.cookie_secure``,
``csrf.enabled`` and ``secret_key``, whose value is only ever "hardcoded", "env" or
"unknown": the secret itself is never recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from threatmodel.code.jsast import (
    call_args,
    callee,
    dotted,
    line_of,
    literal_object,
    object_props,
    string_value,
    strings_of,
    unwrap,
    walk,
)
from threatmodel.code.treesitter import node_text

if TYPE_CHECKING:
    from tree_sitter import Node

PACKAGE_KINDS = {
    "helmet": "security_headers",
    "koa-helmet": "security_headers",
    "@fastify/helmet": "security_headers",
    "cors": "cors",
    "@koa/cors": "cors",
    "@fastify/cors": "cors",
    "csurf": "csrf",
    "csrf-csrf": "csrf",
    "lusca": "csrf",
    "@fastify/csrf-protection": "csrf",
    "express-session": "session",
    "cookie-session": "session",
    "koa-session": "session",
    "@fastify/session": "session",
    "@fastify/secure-session": "session",
    "express-rate-limit": "rate_limit",
    "express-slow-down": "rate_limit",
    "rate-limiter-flexible": "rate_limit",
    "@fastify/rate-limit": "rate_limit",
    "koa-ratelimit": "rate_limit",
    "passport": "auth",
    "express-jwt": "auth",
    "express-oauth2-jwt-bearer": "auth",
    "express-openid-connect": "auth",
}


def _package(call: Node, imports: dict[str, tuple[str, str]]) -> str | None:
    name = callee(call)
    if not name:
        return None
    origin = imports.get(name.split(".")[0])
    return origin[0] if origin is not None and origin[0] in PACKAGE_KINDS else None


def middleware_kind(call: Node, imports: dict[str, tuple[str, str]]) -> list[str] | None:
    """[kind, package] of a call that builds a known security middleware, else None."""
    if call.type != "call_expression":
        return None
    pkg = _package(call, imports)
    if pkg is None:
        return None
    name = callee(call)
    if pkg == "lusca" and not name.endswith("csrf"):
        return ["security_headers", pkg]
    return [PACKAGE_KINDS[pkg], pkg]


def _secret_source(node: Node | None, consts: dict[str, str]) -> str:
    node = unwrap(node)
    if node is None:
        return "unknown"
    if strings_of(node) is not None:
        return "hardcoded"
    if node.type == "identifier" and node_text(node) in consts:
        return "hardcoded"
    if any(
        n.type == "member_expression" and dotted(n) in ("process.env", "import.meta.env")
        for n in walk(node)
    ):
        return "env"
    return "unknown"


def _bool(node: Node | None) -> str | None:
    node = unwrap(node)
    if node is None:
        return None
    text = node_text(node)
    if text in ("true", "false"):
        return text
    value = string_value(node)
    return value if value is not None else "dynamic"


def _origins(node: Node | None) -> str:
    node = unwrap(node)
    if node is None:
        return "*"  # the cors package's default origin
    items = strings_of(node)
    if items is not None:
        return ",".join(items)
    text = node_text(node)
    if text == "true":
        return "reflect"  # echoes any request Origin back
    if text == "false":
        return "none"
    return "dynamic"


def may_configure(imports: dict[str, tuple[str, str]]) -> bool:
    """Can ``settings_of`` find anything in a file with these imports? Every setting comes
    from a call to something imported from cookie-parser or a PACKAGE_KINDS package."""
    return any(spec == "cookie-parser" or spec in PACKAGE_KINDS for spec, _ in imports.values())


def settings_of(
    call: Node, imports: dict[str, tuple[str, str]], consts: dict[str, str]
) -> list[list[Any]]:
    """[key, value, line] settings this call configures (empty for unrelated calls)."""
    line = line_of(call)
    name = callee(call)
    origin = imports.get(name.split(".")[0], ("", ""))[0] if name else ""
    args = call_args(call)
    if origin == "cookie-parser" and args:
        return [["secret_key", _secret_source(args[0], consts), line]]
    kind = middleware_kind(call, imports)
    if kind is None:
        return []
    # options written in place or held in a name (``cors(corsOptions)``); each setting is
    # located where its value is written
    literal = literal_object(args[0]) if args else None
    opts = object_props(literal)

    def at(key: str) -> int:
        return line_of(opts[key]) if key in opts else line

    if kind[0] == "cors":
        origins = _origins(opts.get("origin")) if literal or not args else "dynamic"
        out = [["cors.allow_origins", origins, at("origin")]]
        creds = _bool(opts.get("credentials"))
        if creds is not None:
            out.append(["cors.allow_credentials", creds, at("credentials")])
        return out
    if kind[0] == "session":
        out = []
        if "secret" in opts or "keys" in opts:
            secret = opts.get("secret") or opts.get("keys")
            out.append(["secret_key", _secret_source(secret, consts), line])
        cookie = object_props(unwrap(opts.get("cookie")))
        secure = _bool(cookie.get("secure")) if cookie else _bool(opts.get("secure"))
        out.append(["session.cookie_secure", secure or "false", line])
        return out
    if kind[0] == "csrf" and (kind[1] != "lusca" or name.endswith("csrf")):
        return [["csrf.enabled", "true", line]]
    return []
