"""Assignments and guards: where values are stored, and what an exiting ``if`` proves."""

from __future__ import annotations

import ast
from typing import Any

from threatmodel.dataflow.base import EngineBase
from threatmodel.dataflow.encode import LabelTable
from threatmodel.dataflow.frame import Frame, Hit, dotted, qualify
from threatmodel.dataflow.patterns import check_store
from threatmodel.dataflow.values import CLEAN, Value, distinct, join

PATH_MAKERS = frozenset({"pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath"})
PARSE_VIEWS = frozenset({"urllib.parse.urlparse", "urllib.parse.urlsplit", "pathlib.Path"})
CHAR_CLASS = frozenset({"isdigit", "isnumeric", "isdecimal", "isalnum", "isalpha", "isidentifier"})


class AssignMixin(EngineBase):
    def assign(self, target: ast.AST, value: Value, f: Frame, line: int) -> None:
        value = value.step(line)
        if isinstance(target, ast.Name):
            f.env[target.id] = value
            f.paths.discard(target.id)
            f.lines_of.setdefault(target.id, []).append(line)
            f.views.pop(target.id, None)
            check_store(target, value, None, f, line)
        elif isinstance(target, ast.Tuple | ast.List):
            items = [v for _, v in value.items or ()] if value.seq else []
            for i, elt in enumerate(target.elts):
                part = items[i] if len(items) == len(target.elts) else value.flat()
                self.assign(elt.value if isinstance(elt, ast.Starred) else elt, part, f, line)
        elif isinstance(target, ast.Attribute):
            key = dotted(target)
            if key:
                f.env[key] = value
                if key.startswith("self.") and key.count(".") == 1:
                    f.attrs[target.attr] = value
            check_store(target, value, None, f, line)
        elif isinstance(target, ast.Subscript):
            key_value = (
                self.expr(target.slice, f) if not isinstance(target.slice, ast.Slice) else None
            )
            check_store(target, value, key_value, f, line)
            base = dotted(target.value)
            if not base:
                return
            old = f.env.get(base) or self.expr(target.value, f)
            if key_value is not None and key_value.known and not key_value.labels:
                k = key_value.const
                if (
                    old.seq
                    and isinstance(k, int)
                    and old.items is not None
                    and 0 <= k < len(old.items)
                ):
                    new_items = tuple((i, value if i == k else v) for i, v in old.items)
                    f.env[base] = Value(old.labels, items=new_items, seq=True)
                    return
                if not old.seq and old.items is not None:
                    kept = (*tuple((kk, v) for kk, v in old.items if kk != k), (k, value))
                    f.env[base] = Value(old.labels, items=kept)
                    return
                if not old.seq and not old.labels and not old.known:
                    f.env[base] = Value(items=((k, value),))
                    return
            # unknown key or slice: the container holds the value somewhere
            f.env[base] = Value(old.all_labels() | value.all_labels(), items=old.items, seq=old.seq)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, value, f, line)

    def mark_parser(self, node: ast.expr, targets: list[ast.expr], f: Frame) -> None:
        """``p = lxml.etree.XMLParser(resolve_entities=True)``: parsing with ``p`` loads
        external entities; ``url = urlparse(bar)``: a guard on ``url`` guards ``bar``."""
        if not isinstance(node, ast.Call):
            return
        qual = qualify(node.func, f)
        names = [dotted(t) for t in targets if dotted(t)]
        if qual.endswith("XMLParser"):
            kw = {k.arg: k.value for k in node.keywords}
            entities = kw.get("resolve_entities")
            network = kw.get("no_network")
            risky = (
                entities is not None
                and not (isinstance(entities, ast.Constant) and not entities.value)
            ) or (isinstance(network, ast.Constant) and network.value is False)
            if risky:
                for n in names:
                    f.env[f"{n}.<external>"] = CLEAN
        if qual in PATH_MAKERS or (
            isinstance(node.func, ast.Attribute)
            and node.func.attr in ("resolve", "joinpath", "absolute", "with_name")
            and dotted(node.func.value) in f.paths
        ):
            f.paths.update(names)
        if qual in PARSE_VIEWS and len(node.args) == 1:
            source = dotted(node.args[0])
            if source:
                for n in names:
                    f.views[n] = source

    def return_sink(self, value: Value, f: Frame, line: int) -> None:
        for kind, row in self.catalog.sinks_for("<return>", None):
            from threatmodel.dataflow.sinkconds import CONDITIONS

            got = (
                CONDITIONS[row.when](
                    ast.Call(func=ast.Name(id="return"), args=[], keywords=[]), value, CLEAN, {}, f
                )
                if row.when
                else value
            )
            if got is not None and got.all_labels():
                f.hits.append(Hit(kind, line, "return", got.all_labels()))

    def guard(self, test: ast.expr, f: Frame, negated: bool) -> None:
        """After ``if test: <leave>`` the test was false (``negated``: it was true)."""
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            self.guard(test.operand, f, not negated)
            return
        self.literal_facts(test, f, negated)
        if isinstance(test, ast.BoolOp):
            # false ``a or b`` means every part is false; true ``a and b``: every part true
            if isinstance(test.op, ast.Or) != negated:
                for v in test.values:
                    self.guard(v, f, negated)
            return
        kinds: frozenset[str] = frozenset()
        subject: ast.AST | None = None
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            op, right = test.ops[0], test.comparators[0]
            left_const = isinstance(test.left, ast.Constant) and isinstance(test.left.value, str)
            if (left_const and isinstance(op, ast.In) and not negated) or (
                left_const and isinstance(op, ast.NotIn) and negated
            ):
                kinds, subject = (
                    self.catalog.guarded_by(str(getattr(test.left, "value", ""))),
                    right,
                )
            elif _constants(right) and (
                (isinstance(op, ast.NotIn | ast.NotEq) and not negated)
                or (isinstance(op, ast.In | ast.Eq) and negated)
            ):
                kinds, subject = self.catalog.taint_kinds, test.left  # an allow-list
        elif isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute) and negated:
            if test.func.attr == "startswith" and _real_prefix(test):
                kinds, subject = self.catalog.prefix_kinds, test.func.value
            elif test.func.attr in CHAR_CLASS:
                kinds, subject = self.catalog.taint_kinds, test.func.value
        if kinds and subject is not None:
            self.sanitize_names(subject, kinds, f)

    def literal_facts(self, test: ast.expr, f: Frame, negated: bool) -> None:
        """``x.startswith(q)``, ``x.endswith(q)`` and no ``q`` inside ``x[1:-1]``: ``x`` is
        a quoted string literal, which eval / exec read as a constant string (no code)."""
        if isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute) and negated:
            arg = test.args[0] if test.args else None
            name = dotted(test.func.value)
            if (
                name
                and isinstance(arg, ast.Constant)
                and test.func.attr in ("startswith", "endswith")
            ):
                f.facts.add((name, test.func.attr, str(arg.value)))
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and not negated:
            left, right = test.left, test.comparators[0]
            inner = (
                isinstance(right, ast.Subscript)
                and isinstance(right.slice, ast.Slice)
                and ast.unparse(right.slice) in ("1:-1",)
            )
            if isinstance(test.ops[0], ast.In) and isinstance(left, ast.Constant) and inner:
                assert isinstance(right, ast.Subscript)
                f.facts.add((dotted(right.value), "inner_free", str(left.value)))
        for name, _, quote in list(f.facts):
            if (
                quote in ("'", '"')
                and {(name, t, quote) for t in ("startswith", "endswith", "inner_free")} <= f.facts
            ):
                self.sanitize_names(ast.Name(id=name), frozenset({"code_injection"}), f)

    def sanitize_names(self, node: ast.AST, kinds: frozenset[str], f: Frame) -> None:
        for sub in ast.walk(node):
            key = dotted(sub)
            if not key:
                continue
            for name in {key, key.split(".")[0], f.views.get(key.split(".")[0], "")}:
                if name and name in f.env:
                    f.env[name] = _sanitize_keep(f.env[name], kinds, "guard")


def _sanitize_keep(v: Value, kinds: frozenset[str], name: str) -> Value:
    if v.items is None:
        return Value(distinct(x.sanitized(kinds, name) for x in v.labels), v.const)
    items = tuple((k, _sanitize_keep(x, kinds, name)) for k, x in v.items)
    return Value(distinct(x.sanitized(kinds, name) for x in v.labels), v.const, items, v.seq)


def _real_prefix(test: ast.Call) -> bool:
    """A prefix check that pins a location (a folder, a URL origin), not one character."""
    arg = test.args[0] if test.args else None
    if isinstance(arg, ast.Constant):
        return (
            isinstance(arg.value, str)
            and len(arg.value) > 1
            and ("/" in arg.value or ":" in arg.value)
        )
    return arg is not None


def _constants(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return bool(node.elts) and all(isinstance(e, ast.Constant) for e in node.elts)
    return False


def join_env(a: dict[str, Value], b: dict[str, Value]) -> dict[str, Value]:
    out = dict(a)
    for k, v in b.items():
        out[k] = join(out[k], v) if k in out else v
    return out


def summary(f: Frame, params: list[str], table: LabelTable) -> dict[str, Any]:
    """A function's summary as JSON, its labels as rows of the file's ``table``; empty
    parts are left out (``link`` reads them as empty)."""
    ret = CLEAN
    for r in f.returns:
        ret = join(ret, r)
    out = {
        "params": params,
        "ret": table.ids(ret.all_labels()),
        "hits": [h.to_json(table) for h in f.hits],
        "calls": [c.to_json(table) for c in f.calls],
        "attrs": {k: table.ids(v.all_labels()) for k, v in f.attrs.items()},
    }
    return {k: v for k, v in out.items() if v}
