"""Expressions: what value (labels, constant, items) a Python expression has in a frame.

Constants fold (``7 * 18 + num > 200`` with ``num = 106`` is ``True``), strings built with
f-strings, ``%``, ``+``, ``.format`` and ``join`` carry every part's labels, containers keep
per-key / per-position values, and calls go to ``pycall``.
"""

from __future__ import annotations

import ast
import dataclasses
import operator
from typing import Any

from threatmodel.dataflow import affix, browserless, consts, containers, pieces, urlhead
from threatmodel.dataflow.base import EngineBase
from threatmodel.dataflow.frame import REREAD, Frame, dotted
from threatmodel.dataflow.pyclass import SELF
from threatmodel.dataflow.values import (
    ATTR,
    CLEAN,
    UNKNOWN,
    Label,
    Value,
    attr_read,
    const,
    distinct,
    join,
    tainted,
)
from threatmodel.frameworks.registry import request_sources

# The frameworks' request objects (frameworks/<name>/__init__.py), as data.
REQUEST_OBJECTS = request_sources("python").objects
STORED = request_sources("python").stored
# Attributes of a request object that are not client input (server state, the auth user).
NOT_INPUT = frozenset({"user", "session", "method", "app", "state", "auth", "is_secure", "config"})
# What a pathlib path's ``suffix`` / ``suffixes`` give is "." and what follows the last dot
# of the last component: never a separator nor "..", so it cannot leave a folder however
# the name was chosen (``folder / f"{obj.id}{Path(upload.name).suffix}"``).
PATH_SAFE_ATTRS = frozenset({"suffix", "suffixes"})
# The request's URL path, which the router matched: fixed in a handler whose routes are
# all fixed paths (``urlparams.static_route``). ``full_path`` / ``url`` add the query.
ROUTED_ATTRS = frozenset({"path"})
PATH_KINDS = frozenset({"path_traversal"})
# The path this request came in on (Django ``path`` / ``path_info`` / ``get_full_path()``,
# Flask ``path`` / ``full_path`` / ``script_root``) where a route matched it
# (``urlparams.after_routing``): it starts with the one ``/`` of a path of this site, so
# as a URL's start it keeps the browser here. A ``//host`` path matches no route (Django
# strips one leading ``/`` before matching; Werkzeug merges the slashes and redirects
# first), bar a catch-all pattern at the root. The query after the path is input.
OWN_PATH_ATTRS = frozenset(
    {"path", "path_info", "full_path", "script_root", "get_full_path", "get_full_path_info"}
)

# The origin this request was addressed to (Starlette ``base_url``, Flask / Werkzeug
# ``host_url`` / ``url_root`` / ``root_url`` / ``host``): the host the browser itself
# connected to, so a redirect there keeps it on this site. Only for redirects: a server
# that fetches that URL goes wherever the client's Host header says (SSRF stays).
OWN_ORIGIN_ATTRS = frozenset({"base_url", "host_url", "url_root", "root_url", "host"})
# Starlette's ``request.url_for(name, **params)``: that origin joined with a route's path
# (whatever the parameters, the URL is absolute on this host).
OWN_ORIGIN_METHODS = frozenset({"url_for"})
REDIRECT_KINDS = frozenset({"open_redirect"})


def request_label(line: int, origin: str = "request") -> Value:
    return Value(frozenset({Label("request", origin, line)}))


def request_read(v: Value, method: str) -> Value:
    """What ``request.<method>()`` gives when ``v`` is the request object: its labels
    renamed ``request.<method>``, keeping the sanitizers and guards they met."""
    return Value(
        frozenset(dataclasses.replace(x, origin=f"request.{method}", _h=0) for x in v.labels)
    )


class ExprMixin(EngineBase):
    """The expression half of ``Engine`` (kept apart to keep modules small)."""

    def expr(self, node: ast.AST | None, f: Frame) -> Value:
        if node is None:
            return CLEAN
        if isinstance(node, ast.Constant):
            return const(node.value)
        if isinstance(node, ast.Name):
            return self.name(node, f)
        if isinstance(node, ast.Attribute):
            return self.attribute(node, f)
        if isinstance(node, ast.Call):
            return self.call(node, f)
        if isinstance(node, ast.JoinedStr):
            parts = [self.expr(v, f) for v in node.values]
            if all(p.known for p in parts):
                return const("".join(str(p.const) for p in parts))
            parts = urlhead.fixed_tail(parts)
            return affix.concat(parts, tainted(*parts).step(node.lineno))
        if isinstance(node, ast.FormattedValue):
            inner = self.expr(node.value, f)
            return inner if node.format_spec is None else tainted(inner)
        if isinstance(node, ast.BinOp):
            a, b = self.expr(node.left, f), self.expr(node.right, f)
            if a.known and b.known:
                folded = consts.binop(node.op, a.const, b.const)
                if folded is not UNKNOWN:
                    return from_const(folded)
            if isinstance(node.op, ast.BitOr) and a.items is not None and not a.seq:
                return containers.merge(a, b)
            if isinstance(node.op, ast.Mod) and a.known:
                reads = containers.percent_reads(a.const, b)
                if reads is not None:
                    return reads.step(node.lineno)
            if isinstance(node.op, ast.Add) and a.seq and b.seq and a.items and b.items:
                items = a.items + tuple((len(a.items) + i, v) for i, (_, v) in enumerate(b.items))
                return Value(a.labels | b.labels, items=items, seq=True)
            if isinstance(node.op, ast.Add):  # ``'help' + p``: the known ends are kept
                a, b = urlhead.fixed_tail([a, b])
                return affix.concat([a, b], tainted(a, b).step(node.lineno))
            return tainted(a, b).step(node.lineno)
        if isinstance(node, ast.UnaryOp):
            v = self.expr(node.operand, f)
            if v.known:
                folded = consts.unary(node.op, v.const)
                if folded is not UNKNOWN:
                    return const(folded)
            return CLEAN if isinstance(node.op, ast.Not) else v.flat()
        if isinstance(node, ast.BoolOp):
            return self.boolop(node, f)
        if isinstance(node, ast.Compare):
            return self.compare(node, f)
        if isinstance(node, ast.IfExp):
            test = self.expr(node.test, f)
            if test.known and not test.labels:
                self.dead_expr(node.orelse if test.const else node.body, f, node.lineno)
                return self.expr(node.body if test.const else node.orelse, f)
            arms = []
            for arm, truth in ((node.body, True), (node.orelse, False)):
                saved, facts = dict(f.env), set(f.facts)
                self.refine(node.test, f, truth)
                arms.append(self.expr(arm, f))
                f.env, f.facts = saved, facts
            return join(arms[0], arms[1]).step(node.lineno)
        if isinstance(node, ast.List | ast.Tuple):
            if any(isinstance(e, ast.Starred) for e in node.elts):
                starred = [(isinstance(e, ast.Starred), self.expr(e, f)) for e in node.elts]
                return containers.starred_list(starred)
            vals = [self.expr(e, f) for e in node.elts]
            if isinstance(node, ast.Tuple) and all(v.known for v in vals):
                return Value(const=tuple(v.const for v in vals), items=_seq(vals), seq=True)
            return Value(items=_seq(vals), seq=True)
        if isinstance(node, ast.Set):
            return tainted(*(self.expr(e, f) for e in node.elts))
        if isinstance(node, ast.Dict):
            pairs: list[tuple[Any, Value]] = []
            loose: list[Value] = []
            out = Value(items=())
            for k, v_node in zip(node.keys, node.values, strict=False):
                key, val = self.expr(k, f) if k is not None else CLEAN, self.expr(v_node, f)
                if k is None:  # ``{**other, ...}``: its keys, then the ones written after
                    out = containers.merge(containers.merge(out, Value(items=tuple(pairs))), val)
                    pairs = []
                elif key.known and not key.labels:
                    pairs.append((key.const, val))
                else:
                    loose += [key, val]  # a key from input is input too
            out = containers.merge(out, Value(items=tuple(pairs)))
            if loose:
                return Value(out.all_labels() | tainted(*loose).labels, items=out.items)
            return out
        if isinstance(node, ast.Subscript):
            return self.subscript(node, f)
        if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            return self.comprehension(node, f)
        if isinstance(node, ast.Await | ast.Starred):
            return self.expr(node.value, f)
        if isinstance(node, ast.NamedExpr):
            value = self.expr(node.value, f)
            self.assign(node.target, value, f, node.lineno)
            return value
        if isinstance(node, ast.Lambda):
            return CLEAN
        return tainted(*(self.expr(c, f) for c in ast.iter_child_nodes(node)))

    def props(self, cls: str) -> tuple[str, ...]:
        """The properties class ``cls`` (of this file) defines."""
        return tuple(self.classes.get(cls, {}).get("props", ()))

    def name(self, node: ast.Name, f: Frame) -> Value:
        if node.id in f.env:
            return f.env[node.id]
        qual = f.aliases.get(node.id)
        if qual in REQUEST_OBJECTS:
            asked = request_label(node.lineno)
            return browserless.mark(asked) if browserless.holds(f) else asked
        if qual is not None:
            return self.module_value(qual, node.lineno)
        return CLEAN

    def attribute(self, node: ast.Attribute, f: Frame) -> Value:
        key = dotted(node)
        if key and key in f.env:
            return f.env[key]
        if f.rereads and REREAD + key in f.env:
            return f.env[REREAD + key]  # a request read a guard tested (``reread_key``)
        base = self.expr(node.value, f)
        if node.attr in STORED and base.all_labels():
            return Value(frozenset({Label("database", f".{node.attr}", node.lineno)}))
        if node.attr in PATH_SAFE_ATTRS and base.all_labels():
            from threatmodel.dataflow.python import _is_path_expr

            if dotted(node.value) in f.paths or _is_path_expr(node.value, f):
                return base.flat().sanitized(PATH_KINDS, f"Path.{node.attr}").step(node.lineno)
        own = key.startswith("self.") and key.count(".") == 1 and f.qual.count(".") >= 2
        if own and f.me == "self" and node.attr in self.props(f.cls):
            # a property of the class: its method's result (``pyclass``), resolved in link
            return Value(frozenset({Label("call", f"{f.cls}{SELF}{node.attr}", node.lineno)}))
        if own and ("self" not in f.env or not f.env["self"].labels):
            return Value(frozenset({Label("self", node.attr, node.lineno)}))
        if not base.labels and not base.items:
            qual = f.aliases.get(key.partition(".")[0]) if key else None
            if qual is not None:
                full = qual + key[len(key.partition(".")[0]) :]
                return self.module_value(full, node.lineno)
            return CLEAN
        out: list[Label] = []
        for lab in base.all_labels():
            if lab.kind == "request" and lab.origin == "request":
                if node.attr in NOT_INPUT or (node.attr in ROUTED_ATTRS and f.fixed_path):
                    continue
                got = Label("request", f"request.{node.attr}", lab.line, steps=lab.steps)
                if node.attr in OWN_PATH_ATTRS and f.routed:
                    got = got.sanitized(urlhead.HOST_KINDS, "the request's own path")
                elif node.attr in OWN_ORIGIN_ATTRS:
                    got = got.sanitized(REDIRECT_KINDS, "the request's own origin")
                if browserless.holds(f):
                    got = got.sanitized(browserless.KINDS, browserless.NAME)
                out.append(got)
            elif lab.kind == "call" and ATTR not in lab.origin:
                # an attribute of an object a repository call built: link() reads what
                # that class's __init__ stored under this name (``Foo(p).safe``)
                out.append(attr_read(lab, node.attr, node.lineno))
            else:
                out.append(lab)
        return Value(distinct(out))

    def subscript(self, node: ast.Subscript, f: Frame) -> Value:
        base = self.expr(node.value, f)
        if isinstance(node.slice, ast.Slice):
            sl = node.slice
            parts = [self.expr(x, f) for x in (sl.lower, sl.upper, sl.step)]
            written = (sl.lower is not None, sl.upper is not None, sl.step is not None)
            if base.known and all(p.known for p, w in zip(parts, written, strict=True) if w):
                bounds = [p.const if w else None for p, w in zip(parts, written, strict=True)]
                folded = consts.fold(operator.getitem, base.const, slice(*bounds))
                if folded is not UNKNOWN:
                    return from_const(folded)
            given = [p if w else None for p, w in zip(parts, written, strict=True)]
            inside = affix.sliced(base, given[0], given[1], given[2])
            if inside is not None:
                return inside
            return containers.sliced(base, parts[0], parts[1], parts[2], written)
        key = self.expr(node.slice, f)
        if key.known:
            k = key.const
            inside = affix.indexed(base, k)
            if inside is not None:
                return inside
            if base.seq and isinstance(k, int) and base.items is not None and -len(base.items) <= k:
                if k < len(base.items):
                    return base.items[k][1]
            elif base.items is not None and not base.seq:
                got = base.item(k)
                if got is not None:
                    return got
            if base.known:
                folded = consts.fold(operator.getitem, base.const, k)
                if folded is not UNKNOWN:
                    return from_const(folded)
            sep = pieces.free_of(node, k, lambda e: self.expr(e, f))
            if sep == "/" and base.all_labels():  # ``url.split('/')[-1]``: a base name
                return base.flat().sanitized(PATH_KINDS, "a piece cut at '/'")
        return base.flat()

    def boolop(self, node: ast.BoolOp, f: Frame) -> Value:
        """``a or b`` is ``a`` when truthy, else ``b``; ``a and b`` is ``a`` only when ``a``
        is falsy ("", 0, None, an empty container: no data), else ``b``. Each operand is
        read knowing the ones before it were true (``and``) or false (``or``)."""
        out: Value | None = None
        saved, facts = dict(f.env), set(f.facts)
        is_and = isinstance(node.op, ast.And)
        for i, v_node in enumerate(node.values):
            v = self.expr(v_node, f)
            if v.known and not v.labels:
                # ``a or b``: a truthy constant ends it; ``a and b``: a falsy one does
                if bool(v.const) != is_and:
                    out = v if out is None else join(out, v)
                    for rest in node.values[i + 1 :]:
                        self.dead_expr(rest, f, node.lineno)
                    break
                continue
            if is_and and i < len(node.values) - 1:
                v = CLEAN  # only its falsy value can be the result
            out = v if out is None else join(out, v)
            self.refine(v_node, f, is_and)
        f.env, f.facts = saved, facts
        return out if out is not None else const(is_and)

    def compare(self, node: ast.Compare, f: Frame) -> Value:
        left = self.expr(node.left, f)
        result: Any = True
        for op, right_node in zip(node.ops, node.comparators, strict=False):
            right = self.expr(right_node, f)
            if not left.known or not right.known:
                return CLEAN
            got = consts.compare(op, left.const, right.const)
            if got is UNKNOWN:
                return CLEAN
            result = result and got
            left = right
        return const(bool(result))

    def comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp, f: Frame
    ) -> Value:
        exact = self.comprehension_items(node, f)
        if exact is not None:
            return exact
        saved, facts = dict(f.env), set(f.facts)
        for gen in node.generators:
            self.assign(gen.target, self.element(self.expr(gen.iter, f)), f, node.lineno)
            for cond in gen.ifs:  # ``[c for c in s if c.isalnum()]``: only what passes
                self.refine(cond, f, True)
        parts = (
            [self.expr(node.key, f), self.expr(node.value, f)]
            if isinstance(node, ast.DictComp)
            else [self.expr(node.elt, f)]
        )
        f.env, f.facts = saved, facts
        return tainted(*parts).step(node.lineno)

    def comprehension_items(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp, f: Frame
    ) -> Value | None:
        """``[x + '!' for x in ['safe', p]]`` over a list with known positions and no
        filter: the result item by item (a dict comprehension: by its constant keys)."""
        if len(node.generators) != 1 or isinstance(node, ast.SetComp):
            return None
        gen = node.generators[0]
        if gen.ifs or gen.is_async:
            return None
        items = containers.exact_seq(self.expr(gen.iter, f))
        if items is None or len(items) > containers.MAX_ITEMS:
            return None
        saved, facts = dict(f.env), set(f.facts)
        out: list[tuple[Any, Value]] = []
        for i, item in enumerate(items):
            self.assign(gen.target, item, f, node.lineno)
            if isinstance(node, ast.DictComp):
                key = self.expr(node.key, f)
                if not key.known or key.labels:
                    f.env, f.facts = saved, facts
                    return None
                out.append((key.const, self.expr(node.value, f)))
            else:
                out.append((i, self.expr(node.elt, f)))
        f.env, f.facts = saved, facts
        return Value(items=tuple(out), seq=not isinstance(node, ast.DictComp)).step(node.lineno)

    def element(self, seq: Value) -> Value:
        """One element of an iterable: any of its items, or the whole's labels."""
        if seq.items:
            if not seq.seq:
                return Value(seq.labels)  # iterating a dict yields keys
            # joined item by item, so tuples of a ``zip`` / ``enumerate`` stay tuples
            out = seq.items[0][1]
            for _, v in seq.items[1:]:
                out = join(out, v)
            # labels not placed at a position may be in any element, every part of it
            return Value(out.all_labels() | seq.labels) if seq.labels else out
        if seq.known and isinstance(seq.const, str | tuple):
            return CLEAN
        return seq.flat()


def _seq(vals: list[Value]) -> tuple[tuple[Any, Value], ...]:
    return tuple(enumerate(vals))


def from_const(x: Any) -> Value:
    """A folded result as a value: a list of constants keeps its positions."""
    if isinstance(x, list):
        return Value(items=tuple((i, const(v)) for i, v in enumerate(x)), seq=True)
    if isinstance(x, tuple):
        return Value(const=x, items=tuple((i, const(v)) for i, v in enumerate(x)), seq=True)
    return const(x)
