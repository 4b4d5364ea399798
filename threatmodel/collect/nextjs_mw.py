"""Next.js ``middleware.ts``: which paths it runs on and whether it really turns callers away.

The ``config.matcher`` (strings or ``{source}`` objects, path-to-regexp syntax with
optional regex groups) decides which request paths the middleware sees at all; a path it
misses is not guarded by it, whatever the middleware does. Inside, a guard counts only when
an auth-conditioned branch redirects, rewrites or answers 401/403 (``jshandler``); a
middleware that only logs or sets headers guards nothing. ``pathname.startsWith('/x')`` and
Clerk ``createRouteMatcher([...])`` conditions around the rejection narrow (or, negated or
as an early ``NextResponse.next()``, widen the exceptions of) the guarded paths.
Wrappers are recognised: next-auth's ``withAuth`` (always redirects to sign-in), Clerk's
``clerkMiddleware`` (guards only where it calls ``auth.protect()``), ``authMiddleware``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from threatmodel.collect.jsast import (
    FUNCTION_TYPES,
    call_args,
    callee,
    dotted,
    object_props,
    string_value,
    strings_of,
    unwrap,
    walk,
)
from threatmodel.collect.jshandler import handler_auth, rejection
from threatmodel.collect.treesitter import node_text

if TYPE_CHECKING:
    from tree_sitter import Node


def matcher_regex(pattern: str) -> re.Pattern[str] | None:
    """A Next.js matcher (path-to-regexp with regex groups) as a Python regex."""
    out, i = "", 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "/" and pattern[i + 1 : i + 2] == ":":
            j = i + 2
            while j < len(pattern) and (pattern[j].isalnum() or pattern[j] == "_"):
                j += 1
            mod = pattern[j : j + 1]
            if mod == "*":
                out, j = out + "(?:/.*)?", j + 1
            elif mod == "+":
                out, j = out + "/.+", j + 1
            elif mod == "?":
                out, j = out + "(?:/[^/]+)?", j + 1
            else:
                out += "/[^/]+"
            i = j
            continue
        out += ch if ch in "()|?!*+.[]^\\{}" else re.escape(ch)
        i += 1
    try:
        return re.compile("^" + out + "/?$")
    except re.error:
        return None


def matches(patterns: list[str] | None, path: str) -> bool:
    """Does the middleware run for ``path``? No matcher: it runs for every path."""
    if patterns is None:
        return True
    sample = re.sub(r"\{[^/]+\}", "x", path)  # a concrete value for each parameter
    return any((rx := matcher_regex(p)) is not None and rx.match(sample) for p in patterns)


def _matcher(root: Node) -> list[str] | None:
    for node in walk(root):
        if (
            node.type != "variable_declarator"
            or node_text(node.child_by_field_name("name") or node) != "config"
        ):
            continue
        props = object_props(unwrap(node.child_by_field_name("value")))
        value = unwrap(props.get("matcher"))
        if value is None:
            return None
        items = value.named_children if value.type == "array" else [value]
        out = []
        for item in items:
            text = string_value(item)
            if text is None and item.type == "object":
                text = string_value(object_props(item).get("source"))
            if text is not None:
                out.append(text)
        return out
    return None


def _route_matchers(root: Node) -> dict[str, list[str]]:
    """``const isProtected = createRouteMatcher(['/dashboard(.*)'])`` -> name: patterns."""
    out = {}
    for node in walk(root):
        if node.type == "variable_declarator":
            value = unwrap(node.child_by_field_name("value"))
            name = node.child_by_field_name("name")
            if value is None or name is None or value.type != "call_expression":
                continue
            if callee(value) == "createRouteMatcher":
                args = call_args(value)
                out[node_text(name)] = (strings_of(args[0]) or []) if args else []
    return out


def _path_conditions(
    cond: Node, matchers: dict[str, list[str]], negated: bool, scope: dict[str, list[str]]
) -> None:
    for n in walk(cond):
        neg = negated
        p = n.parent
        while p is not None and p is not cond.parent:
            if p.type == "unary_expression" and node_text(p).startswith("!"):
                neg = not neg
            p = p.parent
        if n.type != "call_expression":
            continue
        args = call_args(n)
        name = callee(n)
        patterns: list[str] = []
        if name.endswith("startsWith") and args and (s := string_value(args[0])) is not None:
            patterns = [s + "(.*)"]
        elif name in matchers:
            patterns = matchers[name]
        scope["except" if neg else "only"].extend(patterns)


def analyse(root: Node) -> dict[str, Any]:
    """{"matcher": [...] | None, "guard": verdict with "only"/"except" patterns | None}."""
    matchers = _route_matchers(root)
    fn, wrapper = _middleware_function(root)
    guard: dict[str, Any] | None = None
    if wrapper is not None:
        guard = _wrapper_guard(wrapper)
    if fn is not None and guard is None:
        guard = handler_auth(fn)
        if guard is not None:
            guard["scope"] = _scope(fn, matchers)
    return {"matcher": _matcher(root), "guard": guard}


def _scope(fn: Node, matchers: dict[str, list[str]]) -> dict[str, list[str]]:
    scope: dict[str, list[str]] = {"only": [], "except": []}
    for node in walk(fn):
        if node.type != "if_statement":
            continue
        cond, then = node.child_by_field_name("condition"), node.child_by_field_name("consequence")
        if cond is None or then is None:
            continue
        if rejection(then) is not None or _protects(then):
            _path_conditions(cond, matchers, False, scope)
        elif "next()" in node_text(then) and "return" in node_text(then):
            _path_conditions(cond, matchers, True, scope)  # early pass-through: not guarded
    return scope


def _protects(node: Node) -> bool:
    return any(n.type == "call_expression" and callee(n).endswith("protect") for n in walk(node))


def _middleware_function(root: Node) -> tuple[Node | None, Node | None]:
    """(the middleware function, or the wrapper call it is built with)."""
    for node in root.named_children:
        if node.type != "export_statement":
            continue
        is_default = any(c.type == "default" for c in node.children)
        decl = node.child_by_field_name("declaration")
        value = unwrap(node.child_by_field_name("value"))
        if decl is not None and decl.type == "function_declaration":
            name = node_text(decl.child_by_field_name("name") or decl)
            if is_default or name == "middleware":
                return decl, None
        if decl is not None and decl.type in ("lexical_declaration", "variable_declaration"):
            for d in decl.named_children:
                if node_text(d.child_by_field_name("name") or d) == "middleware":
                    v = unwrap(d.child_by_field_name("value"))
                    if v is not None and v.type in FUNCTION_TYPES:
                        return v, None
                    return None, v
        if is_default and value is not None:
            if value.type in FUNCTION_TYPES:
                return value, None
            if value.type == "call_expression":
                return None, value
        source = string_value(node.child_by_field_name("source"))
        if source == "next-auth/middleware":
            return None, node
    return None, None


def _wrapper_guard(wrapper: Node) -> dict[str, Any] | None:
    if wrapper.type == "export_statement":  # export { default } from "next-auth/middleware"
        return {
            "v": "authenticated",
            "why": "next-auth/middleware redirects to sign-in",
            "line": wrapper.start_point[0] + 1,
            "scope": {"only": [], "except": []},
        }
    name = callee(wrapper)
    args = call_args(wrapper)
    inner = next((a for a in map(unwrap, args) if a is not None and a.type in FUNCTION_TYPES), None)
    line = wrapper.start_point[0] + 1
    if name == "withAuth":
        return {
            "v": "authenticated",
            "why": "next-auth withAuth redirects to sign-in",
            "line": line,
            "scope": {"only": [], "except": []},
        }
    if name == "authMiddleware":
        public = strings_of(object_props(args[0]).get("publicRoutes")) if args else None
        return {
            "v": "authenticated",
            "why": "Clerk authMiddleware",
            "line": line,
            "scope": {"only": [], "except": public or []},
        }
    if inner is not None:
        found = handler_auth(inner)
        if found is not None:
            found["scope"] = _scope(inner, _route_matchers(_root(wrapper)))
            return found
    if dotted(wrapper.child_by_field_name("function")) in ("auth", "NextAuth"):
        return {
            "v": "unknown",
            "why": "NextAuth middleware: guarded only if its authorized callback says so",
            "line": line,
            "scope": {"only": [], "except": []},
        }
    return None


def _root(node: Node) -> Node:
    while node.parent is not None:
        node = node.parent
    return node


def in_scope(guard: dict[str, Any], path: str) -> bool:
    scope = guard.get("scope") or {}
    only, exc = scope.get("only") or [], scope.get("except") or []
    if only and not matches(only, path):
        return False
    return not (exc and matches(exc, path))
