"""Express (and Koa-router / Fastify) routes, their middleware chains, and security middleware.

Extract (per file, from the tree-sitter tree) an ordered list of registrations on each app or
router object: ``app.METHOD(path, ...handlers)``, ``app.route(path).get().post()``,
``app.use([path], ...middleware | router)`` (and Koa's ``app.use(mount("/p", app))``;
koa-router's paths need no leading slash), Fastify's ``route({...})`` and
``register(plugin, {prefix})``, and calls that hand the app to a function of another module
(``require('./routes')(app)``). Each handler argument is kept as a reference (name, callee,
line) plus what this file alone can say about it (an inline function's guard verdict, a
known library guard, the security package it comes from). Functions that look like
middleware are analysed by ``jsguard`` and listed by name so other files can use them.
Settings (CORS, session cookie, CSRF, secret source) are read where the middleware is built.

Link (``express_link``) replays the registrations in order across files, so a global
``app.use(auth)`` registered after a route does not guard it, and mount prefixes combine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from threatmodel.code.collector import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.code.jsast import (
    FUNCTION_TYPES,
    body_of,
    call_args,
    callee,
    dotted,
    is_test_path,
    line_of,
    nodes_of,
    object_props,
    params,
    string_value,
    strings_of,
    unwrap,
    walk_shallow,
)
from threatmodel.code.source import JS_LANGUAGES, SourceFile
from threatmodel.code.treesitter import node_text
from threatmodel.frameworks._js.callers import identity_calls
from threatmodel.frameworks._js.guard import analyse, known_call
from threatmodel.frameworks._js.handler import handler_auth
from threatmodel.frameworks._js.waiver import passed_options
from threatmodel.frameworks.express import finale as express_finale
from threatmodel.frameworks.express import link as express_link
from threatmodel.frameworks.express.decls import Declarations, alias_name
from threatmodel.frameworks.express.settings import may_configure, middleware_kind, settings_of

if TYPE_CHECKING:
    from tree_sitter import Node

_SERVER_MARKERS = ("express", "Router", "fastify", "koa", "(req", "req,", "request, reply")
METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "all"})
_CALL = frozenset({"call_expression"})
_RECEIVER_NAMES = ("app", "router", "server", "api", "fastify", "instance", "routes")
# Cheap text test before parsing: registrations, or middleware that calls next / uses a guard.
_MARKERS = (
    "express",
    "outer",
    "fastify",
    "koa",
    ".get(",
    ".post(",
    ".use(",
    "next",
    "jwt",
    "passport",
    "(req,",  # controllers: their handlers may check a link's token themselves
    "403",  # services that refuse a caller who does not own the record
)
# The same markers as the collector's gate: extract() returns None without one of them, so the
# gate admits every file whose extract link() can use (router-exporting files, guard
# definitions and re-exported middleware included: they reach link() only through extract()).
# A barrel (``export { default } from "./router"``) is how link() reaches the router behind it.
_REEXPORT = r"export\s*(?:\*|\{[^}]*\})\s*from\b"
_GATE = re.compile("|".join([*(re.escape(m) for m in _MARKERS), _REEXPORT]))


def _looks_receiver(name: str) -> bool:
    low = name.lower()
    return low in _RECEIVER_NAMES or low.endswith(("router", "app", "routes"))


class _FileReader(Declarations):
    """Walks one file: its declarations (Declarations), then its registrations."""

    # ------------------------------------------------------------------ registrations
    @cached_property  # once per file: it scans the whole text, and it is asked per call
    def _server_side(self) -> bool:  # (a 850 KB bundled library took 14 s; issue 11)
        """Only server code may register routes on an app it was handed or imported."""
        text = self.src.text
        return any(m in text for m in _SERVER_MARKERS)

    def scan_calls(self) -> None:
        params_seen = self._params_seen = self._receiver_params()
        configurable = may_configure(self.imports)
        # Registrations replay in source order; a chain Router().use(a).get(p, h) is visited
        # outermost first, so each event is keyed by where its method name stands.
        keys: list[int] = []
        for node in nodes_of(self.root, _CALL):
            fn = node.child_by_field_name("function")
            before = len(self.events)
            self._scan_call(node, fn, params_seen)
            key = (fn.child_by_field_name("property") or fn) if fn is not None else node
            keys.extend([key.start_byte] * (len(self.events) - before))
            if configurable:  # most files import no security package: skip the naming
                self.settings.extend(settings_of(node, self.imports, self.consts))
        order = sorted(range(len(self.events)), key=keys.__getitem__)
        self.events = [self.events[i] for i in order]

    def _scan_call(self, node: Node, fn: Node | None, params_seen: set[str]) -> None:
        if fn is not None and fn.type == "member_expression":
            obj = unwrap(fn.child_by_field_name("object"))
            prop = node_text(fn.child_by_field_name("property") or fn)
            if prop == "resource" and dotted(obj) in self._finale:
                self._finale_resource(node, params_seen)
            recv = self._receiver(obj, params_seen)
            if recv is not None:
                self._registration(node, recv, prop)
            elif prop in METHODS and obj is not None and obj.type == "call_expression":
                self._route_chain(node, prop)
        self._invoke(node, params_seen)

    @cached_property
    def _finale(self) -> set[str]:
        return express_finale.library_names(self.imports)

    def _finale_resource(self, call: Node, params_seen: set[str]) -> None:
        """finale-rest's generated REST routes, on the app it was initialised with."""
        app = express_finale.initialized_app(self.root, self._finale)
        name = node_text(app) if app is not None else ""
        recv = name if name in self.receivers else None
        if recv is None:
            return
        handler = express_finale.ref(call, self.src.line_text(line_of(call)).strip()[:300])
        for method, path in express_finale.resource_routes(call, self.root):
            self._add_route(recv, method.lower(), [path], [handler], call)

    def _receiver_params(self) -> set[str]:
        out: set[str] = set()
        for node in nodes_of(self.root, FUNCTION_TYPES):
            if node.child_count:  # not the bare `function` keyword FUNCTION_TYPES also names
                out.update(p for p in params(node) if p and _looks_receiver(p))
        return out

    def _receiver(self, obj: Node | None, params_seen: set[str]) -> str | None:
        if obj is not None and obj.type == "call_expression":
            return self._chained(obj)
        if obj is not None and obj.type == "member_expression":
            name = dotted(obj)  # this.router, in a class that builds its router
            return name if name in self.receivers else None
        if obj is None or obj.type != "identifier":
            return None
        name = node_text(obj)
        if name in self.receivers:
            return name
        if not self._server_side:
            return None  # `api.get('/users', config)` in browser code is an HTTP client call
        if name in params_seen or (name in self.imports and _looks_receiver(name)):
            self.receivers.setdefault(name, {"kind": "param", "prefix": ""})
            return name
        return None

    def _chained(self, obj: Node) -> str | None:
        """The receiver of ``Router().get(...)`` / ``Router().use(a).post(...)``."""
        root = obj if self._factory_kind(obj) else self._chain_root(obj)
        return None if root is None else self.anonymous_receiver(root)

    def _registration(self, call: Node, recv: str, prop: str) -> None:
        args = call_args(call)
        if prop in METHODS and len(args) >= 2:
            paths = self._paths(args[0], call, relative=bool(self.receivers[recv].get("koa")))
            if paths is not None:
                handlers = [a for a in args[1:] if a.type != "object"]
                opts = next((object_props(a) for a in args[1:] if a.type == "object"), {})
                hooks = [
                    v for k in ("preHandler", "onRequest", "preValidation") if (v := opts.get(k))
                ]
                refs = [self._ref(h) for h in [*_flatten(hooks), *handlers]]
                self._add_route(recv, prop, paths, refs, call)
        elif prop == "use" and args and (mounted := self._mounted(args[0])) is not None:
            prefix, inner = mounted
            refs = [self._ref(a) for a in _flatten(inner)]
            self.events.append({"op": "use", "recv": recv, "paths": [prefix], "mws": refs})
        elif prop == "use" and args:
            paths = self._paths(args[0], call) if args[0].type != "identifier" else None
            if paths is None and args[0].type == "identifier" and args[0].text:
                const = self.consts.get(node_text(args[0]))
                paths = [const] if const is not None else None
            rest = args[1:] if paths is not None else args
            refs = [self._ref(a) for a in _flatten(rest)]
            self.events.append({"op": "use", "recv": recv, "paths": paths or [""], "mws": refs})
        elif prop == "route" and args and args[0].type == "object":
            self._fastify_route(recv, args[0], call)
        elif prop == "register" and args:
            opts = object_props(args[1]) if len(args) > 1 else {}
            prefix = string_value(opts.get("prefix")) or ""
            target = self._target(args[0])
            if target is not None:
                self.events.append(
                    {
                        "op": "invoke",
                        "recv": recv,
                        "target": target,
                        "args": {"0": recv},
                        "prefix": prefix,
                    }
                )
        elif prop == "prefix" and args and (p := string_value(args[0])) is not None:
            self.receivers[recv]["prefix"] = p

    def _mounted(self, arg: Node) -> tuple[str, list[Node]] | None:
        """``app.use(mount("/api", api))``: koa-mount runs ``api`` (an app, a router's
        ``routes()`` or a middleware) only under ``/api``, with that prefix stripped; its
        routes are the mounted app's own under the prefix. ``mount(app)`` mounts at the root."""
        node = unwrap(arg)
        if node is None or node.type != "call_expression":
            return None
        fn = node.child_by_field_name("function")
        name = dotted(fn) if fn is not None else ""
        if self.imports.get(name, ("", ""))[0] != "koa-mount":
            return None
        args = call_args(node)
        prefix = string_value(args[0]) if args else None
        if prefix is None and args and args[0].type == "identifier":
            prefix = self.consts.get(node_text(args[0]))
        if prefix is None:
            return ("", args[:1]) if len(args) == 1 else None
        return (prefix, args[1:]) if len(args) > 1 else None

    def _route_chain(self, call: Node, method: str) -> None:
        """``app.route('/x').get(h).post(h2)``: walk down to the ``route()`` call."""
        node = unwrap(call.child_by_field_name("function"))
        obj = unwrap(node.child_by_field_name("object")) if node is not None else None
        while obj is not None and obj.type == "call_expression":
            fn = obj.child_by_field_name("function")
            if fn is None or fn.type != "member_expression":
                return
            prop = node_text(fn.child_by_field_name("property") or fn)
            inner = unwrap(fn.child_by_field_name("object"))
            if prop == "route":
                recv = self._receiver(inner, self._params_seen)
                args = call_args(obj)
                paths = self._paths(args[0], obj) if args else None
                if recv is not None and paths is not None:
                    refs = [self._ref(a) for a in _flatten(call_args(call))]
                    self._add_route(recv, method, paths, refs, call)
                return
            if prop not in METHODS:
                return
            obj = inner

    def _fastify_route(self, recv: str, opts_node: Node, call: Node) -> None:
        opts = object_props(opts_node)
        methods = strings_of(opts.get("method")) or []
        paths = strings_of(opts.get("url") or opts.get("path"))
        if not methods or paths is None:
            return
        hooks = [v for k in ("preHandler", "onRequest", "preValidation") if (v := opts.get(k))]
        handler = opts.get("handler")
        refs = [self._ref(h) for h in _flatten(hooks) + ([handler] if handler is not None else [])]
        for m in methods:
            self._add_route(recv, m.lower(), paths, refs, call)

    def _add_route(
        self, recv: str, method: str, paths: list[str], refs: list[dict[str, Any]], call: Node
    ) -> None:
        if not refs:
            return
        self.events.append(
            {
                "op": "route",
                "recv": recv,
                "method": "ANY" if method == "all" else method.upper(),
                "paths": paths,
                "mws": refs,
                "line": line_of(call),
            }
        )

    def _paths(self, node: Node, call: Node, relative: bool = False) -> list[str] | None:
        """Literal paths of a registration; template strings resolved through constants
        and ``for (const x of [..literal..])`` loops. A path without a leading slash is
        someone else's URL (an HTTP client's), unless the router is one whose prefix is
        concatenated onto it (``relative``: koa-router)."""
        plain = strings_of(node)
        if plain is not None and relative:
            return plain
        if plain is not None:
            return plain if all(p.startswith(("/", "*")) or p == "" for p in plain) else None
        if node.type == "identifier":
            const = self.consts.get(node_text(node))
            return [const] if const is not None and const.startswith("/") else None
        if node.type != "template_string":
            return None
        results = [""]
        for part in node.named_children:
            if part.type == "string_fragment":
                results = [r + node_text(part) for r in results]
            elif part.type == "template_substitution":
                expr = part.named_children[0] if part.named_children else None
                name = node_text(expr) if expr is not None else ""
                options = self._substitution(name, call)
                results = [r + o for r in results for o in options]
        return results if all(r.startswith("/") for r in results) else None

    def _substitution(self, name: str, call: Node) -> list[str]:
        if name in self.consts:
            return [self.consts[name]]
        node = call.parent
        while node is not None:
            if node.type == "for_in_statement":
                left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
                if left is not None and node_text(left) == name and right is not None:
                    items = strings_of(right) or self.arrays.get(node_text(right))
                    if items:
                        return items
            node = node.parent
        return ["{" + name.rpartition(".")[2] + "}"]

    def _ref(self, node: Node) -> dict[str, Any]:
        """What the registration says about one handler argument."""
        node = unwrap(node) or node
        line = line_of(node)
        ref: dict[str, Any] = {
            "t": node_text(node).split("\n")[0][:100],
            "line": line,
            "s": self.src.line_text(line).strip()[:300],
        }
        if node.type in FUNCTION_TYPES:
            ref["inline"] = analyse(node, self.imports) or {"v": "none", "why": ""}
            handed = self._delegated_check(node) if "hc" not in ref["inline"] else None
            if handed is not None:
                ref["inline"] = {**ref["inline"], "hc": handed}
            calls = identity_calls(node)
            if calls:  # a service it hands the caller's id may check ownership (link)
                ref["idcalls"] = calls
            return ref
        seen = node
        if node.type == "identifier" and node_text(node) in self.aliases:
            seen = self.aliases[node_text(node)]
            ref["alias"] = node_text(seen).split("\n")[0][:100]
        if seen.type in ("call_expression", "new_expression"):
            known = known_call(seen, self.imports) if seen.type == "call_expression" else None
            if known is not None:
                ref["inline"] = known
            kind = middleware_kind(seen, self.imports)
            if kind is not None:
                ref["pkg"] = kind
            name = callee(seen) if seen.type == "call_expression" else ""
            ref["name"], ref["called"] = name, True
            if "." in name and self.made_by_package(name.split(".")[0]):
                ref["pkg_call"] = True  # ``guard.check([...])``: a configured package check
            flags, keys = passed_options(seen) if seen.type == "call_expression" else ([], [])
            if flags:
                ref["on"] = flags  # auth({ optional: true }): a guard factory's options
            if keys:
                ref["keys"] = keys
            args = call_args(seen) if seen.type == "call_expression" else []
            if len(args) == 1 and args[0].type in (
                "identifier",
                "member_expression",
                "call_expression",
            ):
                ref["inner"] = self._ref(args[0])
        else:
            ref["name"], ref["called"] = dotted(seen), False
        target = self._target(node)
        if target is not None:
            ref["target"] = target
        return ref

    def _delegated_check(self, fn: Node) -> dict[str, Any] | None:
        """``async (ctx) => { ...; return handleX(ctx); }``: a handler that ends by handing
        its request to a function of this file has that function's own check (its writes
        run there, behind it)."""
        names = params(fn)
        body = body_of(fn)
        if not names or not names[0] or body is None:
            return None
        for node in walk_shallow(body):
            value = (
                unwrap(node.named_children[0])
                if node.type == "return_statement" and node.named_children
                else None
            )
            if value is None or value.type != "call_expression":
                continue
            target = self._fn_nodes.get(callee(value))
            handed = any(node_text(a) == names[0] for a in call_args(value))
            if target is not None and target != fn and handed:
                found = handler_auth(target)
                if found is not None:
                    return found
        return None

    def _invoke(self, call: Node, params_seen: set[str]) -> None:
        """``routes(app)`` / ``require('./routes')(app)``: the app is handed to other code."""
        mapping = {}
        for i, a in enumerate(call_args(call)):
            recv = self._receiver(a, params_seen) if a.type == "identifier" else None
            if recv is not None:
                mapping[str(i)] = recv
        fn = call.child_by_field_name("function")
        if not mapping or fn is None:
            return
        if fn.type == "member_expression" and dotted(fn).split(".")[0] in self.receivers:
            return  # app.use(app2) and friends are registrations, handled elsewhere
        target = self._target(fn)
        if target is None:
            return
        for idx, name in mapping.items():
            self.events.append(
                {"op": "invoke", "recv": name, "target": target, "args": {idx: name}, "prefix": ""}
            )


def _flatten(nodes: list[Node]) -> list[Node]:
    out = []
    for n in nodes:
        out.extend(n.named_children if n.type == "array" else [n])
    return out


@register
class ExpressCollector(Collector):
    id = "express"
    version = 5  # 4: a package's middleware call is marked (pkg_call); 5: auth words on
    # identifier words (``vocab.py``)
    gate = _GATE

    def wants(self, path: str, language: str) -> bool:
        return language in JS_LANGUAGES and not is_test_path(path)

    def extract(self, src: SourceFile) -> Extract:
        if not _GATE.search(src.text):
            return None
        tree = src.ts_tree
        if tree is None:
            return None
        reader = _FileReader(src, tree.root_node)
        reader.scan_declarations()
        reader.scan_calls()
        reexports = reader.stars or any(k.startswith("<from ") for k in reader.imports)
        if not (reader.events or reader.defs or reader.settings or reader.owners or reexports):
            return None
        return {
            "receivers": reader.receivers,
            "events": reader.events,
            "defs": reader.defs,
            "imports": {k: list(v) for k, v in reader.imports.items()},
            "exports": reader.exports,
            "stars": reader.stars,
            "functions": reader.functions,
            "settings": reader.settings,
            "aliases": {k: a for k, v in reader.aliases.items() if (a := alias_name(v))},
            "returns": reader.returns,
            "owners": reader.owners,
        }

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        express_link.link(extracts, out, ctx)
