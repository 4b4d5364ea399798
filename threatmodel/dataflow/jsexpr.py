"""Expressions and calls of the JavaScript / TypeScript taint engine (tree-sitter nodes).

Values are the Python engine's (``values.Value``): labels, a constant when one is known,
items for object and array literals. A few objects are known by what they are rather than
by labels (``Obj``): the Express / Next.js request (its ``query``, ``body``, ``params``,
``headers``, ``cookies``, ``url``, ``json()``, ``formData()`` ... are request input, its
``session`` and ``user`` are not), Koa's ``ctx``, and an instance of a repository class (its
methods are that class's functions). ``process.env`` is configuration; the results of the
usual database reads are database values. A call to a repository function becomes a
``call`` label that ``link`` resolves with the callee's summary; any other call passes its
receiver's and arguments' labels through. Sinks are the registry's JavaScript rows.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from threatmodel.claims.sql_injection import PG_PROMISE
from threatmodel.code.jsast import dotted, line_of, string_value, unwrap
from threatmodel.code.treesitter import node_text
from threatmodel.dataflow import affix, jsviews, urlhead
from threatmodel.dataflow.frame import REREAD, Frame, Hit
from threatmodel.dataflow.jsconds import check
from threatmodel.dataflow.jsnodes import call_args, callee_text, const_of, origin
from threatmodel.dataflow.jsrequest import (
    OWN,
    REQ,
    Obj,
    own_url,
    previous_page,
    request_path,
    request_value,
)
from threatmodel.dataflow.jsweak import WEAK_METHODS
from threatmodel.dataflow.values import (
    CLEAN,
    LOOKUP,
    Label,
    Value,
    const,
    field_of,
    join,
    tainted,
    whole,
)

if TYPE_CHECKING:
    from tree_sitter import Node

    from threatmodel.dataflow.catalog import Catalog


REQUEST_ATTRS = frozenset(
    {"query", "body", "params", "headers", "cookies", "signedCookies", "path", "hostname"}
    | {"files", "file", "search", "searchParams", "rawBody"}
)
# Clients whose answer is the app's own stored data: the browser reading its API
API_READS = ("@angular/common/http.HttpClient.",)
# The browser's own HTTP clients, made with ``new``: what their response fields hold is what
# the server sent (its stored data), like a read of the API
API_CLIENTS = {"XMLHttpRequest": ("responseText", "response", "responseXML")}
PROMISE = frozenset({"then", "finally", "catch"})  # the promise they are called on, as it is
POSITIONAL = frozenset({"Promise.all", "rxjs.forkJoin", "rxjs.zip"})
MAX_NEST = 120
OWN_URL = frozenset({"url", "originalUrl", "nextUrl"})
URL_PARTS = frozenset({"searchParams", "search", "hash", "pathname", "query", "username"})
REQUEST_METHODS = frozenset({"get", "header", "param", "json", "formData", "text", "arrayBuffer"})
CTX_ATTRS = frozenset({"query", "params", "headers", "cookies", "url", "path", "querystring"})
DB_READS = frozenset(
    {"findOne", "findAll", "findByPk", "findById", "findMany", "findFirst", "findUnique"}
    | {"findAndCountAll", "findOneAndUpdate", "fetchAll", "first", "query", "execute"}
    | {"$queryRaw", "$queryRawUnsafe", "select", "selectFrom"}
)
# A query builder's steps after the read (Supabase / PostgREST, Knex): they narrow or order
# the rows the read answers.
QUERY_STEPS = frozenset(
    {"eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "is", "in", "contains"}
    | {"containedBy", "match", "not", "or", "filter", "order", "limit", "range", "single"}
    | {"maybeSingle", "textSearch", "where", "andWhere", "orWhere", "whereIn", "orderBy"}
    | {"offset", "first", "returns", "throwOnError"}
)
# Token checks whose result is the payload the server signed: a verified token's claims
# were issued by the app (or whoever holds its key), not typed by the caller, so they carry
# no request label (``jwt.decode``, which checks nothing, passes the token's labels through;
# accepting ``none`` or a guessable key is the ``weak_jwt`` claim, not an injection).
SIGNED = frozenset({"jsonwebtoken.verify", "jose.jwtVerify", "jose.compactVerify"})
# a package's object's query methods (``db.one(q)`` of pg-promise: ``dataflow/jsmade.py``)
PACKAGE_READS = frozenset(f"pg-promise.{m}" for m in PG_PROMISE)
WRAPPERS = frozenset(
    {"parenthesized_expression", "as_expression", "satisfies_expression", "non_null_expression"}
    | {"type_assertion", "await_expression", "sequence_expression"}
)
FUNCTIONS = frozenset({"arrow_function", "function_expression", "function"})
# In the browser, the URL is the attacker's: DOM XSS starts here (Angular's route snapshot too)
BROWSER_SOURCES = re.compile(
    r"(^|\.)(location\.(search|hash|href)|document\.(URL|documentURI|referrer))$"
    r"|\.snapshot\.(queryParams|params|fragment)$"
)
JSX = frozenset({"jsx_element", "jsx_self_closing_element", "jsx_fragment"})


class JsExpr:
    """The expression half of the JS engine (``js.JsEngine`` adds statements and functions)."""

    catalog: Catalog
    summaries: dict[str, dict[str, Any]]
    raw_html: bool  # the file writes raw HTML into JSX (``__html``)
    depth = 0  # expressions and statements being read, nested

    def function(self, fn: Node, parent: Frame, qual: str, seed: list[Value] | None = None) -> None:
        raise NotImplementedError

    def nested_qual(self, fn: Node, f: Frame) -> str:
        raise NotImplementedError

    # ------------------------------------------------------------------ expressions
    def expr(self, node: Node | None, f: Frame) -> Value:
        if node is None or self.depth > MAX_NEST:
            return CLEAN  # hostile nesting: what is this deep is not followed
        self.depth += 1
        try:
            return self._expr(node, f)
        finally:
            self.depth -= 1

    def _expr(self, node: Node, f: Frame) -> Value:
        t = node.type
        if t in WRAPPERS:
            kids = [c for c in node.named_children if c.type != "comment"]
            if t in ("as_expression", "satisfies_expression"):
                kids = kids[:1]  # ``x as T``: the value, not the type
            return self.expr(kids[-1] if kids else None, f)
        if t == "string":
            return const(string_value(node) or "")
        if t == "template_string":
            return self.template(node, f)
        if t in ("number", "true", "false", "null", "undefined", "regex"):
            return const(const_of(node)) if t != "regex" else CLEAN
        if t == "identifier":
            return f.env.get(node_text(node), CLEAN)
        if t == "member_expression":
            return self.member(node, f)
        if t == "subscript_expression":
            obj = self.expr(node.child_by_field_name("object"), f)
            key = self.expr(node.child_by_field_name("index"), f)
            got = obj.item(key.const) if key.known else None
            if got is None and key.known:
                got = previous_page(origin(node), line_of(node), obj, key.const)
            return got if got is not None else self.attr(obj, "", node, f)
        if t in ("call_expression", "new_expression"):
            return self.call(node, f)
        if t == "binary_expression":
            return self.binary(node, f)
        if t == "ternary_expression":
            cond = self.expr(node.child_by_field_name("condition"), f)
            yes = self.expr(node.child_by_field_name("consequence"), f)
            no = self.expr(node.child_by_field_name("alternative"), f)
            if cond.known and not isinstance(cond.const, Obj):
                return yes if cond.const else no
            return join(yes, no)
        if t == "object":
            return self.object_(node, f)
        if t == "array":
            items = []
            for i, c in enumerate(node.named_children):
                v = self.expr(c, f)
                items.append((i, v if c.type != "spread_element" else v.flat()))
            return Value(items=tuple(items), seq=True)
        if t == "spread_element":
            return self.expr(node.named_children[0] if node.named_children else None, f)
        if t in ("assignment_expression", "augmented_assignment_expression"):
            return self.assignment(node, f)
        if t in FUNCTIONS:
            self.function(node, f, self.nested_qual(node, f))
            return CLEAN
        if t in JSX:
            # markup: only ``dangerouslySetInnerHTML`` reaches a sink in it (walking every
            # element of every component costs more than the rest of the file)
            if self.raw_html:
                for c in node.named_children:
                    self.expr(c, f)
            return CLEAN
        if t == "unary_expression":
            arg = self.expr(node.child_by_field_name("argument"), f)
            return CLEAN if node_text(node)[:1] in "!+-~t" else arg  # typeof, !, numbers: clean
        if t == "update_expression":
            return CLEAN
        for c in node.named_children:  # anything else: evaluate its parts (calls, sinks inside)
            self.expr(c, f)
        return CLEAN

    def template(self, node: Node, f: Frame) -> Value:
        parts = [c for c in node.named_children if c.type == "template_substitution"]
        if not parts:
            return const(node_text(node)[1:-1])
        # every piece in order (text and substitutions), for where the input lands (urlhead)
        pieces = [
            self.expr(c.named_children[0] if c.named_children else None, f)
            if c.type == "template_substitution"
            else const(node_text(c))
            for c in node.named_children
        ]
        if all(p.known and type(p.const) in (str, int, float) for p in pieces):
            return const("".join(str(p.const) for p in pieces))  # constants only: folded
        pieces = urlhead.fixed_tail(pieces)
        return affix.concat(pieces, tainted(*pieces))

    def binary(self, node: Node, f: Frame) -> Value:
        op = node.child_by_field_name("operator")
        opt = node_text(op) if op is not None else ""
        a = self.expr(node.child_by_field_name("left"), f)
        b = self.expr(node.child_by_field_name("right"), f)
        if opt in ("||", "??"):
            if a.known and not isinstance(a.const, Obj):
                return a if (a.const if opt == "||" else a.const is not None) else b
            return join(a, b)
        if opt == "&&":
            return b
        if opt == "+":
            if a.known and b.known and not isinstance(a.const, Obj | bool):
                try:
                    return const(a.const + b.const)
                except TypeError:
                    return CLEAN
            a, b = urlhead.fixed_tail([a, b])
            return affix.concat([a, b], tainted(a, b))  # the known ends: ``base + '?q='``
        if a.known and b.known and opt in ("===", "==", "!==", "!="):
            same = a.const == b.const
            return const(same if opt in ("===", "==") else not same)
        return CLEAN  # comparisons, arithmetic: a boolean or a number

    def object_(self, node: Node, f: Frame, prefix: str = "") -> Value:
        """An object literal; ``prefix``: the name it is bound to, so its methods get names
        a call ``name.method()`` resolves to (``export const users = { get (t) {...} }``)."""
        items: list[tuple[Any, Value]] = []
        for c in node.named_children:
            if c.type == "pair":
                key = c.child_by_field_name("key")
                name = string_value(key) if key is not None and key.type == "string" else None
                name = name if name is not None else (node_text(key) if key is not None else "")
                value = unwrap(c.child_by_field_name("value"))
                if prefix and value is not None and value.type in FUNCTIONS:
                    self.function(value, f, f"{prefix}.{name}")
                    continue
                v = self.expr(value, f)
                for kind, row in self.catalog.keys.get(name, ()):  # ``{$where: code}``
                    self.hit(kind, [v], c, row.when, f, qual=row.shown or row.callee)
                items.append((name, v))
            elif c.type == "shorthand_property_identifier":
                items.append((node_text(c), f.env.get(node_text(c), CLEAN)))
            elif c.type == "spread_element":
                inner = self.expr(c, f)
                items += list(inner.items or ()) if not inner.seq else []
                if inner.labels:
                    items.append(("...", Value(inner.labels)))
            elif c.type == "method_definition":
                mname = c.child_by_field_name("name")
                qual = f"{prefix}.{node_text(mname)}" if prefix and mname is not None else ""
                self.function(c, f, qual or self.nested_qual(c, f))
        return Value(items=tuple(items))

    def member(self, node: Node, f: Frame) -> Value:
        obj_node = node.child_by_field_name("object")
        prop = node.child_by_field_name("property")
        name = node_text(prop) if prop is not None else ""
        if dotted(obj_node) == "process.env":
            return Value(frozenset({Label("config", f"process.env.{name}", line_of(node))}))
        if BROWSER_SOURCES.search(dotted(node)):
            return request_value(dotted(node)[-60:], line_of(node))
        if f.rereads and REREAD + dotted(node) in f.env:
            return f.env[REREAD + dotted(node)]  # a read a guard narrowed (``jsbind.subject``)
        obj = self.expr(obj_node, f)
        return self.attr(obj, name, node, f)

    def attr(self, obj: Value, name: str, node: Node, f: Frame) -> Value:
        o = obj.const
        if isinstance(o, Obj):
            if o.kind == "req":
                if name in OWN_URL:
                    return own_url(origin(node), line_of(node))
                if name == "path":
                    return request_path(origin(node), line_of(node))
                if name in REQUEST_ATTRS or not name:
                    return request_value(origin(node), line_of(node))
                return CLEAN  # session, user, app, method ...: not what the client sent
            if o.kind == "ctx":
                if name == "request":
                    return REQ
                if name == "path":
                    return request_path(origin(node), line_of(node))
                return request_value(origin(node), line_of(node)) if name in CTX_ATTRS else CLEAN
            if o.kind == "trpc" and name == "input":  # ctx, path, signal: the server's
                return request_value(f"tRPC {origin(node)}", line_of(node))
            return CLEAN
        got = obj.item(name) if name else None
        if got is None:
            got = previous_page(origin(node), line_of(node), obj, name)
        if got is not None:
            return got
        if name in URL_PARTS and obj.labels and all(OWN in x.via for x in obj.labels):
            # the query or path of this request's URL: the client's, whatever the origin
            if name == "pathname":
                return request_path(origin(node), line_of(node))
            return request_value(f"{origin(node)}", line_of(node))
        if obj.known:
            return CLEAN
        if obj.items is None and name:
            # a field of a call's result or of a parameter: link resolves that field only
            return field_of(obj, name, line_of(node))
        return obj.flat()

    def assignment(self, node: Node, f: Frame) -> Value:
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        value = self.expr(right, f)
        if node.type == "augmented_assignment_expression":
            value = tainted(self.expr(left, f), value)
        self.bind(left, value, f, line_of(node))
        return value

    def bind(self, target: Node | None, value: Value, f: Frame, line: int) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ calls
    def call(self, node: Node, f: Frame) -> Value:
        line = line_of(node)
        fn = unwrap(node.child_by_field_name("function") or node.child_by_field_name("constructor"))
        arg_nodes = call_args(node)
        method = None
        receiver = CLEAN
        if fn is not None and fn.type == "member_expression":
            prop = fn.child_by_field_name("property")
            method = node_text(prop) if prop is not None else None
            receiver = self.expr(fn.child_by_field_name("object"), f)
        qual = self.qualify(fn, f)
        head = dotted(fn).partition(".")[0]
        imported = head in f.aliases and not self.repo(f.aliases[head])
        args = [self.arg(a, f, method, receiver) for a in arg_nodes]
        if method in WEAK_METHODS and fn is not None:
            self.weak(node, method, fn.child_by_field_name("object"), receiver, args)
        if method in ("get", "header") and args:
            back = previous_page(origin(node), line, receiver, args[0].const)
            if back is not None:
                return back
        if isinstance(receiver.const, Obj):
            got = self.object_call(receiver.const, method or "", node, args, f)
            if got is not None:
                return got
        for kind, row in self.catalog.sinks_for(qual, method, imported):
            known = receiver.known and not (
                isinstance(receiver.const, Obj) and receiver.const.kind != "instance"
            )
            if known and method is not None and not qual:
                continue  # a method of a constant or a known object is no client's
            if kind == "nosql_injection" and any(x.kind == "database" for x in receiver.labels):
                continue  # ``row.update({...})``: a row read from the database, not a collection
            picked = (
                args
                if row.arg == -1
                else args[row.arg : row.arg + 1]
                if row.arg is not None
                else []
            )
            self.hit(kind, picked, node, row.when, f, arg_nodes, qual)
        if qual in SIGNED:
            return CLEAN
        name = qual or (f".{method}" if method else "")
        safe = self.catalog.sanitizes(qual, method if not qual else None)
        if safe:
            return tainted(*args).sanitized(safe, name).step(line)
        if qual in POSITIONAL and args and args[0].seq:
            return args[0]  # ``Promise.all([a, b])``: each result where its promise was
        if (
            method in QUERY_STEPS
            and receiver.labels
            and all(x.kind == "database" for x in receiver.all_labels())
        ):
            # ``.select("*").eq("id", id).single()``: the filter's value picks rows, it
            # is not their content; the rows stay stored data
            return receiver
        if method in DB_READS or qual in PACKAGE_READS or qual.startswith(API_READS):
            # a database read, or the browser reading the app's own API: stored data
            read = (
                ".".join(qual.rsplit(".", 2)[-2:]) if qual.startswith(API_READS) else f".{method}"
            )
            return Value(frozenset({Label("database", read, line)}))
        if node.type == "new_expression" and qual in API_CLIENTS:
            answer = Value(frozenset({Label("database", f"{qual}.response", line)}))
            return Value(items=tuple((k, answer) for k in API_CLIENTS[qual]))
        if qual and self.repo(qual):
            if node.type == "new_expression":
                return Value(const=Obj("instance", qual))
            return self.repo_call(qual, args, line, f)
        if method in PROMISE and args:
            return receiver
        if method is not None and LOOKUP.match(method):
            # ``cache.get(key)``, ``store.findLink({ key })``: what is stored under the key,
            # not the key (``searchParams.get('q')`` is tainted through its receiver)
            return receiver.flat().step(line) if receiver.all_labels() else CLEAN
        if not receiver.labels and not any(args):
            return CLEAN
        if imported and qual and not receiver.labels and node.type != "new_expression":
            # a bare import names a library or the repository's own file (a tsconfig
            # ``paths`` alias, a workspace package): only link knows (``jsimports``). A
            # call label: the function's summary when it is the repository's, else its
            # arguments passed through, as below
            return self.repo_call(qual, args, line, f)
        # not the repository's function: its result is read whole (``values.whole``)
        return whole(tainted(receiver, *args)).step(line)

    def arg(self, a: Node, f: Frame, method: str | None, receiver: Value) -> Value:
        raise NotImplementedError

    def object_call(
        self, o: Obj, method: str, node: Node, args: list[Value], f: Frame
    ) -> Value | None:
        raise NotImplementedError

    def weak(
        self, node: Node, method: str, obj: Node | None, receiver: Value, args: list[Value]
    ) -> None:
        raise NotImplementedError

    def repo_call(self, qual: str, args: list[Value], line: int, f: Frame) -> Value:
        raise NotImplementedError

    def qualify(self, fn: Node | None, f: Frame) -> str:
        raise NotImplementedError

    def repo(self, qual: str) -> bool:
        raise NotImplementedError

    # ------------------------------------------------------------------ sinks
    def hit(
        self,
        kind: str,
        values: list[Value],
        node: Node,
        when: str,
        f: Frame,
        arg_nodes: list[Node] | None = None,
        qual: str = "",
    ) -> None:
        value = check(when, values, node, arg_nodes or [], f, self.expr)
        if value is None:
            return
        callee = qual if qual and not self.repo(qual) else callee_text(node)
        view = string_value(unwrap(arg_nodes[0])) if when == "view_locals" and arg_nodes else None
        if view and not isinstance(value, str):
            # which locals each source reaches; link reads the view (``jsviews``)
            found = jsviews.hits(callee, view, value)
            f.hits += [Hit(kind, line_of(node), c, labels) for c, labels in found]
            if found or value.all_labels():
                return
        if isinstance(value, str):  # safe as called: kept to refute a claim there
            f.hits.append(Hit(kind, line_of(node), callee, frozenset(), f"safe: {value}"))
            return
        labels = value.all_labels()
        # only a value known to be constant refutes; an unknown clean value says nothing
        if labels or (value.known and not isinstance(value.const, Obj)):
            f.hits.append(Hit(kind, line_of(node), callee, labels))
