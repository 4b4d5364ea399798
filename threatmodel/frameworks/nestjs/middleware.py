"""NestJS module middleware: ``consumer.apply(Mw).exclude(...).forRoutes(...)`` (nestjs.py).

A module's ``configure(consumer)`` binds middleware classes to routes named by path
(``:param`` segments and ``*`` wildcards, relative to the global prefix) and method
(``RequestMethod.X``), or by controller class; ``exclude()`` takes routes back out. A
middleware class is one with a ``use(req, res, next)`` method: it can refuse a request when
``use()`` throws (Nest answers with the exception) or answers 401/403 itself; one that only
ever calls ``next()`` guards nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from threatmodel.code.jsast import call_args, callee, line_of, nodes_of, object_props, string_value
from threatmodel.code.source import SourceFile
from threatmodel.code.treesitter import node_text
from threatmodel.frameworks._js.guard import known_call, name_looks_auth

if TYPE_CHECKING:
    from tree_sitter import Node

_METHOD = frozenset({"method_definition"})
_REFUSALS = frozenset({"throw_statement", "call_expression"})
_REFUSAL_CODE = re.compile(r"^(?:401|403)$|UNAUTHORIZED|FORBIDDEN")
# Words that make a guard or middleware check a role rather than a login (nestjs.py too).
ROLE_WORDS = ("role", "admin", "permission", "policy", "ability", "casl")


def middleware_class(cls: Node) -> str | None:
    """What a class with use(req, res, next) does: 'restricted', 'authenticated' or 'none'."""
    for node in nodes_of(cls, _METHOD):
        if node_text(node.child_by_field_name("name") or node) != "use":
            continue
        refuses = False
        for n in nodes_of(node, _REFUSALS):
            # An answer of its own: throw (Nest turns it into the response) or 401/403.
            refuses = (
                refuses
                or n.type == "throw_statement"
                or (
                    callee(n).endswith((".status", ".sendStatus"))
                    and any(_REFUSAL_CODE.search(node_text(a)) for a in call_args(n))
                )
            )
        if not refuses:
            return "none"
        return (
            "restricted"
            if any(w in node_text(node).lower() for w in ROLE_WORDS)
            else "authenticated"
        )
    return None


def method_name(call: Node) -> str:
    """``forRoutes`` of ``consumer.apply(A).forRoutes(...)``: a chained call has no dotted name."""
    fn = call.child_by_field_name("function")
    prop = fn.child_by_field_name("property") if fn is not None else None
    return node_text(prop) if fn is not None and fn.type == "member_expression" and prop else ""


def binding(call: Node, src: SourceFile) -> dict[str, Any] | None:
    """``consumer.apply(A, B).exclude(...).forRoutes(...)``: middleware, routes, exclusions."""
    line = line_of(call)
    binding: dict[str, Any] = {
        "apply": [],
        "known": {},
        "routes": route_specs(call_args(call)),
        "exclude": [],
        "line": line,
        "text": src.line_text(line).strip(),
    }
    node: Node | None = call.child_by_field_name("function")
    while node is not None and node.type == "member_expression":
        inner = node.child_by_field_name("object")
        if inner is None or inner.type != "call_expression":
            break
        step = method_name(inner)
        if step == "apply":
            binding["apply"] = [node_text(a) for a in call_args(inner)]
            # a library's middleware made by a call (passport.authenticate('github')): what
            # it does is known by the call (_js/guard.py), not by its name
            binding["known"] = {
                node_text(a): found["v"]
                for a in call_args(inner)
                if a.type == "call_expression" and (found := known_call(a, {})) is not None
            }
            # The line that says ".apply(...)": a chain starts with `consumer` on a line of its own.
            fn = inner.child_by_field_name("function")
            prop = fn.child_by_field_name("property") if fn is not None else None
            line = line_of(prop or inner)
            binding["line"], binding["text"] = line, src.line_text(line).strip()
        elif step == "exclude":
            binding["exclude"] = route_specs(call_args(inner))
        node = inner.child_by_field_name("function")
    return binding if binding["apply"] else None


def route_specs(args: list[Node]) -> list[list[str]]:
    """[path, METHOD] for a path or ``{path, method: RequestMethod.X}``; ["class", Name]."""
    specs = []
    for a in args:
        value = string_value(a)
        if value is not None:
            specs.append([value, "ANY"])
        elif a.type == "object":
            props = object_props(a)
            path = string_value(props.get("path"))
            method = node_text(props["method"]).rsplit(".", 1)[-1] if "method" in props else "ALL"
            if path is not None:
                specs.append([path, "ANY" if method == "ALL" else method])
        elif a.type == "identifier":
            specs.append(["class", node_text(a)])
    return specs


def spec_matches(spec: list[str], ctrl: str, method: str, route_path: str) -> bool:
    """Does a forRoutes spec name this route? ``route_path`` is without the global prefix."""
    if spec[0] == "class":
        return spec[1] == ctrl
    if spec[1] not in ("ANY", method):
        return False
    want = [s for s in spec[0].strip("/").split("/") if s]
    have = [s for s in route_path.strip("/").split("/") if s]
    for i, seg in enumerate(want):  # the segments before a wildcard have matched
        if seg in ("*", "(.*)"):
            # path-to-regexp makes "a/*" "^/a/(.*)": "/a" itself does not match it.
            return i == 0 or len(have) > i
        if seg.endswith("*"):
            return i < len(have) and have[i].startswith(seg.rstrip("*"))
        if i >= len(have) or not (seg.startswith(":") or seg == have[i]):
            return False
    return len(want) == len(have)


def middleware_verdict(name: str, middleware: Mapping[str, str]) -> str | None:
    if name in middleware:
        return None if middleware[name] == "none" else middleware[name]
    return "authenticated" if name_looks_auth(name) else "unknown"
