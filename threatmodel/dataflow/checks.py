"""Validation inside a callee: a function that refuses unless its argument passes a check.

``def check(name): if name not in ALLOWED: raise ValueError`` leaves ``name`` checked on
every way out that does not raise; a caller's ``check(n)`` makes ``n`` safe after it, for the
kinds the check proves (an allow-list: every kind; ``'..' not in name``: path traversal).
The callee's summary names them (``checks``: parameter -> kinds, from the guards in force at
each ``return`` and at its end; ``checked_by``: parameter -> the callee it hands it to
first, for a validator that calls another); the caller's variable becomes a ``call`` label
``<callee>#checks:<argument>`` that ``link`` resolves with that summary (an unknown callee
passes its argument through, as any unknown call does). Only guards count: a parameter the
callee reassigns (``name = secure_filename(name)``) is its local value, not the caller's.

A yes/no function of the repository works the other way round: ``def safe(url): return
url_has_allowed_host_and_scheme(url)`` proves nothing when called, but ``if safe(u):`` (or
``if not safe(u): return``) proves in its true branch what ``safe`` returning true proves.
The callee's summary names it (``holds``: parameter -> the kinds its guards prove at every
``return`` of a value that may be true, read as that value being true); the caller's branch
marks the argument with a pending kind (``HOLDS``), which link replaces by those kinds.

A yes/no check whose meaning the engine cannot read (``def is_local(u): ... return False
... return True`` over tests of ``urlparse`` parts it has no rule for) still decides: its
summary names the parameters it tests (``decides``, ``decided_params``), and a flow that
went through its true branch is not proof (``Flow.unread_checks``): a reviewer reads it.
"""

from __future__ import annotations

import ast
from typing import Any

from threatmodel.dataflow.base import EngineBase
from threatmodel.dataflow.frame import Frame, qualify
from threatmodel.dataflow.pycall import shallow
from threatmodel.dataflow.pyclass import own_callee
from threatmodel.dataflow.values import Label, Value

CHECKS = "#checks:"
GUARD = "guard"  # the name conds.sanitize_names gives a guard's sanitizing
HOLDS = "?holds:"  # a pending kind (and its sanitizer's name): ``?holds:<callee>#<argument>``


def holds(qual: str, key: str) -> str:
    """The pending kind of a value in the branch where the repository's function ``qual``
    returned true given it as argument ``key`` (a position or a keyword)."""
    return f"{HOLDS}{qual}#{key}"


def param_named(summ: dict[str, Any], key: str) -> str:
    """The parameter of the function ``summ`` summarises that a call's argument ``key`` (a
    position or a keyword) binds."""
    params: list[str] = summ.get("params", [])
    return params[int(key)] if key.isdigit() and int(key) < len(params) else key


def decided_params(
    fn: ast.FunctionDef | ast.AsyncFunctionDef, params: tuple[str, ...]
) -> list[str]:
    """The parameters ``fn`` is a yes/no check of: every ``return`` gives a literal ``True``
    or ``False`` (both appear), or ``fn`` is declared ``-> bool`` (then a return may be a
    comparison: ``return match.url_name in ALLOWED``); and a test (``if``, ``while``,
    ``assert``) or a returned comparison reads the parameter or a local computed from it. A
    function returning anything else (a count, a row, a regex match) is not read as a check:
    what its callers test is then its value."""
    returns: list[ast.Return] = []
    tests: list[ast.expr] = []
    binds: list[tuple[list[ast.expr], ast.expr]] = []  # (targets, value) of each binding
    for node in _own_nodes(fn):
        if isinstance(node, ast.Return):
            returns.append(node)
        elif isinstance(node, ast.If | ast.While | ast.Assert):
            tests.append(node.test)
        elif isinstance(node, ast.Assign):
            binds.append((node.targets, node.value))
        elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.NamedExpr) and node.value:
            binds.append(([node.target], node.value))
        elif isinstance(node, ast.For | ast.AsyncFor):
            binds.append(([node.target], node.iter))
    answers = [r.value.value if isinstance(r.value, ast.Constant) else None for r in returns]
    if not returns:
        return []
    if declared_bool(fn):
        tests += [r.value for r in returns if r.value is not None and _boolean(r.value)]
    elif any(not isinstance(a, bool) for a in answers) or len(set(answers)) != 2:
        return []
    out = []
    for name in params:
        derived = {name}
        grew = True
        while grew:  # a local computed from a derived name is derived (bounded by binds)
            grew = False
            for targets, value in binds:
                if _names(value) & derived:
                    new = set().union(*(_names(t) for t in targets)) - derived
                    derived |= new
                    grew = grew or bool(new)
        if any(_names(t) & derived for t in tests):
            out.append(name)
    return out


def declared_bool(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Is ``fn`` declared to answer yes or no (``-> bool``)?"""
    return isinstance(fn.returns, ast.Name) and fn.returns.id == "bool"


def _boolean(node: ast.expr) -> bool:
    """A comparison, a negation, or ``and`` / ``or`` of those: a yes/no by its form."""
    if isinstance(node, ast.Compare) or (
        isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)
    ):
        return True
    return isinstance(node, ast.BoolOp) and all(_boolean(v) for v in node.values)


def _own_nodes(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
    """The nodes of ``fn``'s own body, not of the functions, lambdas or classes it defines."""
    out: list[ast.AST] = []
    todo: list[ast.AST] = list(fn.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        out.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return out


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def checked_params(params: tuple[str, ...], envs: list[dict[str, Value]]) -> dict[str, list[str]]:
    """Parameter -> the kinds its guards prove at every one of ``envs``: the function's
    normal exits (``checks``), or its returns of a value that may be true (``holds``)."""
    out: dict[str, list[str]] = {}
    if not envs:
        return out
    for name in params:
        kinds: frozenset[str] | None = None
        for env in envs:
            here = _guarded(env.get(name), name)
            kinds = here if kinds is None else kinds & here
            if not kinds:
                break  # no exit can add a kind back
        if kinds:
            out[name] = sorted(kinds)
    return out


def _guarded(value: Value | None, name: str) -> frozenset[str]:
    """The kinds parameter ``name``'s guards prove of ``value``: nothing unless every label
    is the parameter itself, made safe by guards only."""
    labels = value.all_labels() if value is not None else frozenset()
    kinds: frozenset[str] | None = None
    for x in labels:
        if x.kind != "param" or x.origin != name or not x.safe:
            return frozenset()
        if not all(v == GUARD or v.startswith(HOLDS) for v in x.via):
            return frozenset()
        kinds = x.safe if kinds is None else kinds & x.safe
    return kinds or frozenset()


def _whole(env: dict[str, Value], name: str) -> bool:
    value = env.get(name)
    if value is None or value.items is not None or not value.labels:
        return False
    # the framework's request object is read by attribute (``request.path``), which a
    # check of the object inside the callee does not change: wrapped, it would be read
    # back as the whole request and its attributes would lose their names
    return not all(x.kind == "request" and x.origin == "request" for x in value.labels)


def forwarded_params(f: Frame) -> dict[str, str]:
    """Parameter -> the ``<callee>#checks:<argument>`` it was handed to on every way out
    (``def validate(x): check(x)``): its checks are that callee's, resolved in link."""
    out: dict[str, str] = {}
    if not f.exits:
        return out
    for name in f.params:
        targets: set[str] = set()
        for env in f.exits:
            value = env.get(name)
            labels = list(value.all_labels()) if value is not None else []
            inner = [x for lab in labels for _, raw in lab.args for x in raw]
            if (
                len(labels) != 1
                or labels[0].kind != "call"
                or CHECKS not in labels[0].origin
                or not inner
                or any(x.kind != "param" or x.origin != name for x in inner)
            ):
                targets = set()
                break
            targets.add(labels[0].origin)
        if len(targets) == 1:
            out[name] = targets.pop()
    return out


class ChecksMixin(EngineBase):
    def checked_by(self, node: ast.expr, f: Frame) -> None:
        """After ``check(n)`` (a statement, or a call whose result is assigned), ``n`` is
        what the callee's checks leave of it: a ``#checks:`` call label for link."""
        call = node.value if isinstance(node, ast.Await) else node
        if not isinstance(call, ast.Call):
            return
        named = [(str(i), a) for i, a in enumerate(call.args)]
        named += [(k.arg, k.value) for k in call.keywords if k.arg]
        # only a variable handed over whole, holding labels and no items, is what the
        # callee's checks change (most calls hand none: the callee is not resolved then)
        names = [(k, a.id) for k, a in named if isinstance(a, ast.Name) and _whole(f.env, a.id)]
        if not names:
            return
        qual = own_callee(call.func, f)  # ``self.check(n)``: the class's method
        if not qual:
            qual = qualify(call.func, f)
            if not qual or not self.may_be_repo(call.func, qual, f):
                return
        for key, name in names:
            args = ((key, shallow(f.env[name].labels)),)
            label = Label("call", f"{qual}{CHECKS}{key}", call.lineno, args=args)
            f.env[name] = Value(frozenset({label}))

    def truthy_exit(self, node: ast.expr | None, value: Value, f: Frame) -> None:
        """At ``return node``: unless the value is never true, the parameters as the value
        being true leaves them (``return is_safe(url)``, ``return ok and x.isdigit()``)."""
        if node is None or (value.known and not value.all_labels() and not value.const):
            return
        if not f.params:
            return  # it proves things of parameters only (``holds``): ``def m(self)`` has none
        env, facts, hits, calls = f.env, f.facts, len(f.hits), len(f.calls)
        f.env, f.facts = dict(env), set(facts)
        if not value.known:
            self.refine(node, f, True)
        f.truthy.append({n: f.env[n] for n in f.params if n in f.env})
        del f.hits[hits:], f.calls[calls:]  # the test was read for its facts only
        f.env, f.facts = env, facts

    def repo_predicate(self, test: ast.Call, f: Frame) -> None:
        """``ok(x)`` was true, for a function ``ok`` that may be the repository's: ``x``
        carries ``ok``'s pending kind (link: what ``ok``'s ``holds`` proves, maybe nothing)."""
        qual = own_callee(test.func, f)
        if not qual:
            qual = qualify(test.func, f)
            if not qual or not self.may_be_repo(test.func, qual, f):
                return
        named = [(str(i), a) for i, a in enumerate(test.args)]
        named += [(k.arg, k.value) for k in test.keywords if k.arg]
        for key, arg in named:
            kind = holds(qual, key)
            self.sanitize_names(arg, frozenset({kind}), f, kind)
