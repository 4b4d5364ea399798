"""What a Python function calls on every path, its FastAPI dependencies, and its shape.

The pieces of a function summary (guards.py) that list callees rather than judge
checks: ``top_calls`` (the helpers that may guard every request a handler serves),
``depends_of`` (``Depends(x)`` / ``Security(x)`` parameters), ``is_decorator_shaped``.
"""

from __future__ import annotations

import ast
from typing import Any

from threatmodel.code.pyast import FuncDef, dotted, kw, last
from threatmodel.code.pyast import walk as walk_nodes
from threatmodel.frameworks._python.built import encode_call
from threatmodel.frameworks._python.reject import branch_reject


def top_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """A handler's top-level statements, looking through ``try`` and ``with`` bodies."""
    out: list[ast.stmt] = []
    for s in body:
        out.append(s)
        if isinstance(s, ast.Try | ast.With | ast.AsyncWith):
            out.extend(top_level(s.body))
    return out


def top_calls(fn: FuncDef) -> list[list[Any]]:
    """Calls made by the function's top-level statements: [[callee, line]].

    These are the helpers that can guard it (``check_authorized(request)``,
    ``user = require_user()``); a call nested in a branch guards only that branch, unless
    every arm of an ``if``/``else`` makes it (then every path does).
    """
    return _calls(fn.body)


# What a rejection raises (an HTTP or auth exception): a handler catching one of these and
# not raising again lets the caller through whatever the ``try`` body called.
_CATCH_ALL = frozenset({"Exception", "BaseException", "HTTPException"})


def swallows(t: ast.Try) -> bool:
    """``try: return get_current_user(...) except Exception: return None``: an optional
    login. A handler that catches every exception (or HTTP's), does not raise again and
    does not refuse itself."""
    for h in t.handlers:
        types = h.type.elts if isinstance(h.type, ast.Tuple) else [h.type]
        broad = any(x is None or last(dotted(x)) in _CATCH_ALL for x in types)
        again = any(isinstance(n, ast.Raise) for n in ast.walk(h))
        # ``except Exception: return jsonify(...), 401`` refuses in the handler itself
        if broad and not again and not branch_reject(h.body, {}):
            return True
    return False


def _reaching(body: list[ast.stmt]) -> list[ast.stmt]:
    """``top_level``, but not into a ``try`` whose handler swallows what a check raises."""
    out: list[ast.stmt] = []
    for s in body:
        out.append(s)
        if isinstance(s, ast.With | ast.AsyncWith) or (isinstance(s, ast.Try) and not swallows(s)):
            out.extend(_reaching(s.body))
    return out


def _calls(body: list[ast.stmt]) -> list[list[Any]]:
    out: list[list[Any]] = []
    for stmt in _reaching(body):
        if isinstance(stmt, ast.If) and stmt.orelse:
            other = {c for c, _line in _calls(stmt.orelse)}
            out += [c for c in _calls(stmt.body) if c[0] in other]
            continue
        value: ast.AST | None = None
        if isinstance(stmt, ast.Expr | ast.Assign | ast.AnnAssign | ast.Return):
            value = stmt.value
        if isinstance(value, ast.Await):
            value = value.value
        if isinstance(value, ast.Call) and dotted(value.func):
            out.append([dotted(value.func), stmt.lineno])
        root = _root_call(value)
        if root is not None and root is not value and dotted(root.func) != "super":
            out.append([dotted(root.func), stmt.lineno])
    return out


def param_calls(fn: FuncDef) -> list[list[Any]]:
    """Calls made under a top-level ``if <param>:`` / ``if <param> is not None:`` (no
    ``else``) on one of the function's parameters: [[param, callee, line]].

    A view shared by two URL patterns (``/bulk`` and ``/product/<pid>/bulk``) checks the
    product only when the pattern captured one; on the route whose pattern always does,
    the branch is always taken and its calls are the handler's (link time knows the
    route's parameters).
    """
    params = {a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]}
    out: list[list[Any]] = []
    for stmt in top_level(fn.body):
        if not isinstance(stmt, ast.If) or stmt.orelse:
            continue
        t = stmt.test
        if (
            isinstance(t, ast.Compare)
            and len(t.ops) == 1
            and isinstance(t.ops[0], ast.IsNot)
            and isinstance(t.comparators[0], ast.Constant)
            and t.comparators[0].value is None
        ):
            t = t.left
        if isinstance(t, ast.Name) and t.id in params:
            out += [[t.id, callee, line] for callee, line in _calls(stmt.body)]
    return out


def _root_call(node: ast.AST | None) -> ast.Call | None:
    """``f(x).order_by(...)`` / ``f(x).qs``: the call that runs first, ``f(x)``; the rest
    are methods and attributes of its result."""
    found: ast.Call | None = None
    while True:
        if isinstance(node, ast.Call):
            found = node
            node = node.func.value if isinstance(node.func, ast.Attribute) else None
        elif isinstance(node, ast.Attribute | ast.Subscript):
            node = node.value
        else:
            return found


def depends_of(fn: FuncDef) -> list[list[Any]]:
    """FastAPI ``Depends(x)`` / ``Security(x, scopes=[...])`` parameters: [[x, line, scoped]]."""
    out: list[list[Any]] = []
    defaults = [*fn.args.defaults, *(d for d in fn.args.kw_defaults if d is not None)]
    annotated = [a.annotation for a in [*fn.args.args, *fn.args.kwonlyargs] if a.annotation]
    for node in [*defaults, *annotated]:
        for call in walk_nodes(node):
            dep = depends_target(call)
            if dep is not None:
                out.append(dep)
    return out


def annotation_refs(fn: FuncDef) -> list[list[Any]]:
    """Names in parameter annotations that may be FastAPI ``Annotated`` aliases
    (``user: CurrentUser``): [[name, line]]; an annotation that spells ``Depends`` out is
    read by ``depends_of`` instead. FastAPI reads an alias's metadata as if written there."""
    out: list[list[Any]] = []
    for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]:
        if a.annotation is None or any(depends_target(n) for n in walk_nodes(a.annotation)):
            continue
        for n in walk_nodes(a.annotation):
            if isinstance(n, ast.Name | ast.Attribute) and (name := dotted(n)):
                out.append([name, a.lineno])
    return out


def built_deps(tree: ast.AST) -> dict[str, Any]:
    """``Depends(require(scopes={...}))``: each dependency a call builds in place, by
    ``"line:callee"`` (what ``depends_target`` names it), with the call's arguments
    (``built.encode_call``) for link to fold the callable it makes on them."""
    out: dict[str, Any] = {}
    for node in walk_nodes(tree):
        dep = depends_target(node)
        if dep is not None and isinstance(node, ast.Call):
            target = node.args[0] if node.args else kw(node, "dependency")
            if isinstance(target, ast.Call) and dep[0]:
                out[f"{dep[1]}:{dep[0]}"] = encode_call(target)
    return out


def depends_target(node: ast.AST) -> list[Any] | None:
    """``Depends(get_user)`` -> [callee, line, scoped]; a factory call names its factory."""
    if not isinstance(node, ast.Call) or last(dotted(node.func)) not in ("Depends", "Security"):
        return None
    target = node.args[0] if node.args else kw(node, "dependency")
    if target is None:
        return None
    scopes = kw(node, "scopes")
    scoped = isinstance(scopes, ast.List | ast.Tuple) and bool(scopes.elts)
    return [dotted(target), node.lineno, scoped]


# Where FastAPI reads a parameter from the request (``Annotated[str, Cookie()]``, ``=
# Header(None)``), and the plain types a query parameter has: a value the client sent.
_SENT_FROM = frozenset({"Cookie", "Header", "Query", "Body", "Form", "Path"})
_SCALARS = frozenset({"str", "int", "float", "bool", "bytes", "None", "Optional", "UUID"})


def client_values(fn: FuncDef) -> frozenset[str]:
    """Parameters the client fills (a query, cookie, header or body value), not ones the
    framework injects (``Depends(...)``, an ``Annotated`` alias defined elsewhere such as
    ``CurrentUser``, which may inject) nor the request: only those read from the request
    by name (``Cookie()``...) or typed with a plain scalar."""
    names = [a.arg for a in fn.args.args][::-1]
    defaults = dict(zip(names, fn.args.defaults[::-1], strict=False))  # the last ones have one
    kw_pairs = zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True)
    defaults.update({a.arg: d for a, d in kw_pairs if d})
    out = set()
    for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]:
        parts = [x for x in (a.annotation, defaults.get(a.arg)) if x is not None]
        nodes = [n for x in parts for n in ast.walk(x)]
        if any(depends_target(n) for n in nodes):
            continue
        sent = any(isinstance(n, ast.Call) and last(dotted(n.func)) in _SENT_FROM for n in nodes)
        typed = a.annotation is not None and all(
            last(dotted(n)) in _SCALARS
            for n in ast.walk(a.annotation)
            if isinstance(n, ast.Name | ast.Attribute)
        )
        if sent or typed:
            out.add(a.arg)
    return frozenset(out)


def is_decorator_shaped(fn: FuncDef) -> bool:
    """Defines an inner function and returns it (a decorator or a decorator factory)."""
    inner = {n.name for n in fn.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    return bool(inner) and any(
        isinstance(n, ast.Return) and isinstance(n.value, ast.Name) and n.value.id in inner
        for n in fn.body
    )
