"""tRPC: each procedure of the app's router is an entry point, with who may call it.

A router (``t.router({...})``, ``createTRPCRouter({...})``, ``mergeRouters(a, b)``) maps
keys to procedures (``chain.procedure``) or to other routers, inline or named in this file
or another (followed through imports at link time). The router an adapter serves
(``createNextApiHandler({ router: appRouter })``, ``fetchRequestHandler({ endpoint:
"/api/trpc", router })``, ``createExpressMiddleware``) is the root; when none is found, each
router no other router holds is one.

A procedure is the route ``<method> <mount>/<dotted.path>`` (``POST /api/trpc/post.create``):
tRPC's HTTP link sends queries as GET and mutations as POST. The mount is the path of the
route serving the adapter's file (a Next.js catch-all ``/api/trpc/{trpc}`` less its
parameter), else the adapter's ``endpoint``, else ``/trpc``.

Who may call one follows its builder chain: ``t.procedure`` alone is public; each
``.use(middleware)``, on the chain or on the builders it is made from (in this file or
imported), is read by ``chain.middleware_verdict``; the strongest refusal wins. A
middleware or builder the tool cannot read (a library's, an unresolved name) makes it
``unknown`` unless another refuses.
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
    nodes_of,
    object_props,
    resolve_module,
    string_value,
    unwrap,
)
from threatmodel.code.jsworkspace import RepoFiles, repo_files
from threatmodel.code.source import JS_LANGUAGES, SourceFile
from threatmodel.code.treesitter import node_text
from threatmodel.frameworks._js.guard import returned_call
from threatmodel.frameworks.graphql.js_guards import strongest
from threatmodel.frameworks.trpc.chain import (
    KINDS,
    RESOLVERS,
    first_return,
    handed_context,
    input_token,
    links,
    middleware_verdict,
    procedure,
    role_refusal,
)
from threatmodel.models import AuthStatus, Evidence, Location, Route, RouteAuth

if TYPE_CHECKING:
    from tree_sitter import Node

_DECLS = frozenset({"variable_declarator", "function_declaration"})
_CALLS = frozenset({"call_expression"})
_DEPTH = 8


def _use_item(arg: Node, until: int | None = None) -> list[Any]:
    """A ``.use()`` argument: ["v", verdict], ["none"] (read, refuses no one), ["calls",
    names, its own verdict] (the functions it hands its context to), ["ref", name]
    (another file's or a builder's), ["unknown"] (a call's result, a library's)."""
    arg = unwrap(arg) or arg
    if arg.type == "identifier" and arg.text is not None:
        return ["ref", node_text(arg)]
    if arg.type in RESOLVERS:
        v = middleware_verdict(arg, until)
        calls = handed_context(arg, until) if v is None or v["v"] != "restricted" else []
        if calls:  # a check it calls may restrict more than its own test
            return ["calls", calls, v]
        return ["v", v] if v is not None else ["none"]
    if arg.type == "call_expression":  # t.middleware(fn)
        inner = [a for a in map(unwrap, call_args(arg)) if a is not None]
        if len(inner) == 1 and inner[0].type in (*FUNCTION_TYPES, "identifier"):
            return _use_item(inner[0])
    return ["unknown"]


def _chain(value: Node) -> dict[str, Any] | None:
    """A builder (``t.procedure.use(isAuthed)``) or a middleware (``t.middleware(fn)``, a
    function of ``{ ctx, next }``) as {"base", "uses"}."""
    found = links(value)
    if found is not None:
        base, uses = found
        return {"base": base, "uses": [_use_item(u) for u in uses]}
    made = returned_call(value) if value.type in FUNCTION_TYPES else None
    if made is not None and (found := links(made)) is not None:
        base, uses = found  # a builder factory: (resource, action) => protectedProcedure.use(...)
        return {"base": base, "uses": [_use_item(u) for u in uses]}
    if value.type in FUNCTION_TYPES:  # a middleware of its own: const isAuthed = ({ ctx }) =>
        item = _use_item(value)
        return {"base": None, "uses": [item]} if item[0] != "none" else None
    if value.type == "call_expression" and callee(value).rsplit(".", 1)[-1] == "middleware":
        return {"base": None, "uses": [_use_item(value)]}
    return None


def _proc(call: Node) -> dict[str, Any] | None:
    found = procedure(call)
    if found is None:
        return None
    kind, resolver, root, uses = found
    # the resolver's own checks of the caller count as a last middleware's
    until = first_return(resolver)
    own = _use_item(resolver, until)
    token = input_token(resolver) if own[0] == "none" else None
    # an optional token admits its holder; whoever comes without one meets the rest of
    # the resolver's checks, or none
    if token is not None and (not token.pop("optional") or _use_item(resolver)[0] != "none"):
        own = ["v", token]
    return {
        "kind": kind,
        "line": line_of(resolver),
        "base": root,
        "uses": [_use_item(u) for u in uses] + ([own] if own[0] != "none" else []),
    }


def _is_router_call(node: Node) -> bool:
    name = callee(node).rsplit(".", 1)[-1]
    return name.lower().endswith("router") and not name.lower().startswith("use")


def _entries(call: Node) -> list[list[Any]] | None:
    """[key, entry] of a router call's object (key "" for a merged router)."""
    args = [a for a in map(unwrap, call_args(call)) if a is not None]
    if callee(call).rsplit(".", 1)[-1] == "mergeRouters":
        return [["", _entry(a)] for a in args]
    if len(args) != 1 or args[0].type != "object" or not _is_router_call(call):
        return None
    return _members(args[0])


def _members(obj: Node) -> list[list[Any]]:
    out = [[key, _entry(unwrap(v) or v)] for key, v in object_props(obj).items()]
    for spread in (c for c in obj.named_children if c.type == "spread_element"):
        inner = unwrap(spread.named_children[0]) if spread.named_children else None
        if inner is not None:
            out.append(["", _entry(inner)])
    return out


def _entry(value: Node) -> dict[str, Any]:
    if value.type == "identifier":
        return {"ref": node_text(value)}
    if value.type == "object":  # tRPC 11: a plain object nests a router in place
        return {"router": _members(value)}
    if value.type == "call_expression":
        proc = _proc(value)
        if proc is not None:
            return {"proc": proc}
        inner = _entries(value)
        if inner is not None:
            return {"router": inner}
    return {}


def _adapters(root: Node) -> list[dict[str, Any]]:
    """The calls that serve a router over HTTP: every tRPC adapter takes the router and
    builds each request's context (``createNextApiHandler({ router: appRouter,
    createContext })``). Not a server-side caller (``createServerSideHelpers({ router,
    ctx })``: no request), nor an OpenAPI adapter (its paths are the procedures' own
    ``meta.openapi``)."""
    out = []
    for call in nodes_of(root, _CALLS):
        if "openapi" in callee(call).lower():
            continue
        for arg in call_args(call):
            obj = unwrap(arg)
            props = object_props(obj)
            short = {
                node_text(p)
                for p in (obj.named_children if obj is not None and obj.type == "object" else [])
                if p.type == "shorthand_property_identifier"
            }
            if not ({"router", "createContext"} <= props.keys() | short):
                continue
            router = unwrap(props.get("router"))
            if "router" in short:
                out.append({"router": "router", "endpoint": _endpoint(props)})
            elif router is not None and router.type == "identifier":
                out.append({"router": node_text(router), "endpoint": _endpoint(props)})
    return out


def _endpoint(props: dict[str, Node]) -> str | None:
    for key in ("endpoint", "prefix"):
        value = unwrap(props.get(key))
        if value is not None and value.type == "call_expression" and call_args(value):
            value = call_args(value)[0]  # formatPath('/api/trpc'): a base path read as empty
        text = string_value(value)
        if text is not None and text.startswith("/"):
            return text
    return None


@register
class TrpcCollector(Collector):
    id = "trpc"
    version = 2  # 2: a token read from the input and handed to a call (a secret link)
    link_after = frozenset({"nextjs", "express"})  # the route serving the adapter's file
    gate = re.compile(r"(?i)trpc|procedure|\.(?:mutation|subscription)\(|router\(")

    def wants(self, path: str, language: str) -> bool:
        return language in JS_LANGUAGES and not is_test_path(path)

    def extract(self, src: SourceFile) -> Extract:
        tree = src.ts_tree
        if tree is None:
            return None
        root = tree.root_node
        local: dict[str, Node] = {}
        for d in nodes_of(root, _DECLS):
            name = d.child_by_field_name("name")
            value = unwrap(d.child_by_field_name("value")) if d.type == "variable_declarator" else d
            if name is not None and value is not None and name.type == "identifier":
                local.setdefault(node_text(name), value)
        defs: dict[str, Any] = {}
        for key, value in local.items():
            if value.type == "call_expression" and (proc := _proc(value)) is not None:
                defs[key] = {"proc": proc}
            elif value.type == "call_expression" and (ent := _entries(value)) is not None:
                defs[key] = {"router": ent}
            elif (chain := _chain(value)) is not None:
                defs[key] = {"chain": chain}
            elif value.type in FUNCTION_TYPES and (check := role_refusal(value)) is not None:
                defs[key] = {"check": check}
        adapters = _adapters(root) if "trpc" in src.text.lower() else []
        if not defs and not adapters:
            return None
        return {
            "defs": defs,
            "adapters": adapters,
            "imports": {k: list(v) for k, v in imports(root).items()},
        }

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        files = repo_files(ctx.root, frozenset(ctx.files) | frozenset(extracts))
        world = _World(extracts, files)
        served: dict[tuple[str, str], list[str | None]] = {}  # root router -> its mounts
        for mod, x in sorted(extracts.items()):
            for a in x.get("adapters", []):
                found = world.lookup(mod, a["router"])
                if found is not None and "router" in found[1]:
                    served.setdefault((found[0], found[2]), []).append(_mount(mod, a, out.routes))
        # an adapter whose mount is not read serves at tRPC's usual one, unless another
        # adapter of the same router says where it is
        roots = [
            (mod, name, mount)
            for (mod, name), mounts in served.items()
            for mount in sorted({m or "/trpc" for m in mounts if m or not any(mounts)})
        ]
        if not roots:  # no adapter read: each router no other router holds
            held = world.held()
            roots = [
                (mod, name, "/trpc")
                for mod, x in sorted(extracts.items())
                for name, d in x["defs"].items()
                if "router" in d and (mod, name) not in held
            ]
        seen: set[str] = set()
        for mod, name, mount in dict.fromkeys(roots):
            d = extracts[mod]["defs"][name]
            for path, where, proc in world.procedures(mod, d["router"], "", 0):
                rid = f"{KINDS[proc['kind']]} {mount}/{path}"
                if rid in seen:
                    continue
                seen.add(rid)
                out.routes.append(
                    Route(
                        id=rid,
                        method=KINDS[proc["kind"]],
                        path=f"{mount}/{path}",
                        framework="trpc",
                        handler=f"{where}#{path}",
                        location=Location(path=where, line=proc["line"]),
                        auth=world.auth(where, proc),
                        params={"input": "text"},
                    )
                )


def _mount(mod: str, adapter: dict[str, Any], routes: list[Route]) -> str | None:
    """Where the adapter serves: its ``endpoint``, else the path of the catch-all route
    serving its file less the parameter that holds the procedure's path."""
    if adapter.get("endpoint"):
        return str(adapter["endpoint"]).rstrip("/") or "/"
    for r in routes:
        head, _, last = r.path.rstrip("/").rpartition("/")
        if r.location.path == mod and last.startswith("{"):
            return head or "/"
    return None


class _World:
    """Every file's tRPC definitions, with names followed through imports."""

    def __init__(self, extracts: Mapping[str, Extract], files: RepoFiles) -> None:
        self.extracts = extracts
        self.files = files

    def lookup(self, mod: str, name: str, depth: int = 0) -> tuple[str, dict[str, Any], str] | None:
        """(module, definition, its name there) of ``name`` as seen from ``mod``."""
        x = self.extracts.get(mod) or {}
        if name in x.get("defs", {}):
            return mod, x["defs"][name], name
        spec_name = x.get("imports", {}).get(name)
        if spec_name is None or depth > _DEPTH:
            return None
        spec, imported = spec_name
        other = resolve_module(mod, spec, self.files)
        if other is None:
            return None
        return self.lookup(other, imported, depth + 1)

    def held(self) -> set[tuple[str, str]]:
        """The routers another router holds (by module and name)."""
        out: set[tuple[str, str]] = set()

        def visit(mod: str, entries: list[list[Any]]) -> None:
            for _, e in entries:
                if "ref" in e and (found := self.lookup(mod, e["ref"])) is not None:
                    out.add((found[0], found[2]))
                elif "router" in e:
                    visit(mod, e["router"])

        for mod, x in self.extracts.items():
            for d in x["defs"].values():
                if "router" in d:
                    visit(mod, d["router"])
        return out

    def procedures(
        self, mod: str, entries: list[list[Any]], prefix: str, depth: int
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """(dotted path, module, procedure) of each procedure under a router's entries."""
        out: list[tuple[str, str, dict[str, Any]]] = []
        if depth > _DEPTH:
            return out
        for key, e in entries:
            path = f"{prefix}.{key}" if prefix and key else prefix or key
            where = mod
            if "ref" in e:
                found = self.lookup(mod, e["ref"])
                if found is None:
                    continue
                where, e = found[0], found[1]
            if "proc" in e and key:
                out.append((path, where, e["proc"]))
            elif "router" in e:
                out += self.procedures(where, e["router"], path, depth + 1)
        return out

    def verdicts(
        self, mod: str, chain: dict[str, Any], depth: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """(the refusals of a chain and the builders it is made from, whether any part
        could not be read)."""
        found: list[dict[str, Any]] = []
        unread = False
        if depth > _DEPTH:
            return found, True
        items = list(chain["uses"])
        if chain["base"] is not None:
            items.insert(0, ["ref", chain["base"]])
        for item in items:
            if item[0] == "v":
                found.append({**item[1], "mod": mod})
            elif item[0] == "unknown":
                unread = True
            elif item[0] == "calls":  # the functions a middleware hands its context to
                found += [{**item[2], "mod": mod}] if item[2] else []
                for name in item[1]:
                    d = self.lookup(mod, name)
                    if d is not None and "check" in d[1]:
                        check = d[1]["check"]
                        why = f"calls {name}(), which {check['why']}"
                        found.append({**check, "why": why, "mod": d[0]})
            elif item[0] == "ref":
                d = self.lookup(mod, item[1])
                if d is None or "chain" not in d[1]:
                    unread = True
                    continue
                more, gap = self.verdicts(d[0], d[1]["chain"], depth + 1)
                found += more
                unread = unread or gap
        return found, unread

    def auth(self, mod: str, proc: dict[str, Any]) -> RouteAuth:
        found, unread = self.verdicts(mod, proc, 0)
        # a role test alone restricts only a procedure another check authenticates
        v = strongest(found) if any(not f.get("alone") for f in found) else None
        if v is not None:
            ev = [Evidence(path=v["mod"], start_line=v["line"], end_line=v["line"], snippet=v["s"])]
            return RouteAuth(status=AuthStatus(v["v"]), mechanism=v["why"], evidence=ev)
        if unread:
            return RouteAuth(status=AuthStatus.UNKNOWN, mechanism="a middleware not read")
        return RouteAuth(status=AuthStatus.PUBLIC)
