"""Which request paths a Next.js middleware function turns away when the caller is signed out.

Middleware usually branches on the path (``pathname.startsWith('/login')``, Clerk
``isProtectedRoute(req)``) and on the session (``const token = await getToken({req})``),
so "does it guard /settings?" depends on both. Extract time compiles the function body into
a small JSON program (statements: ``if``/``reject``/``pass``; conditions over ``path``,
``auth`` and constants, with local variables inlined); link time runs that program for
each route path with every auth lookup falsy, i.e. as an anonymous visitor. A path is
guarded when that run reaches a redirect, rewrite, 401/403 response, ``auth.protect()``
or ``throw`` before the function returns anything else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from threatmodel.code.jsast import (
    call_args,
    callee,
    dotted,
    line_of,
    string_value,
    strings_of,
    unwrap,
    walk,
)
from threatmodel.code.treesitter import node_text
from threatmodel.frameworks._js.handler import is_auth_lookup
from threatmodel.frameworks._js.reject import rejection, source_line

if TYPE_CHECKING:
    from tree_sitter import Node

Program = list[Any]
_REQUEST_AUTH = ("req.auth", "request.auth", "req.user")


class _Compiler:
    def __init__(self, matchers: dict[str, list[str]]) -> None:
        self.matchers = matchers
        self.vars: dict[str, Any] = {}

    def block(self, node: Node | None) -> Program:
        if node is None:
            return []
        stmts = node.named_children if node.type == "statement_block" else [node]
        out: Program = []
        for s in stmts:
            out.extend(self.stmt(s))
        return out

    def stmt(self, s: Node) -> Program:
        t = s.type
        if t in ("lexical_declaration", "variable_declaration"):
            for d in s.named_children:
                name, value = d.child_by_field_name("name"), d.child_by_field_name("value")
                if name is None or value is None:
                    continue
                cond = ["auth"] if _looks_up(value) else self.cond(value)
                for n in walk(name):
                    if n.type in ("identifier", "shorthand_property_identifier_pattern"):
                        self.vars[node_text(n)] = cond
            return []
        if t == "if_statement":
            cond = s.child_by_field_name("condition")
            alt = s.child_by_field_name("alternative")
            if alt is not None and alt.type == "else_clause":
                alt = alt.named_children[0] if alt.named_children else None
            return [
                [
                    "if",
                    self.cond(cond),
                    self.block(s.child_by_field_name("consequence")),
                    self.block(alt),
                ]
            ]
        if t == "statement_block":
            return self.block(s)
        if t == "try_statement":
            return self.block(s.child_by_field_name("body"))
        if t == "throw_statement":
            return [["reject", line_of(s), source_line(s)]]
        if t == "return_statement":
            found = rejection(s) or _protect(s)
            if found is not None:
                return [["reject", line_of(found), source_line(found)]]
            value = unwrap(s.named_children[0]) if s.named_children else None
            if value is not None and value.type == "call_expression" and "." not in callee(value):
                # return updateSession(req): the helper decides, read where it is defined
                return [["call", callee(value)]] if callee(value) else [["pass"]]
            return [["pass"]]
        if t == "expression_statement":
            found = _protect(s) or _bare_redirect(s)
            if found is not None:
                return [["reject", line_of(found), source_line(found)]]
        return []

    def cond(self, node: Node | None) -> Any:
        node = unwrap(node)
        if node is None:
            return ["unknown"]
        t = node.type
        if t in ("true", "false"):
            return ["const", t == "true"]
        if t == "unary_expression" and node_text(node).startswith("!"):
            return ["not", self.cond(node.named_children[0] if node.named_children else None)]
        if t == "binary_expression":
            op = node_text(node.child_by_field_name("operator") or node)
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if op in ("&&", "||"):
                return ["and" if op == "&&" else "or", self.cond(left), self.cond(right)]
            if op in ("===", "==", "!==", "!="):
                return self._compare(left, right, op.startswith("!"))
            return ["unknown"]
        if t == "identifier":
            return self.vars.get(node_text(node), ["unknown"])
        if t == "member_expression":
            name = dotted(node)
            root = name.split(".")[0]
            if self.vars.get(root) == ["auth"] or name.startswith(_REQUEST_AUTH):
                return ["auth"]
            return ["unknown"]
        if t == "call_expression":
            return self._call(node)
        return ["unknown"]

    def _compare(self, left: Node | None, right: Node | None, negate: bool) -> Any:
        for a, b in ((left, right), (right, left)):
            if a is None or b is None:
                continue
            lit = string_value(b)
            if lit is not None and dotted(a).endswith("pathname"):
                return ["not", ["path_eq", lit]] if negate else ["path_eq", lit]
            if node_text(b) in ("null", "undefined") and self.cond(a) == ["auth"]:
                return ["auth"] if negate else ["not", ["auth"]]
        return ["unknown"]

    def _call(self, node: Node) -> Any:
        name = callee(node)
        args = call_args(node)
        if is_auth_lookup(node):
            return ["auth"]
        if name.endswith("startsWith") and args and (lit := string_value(args[0])) is not None:
            return ["path_match", [lit + "(.*)"]]
        if name in self.matchers:
            return ["path_match", self.matchers[name]]
        fn = node.child_by_field_name("function")
        if name.endswith(("some", "includes")) and "pathname" in node_text(node) and fn is not None:
            obj = fn.child_by_field_name("object")
            items = strings_of(unwrap(obj)) or self._array(dotted(obj))
            if items:
                suffix = "(.*)" if "startsWith" in node_text(node) else ""
                return ["path_match", [i + suffix for i in items]]
        return ["unknown"]

    def _array(self, name: str) -> list[str] | None:
        value = self.vars.get(name)
        return value[1] if isinstance(value, list) and value[:1] == ["array"] else None


def _looks_up(value: Node) -> bool:
    return any(n.type == "call_expression" and is_auth_lookup(n) for n in walk(value))


def _protect(node: Node) -> Node | None:
    return next(
        (n for n in walk(node) if n.type == "call_expression" and callee(n).endswith("protect")),
        None,
    )


def _bare_redirect(node: Node) -> Node | None:
    """``redirect('/login')`` from next/navigation ends the request without a return."""
    return next(
        (
            n
            for n in walk(node)
            if n.type == "call_expression" and callee(n) in ("redirect", "notFound")
        ),
        None,
    )


def compile_function(
    fn: Node, matchers: dict[str, list[str]], arrays: dict[str, list[str]]
) -> Program:
    c = _Compiler(matchers)
    c.vars.update({k: ["array", v] for k, v in arrays.items()})
    return c.block(fn.child_by_field_name("body"))


def run(
    program: Program, path: str, resolve: Callable[[str], Program | None] | None = None
) -> list[Any] | None:
    """The reject statement an anonymous request to ``path`` reaches, or None.

    ``resolve`` gives the program of a function the middleware hands the request to
    (``return updateSession(req)``); one it cannot give lets the request through."""
    depth = [0]
    from threatmodel.frameworks.nextjs.middleware import matches  # nextjs_mw imports this module

    def value(c: Any) -> bool | None:
        op = c[0]
        if op == "const":
            return bool(c[1])
        if op == "auth":
            return False  # anonymous: every session / token lookup comes back empty
        if op == "not":
            v = value(c[1])
            return None if v is None else not v
        if op in ("and", "or"):
            a, b = value(c[1]), value(c[2])
            if op == "and":
                return (
                    False
                    if a is False or b is False
                    else (None if a is None or b is None else True)
                )
            return True if a is True or b is True else (None if a is None or b is None else False)
        if op == "path_eq":
            return path == c[1]
        if op == "path_match":
            return matches(c[1], path)
        return None

    def execute(stmts: Program) -> tuple[str, list[Any] | None]:
        for s in stmts:
            if s[0] == "reject":
                return "reject", s
            if s[0] == "pass":
                return "pass", None
            if s[0] == "call":
                sub = resolve(s[1]) if resolve is not None and depth[0] < 3 else None
                if sub is None:
                    return "pass", None
                depth[0] += 1
                kind, found = execute(sub)
                depth[0] -= 1
                return ("reject", found) if kind == "reject" else ("pass", None)
            if s[0] == "if":
                v = value(s[1])
                branches = [s[2]] if v is True else [s[3]] if v is False else [s[2], s[3]]
                results = [execute(b) for b in branches]
                if all(r[0] == "reject" for r in results):
                    return results[0]
                if any(r[0] == "pass" for r in results) and v is not None:
                    return "pass", None
        return "fall", None

    kind, stmt = execute(program)
    return stmt if kind == "reject" else None
