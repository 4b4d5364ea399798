"""XML-RPC methods in JS/TS: each handler a server registers for a method name is a route.

The npm ``xmlrpc`` package's server is an event emitter: ``xmlrpc.createServer(options)``
(or ``createSecureServer``) and ``server.on('dvws.CheckUptime', function (err, params,
callback) { ... })``: the handler runs for any caller who posts a ``methodCall`` of that
name, with the call's parameters second. Registrations on the variable the server was
assigned to and chained on the creating call (``createServer(o).on(a, f).on(b, g)``) are
read; the server's own events (``NotFound``, ``error`` ...) are no methods. What a library
looks like is data (``LIBRARIES``): a package, the functions that make a server, the method
that registers a handler, which handler parameter holds the caller's values.

Each method is a route (``route.py``) whose handler is ``<file>#<method name>``: the
engine makes the handler's parameter that holds the caller's values request input where it
reads the function (``dataflow/js.py``, ``handler_params``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from threatmodel.code.collector import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.code.jsast import (
    FUNCTION_TYPES,
    call_args,
    callee,
    imports,
    is_test_path,
    line_of,
    nodes_of,
    string_value,
    unwrap,
)
from threatmodel.code.source import JS_LANGUAGES, SourceFile
from threatmodel.code.treesitter import node_text
from threatmodel.frameworks.rpc.route import method_route
from threatmodel.models import Location

if TYPE_CHECKING:
    from tree_sitter import Node


@dataclass(frozen=True)
class RpcLibrary:
    package: str
    makers: frozenset[str]  # the package's functions that make a server
    register: str  # the server's method that registers a handler under a method name
    args_at: int  # the handler's parameter that holds the caller's values
    events: frozenset[str]  # names the server emits itself: not methods a caller names


LIBRARIES = (
    RpcLibrary(
        package="xmlrpc",
        makers=frozenset({"createServer", "createSecureServer"}),
        register="on",
        args_at=1,
        events=frozenset({"NotFound", "error", "listening", "close", "request", "connection"}),
    ),
)
# A file that can hold a server: it names one of the packages.
_PACKAGES = "|".join(re.escape(x.package) for x in LIBRARIES)
LIBRARIES_GATE = re.compile(rf"\b(?:{_PACKAGES})\b")
# The origin of a method's parameters as a request source (``dataflow/js.py``).
ARGUMENT = "XML-RPC parameter"
_CALLS = frozenset({"call_expression"})
_MADE = frozenset({"variable_declarator", "assignment_expression"})


@dataclass(frozen=True)
class Method:
    name: str
    line: int  # the registration's line
    handler: Node
    args_at: int


def _library_of(call: Node, libs: Mapping[str, tuple[RpcLibrary, str]]) -> RpcLibrary | None:
    """The library whose server ``call`` makes: ``xmlrpc.createServer(...)`` with the
    package imported whole, or ``createServer(...)`` imported by name."""
    name = callee(call)
    head, _, last = name.rpartition(".")
    found = libs.get(head or name)
    if found is None:
        return None
    lib, imported = found
    made = last if head and imported in ("*", "default") else imported
    return lib if made in lib.makers else None


def methods(root: Node) -> list[Method]:
    """Every method handler registered on a server of a library of ``LIBRARIES``."""
    libs = {
        local: (lib, name)
        for local, (spec, name) in imports(root).items()
        for lib in LIBRARIES
        if spec == lib.package
    }
    if not libs:
        return []
    calls = nodes_of(root, _CALLS)
    servers: dict[str, RpcLibrary] = {}  # the names a made server is held by
    for call in calls:
        lib = _library_of(call, libs)
        holder = call.parent
        if lib is None or holder is None or holder.type not in _MADE:
            continue
        held = holder.child_by_field_name("name") or holder.child_by_field_name("left")
        if held is not None:
            servers[node_text(held)] = lib
    out: list[Method] = []
    for call in calls:
        fn = call.child_by_field_name("function")
        if fn is None or fn.type != "member_expression":
            continue
        args = call_args(call)
        lib = _server(fn.child_by_field_name("object"), servers, libs)
        prop = fn.child_by_field_name("property")
        if lib is None or prop is None or node_text(prop) != lib.register or len(args) < 2:
            continue
        name = string_value(args[0])
        handler = unwrap(args[1])
        if name and name not in lib.events and handler and handler.type in FUNCTION_TYPES:
            out.append(Method(name, line_of(call), handler, lib.args_at))
    return out


def _server(
    obj: Node | None, servers: Mapping[str, RpcLibrary], libs: Mapping[str, tuple[RpcLibrary, str]]
) -> RpcLibrary | None:
    """The library of the server ``obj`` is: a name a server was assigned to, or the call
    that made it with registrations chained on it."""
    while obj is not None and obj.type == "call_expression":
        lib = _library_of(obj, libs)
        if lib is not None:
            return lib
        fn = obj.child_by_field_name("function")  # ``.on(a, f).on(b, g)``: the chain's root
        obj = fn.child_by_field_name("object") if fn is not None else None
    if obj is None or obj.type not in ("identifier", "member_expression"):
        return None
    return servers.get(node_text(obj))


def handler_params(root: Node) -> dict[int, int]:
    """Start byte of each method handler -> the parameter holding the caller's values."""
    return {m.handler.start_byte: m.args_at for m in methods(root)}


@register
class RpcJsCollector(Collector):
    id = "rpc_js"
    version = 1
    gate = LIBRARIES_GATE

    def wants(self, path: str, language: str) -> bool:
        return language in JS_LANGUAGES and not is_test_path(path)

    def extract(self, src: SourceFile) -> Extract:
        tree = src.ts_tree
        if tree is None:
            return None
        found = [[m.name, m.line] for m in methods(tree.root_node)]
        return {"methods": found} if found else None

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        for mod, x in sorted(extracts.items()):
            for name, line in x["methods"]:
                where = Location(path=mod, line=line)
                out.routes.append(method_route(name, f"{mod}#{name}", where))
