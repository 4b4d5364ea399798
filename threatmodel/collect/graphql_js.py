"""GraphQL in JS/TS (Apollo Server, graphql-yoga, graphql-tools): root fields as entry points.

A resolver map (``const resolvers = { Query: { users: (parent, args, ctx) => ... },
Mutation: { ... } }``, handed to ``new ApolloServer({ resolvers })``, ``createYoga`` or
``makeExecutableSchema``) makes each field of ``Query`` and ``Mutation`` one route, in the
representation the Python GraphQL collector uses: method ``QUERY`` / ``MUTATION``, path
``<endpoint>/<Type>.<field>``, the endpoint being the app's route whose path names graphql
(else ``/graphql``).

Who may call one, outermost first: the endpoint route's own guard (an Express
``app.use('/graphql', requireAuth, ...)``), then the resolver: it authenticates when a test
of the caller in its context (``ctx.user``, ``context.session``, ``ctx.userId``...) leads to a
``throw`` for an anonymous caller; a test that also names a role makes it ``restricted``. A
resolver wrapped in a function of the same file (``authenticated((p, a, ctx) => ...)``) is
judged by that wrapper's code the same way. Anything else is public.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from threatmodel.collect.interface import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.collect.jsast import (
    FUNCTION_TYPES,
    callee,
    is_test_path,
    line_of,
    nodes_of,
    params,
    unwrap,
    walk,
)
from threatmodel.collect.jsreject import rejection, source_line
from threatmodel.collect.source import JS_LANGUAGES, SourceFile
from threatmodel.collect.treesitter import node_text
from threatmodel.models import AuthStatus, Evidence, Location, Route, RouteAuth

if TYPE_CHECKING:
    from tree_sitter import Node

ROOTS = (("Query", "QUERY"), ("Mutation", "MUTATION"))
_LIBS = ("@apollo/server", "apollo-server", "graphql-yoga", "@graphql-tools", "graphql-tools")
_IDENTITY = ("user", "currentuser", "session", "userid", "viewer", "me", "auth", "account")
_ROLE = ("role", "admin", "permission", "isstaff", "scope")
_PAIRS = frozenset({"pair"})
_IFS = frozenset({"if_statement"})


def _identity_test(cond: Node, ctx: str) -> bool:
    """Does the condition look at who the caller is (``!ctx.user``, ``!context.session``)?"""
    for n in walk(cond):
        if n.type == "member_expression":
            parts = node_text(n).replace("?.", ".").split(".")
            if parts[0] == ctx and len(parts) > 1 and parts[1].lower() in _IDENTITY:
                return True
    return False


def resolver_auth(fn: Node) -> dict[str, Any] | None:
    """{"v", "why", "line", "s"} when the resolver throws for a caller without identity."""
    names = params(fn)
    ctx = names[2] if len(names) > 2 else ""
    body = fn.child_by_field_name("body")
    if not ctx or body is None:
        return None
    for node in nodes_of(body, _IFS):
        cond = node.child_by_field_name("condition")
        then = node.child_by_field_name("consequence")
        if cond is None or then is None or not _identity_test(cond, ctx):
            continue
        if "!" not in node_text(cond) and "null" not in node_text(cond):
            continue  # `if (ctx.user) {...}`: refuses only signed-in callers, if anyone
        found = rejection(then)
        if found is not None:
            role = any(w in node_text(cond).lower() for w in _ROLE)
            return {
                "v": "restricted" if role else "authenticated",
                "why": f"the resolver throws when {node_text(cond)[:80]}",
                "line": line_of(found),
                "s": source_line(found),
            }
    return None


def _fields(obj: Node, local: dict[str, Node]) -> list[dict[str, Any]]:
    out = []
    for member in obj.named_children:
        name: Node | None
        value: Node | None
        if member.type == "method_definition":
            name, value = member.child_by_field_name("name"), member
        elif member.type == "pair":
            name, value = (
                member.child_by_field_name("key"),
                unwrap(member.child_by_field_name("value")),
            )
        elif member.type == "shorthand_property_identifier":
            name, value = member, local.get(node_text(member))
        else:
            continue
        if name is None or value is None:
            continue
        verdict = None
        if value.type in (*FUNCTION_TYPES, "method_definition"):
            verdict = resolver_auth(value)
        elif value.type == "call_expression":  # authenticated((parent, args, ctx) => ...)
            wrapper = local.get(callee(value))
            inner = _resolver_in(wrapper) if wrapper is not None else None
            verdict = resolver_auth(inner) if inner is not None else None
            if verdict is not None:
                verdict["why"] = f"wrapped in {callee(value)}(): {verdict['why']}"
        out.append({"name": node_text(name).strip("'\""), "line": line_of(member), "v": verdict})
    return out


def _resolver_in(wrapper: Node) -> Node | None:
    """The resolver-shaped function (parent, args, context, ...) a wrapper returns."""
    return next(
        (
            n
            for n in walk(wrapper)
            if n.type in FUNCTION_TYPES and n is not wrapper and len(params(n)) > 2
        ),
        None,
    )


@register
class GraphqlJsCollector(Collector):
    id = "graphql_js"
    version = 1
    # resolver maps, or the server library a resolver file may not name itself
    gate = re.compile(r"\b(?:Query|Mutation)\b|apollo-server|@apollo/server|graphql-")

    def wants(self, path: str, language: str) -> bool:
        return language in JS_LANGUAGES and not is_test_path(path)

    def extract(self, src: SourceFile) -> Extract:
        if not any(lib in src.text for lib in (*_LIBS, "resolvers")):
            return None
        tree = src.ts_tree
        if tree is None:
            return None
        local: dict[str, Node] = {}
        for d in nodes_of(
            tree.root_node, frozenset({"variable_declarator", "function_declaration"})
        ):
            name = d.child_by_field_name("name")
            value = unwrap(d.child_by_field_name("value")) if d.type == "variable_declarator" else d
            if name is not None and value is not None:
                local.setdefault(node_text(name), value)
        roots: dict[str, list[dict[str, Any]]] = {}
        for pair in nodes_of(tree.root_node, _PAIRS):
            key = pair.child_by_field_name("key")
            value = unwrap(pair.child_by_field_name("value"))
            if key is None or value is None or node_text(key) not in dict(ROOTS):
                continue
            if value.type == "identifier":
                value = local.get(node_text(value))
            if value is not None and value.type == "object":
                roots.setdefault(node_text(key), []).extend(_fields(value, local))
        uses_lib = any(lib in src.text for lib in _LIBS)
        return {"roots": roots, "lib": uses_lib} if roots or uses_lib else None

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        if not any(x.get("lib") for x in extracts.values()):
            return  # resolver-shaped objects without a GraphQL server library
        endpoint = next(
            (r for r in out.routes if "graphql" in r.path.lower() and r.method in ("ANY", "POST")),
            None,
        )
        base = endpoint.path.rstrip("/") if endpoint else "/graphql"
        seen: set[str] = set()
        for mod in sorted(extracts):
            for type_name, method in ROOTS:
                for f in extracts[mod]["roots"].get(type_name, []):
                    rid = f"{method} {base}/{type_name}.{f['name']}"
                    if rid in seen:
                        continue
                    seen.add(rid)
                    out.routes.append(
                        Route(
                            id=rid,
                            method=method,
                            path=f"{base}/{type_name}.{f['name']}",
                            framework="graphql",
                            handler=f"{mod}#{type_name}.{f['name']}",
                            location=Location(path=mod, line=f["line"]),
                            auth=_auth(endpoint, mod, f["v"]),
                        )
                    )


def _auth(endpoint: Route | None, mod: str, v: dict[str, Any] | None) -> RouteAuth:
    outer = endpoint.auth if endpoint is not None else None
    weak = outer is None or outer.status.value in ("public", "unknown")
    if v is not None and (weak or v["v"] == "restricted"):
        ev = [Evidence(path=mod, start_line=v["line"], end_line=v["line"], snippet=v["s"])]
        return RouteAuth(status=AuthStatus(v["v"]), mechanism=v["why"], evidence=ev)
    if endpoint is not None and outer is not None and outer.status.value != "public":
        why = f"GraphQL endpoint {endpoint.path}: {outer.mechanism or ''}"
        return outer.model_copy(update={"mechanism": why})
    return RouteAuth(status=AuthStatus.PUBLIC)
