"""Expressions: what value (labels, constant, items) a Python expression has in a frame.

Constants fold (``7 * 18 + num > 200`` with ``num = 106`` is ``True``), strings built with
f-strings, ``%``, ``+``, ``.format`` and ``join`` carry every part's labels, containers keep
per-key / per-position values, and calls go to ``pycall``.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

from threatmodel.dataflow.base import EngineBase
from threatmodel.dataflow.frame import Frame, dotted
from threatmodel.dataflow.values import (
    CLEAN,
    UNKNOWN,
    Label,
    Value,
    const,
    distinct,
    join,
    tainted,
)
from threatmodel.frameworks.registry import request_sources

# The frameworks' request objects (frameworks/<name>/__init__.py), as data.
REQUEST_OBJECTS = request_sources("python").objects
# Attributes of a request object that are not client input (server state, the auth user).
NOT_INPUT = frozenset({"user", "session", "method", "app", "state", "auth", "is_secure", "config"})
_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Mod: operator.mod,
    ast.FloorDiv: operator.floordiv,
    ast.Div: operator.truediv,
}
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_SMALL = (int, float, str, bool, bytes, type(None), tuple)


def _fold(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` on known constants, or UNKNOWN when it fails or grows too large."""
    try:
        out = fn(*args)
    except Exception:
        return UNKNOWN
    if isinstance(out, str | bytes) and len(out) > 10_000:
        return UNKNOWN
    return out if isinstance(out, _SMALL) else UNKNOWN


def request_label(line: int, origin: str = "request") -> Value:
    return Value(frozenset({Label("request", origin, line)}))


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
            return tainted(*parts).step(node.lineno)
        if isinstance(node, ast.FormattedValue):
            inner = self.expr(node.value, f)
            return inner if node.format_spec is None else tainted(inner)
        if isinstance(node, ast.BinOp):
            a, b = self.expr(node.left, f), self.expr(node.right, f)
            op = _BINOPS.get(type(node.op))
            if op and a.known and b.known and not (isinstance(node.op, ast.Mult) and _big(a, b)):
                folded = _fold(op, a.const, b.const)
                if folded is not UNKNOWN:
                    return const(folded)
            if isinstance(node.op, ast.Add) and a.seq and b.seq and a.items and b.items:
                items = a.items + tuple((len(a.items) + i, v) for i, (_, v) in enumerate(b.items))
                return Value(a.labels | b.labels, items=items, seq=True)
            return tainted(a, b).step(node.lineno)
        if isinstance(node, ast.UnaryOp):
            v = self.expr(node.operand, f)
            if v.known:
                ops: dict[type, Callable[[Any], Any]] = {
                    ast.Not: operator.not_,
                    ast.USub: operator.neg,
                    ast.UAdd: operator.pos,
                }
                fn = ops.get(type(node.op))
                if fn is not None:
                    return const(_fold(fn, v.const))
            return CLEAN if isinstance(node.op, ast.Not) else v.flat()
        if isinstance(node, ast.BoolOp):
            return self.boolop(node, f)
        if isinstance(node, ast.Compare):
            return self.compare(node, f)
        if isinstance(node, ast.IfExp):
            test = self.expr(node.test, f)
            if test.known:
                return self.expr(node.body if test.const else node.orelse, f)
            return join(self.expr(node.body, f), self.expr(node.orelse, f)).step(node.lineno)
        if isinstance(node, ast.List | ast.Tuple):
            if any(isinstance(e, ast.Starred) for e in node.elts):
                return tainted(*(self.expr(e, f) for e in node.elts))
            vals = [self.expr(e, f) for e in node.elts]
            if isinstance(node, ast.Tuple) and all(v.known for v in vals):
                return Value(const=tuple(v.const for v in vals), items=_seq(vals), seq=True)
            return Value(items=_seq(vals), seq=True)
        if isinstance(node, ast.Set):
            return tainted(*(self.expr(e, f) for e in node.elts))
        if isinstance(node, ast.Dict):
            pairs: list[tuple[Any, Value]] = []
            loose: list[Value] = []
            for k, v_node in zip(node.keys, node.values, strict=False):
                key, val = self.expr(k, f) if k is not None else CLEAN, self.expr(v_node, f)
                if k is not None and key.known and not key.labels:
                    pairs.append((key.const, val))
                else:
                    loose.append(val)
            return Value(tainted(*loose).labels, items=tuple(pairs))
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

    def name(self, node: ast.Name, f: Frame) -> Value:
        if node.id in f.env:
            return f.env[node.id]
        qual = f.aliases.get(node.id)
        if qual in REQUEST_OBJECTS:
            return request_label(node.lineno)
        if qual is not None:
            return self.module_value(qual)
        return CLEAN

    def attribute(self, node: ast.Attribute, f: Frame) -> Value:
        key = dotted(node)
        if key and key in f.env:
            return f.env[key]
        base = self.expr(node.value, f)
        own = key.startswith("self.") and key.count(".") == 1 and f.qual.count(".") >= 2
        if own and ("self" not in f.env or not f.env["self"].labels):
            return Value(frozenset({Label("self", node.attr, node.lineno)}))
        if not base.labels and not base.items:
            qual = f.aliases.get(key.partition(".")[0]) if key else None
            if qual is not None:
                full = qual + key[len(key.partition(".")[0]) :]
                return self.module_value(full)
            return CLEAN
        out: list[Label] = []
        for lab in base.all_labels():
            if lab.kind == "request" and lab.origin == "request":
                if node.attr in NOT_INPUT:
                    continue
                out.append(Label("request", f"request.{node.attr}", lab.line, steps=lab.steps))
            else:
                out.append(lab)
        return Value(distinct(out))

    def subscript(self, node: ast.Subscript, f: Frame) -> Value:
        base = self.expr(node.value, f)
        if isinstance(node.slice, ast.Slice):
            lo, hi = self.expr(node.slice.lower, f), self.expr(node.slice.upper, f)
            bounds = (node.slice.lower is None or lo.known) and (
                node.slice.upper is None or hi.known
            )
            if base.known and bounds:
                s = slice(lo.const if lo.known else None, hi.const if hi.known else None)
                folded = _fold(operator.getitem, base.const, s)
                if folded is not UNKNOWN:
                    return const(folded)
            if base.seq and base.items and lo.known and node.slice.upper is None:
                kept = [v for _, v in base.items][lo.const :]
                return Value(base.labels, items=_seq(kept), seq=True)
            return base.flat()
        key = self.expr(node.slice, f)
        if key.known:
            k = key.const
            if base.seq and isinstance(k, int) and base.items is not None and -len(base.items) <= k:
                if k < len(base.items):
                    return base.items[k][1]
            elif base.items is not None and not base.seq:
                got = base.item(k)
                if got is not None:
                    return got
            if base.known:
                folded = _fold(operator.getitem, base.const, k)
                if folded is not UNKNOWN:
                    return const(folded)
        return base.flat()

    def boolop(self, node: ast.BoolOp, f: Frame) -> Value:
        out: Value | None = None
        for v_node in node.values:
            v = self.expr(v_node, f)
            if v.known and not v.labels:
                truthy = bool(v.const)
                # ``a or b``: a truthy constant ends it; ``a and b``: a falsy one does
                if truthy == isinstance(node.op, ast.Or):
                    return v if out is None else join(out, v)
                continue
            out = v if out is None else join(out, v)
        return out if out is not None else const(isinstance(node.op, ast.And))

    def compare(self, node: ast.Compare, f: Frame) -> Value:
        left = self.expr(node.left, f)
        result: Any = True
        for op, right_node in zip(node.ops, node.comparators, strict=False):
            right = self.expr(right_node, f)
            fn = _CMPOPS.get(type(op))
            if fn is None or not left.known or not right.known:
                return CLEAN
            got = _fold(fn, left.const, right.const)
            if got is UNKNOWN:
                return CLEAN
            result = result and got
            left = right
        return const(bool(result))

    def comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp, f: Frame
    ) -> Value:
        saved = dict(f.env)
        for gen in node.generators:
            self.assign(gen.target, self.element(self.expr(gen.iter, f)), f, node.lineno)
        parts = (
            [self.expr(node.key, f), self.expr(node.value, f)]
            if isinstance(node, ast.DictComp)
            else [self.expr(node.elt, f)]
        )
        f.env = saved
        return tainted(*parts).step(node.lineno)

    def element(self, seq: Value) -> Value:
        """One element of an iterable: any of its items, or the whole's labels."""
        if seq.items:
            out = Value(seq.labels)
            for _, v in seq.items:
                out = join(out, v)
            return out if seq.seq else Value(seq.labels)  # iterating a dict yields keys
        if seq.known and isinstance(seq.const, str | tuple):
            return CLEAN
        return seq.flat()


def _seq(vals: list[Value]) -> tuple[tuple[Any, Value], ...]:
    return tuple(enumerate(vals))


def _big(a: Value, b: Value) -> bool:
    return any(isinstance(x.const, str | bytes | tuple) for x in (a, b)) and any(
        isinstance(x.const, int) and x.const > 10_000 for x in (a, b)
    )
