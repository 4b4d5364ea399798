"""Assignments, guards and call targets of the JavaScript / TypeScript taint engine.

``bind`` puts a value into a target: a name, a destructuring pattern (object, array,
defaults, rest), ``this.x`` (what a constructor stores), a property of a local object, or
``innerHTML`` (a DOM sink). ``assignment`` also names the functions it assigns
(``module.exports = fn``, ``exports.f = fn``, ``this.m = (...) =>``). ``guard`` reads an
``if`` test that makes a variable safe in one branch: ``!x.includes('/')`` (the registry's
guard characters), or ``[...].includes(x)`` with constant items (an allow-list).
``qualify`` names a callee through the file's imports and definitions; ``repo_call`` makes
a call into the repository a ``call`` label that link resolves; ``arg`` reads a call's
argument, a callback with what it will be called with (a promise's value, rows read).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from threatmodel.code.jsast import dotted, line_of, object_props, string_value, unwrap
from threatmodel.code.treesitter import node_text
from threatmodel.dataflow.conds import sanitize_keep
from threatmodel.dataflow.frame import REREAD, CallRec, Frame
from threatmodel.dataflow.jsexpr import (
    DB_READS,
    FUNCTIONS,
    REQUEST_METHODS,
    JsExpr,
)
from threatmodel.dataflow.jsnarrow import EQUALS, checked_values, equality
from threatmodel.dataflow.jsnodes import call_args, origin
from threatmodel.dataflow.jspin import PIN, PINNED, pin_test
from threatmodel.dataflow.jsrequest import Obj, request_value
from threatmodel.dataflow.jsweak import CHECK, WEAK, is_input, weak_test
from threatmodel.dataflow.pycall import shallow
from threatmodel.dataflow.urlhead import HOST_KINDS
from threatmodel.dataflow.values import (
    ATTR,
    CLEAN,
    Label,
    Value,
    const,
    field_of,
    join,
    param_name,
)

# The parts of a WHATWG URL after its origin: assigning them never changes the host.
_URL_TAIL = frozenset({"pathname", "search", "hash"})

if TYPE_CHECKING:
    from tree_sitter import Node


class JsBind(JsExpr):
    module: str
    aliases: dict[str, str]
    checks: dict[str, list[Any]]  # weak check line -> [what it is, its and its data's lines]
    tested: list[tuple[str | None, str]]  # (name tested, its ~mark) since the last condition
    param_weak: dict[tuple[str, int], int]  # (parameter, function line) -> weak check line
    injected: dict[str, dict[str, str]]  # class -> property -> the class injected there
    bare: set[str]  # bare specifiers the file imports (a library's, or the repository's)

    def assignment(self, node: Node, f: Frame) -> Value:
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        inner = unwrap(right)
        target = node_text(left) if left is not None else ""
        if inner is not None and inner.type in FUNCTIONS:
            self.function(inner, f, self.assigned_qual(target, f) or self.nested_qual(inner, f))
            return CLEAN
        if inner is not None and inner.type == "identifier" and node_text(inner) in f.defs:
            qual = self.assigned_qual(target, f)
            if qual:
                self.aliases[qual] = f.defs[node_text(inner)]
                if qual.endswith(".default"):
                    self.aliases[self.module] = f.defs[node_text(inner)]
        if target == "module.exports" and inner is not None and inner.type == "object":
            for c in inner.named_children:
                key = c.child_by_field_name("key") if c.type == "pair" else c
                val = c.child_by_field_name("value") if c.type == "pair" else c
                if key is not None and val is not None and node_text(val) in f.defs:
                    self.aliases[f"{self.module}.{node_text(key)}"] = f.defs[node_text(val)]
        return super().assignment(node, f)

    def assigned_qual(self, target: str, f: Frame) -> str:
        if target == "module.exports":
            return f"{self.module}.default"
        if exported := self.own_export(target):
            return exported
        if target.startswith("this.") and "." not in target[5:] and f.views.get("this"):
            return f"{f.views['this']}.{target[5:]}"
        if target.isidentifier():
            f.defs[target] = f"{f.qual}.{target}"
            return f.defs[target]
        return ""

    def own_export(self, name: str) -> str:
        """The function ``module.exports.x`` / ``exports.x`` names in this module, or ''."""
        for prefix in ("module.exports.", "exports."):
            if name.startswith(prefix) and "." not in name[len(prefix) :]:
                return f"{self.module}.{name[len(prefix) :]}"
        return ""

    def bind(self, target: Node | None, value: Value, f: Frame, line: int) -> None:
        if target is None:
            return
        t = target.type
        if f.rereads and t in (
            "identifier",
            "shorthand_property_identifier_pattern",
            "member_expression",
        ):
            # what a guard narrowed under this name (``subject``) no longer holds
            gone = REREAD + dotted(target)
            for k in [k for k in f.env if k == gone or k.startswith(gone + ".")]:
                del f.env[k]
        if t in ("identifier", "shorthand_property_identifier_pattern"):
            f.env[node_text(target)] = value.step(line)
        elif t == "object_pattern":
            for c in target.named_children:
                if c.type == "shorthand_property_identifier_pattern":
                    self.bind(c, self.attr(value, node_text(c), c, f), f, line)
                elif c.type == "pair_pattern":
                    key = c.child_by_field_name("key")
                    name = string_value(key) if key is not None and key.type == "string" else None
                    name = name or (node_text(key) if key is not None else "")
                    self.bind(c.child_by_field_name("value"), self.attr(value, name, c, f), f, line)
                elif c.type == "object_assignment_pattern":
                    left = c.child_by_field_name("left")
                    got = self.attr(value, node_text(left) if left is not None else "", c, f)
                    self.bind(
                        left, join(got, self.expr(c.child_by_field_name("right"), f)), f, line
                    )
                elif c.type == "rest_pattern":
                    self.bind(c.named_children[0] if c.named_children else None, value, f, line)
        elif t == "array_pattern":
            for i, c in enumerate(target.named_children):
                elem = value.item(i)
                self.bind(c, elem if elem is not None else value.flat(), f, line)
        elif t == "assignment_pattern":
            default = self.expr(target.child_by_field_name("right"), f)
            self.bind(target.child_by_field_name("left"), join(value, default), f, line)
        elif t == "rest_pattern":
            self.bind(target.named_children[0] if target.named_children else None, value, f, line)
        elif t in ("member_expression", "subscript_expression"):
            obj = unwrap(target.child_by_field_name("object"))
            prop = target.child_by_field_name("property")
            for kind, row in self.catalog.assigns.get(f".{node_text(prop or target)}", ()):
                self.hit(kind, [value], target, row.when, f, qual=row.shown or row.callee)
            if obj is not None and obj.type == "this" and prop is not None:
                f.attrs[node_text(prop)] = value
                return
            if obj is not None and obj.type == "identifier" and node_text(obj) in f.env:
                old = f.env[node_text(obj)]
                if isinstance(old.const, Obj) or not value.all_labels():
                    return
                field = node_text(prop) if prop is not None and t == "member_expression" else None
                if field in _URL_TAIL:
                    # url.pathname = input: a URL object's path, query or fragment; no value
                    # set there moves its origin (the setters escape, the host stays).
                    value = sanitize_keep(value, HOST_KINDS, "a URL object's path or query")
                if field is not None and old.items is not None and not old.seq:
                    items = (*tuple((k, v) for k, v in old.items if k != field), (field, value))
                    f.env[node_text(obj)] = Value(old.labels, items=items)
                else:
                    f.env[node_text(obj)] = Value(old.all_labels() | value.all_labels())

    def guards(self, cond: Node | None, f: Frame) -> list[tuple[str, frozenset[str], bool]]:
        """Every ``guard`` an ``if`` condition proves in one of its branches: each operand of
        a true ``a && b`` holds (``if (u && isAllowed(u))``), each operand of a false
        ``a || b`` fails (``if (!u || !isAllowed(u)) return``)."""
        cond = unwrap(cond)
        op = node_text(cond.child_by_field_name("operator") or cond) if cond is not None else ""
        if cond is not None and cond.type == "binary_expression" and op in ("&&", "||"):
            sides = (cond.child_by_field_name("left"), cond.child_by_field_name("right"))
            return [g for x in sides for g in self.guards(x, f) if g[2] == (op == "&&")]
        return self.guard(cond, f)

    def guard(self, cond: Node | None, f: Frame) -> list[tuple[str, frozenset[str], bool]]:
        """``x.includes('/')`` / ``!x.includes('..')`` / ``[...].includes(x)`` /
        ``x === 'a'`` / ``isSafe(x)`` as guards: (the variable, or the ``subject`` key of a
        member expression, the kinds it is safe for, whether it is safe when the test
        holds)."""
        cond = unwrap(cond)
        negated = False
        while cond is not None and cond.type == "unary_expression" and node_text(cond)[:1] == "!":
            negated = not negated
            cond = unwrap(cond.child_by_field_name("argument"))
        pinned = pin_test(cond)
        if pinned is not None:
            return [(pinned, PINNED, not negated)]  # ``HOSTS.has(new URL(x).hostname)``
        same = equality(cond)
        if same is not None:
            # ``x === 'a'``, ``ctx.headers.host === 'a.com'``: where it holds, it is 'a'
            node, literal, holds = same
            key = self.subject(node, f)
            return [(key, frozenset({EQUALS + literal}), holds != negated)] if key else []
        if cond is None or cond.type != "call_expression":
            return []
        fn = unwrap(cond.child_by_field_name("function"))
        qual = self.qualify(fn, f) if fn is not None else ""
        if qual and (self.repo(qual) or self.checker(qual)):
            # ``if (!isAllowedUrl(x))``, ``if (ok({url: req.query.next}))``: ``jsweak.annotate``
            # reads whether it pins the host, or decides on the value in a way it cannot read
            out = []
            for i, a in enumerate(call_args(cond)):
                for node in checked_values(a):
                    key = self.subject(node, f)
                    if key:
                        out.append((key, frozenset({f"{PIN}{qual}#{i}"}), not negated))
            return out
        args = cond.child_by_field_name("arguments")
        arg = args.named_children[0] if args is not None and args.named_children else None
        if fn is None or fn.type != "member_expression" or arg is None:
            return []
        prop = fn.child_by_field_name("property")
        if prop is None or node_text(prop) not in ("includes", "has", "indexOf"):
            return []
        obj = unwrap(fn.child_by_field_name("object"))
        needle = string_value(arg)
        if obj is not None and obj.type == "identifier" and needle is not None:
            kinds = self.catalog.guarded_by(needle)  # ``x.includes('/')`` true: x is unsafe
            return (
                [(node_text(obj), kinds, negated)]
                if kinds and node_text(prop) == "includes"
                else []
            )
        listed = self.expr(obj, f)
        if (
            arg.type == "identifier"
            and listed.seq
            and listed.items
            and all(v.known for _, v in listed.items)
        ):
            # an allow-list
            return [(node_text(arg), frozenset(self.catalog.sinks_kinds), not negated)]
        return []

    def subject(self, node: Node, f: Frame) -> str:
        """The env key a guard narrows: a variable's name, or for a member expression of
        names (``req.query.next``, ``ctx.headers.host``) a ``REREAD`` key its later reads
        look up (``member``), holding its value as read here. "" for anything else."""
        node = unwrap(node) or node
        if node.type in ("identifier", "shorthand_property_identifier"):
            return node_text(node) if node_text(node) in f.env else ""
        key = dotted(node) if node.type == "member_expression" else ""
        if not key or "(" in key:
            return ""
        if REREAD + key not in f.env:
            f.env[REREAD + key] = self.expr(node, f)
        f.rereads = True
        return REREAD + key

    def weak(
        self, node: Node, method: str, obj: Node | None, receiver: Value, args: list[Value]
    ) -> None:
        """Note a weak allow-list test of input (``jsweak``) met while reading a condition."""
        got = weak_test(node, method, obj, args)
        if got is None:
            return
        on_receiver, what, lines = got
        value = receiver if on_receiver else args[0] if args else CLEAN
        if not is_input(value):
            return
        line = line_of(node)
        self.checks[str(line)] = [what, lines]
        subject = unwrap(obj if on_receiver else call_args(node)[0])
        name = node_text(subject) if subject is not None and subject.type == "identifier" else None
        self.tested.append((name, f"{WEAK}{self.module}:{line}"))
        for x in value.all_labels():
            if x.kind == "param":
                self.param_weak.setdefault((param_name(x.origin), x.line), line)

    def mark_tested(self, cond: Node | None, since: int, f: Frame) -> None:
        """After an ``if`` condition: the names it tested weakly, and those it passed to a
        repository function (``if (isAllowed(url))``: a check ``jsweak.annotate`` resolves),
        carry a ``~`` mark. Nothing is sanitized: the mark only names the check."""
        marks = self.tested[since:]
        del self.tested[since:]
        todo = [cond]
        while todo and len(todo) < 64:
            node = unwrap(todo.pop())
            if node is None:
                continue
            if node.type == "call_expression":
                qual = self.qualify(unwrap(node.child_by_field_name("function")), f)
                if qual and (self.repo(qual) or self.checker(qual)):
                    for i, a in enumerate(call_args(node)):
                        for value in checked_values(a):
                            key = self.subject(value, f)
                            if key:
                                marks.append((key, f"{CHECK}{qual}#{i}"))
            todo += node.named_children
        for name, mark in marks:
            old = f.env.get(name) if name is not None else None
            if name is not None and old is not None and old.items is None and old.labels:
                f.env[name] = old.sanitized(frozenset(), mark)

    def narrow(
        self, guard: tuple[str, frozenset[str], bool] | None, branch: bool, f: Frame
    ) -> None:
        if guard is None or guard[2] != branch or guard[0] not in f.env:
            return
        name, kinds, _ = guard
        literal = next((k for k in kinds if k.startswith(EQUALS)), None)
        if literal is not None:
            f.env[name] = const(literal[len(EQUALS) :])
            return
        mark = next((k for k in kinds if k.startswith(PIN)), None)
        if mark is not None:
            f.env[name] = f.env[name].sanitized(frozenset(), mark)
            return
        f.env[name] = f.env[name].sanitized(kinds, "guard")

    # ------------------------------------------------------------------ calls
    def arg(self, a: Node, f: Frame, method: str | None, receiver: Value) -> Value:
        if a.type in FUNCTIONS:
            # a callback: ``p.then(x => ...)`` gets the promise's value, ``col.find(q, (err,
            # docs) => ...)`` the database's rows
            seed: list[Value] | None = None
            if method in ("then", "subscribe", "map", "forEach", "filter", "reduce"):
                seed = [receiver.flat() if method not in ("then", "subscribe") else receiver]
            elif method in DB_READS or method in ("find", "exec"):
                # ``Model.find(q).sort(s).exec((err, docs) => ...)``: Mongoose's query runs
                # and calls back with the rows (a RegExp's ``exec`` takes no function)
                seed = [CLEAN, Value(frozenset({Label("database", f".{method}", line_of(a))}))]
            self.function(a, f, self.nested_qual(a, f), seed)
            return CLEAN
        if method == "subscribe" and a.type == "object":  # RxJS ``subscribe({ next: v => })``
            for key, fn in object_props(a).items():
                if fn.type in FUNCTIONS:
                    seed = [receiver] if key == "next" else None
                    self.function(fn, f, self.nested_qual(fn, f), seed)
            return CLEAN
        return self.expr(a, f)

    def object_call(
        self, o: Obj, method: str, node: Node, args: list[Value], f: Frame
    ) -> Value | None:
        line = line_of(node)
        if o.kind == "req" and method in REQUEST_METHODS:
            return request_value(origin(node), line)
        if o.kind == "instance" and method:
            return self.repo_call(f"{o.qual}.{method}", args, line, f)
        return None

    def repo_call(self, qual: str, args: list[Value], line: int, f: Frame) -> Value:
        labels: list[tuple[str, frozenset[Label]]] = []
        for i, a in enumerate(args):
            whole = shallow(a.all_labels())
            if not whole:
                continue
            labels.append((str(i), whole))
            if a.items is not None and not a.seq:
                labels += literal_fields(str(i), a, line)
        if labels:
            f.calls.append(CallRec(qual, line, tuple(labels)))
        return Value(frozenset({Label("call", qual, line, args=tuple(labels))}))

    def inject(self, body: Node | None, f: Frame, qual: str) -> None:
        """What a class's injected properties are (Angular / NestJS dependency injection):
        ``x = inject(T)`` / ``x = new T()`` fields and ``constructor(private x: T)``
        parameter properties. ``this.x.m()`` then names ``T.m`` (``qualify``)."""
        found: dict[str, str] = {}
        for m in body.named_children if body is not None else []:
            if m.type == "public_field_definition":
                name, value = m.child_by_field_name("name"), unwrap(m.child_by_field_name("value"))
                if (
                    name is None
                    or value is None
                    or value.type not in ("call_expression", "new_expression")
                ):
                    continue
                args = call_args(value)
                fn = value.child_by_field_name("function") or value.child_by_field_name(
                    "constructor"
                )
                if value.type == "call_expression" and (fn is None or node_text(fn) != "inject"):
                    continue
                target = args[0] if value.type == "call_expression" and args else fn
                if target is not None and target.type == "identifier":
                    found[node_text(name)] = self.qualify(target, f)
            elif (
                m.type == "method_definition"
                and node_text(m.child_by_field_name("name") or m) == "constructor"
            ):
                params = m.child_by_field_name("parameters")
                for p in params.named_children if params is not None else []:
                    if not any(
                        c.type == "accessibility_modifier" or c.type == "readonly"
                        for c in p.children
                    ):
                        continue
                    name, typ = p.child_by_field_name("pattern"), p.child_by_field_name("type")
                    kind = typ.named_children[0] if typ is not None and typ.named_children else None
                    if name is not None and kind is not None and kind.type == "type_identifier":
                        found[node_text(name)] = self.qualify(kind, f)
        self.injected[qual] = {k: v for k, v in found.items() if v}

    def qualify(self, fn: Node | None, f: Frame) -> str:
        """The dotted name a callee spells, its head resolved through imports / local defs."""
        if fn is None:
            return ""
        if fn.type == "type_identifier":
            name = node_text(fn)
            return f.aliases.get(name) or f.defs.get(name) or name
        if fn.type == "member_expression":
            obj = unwrap(fn.child_by_field_name("object"))
            prop = fn.child_by_field_name("property")
            if obj is not None and obj.type == "call_expression" and prop is not None:
                inner = unwrap(obj.child_by_field_name("function"))
                if inner is not None and node_text(inner) == "require":
                    spec = string_value(call_args(obj)[0]) if call_args(obj) else None
                    return f"{spec.removeprefix('node:')}.{node_text(prop)}" if spec else ""
            if obj is not None and obj.type == "this" and prop is not None:
                return f"{f.views.get('this', '')}.{node_text(prop)}" if f.views.get("this") else ""
        name = dotted(fn)
        if not name:
            return ""
        if (exported := self.own_export(name)) and "exports" not in f.env:
            return exported  # ``module.exports.get(url)``: the module's own function
        head, _, rest = name.partition(".")
        if head == "this" and f.views.get("this"):
            field, _, method = rest.partition(".")
            typ = self.injected.get(f.views["this"], {}).get(field)
            if typ and method:
                return f"{typ}.{method}"  # ``this.products.search()``: an injected service
        base = f.aliases.get(head) or f.defs.get(head)
        if base is None:
            return "" if head in f.env else name
        return f"{base}.{rest}" if rest else base

    def repo(self, qual: str) -> bool:
        """Is ``qual`` a function of this repository (an import of its files or a local def)?"""
        return qual.startswith(("./", "@/", "~/"))  # a relative or root-alias import

    def checker(self, qual: str) -> bool:
        """Is ``qual`` a function a bare import names (``isSafeUrl`` of ``@server/utils``),
        which may be the repository's (a tsconfig alias, a workspace package: ``jsimports``
        says at link)? Its mark then names it; a library's is no summary, and its mark is
        dropped (``jsweak.annotate``). A collection's membership test is none of these."""
        if qual.rsplit(".", 1)[-1] in ("includes", "has", "indexOf"):
            return False
        return any(qual.startswith(f"{spec}.") for spec in self.bare)


def literal_fields(index: str, a: Value, line: int) -> list[tuple[str, frozenset[Label]]]:
    """An object literal passed as argument ``index``, field by field for
    ``link.param_field``: ``index.<attr>.`` what a field it does not name may come from
    (its spreads), and ``index.<attr>.k`` all that field ``k`` may hold (a spread after
    ``k`` may override it)."""
    keys = [k for k, _ in a.items or ()]
    last = max((n for n, k in enumerate(keys) if k == "..."), default=-1)
    rest = a.labels | (a.item("...") or CLEAN).all_labels()
    out = [(f"{index}{ATTR}", shallow(rest))]
    for n, (k, v) in enumerate(a.items or ()):
        if k == "...":
            continue
        got = v.all_labels()
        if n < last:
            got |= field_of(Value(rest), str(k), line).labels
        out.append((f"{index}{ATTR}{k}", shallow(got)))
    return out
