"""The Python taint engine: reads each function statement by statement over the file's AST.

One pass per function in source order, with branch-sensitive environments: an ``if`` whose
condition folds to a constant runs only the branch taken; both branches of an unknown
condition are joined; an ``if`` whose body always leaves (``return`` / ``raise``) guards
the rest of the function (``if '../' in name: return`` makes ``name`` safe for path
traversal after it, an allow-list test makes it safe for every kind); loops run their body
twice; an assignment overwrites (a value overwritten with a constant is clean). Every
function (nested ones and methods included) gets a summary: its parameters, the labels of
what it returns in terms of those parameters, the sinks it reaches, and what ``__init__``
stores on ``self``. ``link`` resolves the summaries across files.
"""

from __future__ import annotations

import ast
from typing import Any

from threatmodel.dataflow import pyclass, records
from threatmodel.dataflow.assign import PATH_MAKERS, AssignMixin, note_response
from threatmodel.dataflow.assign import join_env as _join_env
from threatmodel.dataflow.assign import summary as _summary
from threatmodel.dataflow.catalog import CATALOG, Catalog
from threatmodel.dataflow.checks import (
    ChecksMixin,
    checked_params,
    decided_params,
    declared_bool,
    forwarded_params,
)
from threatmodel.dataflow.conds import CondMixin
from threatmodel.dataflow.encode import LabelTable
from threatmodel.dataflow.frame import Frame, Hit, dotted, qualify
from threatmodel.dataflow.injected import is_alias_value
from threatmodel.dataflow.pycall import CallMixin
from threatmodel.dataflow.pyexpr import REQUEST_OBJECTS, ExprMixin, request_label
from threatmodel.dataflow.pymatch import MatchMixin
from threatmodel.dataflow.records import RecordMixin
from threatmodel.dataflow.sandbox import module_instances
from threatmodel.dataflow.splits import SplitMixin
from threatmodel.dataflow.urlparams import (
    after_routing,
    path_converters,
    scalar_annotation,
    static_route,
    url_value,
    validates_annotations,
)
from threatmodel.dataflow.values import CLEAN, Label, Value
from threatmodel.frameworks.registry import request_sources

# The frameworks' request sources (frameworks/<name>/__init__.py), as data.
SOURCES = request_sources("python")
ROUTE_DECORATORS = SOURCES.route_decorators
HTML_DECORATORS = SOURCES.html_decorators  # a returned str is the HTML body
REQUEST_TYPES = SOURCES.types_pattern()
FuncNode = ast.FunctionDef | ast.AsyncFunctionDef


class Engine(
    ExprMixin, CallMixin, AssignMixin, CondMixin, ChecksMixin, MatchMixin, RecordMixin, SplitMixin
):
    def __init__(
        self, module: str, lines: list[str], catalog: Catalog = CATALOG, package: bool = False
    ) -> None:
        self.module = module
        self.package = package  # a package's ``__init__``: ``from .x`` is inside it
        self.stars: list[str] = []  # modules it imports ``*`` from (its names are theirs)
        self.lines = lines
        self.catalog = catalog
        self.summaries: dict[str, dict[str, Any]] = {}
        self.classes: dict[str, dict[str, Any]] = {}  # class -> bases, attribute classes
        self.instances: dict[str, str] = {}  # module variable -> the class that built it
        self.imports: dict[str, str] = {}
        self.table = LabelTable()
        self.typed = validates_annotations(lines)  # FastAPI enforces parameter types
        self.annotated: list[list[Any]] = []  # [line, route parameter, its annotation]

    def module_value(self, qual: str, line: int = 1) -> Value:
        """A module attribute: ``flask.request`` (however imported) is the request."""
        return request_label(line) if qual in REQUEST_OBJECTS else CLEAN

    # ------------------------------------------------------------------ file and functions
    def run(self, tree: ast.Module) -> dict[str, dict[str, Any]]:
        top = Frame(self.module, {}, {}, {})
        self.hoist(tree.body, top)
        self.block(tree.body, top)
        self.summaries[self.module] = _summary(top, [], self.table)
        self.instances = module_instances(tree.body, top)  # sandbox.py
        # what the module imports is also its name: ``pkg.helper`` re-exported by __init__
        self.imports = {
            f"{self.module}.{k}": v for k, v in top.aliases.items() if v != k and "." in v
        }
        return self.summaries

    def function(self, fn: FuncNode, parent: Frame, qual: str, method: bool) -> None:
        f = parent.child(qual)
        a = fn.args
        params = [*a.posonlyargs, *a.args, *a.kwonlyargs]
        if method and params:
            f.env[params[0].arg] = CLEAN
            f.cls, f.me = qual.rpartition(".")[0], params[0].arg
            params = params[1:]
        elif method:
            f.cls = f.me = ""
        # the summary's parameters as a signature: ``*args`` (or a bare ``*`` before
        # keyword-only ones) and ``**kw`` marked, so link binds extra arguments to them
        names = [p.arg for p in params if p not in a.kwonlyargs]
        if a.vararg or a.kwonlyargs:
            names.append("*" + (a.vararg.arg if a.vararg else ""))
        names += [p.arg for p in a.kwonlyargs]
        if a.kwarg:
            names.append("**" + a.kwarg.arg)
        decos = [_route_deco(d) for d in fn.decorator_list]
        route = any(d in ROUTE_DECORATORS for d in decos)
        f.route = any(d in HTML_DECORATORS for d in decos)
        f.fixed_path = route and static_route(fn)
        f.routed = after_routing(fn, route, parent.params, method)
        end = fn.end_lineno or fn.lineno
        f.text = "\n".join(self.lines[fn.lineno - 1 : end])
        defaults = _defaults(fn)
        converters = path_converters(fn) if route else {}
        for p in [*params, *(x for x in (a.vararg, a.kwarg) if x is not None)]:
            ann = ast.unparse(p.annotation) if p.annotation is not None else ""
            default = defaults.get(p.arg)
            injected = default is not None and SOURCES.injects(ast.unparse(default))
            if p.arg in ("request", "req") or REQUEST_TYPES.search(ann):
                f.env[p.arg] = request_label(fn.lineno)
            elif route and not injected and not is_alias_value(p.annotation, SOURCES.injects):
                f.env[p.arg] = self.url_param(p, converters, fn.lineno)
                if isinstance(p.annotation, ast.Name | ast.Attribute):
                    # ``db: DbSession``: injected if the alias is (``injected.dropped``)
                    named = qualify(p.annotation, parent)
                    named = named if "." in named else f"{self.module}.{named}"
                    self.annotated.append([fn.lineno, p.arg, named])
            else:
                f.env[p.arg] = Value(frozenset({Label("param", p.arg, fn.lineno)}))
        f.params = tuple(names)
        f.typed = pyclass.typed_params(params, f, self.may_be_repo)
        self.hoist(fn.body, f)
        if not self.block(fn.body, f):
            f.exits.append({n: f.env[n] for n in f.params if n in f.env})
        self.summaries[qual] = _summary(f, names, self.table, fn.lineno)
        if _yields(fn, f.text, self.lines):
            self.summaries[qual]["gen"] = 1  # its result is what it yields: not read here
        checks, forwards = checked_params(f.params, f.exits), forwarded_params(f)
        if checks:
            self.summaries[qual]["checks"] = checks
        if forwards:
            self.summaries[qual]["checked_by"] = forwards
        holds = checked_params(f.params, f.truthy)
        if holds:
            self.summaries[qual]["holds"] = holds
        # a yes/no check answers only True or False, or says so (``-> bool``): most
        # functions are not read again
        yes_no = bool(f.returns) and (
            all(isinstance(v.const, bool) for v in f.returns) or declared_bool(fn)
        )
        decides = decided_params(fn, f.params) if yes_no else []
        if decides:
            self.summaries[qual]["decides"] = decides

    def url_param(self, p: ast.arg, converters: dict[str, str], line: int) -> Value:
        """A route parameter: request input, unless its converter or its enforced type
        leaves no room for a payload (``urlparams``)."""
        conv = converters.get(p.arg)
        if conv != "path" and scalar_annotation(p.annotation) and self.typed:
            return CLEAN
        return url_value(p.arg, conv, line)

    # ------------------------------------------------------------------ statements
    def block(self, body: list[ast.stmt], f: Frame) -> bool:
        """Run ``body``; True when it always leaves (return, raise, break, continue)."""
        outer, f.block = f.block, id(body)
        try:
            for i, stmt in enumerate(body):
                if self.stmt(stmt, f):
                    self.dead(body[i + 1 :], f, f"line {stmt.lineno} always leaves before it")
                    return True
            return False
        finally:
            f.block = outer

    def hoist(self, body: list[ast.stmt], f: Frame) -> None:
        """A function body names the functions and classes of its scope when it runs, so
        one defined further down (``def helper`` after the view calling it) is known."""
        for s in body:
            if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                f.defs.setdefault(s.name, f"{f.qual}.{s.name}")

    def stmt(self, s: ast.stmt, f: Frame) -> bool:
        line = s.lineno
        if isinstance(s, ast.Assign):
            since = len(f.hits)
            value = self.expr(s.value, f)
            note_response(s.value, s.targets, f, since)
            if isinstance(s.value, ast.Call | ast.Await):  # the arguments, before a target
                self.checked_by(s.value, f)  # named like one (``x = f(x)``) is overwritten
            for t in s.targets:
                self.assign(t, value, f, line)
                if isinstance(s.value, ast.Lambda) and isinstance(t, ast.Name):
                    f.lambdas[t.id] = s.value  # called later: its body is read then
            self.mark_parser(s.value, s.targets, f)
            self.namedtuple(s, f)
            if _is_path_expr(s.value, f):
                f.paths.update(dotted(t) for t in s.targets if dotted(t))
        elif isinstance(s, ast.AnnAssign):
            if s.value is not None:
                self.assign(s.target, self.expr(s.value, f), f, line)
        elif isinstance(s, ast.AugAssign):
            old = self.expr(s.target, f)
            value = self.expr(ast.BinOp(left=s.target, op=s.op, right=s.value, lineno=line), f)
            del old
            self.assign(s.target, value, f, line)
        elif isinstance(s, ast.Expr):
            self.expr(s.value, f)
            if isinstance(s.value, ast.Call | ast.Await):
                self.checked_by(s.value, f)
        elif isinstance(s, ast.Return):
            value = self.expr(s.value, f) if s.value is not None else CLEAN
            f.returns.append(value)
            f.exits.append({n: f.env[n] for n in f.params if n in f.env})
            self.truthy_exit(s.value, value, f)
            self.return_sink(value, f, line, s.value)
            return True
        elif isinstance(s, ast.Raise | ast.Break | ast.Continue):
            if isinstance(s, ast.Raise) and s.exc is not None:
                self.expr(s.exc, f)
            if not isinstance(s, ast.Raise) and f.loops:
                f.loops[-1].append(dict(f.env))  # what a break / continue carries on with
            return True
        elif isinstance(s, ast.If):
            return self.if_(s, f)
        elif isinstance(s, ast.For | ast.AsyncFor):
            seq = self.expr(s.iter, f)
            if _empty(s.iter, seq):  # ``for x in []`` / ``range(0)``: the body never runs
                return self.block(s.orelse, f)
            item = self.element(seq)
            before = dict(f.env)
            f.loops.append([])
            for _ in range(2):
                self.assign(s.target, item, f, line)
                self.block(s.body, f)
                f.env = _join_env(before, f.env)
            carried, normal = f.loops.pop(), dict(f.env)
            for env in carried:
                f.env = _join_env(f.env, env)
            if not s.orelse:
                self.note_splits(s.body, normal, carried, f)
            self.block(s.orelse, f)
        elif isinstance(s, ast.While):
            test = self.expr(s.test, f)
            if test.known and not test.const:  # never entered: only its ``else`` runs
                return self.block(s.orelse, f)
            before = dict(f.env)
            f.loops.append([])
            for _ in range(2):
                self.refine(s.test, f, True)
                self.block(s.body, f)
                f.env = _join_env(before, f.env)
            exits = f.loops.pop()
            again = self.expr(s.test, f)  # at the loop's head, after the body ran
            forever = test.known and again.known and bool(again.const) and not again.labels
            if forever and not test.labels and not s.orelse:
                # ``while True``: it is left by a break only (or by return / raise); a test
                # true on entry that the body may change (``while tok is not None``) is not
                if not exits:
                    return True
                f.env = exits[0]
            self.expr(s.test, f)
            self.block(s.orelse, f)  # the test turned false (a ``break`` skips it)
            for env in exits:
                f.env = _join_env(f.env, env)
        elif isinstance(s, ast.Try | ast.TryStar):
            before = dict(f.env)
            left = self.block(s.body, f)
            after = f.env
            outs = [] if left else [after]
            for h in s.handlers:
                f.env = _join_env(before, after)
                if h.name:
                    f.env[h.name] = CLEAN
                if not self.block(h.body, f):
                    outs.append(f.env)
            if not left:
                f.env = after
                self.block(s.orelse, f)
                outs[0] = f.env
            f.env = outs[0] if outs else _join_env(before, after)
            for other in outs[1:]:
                f.env = _join_env(f.env, other)
            return self.block(s.finalbody, f) or (not outs)
        elif isinstance(s, ast.With | ast.AsyncWith):
            for wi in s.items:
                value = self.expr(wi.context_expr, f)
                if wi.optional_vars is not None:
                    self.assign(wi.optional_vars, value, f, line)
            return self.block(s.body, f)
        elif isinstance(s, ast.Match):
            return self.match(s, f)
        elif isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef):
            qual = f"{f.qual}.{s.name}"
            f.defs[s.name] = qual
            f.env.pop(s.name, None)
            self.function(s, f, qual, method=False)
        elif isinstance(s, ast.ClassDef):
            qual = f"{f.qual}.{s.name}"
            f.defs[s.name] = qual
            self.classes[qual] = pyclass.class_info(s, f, self.may_be_repo)
            for member in s.body:
                if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef):
                    static = any(_deco_name(d) == "staticmethod" for d in member.decorator_list)
                    self.function(member, f, f"{qual}.{member.name}", method=not static)
            fields = records.record_fields(s)
            if fields is not None:  # a dataclass / NamedTuple: its generated constructor
                self.function(records.init_of(fields, s), f, f"{qual}.__init__", method=True)
        elif isinstance(s, ast.Import):
            for alias in s.names:
                if alias.asname:
                    f.aliases[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    f.aliases[head] = head
                f.env.pop(alias.asname or alias.name.split(".")[0], None)
        elif isinstance(s, ast.ImportFrom):
            base = self.import_base(s)
            for alias in s.names:
                if alias.name == "*" and f.qual == self.module:
                    self.stars.append(base)
                if alias.name != "*":
                    f.aliases[alias.asname or alias.name] = (
                        f"{base}.{alias.name}" if base else alias.name
                    )
                    f.env.pop(alias.asname or alias.name, None)
        elif isinstance(s, ast.Assert):
            self.expr(s.test, f)
            self.refine(s.test, f, True)  # past an assert, its test held
        elif isinstance(s, ast.Delete):
            for t in s.targets:
                self.delete(t, f)
        return False

    def delete(self, t: ast.expr, f: Frame) -> None:
        """``del x`` forgets x; ``del lst[0]`` / ``del d['k']`` drop that element."""
        if not isinstance(t, ast.Subscript):
            f.env.pop(dotted(t), None)
            return
        base = dotted(t.value)
        old = f.env.get(base)
        key = self.expr(t.slice, f) if not isinstance(t.slice, ast.Slice) else None
        if old is None or old.items is None or key is None or not key.known:
            return
        if old.seq and isinstance(key.const, int) and -len(old.items) <= key.const < len(old.items):
            vals = [v for _, v in old.items]
            del vals[key.const]
            f.env[base] = Value(old.labels, items=tuple(enumerate(vals)), seq=True)
        elif not old.seq:
            f.env[base] = Value(
                old.labels, items=tuple((k, v) for k, v in old.items if k != key.const)
            )

    def import_base(self, s: ast.ImportFrom) -> str:
        if not s.level:
            return s.module or ""
        parts = self.module.split(".")
        # a module's package is its dotted name minus the last part; a package's
        # ``__init__`` is named as the package, which ``from .x`` starts from
        pkg = parts[: len(parts) - s.level + (1 if self.package else 0)]
        return ".".join([*pkg, *([s.module] if s.module else [])])

    def if_(self, s: ast.If, f: Frame) -> bool:
        """Both branches run, each knowing its test's truth (``conds.refine``); one whose
        test folds to a constant runs alone; a branch that leaves drops out of the join."""
        test = self.expr(s.test, f)
        if test.known and not test.labels:
            why = f"the condition at line {s.lineno} is constant"
            self.dead(s.orelse if test.const else s.body, f, why)
            return self.block(s.body if test.const else s.orelse, f)
        before, facts = dict(f.env), set(f.facts)
        self.refine(s.test, f, True)
        body_left = self.block(s.body, f)
        after_body, body_facts = f.env, f.facts
        f.env, f.facts = dict(before), set(facts)
        self.refine(s.test, f, False)
        else_left = self.block(s.orelse, f)
        if body_left and else_left:
            return True
        if body_left:
            return False  # only the else path (the test was false) goes on
        if else_left:
            f.env, f.facts = after_body, body_facts
            return False
        f.env = _join_env(after_body, f.env)
        f.facts = body_facts & f.facts
        return False

    def dead(self, body: list[ast.stmt], f: Frame, reason: str) -> None:
        """A branch that never runs: its sinks are kept as safe (so a claim there is refuted
        with the reason, not left unverifiable), nothing else it does counts."""
        if not body:
            return
        env, facts, hits = f.env, set(f.facts), len(f.hits)
        calls, returns, attrs = len(f.calls), len(f.returns), dict(f.attrs)
        f.env = dict(env)  # a copy: a caller may hold ``env`` itself (a match's outcomes)
        self.block(body, f)
        why = f"safe: never runs ({reason})"
        f.hits[hits:] = [
            Hit(h.kind, h.line, h.callee, frozenset(), why, h.lines) for h in f.hits[hits:]
        ]
        del f.calls[calls:], f.returns[returns:]
        f.env, f.facts, f.attrs = env, facts, attrs


def _yields(fn: FuncNode, text: str, lines: list[str]) -> bool:
    """A ``yield`` anywhere under ``fn`` (decorators and nested functions included).

    Walking every function's whole subtree cost a seventh of the engine (nested functions
    are walked once per enclosing one); a yield node needs the keyword in the lines the
    node spans, so the text (``text``: its lines from the ``def``) is read first, and the
    tree only when the word is there.
    """
    start = min([fn.lineno, *(d.lineno for d in fn.decorator_list)])
    if "yield" not in text and "yield" not in "\n".join(lines[start - 1 : fn.lineno]):
        return False
    return any(isinstance(n, ast.Yield | ast.YieldFrom) for n in ast.walk(fn))


def _empty(node: ast.expr, seq: Value) -> bool:
    """An iterable known to be empty: ``[]``, ``""``, ``range(0)``, ``range(5, 2)``."""
    if seq.labels:
        return False
    if seq.known and isinstance(seq.const, str | bytes | tuple):
        return len(seq.const) == 0
    if seq.seq and seq.items is not None:
        return not seq.items
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
        bounds = [
            a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, int)
        ]
        if len(bounds) == len(node.args):
            try:
                return len(range(*bounds)) == 0
            except (TypeError, ValueError):
                return False
    return False


def _deco_name(d: ast.expr) -> str:
    node = d.func if isinstance(d, ast.Call) else d
    return (
        node.attr
        if isinstance(node, ast.Attribute)
        else (node.id if isinstance(node, ast.Name) else "")
    )


def _route_deco(d: ast.expr) -> str:
    """``route`` / ``get`` ... for ``@app.get(...)``-style decorators (a method of an app or
    router object), "" for anything else: ``@patch(...)`` / ``@mock.patch`` are not routes."""
    if not isinstance(d, ast.Call) or not isinstance(d.func, ast.Attribute):
        return ""
    base = dotted(d.func.value).lower()
    return "" if not base or "mock" in base or "patch" in base else d.func.attr


def _defaults(fn: FuncNode) -> dict[str, ast.expr]:
    a = fn.args
    pos = [*a.posonlyargs, *a.args]
    out = {p.arg: d for p, d in zip(pos[len(pos) - len(a.defaults) :], a.defaults, strict=False)}
    out.update(
        {p.arg: d for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=False) if d is not None}
    )
    return out


_PATH_METHODS = frozenset(
    {"resolve", "absolute", "joinpath", "with_name", "with_suffix", "with_stem", "expanduser"}
)


def _is_path_expr(node: ast.expr, f: Frame) -> bool:
    """A pathlib path built in place: ``Path(x)``, ``base / name`` where ``base`` holds a
    path, and what ``resolve`` / ``joinpath`` / ``with_name`` ... of such a path give."""
    if isinstance(node, ast.Call) and qualify(node.func, f) in PATH_MAKERS:
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr in _PATH_METHODS and _is_path_expr(node.func.value, f)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return dotted(node.left) in f.paths or _is_path_expr(node.left, f)
    return False
