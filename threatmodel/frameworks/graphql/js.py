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

from threatmodel.code.collector import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.code.jsast import (
    FUNCTION_TYPES,
    call_args,
    callee,
    imports,
    is_test_path,
    line_of,
    literal_object,
    nodes_of,
    object_props,
    params,
    resolve_module,
    unwrap,
    walk,
)
from threatmodel.code.source import JS_LANGUAGES, SourceFile
from threatmodel.code.treesitter import node_text
from threatmodel.frameworks.graphql.js_guards import guard_verdict, refs, strongest
from threatmodel.models import AuthStatus, Evidence, Location, Route, RouteAuth, Setting

if TYPE_CHECKING:
    from tree_sitter import Node

ROOTS = (("Query", "QUERY"), ("Mutation", "MUTATION"))
# The origin of a resolver's arguments as a request source (``dataflow/js.py``). GraphQL
# coerces each to its declared type, and a name is ``[_A-Za-z][_0-9A-Za-z]*``: no input
# object holds a ``$`` key, so none is a Mongo operator (``dataflow/jsconds.py``).
ARGUMENT = "GraphQL argument"
SERVERS = frozenset({"ApolloServer", "createYoga", "graphqlHTTP", "createHandler"})
# server options that, set true, open the server to any caller -> the setting's name
OPEN_OPTIONS = {
    "introspection": "introspection",
    "debug": "debug",
    "playground": "playground",
    "graphiql": "playground",
    "allowBatchedHttpRequests": "batching",
}
_LIBS = ("@apollo/server", "apollo-server", "graphql-yoga", "@graphql-tools", "graphql-tools")
_IDENTITY = ("user", "currentuser", "session", "userid", "viewer", "me", "auth", "account")
_ROLE = ("role", "admin", "permission", "isstaff", "scope")
_PAIRS = frozenset({"pair"})
_IFS = frozenset({"if_statement"})


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
            verdict = guard_verdict(value)
        elif value.type == "call_expression":  # authenticated((parent, args, ctx) => ...)
            wrapper = local.get(callee(value))
            inner = _resolver_in(wrapper) if wrapper is not None else None
            verdict = guard_verdict(inner) if inner is not None else None
            if verdict is not None:
                verdict["why"] = f"wrapped in {callee(value)}(): {verdict['why']}"
        field = {"name": node_text(name).strip("'\""), "line": line_of(member), "v": verdict}
        if value.type == "call_expression":
            field["refs"] = refs(value)  # combineResolvers(isAuthenticated, ..., resolver)
        out.append(field)
    return out


def server_options(root: Node) -> list[list[Any]]:
    """``[key, line]`` of each option a GraphQL server is built with that opens it to any
    caller, written ``true`` in place or in a name (``new ApolloServer({ introspection:
    true })``, graphql-yoga's ``createYoga``, express-graphql's ``graphqlHTTP``): the schema
    listed to anyone, errors with stack traces, many operations per request (brute force
    past a per-request rate limit), the in-browser IDE."""
    out: list[list[Any]] = []
    for node in nodes_of(root, frozenset({"new_expression", "call_expression"})):
        fn = node.child_by_field_name("constructor") or node.child_by_field_name("function")
        if fn is None or node_text(fn).rsplit(".", 1)[-1] not in SERVERS:
            continue
        args = call_args(node)
        opts = object_props(literal_object(args[0])) if args else {}
        out += [
            [f"graphql.{OPEN_OPTIONS[k]}", line_of(v)]
            for k, v in opts.items()
            if k in OPEN_OPTIONS and node_text(v) == "true"
        ]
    return out


def is_resolver(fn: Node) -> bool:
    """Is ``fn`` a field's resolver in a resolver map: a function (or method) of an object
    held under a type's name in an object that has a ``Query`` or ``Mutation`` key? The
    server calls it with the client's field arguments second (``(parent, args, ctx)``),
    whatever type it resolves."""
    field = fn if fn.type == "method_definition" else fn.parent
    if field is None or field.type not in ("pair", "method_definition"):
        return False
    fields = field.parent
    holder = fields.parent if fields is not None and fields.type == "object" else None
    resolvers = holder.parent if holder is not None and holder.type == "pair" else None
    if resolvers is None or resolvers.type != "object":
        return False
    keys = (p.child_by_field_name("key") for p in resolvers.named_children if p.type == "pair")
    return any(k is not None and node_text(k) in dict(ROOTS) for k in keys)


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
    version = 3  # 2: an undefined caller refused; 3: server options
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
        # guards other files' resolvers may name (isAuthenticated, isAdmin = combine(...))
        defs = {n: r for n, v in local.items() if (r := refs(v)) and r != [["ref", n]]}
        if not (roots or uses_lib or defs):
            return None
        found = imports(tree.root_node)
        return {
            "roots": roots,
            "lib": uses_lib,
            "defs": defs,
            "imports": {k: list(v) for k, v in found.items()},
            "settings": server_options(tree.root_node) if uses_lib else [],
        }

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        if not any(x.get("lib") for x in extracts.values()):
            return  # resolver-shaped objects without a GraphQL server library
        for mod, x in sorted(extracts.items()):
            for key, line in x.get("settings", []):
                where = Location(path=mod, line=line)
                out.settings.append(
                    Setting(key=key, value="true", framework="graphql", location=where)
                )
        endpoint = next(
            (r for r in out.routes if "graphql" in r.path.lower() and r.method in ("ANY", "POST")),
            None,
        )
        base = endpoint.path.rstrip("/") if endpoint else "/graphql"
        files = frozenset(ctx.files) | frozenset(extracts)
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
                            auth=_auth(endpoint, mod, _verdict(mod, f, extracts, files)),
                        )
                    )


def _verdict(
    mod: str, field: dict[str, Any], extracts: Mapping[str, Extract], files: frozenset[str]
) -> dict[str, Any] | None:
    """The field's own check or the strongest guard it is combined with."""
    own = [{**field["v"], "mod": mod}] if field["v"] else []
    return strongest(own + _resolve(mod, field.get("refs", []), extracts, files, 0))


def _resolve(
    mod: str,
    items: list[list[Any]],
    extracts: Mapping[str, Extract],
    files: frozenset[str],
    depth: int,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    x = extracts.get(mod) or {}
    for kind, value in items:
        if kind == "v":
            out.append({**value, "mod": mod})
        elif depth < 4 and value in x.get("defs", {}):
            out += _resolve(mod, x["defs"][value], extracts, files, depth + 1)
        elif depth < 4 and value in x.get("imports", {}):
            spec, name = x["imports"][value]
            other = resolve_module(mod, spec, files)
            target = (extracts.get(other) or {}).get("defs", {}) if other else {}
            if name in target:
                out += _resolve(str(other), target[name], extracts, files, depth + 1)
    return out


def _auth(endpoint: Route | None, mod: str, v: dict[str, Any] | None) -> RouteAuth:
    outer = endpoint.auth if endpoint is not None else None
    weak = outer is None or outer.status.value in ("public", "unknown")
    if v is not None and (weak or v["v"] == "restricted"):
        where = v.get("mod", mod)
        ev = [Evidence(path=where, start_line=v["line"], end_line=v["line"], snippet=v["s"])]
        return RouteAuth(status=AuthStatus(v["v"]), mechanism=v["why"], evidence=ev)
    if endpoint is not None and outer is not None and outer.status.value != "public":
        why = f"GraphQL endpoint {endpoint.path}: {outer.mechanism or ''}"
        return outer.model_copy(update={"mechanism": why})
    return RouteAuth(status=AuthStatus.PUBLIC)
