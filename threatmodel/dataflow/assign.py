"""Assignments and guards: where values are stored, and what an exiting ``if`` proves."""

from __future__ import annotations

import ast
from typing import Any

from threatmodel.dataflow.base import EngineBase
from threatmodel.dataflow.encode import LabelTable
from threatmodel.dataflow.frame import REREAD, Frame, Hit, dotted, qualify
from threatmodel.dataflow.patterns import check_store
from threatmodel.dataflow.sinkconds import (
    CONTENT_TYPE,
    body_of,
    not_html,
    not_page,
    risky_xml_parser,
)
from threatmodel.dataflow.values import CLEAN, Label, Value, join

RESPONSES = frozenset({"flask.make_response", "flask.Response", "django.http.HttpResponse"})
PATH_MAKERS = frozenset({"pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath"})
PARSE_VIEWS = frozenset({"urllib.parse.urlparse", "urllib.parse.urlsplit", "pathlib.Path"})


class AssignMixin(EngineBase):
    def assign(self, target: ast.AST, value: Value, f: Frame, line: int) -> None:
        value = value.step(line)
        if isinstance(target, ast.Name):
            f.env[target.id] = value
            f.facts = {x for x in f.facts if x[0] != target.id}  # facts were about the old value
            f.lambdas.pop(target.id, None)
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
            if target.attr in ("mimetype", "content_type") and dotted(target.value):
                f.env[f"{dotted(target.value)}.{CONTENT_TYPE}"] = value  # resp.mimetype = ...
                if not_html(value):
                    withdraw(dotted(target.value), f)
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
            header = key_value.const if key_value is not None and key_value.known else None
            owner = target.value
            if (
                isinstance(owner, ast.Attribute)
                and owner.attr == "headers"
                and dotted(owner.value)
                and str(header).lower() == "content-type"
            ):  # resp.headers["Content-Type"] = ...
                f.env[f"{dotted(owner.value)}.{CONTENT_TYPE}"] = value
            if isinstance(header, str) and not_page(header, value):
                # ``resp["Content-Disposition"] = "attachment..."`` (Django),
                # ``resp.headers["Content-Type"] = "text/plain"`` (Flask)
                on_headers = isinstance(owner, ast.Attribute) and owner.attr == "headers"
                withdraw(dotted(owner.value) if on_headers else base, f)  # type: ignore[attr-defined]
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
        if risky_xml_parser(node, f):
            for n in names:
                f.env[f"{n}.<external>"] = CLEAN
        if qual in PATH_MAKERS or (
            isinstance(node.func, ast.Attribute)
            and node.func.attr in ("resolve", "joinpath", "absolute", "with_name")
            and dotted(node.func.value) in f.paths
        ):
            f.paths.update(names)
        if qual in PARSE_VIEWS and len(node.args) == 1:
            inner = node.args[0]
            if (
                isinstance(inner, ast.Call)
                and qualify(inner.func, f) == "urllib.parse.urljoin"
                and len(inner.args) == 2
            ):
                inner = inner.args[1]  # ``urlparse(urljoin(base, x))``: a guard on it guards x
            source = dotted(inner)
            if source:
                for n in names:
                    f.views[n] = source

    def return_sink(self, value: Value, f: Frame, line: int, node: ast.expr | None = None) -> None:
        name = dotted(node) if node is not None else ""
        if name and not_html(f.env.get(f"{name}.{CONTENT_TYPE}")):
            return  # a response whose content type is not HTML
        if isinstance(node, ast.Call) and qualify(node.func, f) in RESPONSES:
            kwargs = {k.arg: self.expr(k.value, f) for k in node.keywords if k.arg}
            if body_of(CLEAN, kwargs) is None:
                return
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


def note_response(node: ast.expr, targets: list[ast.expr], f: Frame, since: int) -> None:
    """``r = HttpResponse(x)``: remember the XSS hits the constructor made (from
    ``f.hits[since:]``) under ``r``, which a later header on ``r`` may withdraw."""
    if not (isinstance(node, ast.Call) and qualify(node.func, f) in RESPONSES):
        return
    made = [h for h in f.hits[since:] if h.kind == "xss"]
    for t in targets:
        if isinstance(t, ast.Name) and made:
            f.responses[t.id] = (f.block, made)


def withdraw(name: str, f: Frame) -> None:
    """The response ``name`` gets a non-HTML content type or is an attachment: its body is
    not rendered as the site's page, so its constructor's XSS hits are not sinks (only when
    set in the constructor's own statement list: in a branch, the other path is a page)."""
    block, gone = f.responses.get(name, (0, []))
    if gone and block == f.block:  # set on every path after the constructor
        del f.responses[name]
        f.hits[:] = [h for h in f.hits if not any(h is g for g in gone)]


def join_env(a: dict[str, Value], b: dict[str, Value]) -> dict[str, Value]:
    out = dict(a)
    for k, v in b.items():
        out[k] = join(out[k], v) if k in out else v
    for k in a.keys() ^ b.keys():
        if k.startswith(REREAD):
            del out[k]  # a repeated read one branch tested: read afresh after the join
    return out


def summary(f: Frame, params: list[str], table: LabelTable, line: int = 0) -> dict[str, Any]:
    """A function's summary as JSON, its labels as rows of the file's ``table``; empty
    parts are left out (``link`` reads them as empty). ``line``: its ``def`` line (0: the
    module's own code), which the sink facts name as their handler's first line."""
    ret = CLEAN
    for r in f.returns:
        ret = join(ret, r)
    out = {
        "params": params,
        "ret": table.ids(ret.all_labels()),
        "hits": [h.to_json(table) for h in f.hits],
        "calls": [c.to_json(table) for c in f.calls],
        "attrs": {k: table.ids(v.all_labels()) for k, v in f.attrs.items()},
        "line": line,
    }
    return {k: v for k, v in out.items() if v}


def fields(returns: list[Value], table: LabelTable) -> dict[str, Any]:
    """What a JS function's returned object holds field by field, for a reader of one
    field (``link``): ``fields`` (name -> labels, from returned object literals),
    ``spread`` (labels a field read is pushed into: a spread ``...row``, a returned call's
    result or parameter) and ``whole`` (labels every field carries: an array, a value a
    package function returned). Nothing when no object literal is returned: a field read
    is then pushed into everything returned."""
    named: dict[str, set[Label]] = {}
    spread: set[Label] = set()
    rest: set[Label] = set()
    literal = False
    for r in returns:
        if r.items is None or r.seq:
            (rest if r.seq else spread).update(r.all_labels() if r.seq else r.labels)
            continue
        literal = True
        spread.update(r.labels)
        for k, v in r.items:
            (spread if k == "..." else named.setdefault(str(k), set())).update(v.all_labels())
    if not literal:
        return {}
    out = {
        "fields": {k: table.ids(v) for k, v in named.items()},
        "spread": table.ids(spread),
        "whole": table.ids(rest),
    }
    return {k: v for k, v in out.items() if v or k == "fields"}
