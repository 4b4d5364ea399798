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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from threatmodel.code.jsast import (
    FUNCTION_TYPES,
    call_args,
    callee,
    line_of,
    object_props,
    string_value,
    strings_of,
    unwrap,
    walk,
)
from threatmodel.code.treesitter import node_text
from threatmodel.frameworks._js.reject import source_line
from threatmodel.frameworks.nextjs.flow import Program, compile_function, compile_predicate
from threatmodel.frameworks.nextjs.nextauth import authorized_program

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


def _arrays(root: Node) -> dict[str, list[str]]:
    out = {}
    for node in walk(root):
        if node.type == "variable_declarator":
            name, value = (
                node.child_by_field_name("name"),
                unwrap(node.child_by_field_name("value")),
            )
            if name is None or value is None or value.type != "array":
                continue
            items = strings_of(value)
            if items is not None:
                out[node_text(name)] = items
    return out


def analyse(root: Node) -> dict[str, Any]:
    """{"matcher": patterns | None, "program": compiled guard logic | None}.

    The program is run per route path at link time (``nextjs_flow.run``).
    """
    matchers, arrays = _route_matchers(root), _arrays(root)
    fn, wrapper = _middleware_function(root)
    program: Program | None = None
    if wrapper is not None:
        program = _wrapper_program(wrapper, matchers, arrays)
    elif fn is not None:
        program = compile_function(fn, matchers, arrays)
    return {"matcher": _matcher(root), "program": program}


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
        if _exports_middleware(node) is not None:
            return None, node  # export { auth as middleware } (from "./auth")
        if is_default and value is not None and value.type == "identifier":
            return None, value  # export default auth
        if is_default and value is not None and value.type == "member_expression":
            obj = unwrap(value.child_by_field_name("object"))
            if obj is not None and obj.type == "call_expression" and callee(obj) == "NextAuth":
                return None, value  # export default NextAuth(authConfig).auth
    return None, None


def _exports_middleware(node: Node) -> str | None:
    """The local (or re-exported) name ``export { auth as middleware }`` exports."""
    for clause in (c for c in node.named_children if c.type == "export_clause"):
        for spec in clause.named_children:
            name, alias = spec.child_by_field_name("name"), spec.child_by_field_name("alias")
            if name is not None and node_text(alias or name) in ("middleware", "default"):
                return node_text(name)
    return None


def _reject_all(node: Node, why: str) -> Program:
    return [["reject", line_of(node), source_line(node), why]]


def _wrapper_program(
    wrapper: Node, matchers: dict[str, list[str]], arrays: dict[str, list[str]]
) -> Program | None:
    if wrapper.type == "export_statement":
        source = string_value(wrapper.child_by_field_name("source"))
        if source == "next-auth/middleware":  # export { default } from "next-auth/middleware"
            return _reject_all(wrapper, "next-auth/middleware")
        # NextAuth v5: export { auth as middleware } from "./auth" runs the config's
        # `authorized` callback, read where `auth` is defined
        local = _exports_middleware(wrapper) or ""
        return [["call", local, source]] if source else [["call", local]]
    if wrapper.type == "identifier":  # export default auth / const middleware = auth
        return [["call", node_text(wrapper)]]
    if wrapper.type == "member_expression":  # NextAuth(config).auth: config's callback
        obj = unwrap(wrapper.child_by_field_name("object"))
        args = call_args(obj) if obj is not None else []
        return (authorized_program(args[0]) or []) if args else []
    name = callee(wrapper)
    args = call_args(wrapper)
    inner = next((a for a in map(unwrap, args) if a is not None and a.type in FUNCTION_TYPES), None)
    program = compile_function(inner, matchers, arrays) if inner is not None else []
    if name == "withAuth":
        options = next((a for a in args if a.type == "object"), None)
        authorized = object_props(object_props(options).get("callbacks")).get("authorized")
        lets_all = authorized is not None and all(
            node_text(r).replace(" ", "").rstrip(";") == "returntrue"
            for r in walk(authorized)
            if r.type == "return_statement"
        )
        # withAuth itself redirects signed-out visitors unless `authorized` always says yes.
        return program if lets_all else _reject_all(wrapper, "withAuth") + program
    if name == "authMiddleware":  # Clerk (v4): everything but publicRoutes needs a session
        public = strings_of(object_props(args[0]).get("publicRoutes")) if args else None
        return [["if", ["path_match", public or []], [["pass"]], []], *_reject_all(wrapper, name)]
    if inner is not None and "." not in name:
        # auth((req) => ...): NextAuth v5 runs the `authorized` callback first, if any
        return [["guard", name], *program]
    return program if inner is not None else None


def helper_programs(
    root: Node, functions: dict[str, Node], exports: dict[str, Node]
) -> dict[str, Program]:
    """Programs of the exported functions a middleware may delegate to, when they refuse."""
    matchers, arrays = _route_matchers(root), _arrays(root)
    out = {}
    for name, fn in functions.items():
        if name in exports or any(v is fn for v in exports.values()):
            program = compile_function(fn, matchers, arrays)
            if "reject" in repr(program):
                out[name] = program
    return out


# A hostname literal: "app.example.com", "api.localhost:8888", "localhost".
_HOSTNAME = re.compile(r"^(?:[a-z0-9-]+\.)+[a-z0-9-]+(?::\d+)?$|^localhost(?::\d+)?$")


def host_values(
    root: Node, functions: dict[str, Node], exports: dict[str, Node]
) -> dict[str, dict[str, Any]]:
    """The hostname sets and host predicates a file exports, for a middleware that
    dispatches on the request's host (``ADMIN_HOSTNAMES.has(domain)``, ``isAppHost(d)``)."""
    arrays = _arrays(root)
    sets: dict[str, list[str]] = {}
    for node in walk(root):
        if node.type != "variable_declarator":
            continue
        name, value = node.child_by_field_name("name"), unwrap(node.child_by_field_name("value"))
        if name is None or value is None or node_text(name) not in exports:
            continue
        if value.type == "new_expression":
            args = value.child_by_field_name("arguments")
            value = unwrap(args.named_children[0]) if args and args.named_children else None
        # the literal members (a template such as `api.${DOMAIN}` is left out: a host folder
        # names a literal host)
        items = (
            [v for c in value.named_children if (v := string_value(c)) is not None]
            if value is not None and value.type == "array"
            else []
        )
        if any(_HOSTNAME.match(i) for i in items):
            sets[node_text(name)] = items
    fns: dict[str, Program] = {}
    for fname, fn in functions.items():
        if fname not in exports:
            continue
        literals = (string_value(n) for n in walk(fn) if n.type in ("string", "template_string"))
        if any(x is not None and _HOSTNAME.match(x) for x in literals):
            program = compile_predicate(fn, {**arrays, **sets})
            if program is not None:
                fns[fname] = program
    return {"hostsets": sets, "hostfns": fns}


def located(
    program: Program,
    mod: str,
    under_auth: bool = False,
    getter: Callable[[str], bool] | None = None,
) -> Program:
    """The helper's program with each refusal naming its file (for evidence).

    A redirect no identity check leads to (a short link sending everyone on to its
    destination) refuses no one in particular: it becomes a pass. ``getter(name)`` says
    whether a function the conditions call returns the session (``getUserViaToken``).
    """
    out: Program = []
    for s in program:
        if s[0] == "reject" and not under_auth and len(s) <= 3:
            # (a refusal that says why, NextAuth's `authorized` returning false, is one)
            out.append(["pass", *s[1:3], "", mod])
        elif s[0] == "reject":
            why = s[3] if len(s) > 3 else "redirects or rejects signed-out requests"
            out.append([*s[:3], why, mod])
        elif s[0] == "if":
            auth = under_auth or _tests_identity(s[1], getter)
            out.append(
                ["if", s[1], located(s[2], mod, auth, getter), located(s[3], mod, auth, getter)]
            )
        elif s[0] == "pass" and len(s) == 3:
            out.append([*s, "", mod])  # where the request is let through, for evidence
        else:
            out.append(s)
    return out


def _tests_identity(cond: Any, getter: Callable[[str], bool] | None) -> bool:
    if not isinstance(cond, list) or not cond:
        return False
    if cond[0] == "auth":
        return True
    if cond[0] == "callv":
        return getter is not None and getter(cond[1])
    return any(_tests_identity(c, getter) for c in cond[1:])
