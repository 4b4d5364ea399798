"""Which request paths a Next.js middleware function turns away when the caller is signed out.

Middleware usually branches on the path (``pathname.startsWith('/login')``, Clerk
``isProtectedRoute(req)``) and on the session (``const token = await getToken({req})``),
so "does it guard /settings?" depends on both. Extract time compiles the function body into
a small JSON program (statements: ``if``/``reject``/``pass``/``call``; conditions over
``path``, ``host``, ``auth`` and constants, with local variables inlined); link time runs
that program (``nextjs_run``) for each route path with every auth lookup falsy, i.e. as an
anonymous visitor. Tests of the deployment environment (``process.env.NODE_ENV``,
``VERCEL_ENV``) are judged as in production. A path is
guarded when that run reaches a redirect, rewrite, 401/403 response, ``auth.protect()``
or ``throw`` before the function returns anything else.
"""

from __future__ import annotations

import re
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
# Destructured names that hold the request's path or host (``const { domain, path } =
# parse(req)``): the words URL helpers use for them.
_NAMED_KINDS = {
    "path": "path",
    "pathname": "path",
    "domain": "host",
    "host": "host",
    "hostname": "host",
}
# The deployment environment's name (NODE_ENV, VERCEL_ENV, NEXT_PUBLIC_VERCEL_ENV, APP_ENV).
_DEPLOY_ENV = re.compile(r"^process\.env\.(?:[A-Z_]*_)?ENV$")


class _Compiler:
    def __init__(self, matchers: dict[str, list[str]]) -> None:
        self.matchers = matchers
        self.vars: dict[str, Any] = {}
        # local names holding the request's path or host ("path" / "host")
        self.kinds: dict[str, str] = {}
        self.predicate = False  # compiling a host predicate: `return <cond>` is its value
        # compiling NextAuth's `authorized` callback: a falsy return sends to sign-in
        self.authorized = False

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
                cond = self.cond(value)
                if _looks_up(value) and not _tests_route(cond):
                    # (a test of the path, `AUTHENTICATED_PATHS.some(...)`, is not a lookup)
                    cond = ["auth"]
                elif cond == ["unknown"] and (who := self._keyed_by_caller(value)) is not None:
                    # db.members.findUnique({ userId: user.id, ... }): the caller's role
                    cond = ["role", who]
                self._bind_kinds(name, value)
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
            if self.predicate:
                expr = s.named_children[0] if s.named_children else None
                return [["ret", self.cond(expr)]]
            found = rejection(s) or _protect(s)
            if found is not None:
                return [["reject", line_of(found), source_line(found)]]
            value = unwrap(s.named_children[0]) if s.named_children else None
            if self.authorized:
                refuse = [["reject", line_of(s), source_line(s), _AUTHORIZED]]
                cond = self.cond(value) if value is not None else ["const", False]
                return [["if", cond, [["pass"]], refuse]]
            if value is not None and value.type == "call_expression" and "." not in callee(value):
                # return updateSession(req): the helper decides, read where it is defined
                return [["call", callee(value)]] if callee(value) else [["pass"]]
            return [["pass", line_of(s), source_line(s)]]
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

    def _bind_kinds(self, name: Node, value: Node) -> None:
        """Remember which local names hold the request's path or host."""
        if name.type == "identifier":
            kind = self._kind(value)
            if kind is not None:
                self.kinds[node_text(name)] = kind
            return
        v = unwrap(value)
        if name.type != "object_pattern" or v is None:
            return
        if v.type == "call_expression" and not call_args(v):
            return
        # const { domain, path } = parse(req) / const { pathname } = req.nextUrl
        for p in name.named_children:
            key = local = p
            if p.type == "pair_pattern":
                key, local = p.child_by_field_name("key") or p, p.child_by_field_name("value") or p
            kind = _NAMED_KINDS.get(node_text(key))
            if kind is not None and local.type in (
                "identifier",
                "shorthand_property_identifier_pattern",
            ):
                self.kinds[node_text(local)] = kind

    def _kind(self, node: Node | None) -> str | None:
        """ "path" / "host" when ``node`` is the request's path or host."""
        node = unwrap(node)
        if node is None:
            return None
        if node.type == "identifier":
            return self.kinds.get(node_text(node))
        if node.type == "member_expression":
            last = dotted(node).rpartition(".")[2]
            if last == "pathname":
                return "path"
            return "host" if last in ("hostname", "host") else None
        if node.type == "call_expression" and callee(node).endswith("headers.get"):
            args = call_args(node)
            header = (string_value(args[0]) or "").lower() if args else ""
            return "host" if header in ("host", "x-forwarded-host") else None
        return None

    def _strings(self, node: Node | None) -> list[str] | None:
        """A literal list of strings: ``[...]``, ``new Set([...])`` or a module-level array."""
        node = unwrap(node)
        if node is None:
            return None
        if node.type == "new_expression":
            args = node.child_by_field_name("arguments")
            first = args.named_children[0] if args is not None and args.named_children else None
            return strings_of(unwrap(first)) if first is not None else None
        if node.type == "identifier":
            return self._array(node_text(node))
        return strings_of(node)

    def _compare(self, left: Node | None, right: Node | None, negate: bool) -> Any:
        for a, b in ((left, right), (right, left)):
            if a is None or b is None:
                continue
            lit = string_value(b)
            kind = self._kind(a)
            if lit is not None and kind is not None:
                op = "path_eq" if kind == "path" else "host_eq"
                return ["not", [op, lit]] if negate else [op, lit]
            if lit is not None and _DEPLOY_ENV.match(dotted(a)):
                # judged as deployed: NODE_ENV / VERCEL_ENV compare equal to "production" only
                return ["const", (lit == "production") != negate]
            if node_text(b) in ("null", "undefined") and self.cond(a) == ["auth"]:
                return ["auth"] if negate else ["not", ["auth"]]
        return ["unknown"]

    def _call(self, node: Node) -> Any:
        name = callee(node)
        args = call_args(node)
        if is_auth_lookup(node) and not self._mentions_path(node):
            # (`AUTHENTICATED_PATHS.some(p => path.startsWith(p))` tests the path)
            return ["auth"]
        host = self._host_test(node, args)
        if host is not None:
            return host
        if name.endswith("startsWith") and args and (lit := string_value(args[0])) is not None:
            return ["path_match", [lit + "(.*)"]]
        if name in self.matchers:
            return ["path_match", self.matchers[name]]
        fn = node.child_by_field_name("function")
        if name.endswith(("has", "includes")) and args and self._kind(args[0]) == "path":
            obj = fn.child_by_field_name("object") if fn is not None else None
            items = self._strings(obj)
            if items:
                return ["path_match", items]
        if name.endswith(("some", "includes")) and self._mentions_path(node) and fn is not None:
            obj = fn.child_by_field_name("object")
            items = strings_of(unwrap(obj)) or self._array(dotted(obj))
            if items:
                suffix = "(.*)" if "startsWith" in node_text(node) else ""
                return ["path_match", [i + suffix for i in items]]
        return self._callv(node)

    def _keyed_by_caller(self, value: Node) -> Any:
        """The identity (its condition) a method call's arguments name, else None."""
        call = unwrap(value)
        if call is None or call.type != "call_expression" or "." not in callee(call):
            return None
        for n in walk(call.child_by_field_name("arguments") or call):
            known = self.vars.get(node_text(n)) if n.type == "identifier" else None
            if known == ["auth"] or (isinstance(known, list) and known[:1] == ["callv"]):
                return known
        return None

    def _callv(self, node: Node) -> Any:
        """A call of a function defined elsewhere (``getUserViaToken(req)``): falsy for an
        anonymous caller when that function returns an auth lookup's result (``nextjs_run``)."""
        fn = node.child_by_field_name("function")
        if fn is not None and fn.type == "identifier":
            return ["callv", node_text(fn)]
        return ["unknown"]

    def _host_test(self, node: Node, args: list[Node]) -> Any:
        """``HOSTS.has(host)``, ``host.endsWith('.x.com')``, ``isAppHost(host)``, else None."""
        fn = node.child_by_field_name("function")
        if fn is None:
            return None
        if fn.type == "identifier":
            if any(self._kind(a) == "host" for a in args):
                return ["host_fn", node_text(fn)]  # a predicate, read where it is defined
            return None
        if fn.type != "member_expression":
            return None
        obj = fn.child_by_field_name("object")
        prop = node_text(fn.child_by_field_name("property") or fn)
        if prop in ("has", "includes") and args and self._kind(args[0]) == "host":
            items = self._strings(obj)
            if items is not None:
                return ["host_in_list", items]
            ref = unwrap(obj)
            if ref is not None and ref.type == "identifier":
                return ["host_in", node_text(ref)]
            return None
        if prop in ("startsWith", "endsWith") and self._kind(obj) == "host" and args:
            lit = string_value(args[0])
            if lit is not None:
                return ["host_prefix" if prop == "startsWith" else "host_suffix", lit]
            return ["unknown"]
        return None

    def _mentions_path(self, node: Node) -> bool:
        return "pathname" in node_text(node) or any(
            n.type == "identifier" and self.kinds.get(node_text(n)) == "path" for n in walk(node)
        )

    def _array(self, name: str) -> list[str] | None:
        value = self.vars.get(name)
        return value[1] if isinstance(value, list) and value[:1] == ["array"] else None


def _tests_route(cond: Any) -> bool:
    r = repr(cond)
    return "'path_" in r or "'host_" in r


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


_AUTHORIZED = "NextAuth's authorized callback refuses, sending to sign-in"


def compile_authorized(fn: Node) -> Program:
    """NextAuth's ``authorized({ auth, request })`` callback: a falsy return refuses."""
    c = _Compiler({})
    c.authorized = True
    params = fn.child_by_field_name("parameters")
    for p in walk(params) if params is not None else []:
        if p.type == "shorthand_property_identifier_pattern" and node_text(p) == "auth":
            c.vars["auth"] = ["auth"]
    body = fn.child_by_field_name("body")
    if body is not None and body.type != "statement_block":
        refuse = [["reject", line_of(body), source_line(body), _AUTHORIZED]]
        return [["if", c.cond(body), [["pass"]], refuse]]
    return c.block(body)


def compile_predicate(fn: Node, arrays: dict[str, list[str]]) -> Program | None:
    """A host predicate (``isAppHostname(host)``) as a program of ``["ret", cond]``
    statements over its first parameter, which is the host."""
    params = fn.child_by_field_name("parameters") or fn.child_by_field_name("parameter")
    if params is None:
        return None
    first = next((n for n in walk(params) if n.type == "identifier"), None)
    if first is None:
        return None
    c = _Compiler({})
    c.vars.update({k: ["array", v] for k, v in arrays.items()})
    c.kinds[node_text(first)] = "host"
    c.predicate = True
    body = fn.child_by_field_name("body")
    if body is None:
        return None
    if body.type != "statement_block":
        return [["ret", c.cond(body)]]
    program = c.block(body)
    return program if "'ret'" in repr(program) else None
