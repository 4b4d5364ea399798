"""How a Python value is built, decided from the AST: constant, built from input, or opaque.

Shared by the Python sinks collector (is a SQL call's query ``dynamic``?) and by the
verifiers that re-read a cited line (is this ``cursor.execute`` parameterised?). The
analysis is intra-procedural on purpose: a name is resolved through the assignments of the
function it is used in (and the module's constants), which is what a reviewer does when
reading one handler, and never guesses beyond that.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from threatmodel.code.pyast import CHILD_FIELDS

# Names whose attributes carry the HTTP request in Flask, Django, Starlette / FastAPI.
REQUEST_NAMES = frozenset({"request", "req"})
MAX_DEPTH = 6  # name resolution depth: a -> b -> c ...; deeper chains are "opaque"


class Flow(StrEnum):
    CONST = "const"  # a literal, or names that only ever hold literals
    BUILT = "built"  # a string put together from a non-constant part (f-string, %, +, format)
    OPAQUE = "opaque"  # a value we cannot see into: a parameter, a call result, an attribute


def dotted(node: ast.AST) -> str:
    """``a.b.c`` for Name / Attribute chains (calls unwrap to their callee); "" otherwise."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = dotted(node.value)
        return f"{inner}.{node.attr}" if inner else node.attr
    if isinstance(node, ast.Call):
        return dotted(node.func)
    return ""


@dataclass
class Scope:
    """Assignments visible inside one function: local first, then module constants."""

    local: dict[str, list[ast.expr]] = field(default_factory=dict)
    module: dict[str, list[ast.expr]] = field(default_factory=dict)
    params: frozenset[str] = frozenset()

    def values(self, name: str) -> list[ast.expr] | None:
        if name in self.local:
            return self.local[name]
        if name in self.params:
            return None
        return self.module.get(name)


def assignments(body: list[ast.stmt] | ast.AST) -> dict[str, list[ast.expr]]:
    """Every value assigned to a plain name or a constant-keyed subscript in ``body``.

    Subscripts are keyed as ``app.config['KEY']`` so that a later read of the same
    subscript resolves (common for Flask settings). Nested functions are not entered.
    """
    return _assignments_of(_nodes_no_nested(body if isinstance(body, list) else [body]))


def _assignments_of(nodes: list[ast.AST]) -> dict[str, list[ast.expr]]:
    """``assignments`` over the nodes ``_nodes_no_nested`` listed (no second walk)."""
    out: dict[str, list[ast.expr]] = {}
    for node in nodes:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                for key in _target_keys(target):
                    out.setdefault(key, []).append(node.value)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            for key in _target_keys(node.target):
                out.setdefault(key, []).append(node.value)
        elif isinstance(node, ast.AugAssign):
            for key in _target_keys(node.target):
                # x += y  is  x = x + y: keep the old values and add the new part
                out.setdefault(key, []).append(
                    ast.BinOp(left=node.target, op=node.op, right=node.value)
                )
        elif isinstance(node, ast.For | ast.AsyncFor | ast.With | ast.AsyncWith):
            targets = (
                [node.target]
                if isinstance(node, ast.For | ast.AsyncFor)
                else [i.optional_vars for i in node.items if i.optional_vars is not None]
            )
            for target in targets:
                for key in _target_keys(target):
                    out.setdefault(key, []).append(ast.Name(id="<loop>", ctx=ast.Load()))
    return out


_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_AST = ast.AST


def _nodes_no_nested(roots: list[ast.stmt] | list[ast.AST]) -> list[ast.AST]:
    """Nodes of ``roots`` in source order (depth first); function and class bodies are
    listed, not entered. One list serves both the assignments and the calls of a body."""
    out: list[ast.AST] = []
    stack: list[ast.AST] = list(reversed(roots))
    pop, push, append = stack.pop, stack.append, out.append
    while stack:
        node = pop()
        append(node)
        if isinstance(node, _NESTED):
            continue
        children: list[ast.AST] = []
        for name in CHILD_FIELDS.get(node.__class__, node._fields):  # iter_child_nodes, inlined
            v = getattr(node, name, None)
            if isinstance(v, _AST):
                children.append(v)
            elif isinstance(v, list):
                children.extend([x for x in v if isinstance(x, _AST)])
        for child in reversed(children):
            push(child)
    return out


def _target_keys(target: ast.AST) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple | ast.List):
        return [k for elt in target.elts for k in _target_keys(elt)]
    key = subscript_key(target)
    return [key] if key else []


def subscript_key(node: ast.AST) -> str | None:
    """``app.config['X']`` for a subscript with a constant key, else None."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        base = dotted(node.value)
        if base:
            return f"{base}[{node.slice.value!r}]"
    return None


def params_of(fn: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> frozenset[str]:
    a = fn.args
    names = [p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs]]
    names += [p.arg for p in (a.vararg, a.kwarg) if p is not None]
    return frozenset(n for n in names if n not in ("self", "cls"))


def classify(expr: ast.AST, scope: Scope, depth: int = 0) -> Flow:
    """How ``expr`` is built. Strings put together from any non-constant part are BUILT."""
    if depth > MAX_DEPTH:
        return Flow.OPAQUE
    if isinstance(expr, ast.Constant):
        return Flow.CONST
    if isinstance(expr, ast.JoinedStr):
        parts = [
            classify(v.value, scope, depth + 1)
            for v in expr.values
            if isinstance(v, ast.FormattedValue)
        ]
        return Flow.CONST if all(p is Flow.CONST for p in parts) else Flow.BUILT
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mod | ast.Add):
        left, right = classify(expr.left, scope, depth + 1), classify(expr.right, scope, depth + 1)
        if left is Flow.CONST and right is Flow.CONST:
            return Flow.CONST
        return Flow.BUILT
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr in ("format", "join", "replace", "strip", "lower", "upper")
    ):
        base = classify(expr.func.value, scope, depth + 1)
        args = [
            classify(a, scope, depth + 1) for a in [*expr.args, *(k.value for k in expr.keywords)]
        ]
        if base is Flow.CONST and all(a is Flow.CONST for a in args):
            return Flow.CONST
        if expr.func.attr in ("format", "join") or base is Flow.BUILT:
            return Flow.BUILT
        return Flow.OPAQUE
    if isinstance(expr, ast.IfExp):
        branches = {classify(expr.body, scope, depth + 1), classify(expr.orelse, scope, depth + 1)}
        if branches == {Flow.CONST}:
            return Flow.CONST
        return Flow.BUILT if Flow.BUILT in branches else Flow.OPAQUE
    if isinstance(expr, ast.Tuple | ast.List):
        items = [classify(e, scope, depth + 1) for e in expr.elts]
        return Flow.CONST if all(k is Flow.CONST for k in items) else Flow.OPAQUE
    key = expr.id if isinstance(expr, ast.Name) else subscript_key(expr)
    if key is not None:
        values = scope.values(key)
        if not values:
            return Flow.OPAQUE
        kinds = {classify(v, scope, depth + 1) for v in values}
        if kinds == {Flow.CONST}:
            return Flow.CONST
        return Flow.BUILT if Flow.BUILT in kinds else Flow.OPAQUE
    return Flow.OPAQUE


def mentions_request(expr: ast.AST, scope: Scope, depth: int = 0) -> bool:
    """Does ``expr`` read the HTTP request (``request.args``, ``request.json`` ...)?

    Names are followed through the function's assignments, so ``q = request.args['q']``
    followed by ``f"...{q}"`` counts.
    """
    if depth > MAX_DEPTH:
        return False
    for node in ast.walk(expr):
        if isinstance(node, ast.Name):
            if node.id in REQUEST_NAMES:
                return True
            for value in scope.local.get(node.id, []):
                if value is not expr and mentions_request(value, scope, depth + 1):
                    return True
    return False


def mentions_params(expr: ast.AST, scope: Scope, depth: int = 0) -> list[str]:
    """The enclosing function's parameters ``expr`` depends on (through local assignments)."""
    if depth > MAX_DEPTH:
        return []
    found: set[str] = set()
    for node in ast.walk(expr):
        if isinstance(node, ast.Name):
            if node.id in scope.params and node.id not in scope.local:
                found.add(node.id)
            for value in scope.local.get(node.id, []):
                if value is not expr:
                    found.update(mentions_params(value, scope, depth + 1))
    return sorted(found)


@dataclass(frozen=True)
class CallSite:
    call: ast.Call
    function: ast.FunctionDef | ast.AsyncFunctionDef | None  # None at module level
    scope: Scope


def call_sites(tree: ast.Module) -> Iterator[CallSite]:
    """Every call in the module with the scope of its innermost enclosing function."""
    nodes = _nodes_no_nested(tree.body)
    yield from _calls_in(nodes, None, Scope(module=_assignments_of(nodes)))


def _calls_in(
    nodes: list[ast.AST],
    fn: ast.FunctionDef | ast.AsyncFunctionDef | None,
    scope: Scope,
) -> Iterator[CallSite]:
    """Calls among ``nodes`` (one body, listed once), then into nested bodies."""
    for node in nodes:
        if isinstance(node, ast.Call):
            yield CallSite(node, fn, scope)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            body = _nodes_no_nested(node.body)
            inner = Scope(local=_assignments_of(body), module=scope.module, params=params_of(node))
            yield from _calls_in(body, node, inner)
        elif isinstance(node, ast.ClassDef):
            yield from _calls_in(_nodes_no_nested(node.body), fn, scope)


def function_at(tree: ast.Module, line: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The innermost function whose body spans ``line`` (decorators included)."""
    best: ast.FunctionDef | ast.AsyncFunctionDef | None = None
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            if start <= line <= (node.end_lineno or node.lineno) and (
                best is None or node.lineno >= best.lineno
            ):
                best = node
    return best


def scope_for(tree: ast.Module, fn: ast.FunctionDef | ast.AsyncFunctionDef | None) -> Scope:
    module = assignments(tree.body)
    if fn is None:
        return Scope(module=module)
    return Scope(local=assignments(fn.body), module=module, params=params_of(fn))
