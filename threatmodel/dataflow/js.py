"""The JavaScript / TypeScript taint engine: statements, functions and sources over tree-sitter.

Each function is read once, statement by statement, with branch-sensitive environments
(an ``if`` whose condition folds runs only the branch taken; a branch that always leaves
does not flow on; loops run twice), and gets a summary in the Python engine's shape
(parameters, returned labels, sinks met, calls into the repository) so ``dataflow.link``
resolves both languages the same way. Functions are named ``./dir/file.name`` (a module is
its path without suffix or ``/index``); ``require`` / ESM imports of relative files resolve
to those names, so calls into the repository's own modules, ``module.exports`` /
``exports.x`` / ``export default``, classes and constructor functions (``this.m = (...) =>``)
are followed. A nested callback that reaches a sink with a variable of its enclosing
function passes that sink up to the enclosing function's summary (closures).

Sources: a parameter named ``req`` / ``request`` or typed ``Request`` / ``NextRequest``
(Express, Next.js route handlers), Koa's ``ctx``, NestJS ``@Body/@Query/@Param/@Headers``
parameters, the ``params`` / ``searchParams`` of a Next.js page or route, and the arguments of
exported server actions (``"use server"``).
"""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING, Any

from threatmodel.code.jsast import JS_SUFFIXES, imports, string_value, unwrap
from threatmodel.code.treesitter import node_text
from threatmodel.dataflow.assign import fields, join_env, summary
from threatmodel.dataflow.catalog import JS_CATALOG, Catalog, package_qual
from threatmodel.dataflow.encode import LabelTable
from threatmodel.dataflow.frame import CallRec, Frame, Hit
from threatmodel.dataflow.jsbind import JsBind
from threatmodel.dataflow.jsdecide import decided_params
from threatmodel.dataflow.jsexpr import FUNCTIONS, MAX_NEST
from threatmodel.dataflow.jsmade import made_by_packages
from threatmodel.dataflow.jsnodes import fn_params, is_exported, use_server_directive
from threatmodel.dataflow.jspin import pinned_params
from threatmodel.dataflow.jsrequest import CTX, REQ, TRPC, Obj, request_value
from threatmodel.dataflow.values import CLEAN, Label, Value, join, param_name
from threatmodel.frameworks.graphql.js import ARGUMENT, is_resolver
from threatmodel.frameworks.rpc import js as rpc
from threatmodel.frameworks.trpc.chain import is_resolver as is_procedure

if TYPE_CHECKING:
    from tree_sitter import Node

REQUEST_TYPES = re.compile(r"\b(Request|NextRequest|NextApiRequest|FastifyRequest)\b")
NEST_SOURCES = re.compile(r"@(Body|Query|Param|Headers|UploadedFile|UploadedFiles)\b")
# NestJS's built-in pipes that turn a parameter into a number, a boolean, a UUID or an enum
# member, or answer 400: what reaches the handler can carry no payload.
NEST_TYPED = re.compile(r"\bParse(?:Int|Float|Bool|UUID|Enum)Pipe\b")
VERBS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
LOOPS = frozenset({"for_statement", "for_in_statement", "while_statement", "do_statement"})
DECLS = frozenset({"lexical_declaration", "variable_declaration"})


def module_name(path: str) -> str:
    """``./routes/search`` for ``routes/search.ts``, ``./lib`` for ``lib/index.js``."""
    base = path
    for suffix in JS_SUFFIXES:
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    base = base.removesuffix("/index")
    return "./" + posixpath.normpath(base) if base not in ("index", "") else "./"


class JsEngine(JsBind):
    def __init__(self, path: str, text: str, catalog: Catalog = JS_CATALOG) -> None:
        self.path = path
        self.module = module_name(path)
        self.catalog = catalog
        self.summaries: dict[str, dict[str, Any]] = {}
        self.table = LabelTable()  # the file's labels, written once each (encode.py)
        self.aliases: dict[str, str] = {}  # exported name -> the function it names
        self.reexports: list[str] = []  # modules re-exported whole (``export * from``)
        self.bare: set[str] = set()  # bare specifiers imported (``jsimports`` resolves them)
        self.raw_html = "__html" in text
        self.checks = {}
        self.tested = []
        self.param_weak = {}
        self.injected = {}
        self.instances: dict[str, str] = {}  # module-level name -> the class it is an instance of
        head = text.lstrip()[:40]
        self.use_server = head.startswith(("'use server'", '"use server"'))
        name = posixpath.basename(path).split(".")[0]
        self.page = name in ("page", "layout")
        self.route = name == "route"
        self.rpc_lib = rpc.LIBRARIES_GATE.search(text) is not None
        self.rpc: dict[int, int] = {}  # an RPC method handler's start -> its callers' values

    def run(self, root: Node) -> dict[str, dict[str, Any]]:
        top = Frame(self.module, {}, {}, {})
        if self.rpc_lib:
            self.rpc = rpc.handler_params(root)
        for local, (spec, name) in imports(root).items():
            top.aliases[local] = self.import_qual(spec, name)
            if not spec.startswith((".", "@/", "~/", "node:")):
                self.bare.add(spec)  # a library, or the repository's own: link says
        # ``db = pgp(url)``: the package's object (``db.one`` is ``pg-promise.one``)
        top.aliases.update(made_by_packages(root))
        self.block(root.named_children, top)
        # ``module.exports = fn``: calling what ``require`` gave calls ``fn`` (the alias
        # below); the module's own top-level code keeps its sinks under another name
        own = f"{self.module}.<module>" if self.module in self.aliases else self.module
        self.summaries[own] = summary(top, [], self.table)
        for name, cls in self.instances.items():  # ``cache.get()`` from another file
            for qual in [q for q in self.summaries if q.startswith(f"{cls}.")]:
                self.aliases.setdefault(f"{name}{qual[len(cls) :]}", qual)
        for alias, target in list(self.aliases.items()):
            if target in self.summaries and alias not in self.summaries:
                self.summaries[alias] = self.summaries[target]
                del self.aliases[alias]
        return self.summaries

    def links(self) -> dict[str, Any]:
        """Names only another file's summaries answer: ``export { a as b } from './x'``
        (name -> name) and ``export * from './x'`` (modules), resolved by link."""
        return {"names": self.aliases, "star": self.reexports}

    def import_qual(self, spec: str, name: str) -> str:
        spec = spec.removeprefix("node:")
        if spec.startswith("."):
            mod = module_name(posixpath.join(posixpath.dirname(self.path), spec))
            return mod if name == "*" else f"{mod}.{name}"
        return package_qual(spec, name)

    def nested_qual(self, fn: Node, f: Frame) -> str:
        name = fn.child_by_field_name("name")
        label = node_text(name) if name is not None else f"<{fn.start_point[0] + 1}>"
        return f"{f.qual}.{label}"

    # ------------------------------------------------------------------ functions
    def function(self, fn: Node, parent: Frame, qual: str, seed: list[Value] | None = None) -> None:
        f = parent.child(qual)
        f.views = dict(parent.views)
        if fn.type in ("function_declaration", "function_expression", "function"):
            f.views["this"] = qual  # a constructor function: ``this.m = ...`` are its methods
        exported = is_exported(fn)
        names: list[str] = []
        for i, p in enumerate(fn_params(fn)):
            target = p.child_by_field_name("pattern") if p.type.endswith("_parameter") else p
            target = target if target is not None else p
            plain = unwrap(target)
            name = node_text(plain) if plain is not None and plain.type == "identifier" else f"${i}"
            names.append(name)
            value = self.source(p, name, i, fn, qual, exported)
            if value is None and seed is not None and i < len(seed):
                value = seed[i]
            if value is None:
                value = Value(frozenset({Label("param", name, fn.start_point[0] + 1)}))
            self.bind(target, value, f, fn.start_point[0] + 1)
        body = fn.child_by_field_name("body")
        if body is not None and body.type == "statement_block":
            self.block(body.named_children, f)
        elif body is not None:
            f.returns.append(self.expr(body, f))
        if f.hits or f.calls or not qual.endswith(">"):
            # an anonymous callback that reaches nothing: no caller can name it
            self.summaries[qual] = summary(f, names, self.table)
            self.summaries[qual].update(fields(f.returns, self.table))
            line = fn.start_point[0] + 1
            weak = {
                str(i): self.param_weak[(n, line)]
                for i, n in enumerate(names)
                if (n, line) in self.param_weak
            }
            if weak:
                self.summaries[qual]["weak"] = weak
            pins = pinned_params(fn, names)
            if pins:
                self.summaries[qual]["pins"] = pins
            decides = [names[i] for i in decided_params(fn) if i < len(names)]
            if decides:  # by name, as Python's summaries (``checks.param_named``)
                self.summaries[qual]["decides"] = decides
        own = set(names)

        def outer(labels: frozenset[Label]) -> frozenset[Label]:
            return frozenset(
                x for x in labels if x.kind == "param" and param_name(x.origin) not in own
            )

        for h in f.hits:  # closures: a sink reached with the enclosing function's variables
            if outer(h.labels):
                parent.hits.append(Hit(h.kind, h.line, h.callee, outer(h.labels), h.note))
        for c in f.calls:
            args = tuple((k, outer(v)) for k, v in c.args)
            if any(v for _, v in args):
                parent.calls.append(CallRec(c.qual, c.line, args))

    def source(
        self, p: Node, name: str, i: int, fn: Node, qual: str, exported: bool
    ) -> Value | None:
        """What a parameter holds when the framework fills it from the request."""
        text = node_text(p)
        line = fn.start_point[0] + 1
        nest = NEST_SOURCES.search(text)
        if nest:
            value = request_value(f"@{nest.group(1)}", line)
            pipe = NEST_TYPED.search(text)
            if pipe:  # @Param('id', ParseIntPipe): the handler gets a number (or a 400)
                return value.sanitized(self.catalog.sanitizes("parseInt", None), pipe.group(0))
            return value
        if "@Req(" in text or "@Request(" in text:
            return REQ
        typ = p.child_by_field_name("type")
        if name in ("req", "request") or (typ is not None and REQUEST_TYPES.search(node_text(typ))):
            return REQ
        if name == "ctx":
            return CTX  # Koa: only its request parts (query, params, request.body ...) count
        last = qual.rsplit(".", 1)[-1]
        if self.route and last in VERBS and exported:
            return REQ if i == 0 else request_value("route params", line)
        if self.page and exported and i == 0 and last in ("default", "Page", "generateMetadata"):
            return request_value("page params", line)
        if i == 0 and is_procedure(fn):
            return TRPC
        if i == 1 and is_resolver(fn):
            return request_value(f"{ARGUMENT} {name}", line)
        if self.rpc.get(fn.start_byte, -1) == i:
            return request_value(f"{rpc.ARGUMENT} {name}", line)
        if exported and (self.use_server or use_server_directive(fn)):
            return request_value(f"server action argument {name}", line)
        return None

    # ------------------------------------------------------------------ statements
    def block(self, body: list[Node], f: Frame) -> bool:
        for s in body:  # function declarations are hoisted: calls before them resolve
            decl = s.named_children[0] if s.type == "export_statement" and s.named_children else s
            if decl.type in (
                "function_declaration",
                "generator_function_declaration",
                "class_declaration",
            ):
                name = decl.child_by_field_name("name")
                if name is not None:
                    f.defs[node_text(name)] = f"{f.qual}.{node_text(name)}"
        return any([self.stmt(s, f) for s in body])

    def stmt(self, s: Node | None, f: Frame) -> bool:
        """Run one statement; True when it always leaves (return, throw, break)."""
        if s is None or self.depth > MAX_NEST:
            return False
        self.depth += 1
        try:
            return self._stmt(s, f)
        finally:
            self.depth -= 1

    def _stmt(self, s: Node, f: Frame) -> bool:
        t = s.type
        if t == "expression_statement":
            for c in s.named_children:
                self.expr(c, f)
        elif t in DECLS:
            for d in s.named_children:
                if d.type == "variable_declarator":
                    self.declare(d, f)
        elif t == "return_statement":
            value = self.expr(s.named_children[0], f) if s.named_children else CLEAN
            f.returns.append(value)
            return True
        elif t in ("throw_statement", "break_statement", "continue_statement"):
            for c in s.named_children:
                self.expr(c, f)
            return True
        elif t == "statement_block":
            return self.block(s.named_children, f)
        elif t == "if_statement":
            return self.if_(s, f)
        elif t in LOOPS:
            self.loop(s, f)
        elif t == "try_statement":
            left = self.stmt(s.child_by_field_name("body"), f)
            handler = s.child_by_field_name("handler")
            if handler is not None:
                self.stmt(handler.child_by_field_name("body"), f)
                left = False
            self.stmt(s.child_by_field_name("finalizer"), f)
            return left
        elif t == "switch_statement":
            before, envs = dict(f.env), []
            self.expr(s.child_by_field_name("value"), f)
            body = s.child_by_field_name("body")
            for case in body.named_children if body is not None else []:
                f.env = dict(before)
                self.block(
                    [
                        c
                        for c in case.named_children
                        if c.type.endswith(("statement", "declaration"))
                    ],
                    f,
                )
                envs.append(f.env)
            for env in envs:
                before = join_env(before, env)
            f.env = before
        elif t in ("function_declaration", "generator_function_declaration"):
            name = s.child_by_field_name("name")
            self.function(
                s, f, f"{f.qual}.{node_text(name)}" if name is not None else self.nested_qual(s, f)
            )
        elif t == "class_declaration":
            self.class_(s, f)
        elif t == "export_statement":
            self.export(s, f)
        elif t == "labeled_statement":
            return self.stmt(s.child_by_field_name("body"), f)
        return False

    def declare(self, d: Node, f: Frame) -> None:
        name, value = d.child_by_field_name("name"), d.child_by_field_name("value")
        inner = unwrap(value)
        if name is not None and name.type == "identifier" and inner is not None:
            if inner.type in FUNCTIONS:
                qual = f"{f.qual}.{node_text(name)}"
                f.defs[node_text(name)] = qual
                self.function(inner, f, qual)
                return
            if inner.type == "class":
                self.class_(inner, f, node_text(name))
                return
            if inner.type == "object":
                qual = f"{f.qual}.{node_text(name)}"
                f.defs[node_text(name)] = qual
                self.bind(name, self.object_(inner, f, qual), f, d.start_point[0] + 1)
                return
        got = self.expr(value, f)
        if (
            name is not None
            and inner is not None
            and inner.type == "new_expression"
            and f.qual == self.module
            and isinstance(got.const, Obj)
        ):
            # ``export const cache = new Cache()``: a singleton other files call methods of
            self.instances[f"{f.qual}.{node_text(name)}"] = got.const.qual
        self.bind(name, got, f, d.start_point[0] + 1)

    def if_(self, s: Node, f: Frame) -> bool:
        since = len(self.tested)
        cond = self.expr(s.child_by_field_name("condition"), f)
        self.mark_tested(s.child_by_field_name("condition"), since, f)
        yes = s.child_by_field_name("consequence")
        alt = s.child_by_field_name("alternative")
        no = alt.named_children[-1] if alt is not None and alt.named_children else None
        if cond.known and not isinstance(cond.const, Obj):
            return self.stmt(yes if cond.const else no, f)
        guards = self.guards(s.child_by_field_name("condition"), f)
        before = dict(f.env)
        for guard in guards:
            self.narrow(guard, True, f)
        left_yes = self.stmt(yes, f)
        env_yes, f.env = f.env, dict(before)
        for guard in guards:
            self.narrow(guard, False, f)
        left_no = self.stmt(no, f)
        if left_yes and not left_no:
            return False  # f.env is the else branch's
        if left_no and not left_yes:
            f.env = env_yes
            return False
        f.env = join_env(env_yes, f.env)
        return left_yes and left_no

    def loop(self, s: Node, f: Frame) -> None:
        right = s.child_by_field_name("right")
        left = s.child_by_field_name("left")
        for part in ("initializer", "condition", "increment"):
            node = s.child_by_field_name(part)
            if node is not None:
                self.stmt(node, f) if node.type.endswith(
                    ("declaration", "statement")
                ) else self.expr(node, f)
        before = dict(f.env)
        for _ in range(2):
            if right is not None and left is not None:
                seq = self.expr(right, f)
                element = seq.flat()
                for _, v in seq.items or ():
                    element = join(element, v)
                self.bind(left, element, f, s.start_point[0] + 1)
            self.stmt(s.child_by_field_name("body"), f)
            f.env = join_env(before, f.env)

    def class_(self, s: Node, f: Frame, name: str = "") -> None:
        node = s.child_by_field_name("name")
        name = name or (node_text(node) if node is not None else f"<{s.start_point[0] + 1}>")
        qual = f"{f.qual}.{name}"
        f.defs.setdefault(name, qual)
        body = s.child_by_field_name("body")
        inner = f.child(qual)
        inner.views = {"this": qual}
        self.inject(body, f, qual)
        for m in body.named_children if body is not None else []:
            if m.type == "method_definition":
                mname = m.child_by_field_name("name")
                label = node_text(mname) if mname is not None else "?"
                self.function(m, inner, f"{qual}.{'__init__' if label == 'constructor' else label}")
                if label == "constructor":
                    inner.views["this"] = qual
            elif m.type in ("public_field_definition", "field_definition"):
                value = unwrap(m.child_by_field_name("value"))
                mname = m.child_by_field_name("name") or m.child_by_field_name("property")
                if value is not None and value.type in FUNCTIONS and mname is not None:
                    self.function(value, inner, f"{qual}.{node_text(mname)}")
        f.hits += inner.hits
        f.calls += inner.calls

    def export(self, s: Node, f: Frame) -> None:
        decl = s.child_by_field_name("declaration")
        value = s.child_by_field_name("value")
        source = string_value(s.child_by_field_name("source"))
        if source is not None and not source.startswith("node:"):  # resolved in link
            target = self.import_qual(source, "*")
            if not source.startswith("."):
                self.bare.add(source)  # ``export * from '@acme/db'``: maybe the repository's
            clause = next((c for c in s.named_children if c.type == "export_clause"), None)
            if clause is None:
                self.reexports.append(target)  # export * from './x'
            for spec in clause.named_children if clause is not None else []:
                name, alias = spec.child_by_field_name("name"), spec.child_by_field_name("alias")
                if name is not None:
                    public = node_text(alias or name)
                    self.aliases[f"{self.module}.{public}"] = f"{target}.{node_text(name)}"
            return
        if decl is not None:
            self.stmt(decl, f)
            return
        if value is None:
            return
        inner = unwrap(value)
        if inner is not None and inner.type in FUNCTIONS:
            self.function(inner, f, f"{self.module}.default")
        elif inner is not None and inner.type == "identifier" and node_text(inner) in f.defs:
            self.aliases[f"{self.module}.default"] = f.defs[node_text(inner)]
        else:
            self.expr(value, f)
