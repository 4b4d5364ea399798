"""Values a dependency was built with, and its callable folded on them.

FastAPI calls what ``Depends(x)`` holds: an instance's ``__call__`` (``inspect.signature``
of an instance is its class's ``__call__``), or the closure a factory returned
(``Depends(require(scopes={...}))``, the factory ran once at import). What that callable
rejects may hang on what it was built with::

    class Authenticator:
        def __init__(self, allowed): self.allowed = allowed
        async def __call__(self, subject=Depends(current)):
            if subject is None:
                if ANONYMOUS in self.allowed: return subject   # optional auth
                raise HTTPException(401)

``Authenticator({ANONYMOUS, USER})`` lets an anonymous caller through,
``Authenticator({USER})`` does not. The arguments a call site passes are recorded at
extract (``encode``: constants, names, and literal collections of them), carried through
the factory's parameters and locals and the class's ``__init__`` (``self.allowed =
allowed``) into an environment, and every test of the callable that reads only that
environment is decided (``fold``): the arm it takes replaces the ``if``, the code after a
``return`` it reaches is dropped. The folded callable is then judged like any other
dependency. A test that reads the request, or a value the code does not spell out, stays.
A ``for`` over a collection it was built with runs its body once per member (the loop
variable names each: ``Checks([OwnerRule])`` calls ``OwnerRule``), and a raise whose status
is an attribute it holds (``self.denied_code``) gets that status written in.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from threatmodel.code.names import is_secret_name
from threatmodel.code.pyast import FuncDef, dotted, last
from threatmodel.code.secret_values import find_tokens, looks_like_secret

# ``frozenset(x)`` / ``set(x)`` ... keep the members of what they are given
_SAME_MEMBERS = {"frozenset", "set", "list", "tuple", "sorted"}


@dataclass(frozen=True)
class Const:
    value: str | int | float | bool | None


@dataclass(frozen=True)
class Ref:
    """A name (a class, an enum member): ``key`` is where it is defined, as resolved."""

    key: str


@dataclass(frozen=True)
class Coll:
    """A literal set / list / tuple of names and constants: its members' keys."""

    items: frozenset[Any]


@dataclass(frozen=True)
class Built:
    """A call that makes a dependency: ``callee(*args, **kwargs)`` written in ``file``."""

    file: str
    callee: str
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...]


Val = Const | Ref | Coll | Built | None  # None: not known from the code
Env = Mapping[str, Val]
# A dotted name outside the environment -> its value: a literal its module defines
# (``ADMITS = {MEMBER}``), else a ``Ref`` to what it names.
Resolve = Callable[[str], Val]


def member(v: Val) -> Any:
    """What identifies a value inside a collection."""
    if isinstance(v, Const):
        return ("const", v.value)
    return v.key if isinstance(v, Ref) else None


# -- extract side: a call site's arguments, JSON-able -------------------------------------


def encode(node: ast.AST | None, name: str = "") -> Any:
    """A call argument as JSON: ``["c", v]``, ``["n", "a.b"]``, ``["s", [...]]`` or None.
    ``name``: the keyword it is passed as."""
    if isinstance(node, ast.Constant) and isinstance(
        node.value, str | int | float | bool | type(None)
    ):
        if isinstance(node.value, str) and _may_be_secret(node.value, name):
            return None  # the extract is cached on disk: a secret's value never is
        return ["c", node.value]
    if isinstance(node, ast.Name | ast.Attribute) and dotted(node):
        return ["n", dotted(node)]
    if isinstance(node, ast.Set | ast.List | ast.Tuple):
        items = [encode(e, name) for e in node.elts]
        return ["s", items] if all(i and i[0] != "s" for i in items) else None
    if isinstance(node, ast.Call) and last(dotted(node.func)) in _SAME_MEMBERS and node.args:
        return encode(node.args[0], name)
    return None


def _may_be_secret(text: str, name: str) -> bool:
    """A string passed as a secret-named keyword (``password="..."``), in a known token
    format, or random enough to be a key: never recorded (a guard compares role and scope
    names, which are none of these)."""
    if name and is_secret_name(name):
        return True
    return any(True for _ in find_tokens(text)) or looks_like_secret(text, "secret", "template")


def encode_call(call: ast.Call) -> list[Any]:
    """``[callee, [args...], {kw: arg}]`` of a call that builds a dependency."""
    kws = {k.arg: encode(k.value, k.arg) for k in call.keywords if k.arg}
    return [dotted(call.func), [encode(a) for a in call.args], kws]


def decode(enc: Any, env: Env, resolve: Resolve) -> Val:
    """An encoded argument's value: a name is first the environment's, else what it names."""
    if not isinstance(enc, list) or not enc:
        return None
    if enc[0] == "c":
        return Const(enc[1])
    if enc[0] == "n":
        return env[enc[1]] if enc[1] in env else resolve(enc[1])
    if enc[0] == "s":
        vals = [decode(e, env, resolve) for e in enc[1]]
        return _coll(vals)
    return None


def _coll(vals: list[Val]) -> Val:
    keys = [member(v) for v in vals]
    return Coll(frozenset(keys)) if all(k is not None for k in keys) else None


def built_of(file: str, enc: list[Any], env: Env, resolve: Resolve) -> Built:
    callee, args, kws = enc
    return Built(
        file,
        callee,
        tuple(decode(a, env, resolve) for a in args),
        tuple(sorted((k, decode(v, env, resolve)) for k, v in kws.items())),
    )


# -- link side: evaluate, bind, fold ------------------------------------------------------


def evaluate(node: ast.AST | None, env: Env, file: str, resolve: Resolve) -> Val:
    """The value of an expression in a factory or ``__init__`` body, when the code says it."""
    if node is None:
        return None
    if isinstance(node, ast.Constant):
        return decode(encode(node), env, resolve)
    name = dotted(node) if isinstance(node, ast.Name | ast.Attribute) else ""
    if name:
        return env[name] if name in env else resolve(name)
    if isinstance(node, ast.Set | ast.List | ast.Tuple):
        return _coll([evaluate(e, env, file, resolve) for e in node.elts])
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        for v in node.values:  # ``allowed or {USER}``: the first truthy value
            val = evaluate(v, env, file, resolve)
            truth = truthy(val)
            if truth is None:
                return None
            if truth:
                return val
        return val
    if isinstance(node, ast.Call) and dotted(node.func):
        if last(dotted(node.func)) in _SAME_MEMBERS and len(node.args) == 1:
            return evaluate(node.args[0], env, file, resolve)
        args = tuple(evaluate(a, env, file, resolve) for a in node.args)
        kws = tuple(
            sorted((k.arg, evaluate(k.value, env, file, resolve)) for k in node.keywords if k.arg)
        )
        return Built(file, dotted(node.func), args, kws)
    return None


def truthy(v: Val) -> bool | None:
    if isinstance(v, Const):
        return bool(v.value)
    if isinstance(v, Coll):
        return bool(v.items)
    return True if isinstance(v, Ref | Built) else None


def bind(
    fn: FuncDef, args: tuple[Val, ...], kwargs: Mapping[str, Val], env: Env, file: str, r: Resolve
) -> dict[str, Val]:
    """The function's parameters bound to a call's arguments (defaults where none is given);
    ``self`` (a method) takes no argument."""
    a = fn.args
    positional = [*a.posonlyargs, *a.args]
    if positional and positional[0].arg in ("self", "cls"):
        positional = positional[1:]
    out: dict[str, Val] = {}
    defaults = dict(zip([p.arg for p in positional][-len(a.defaults) :], a.defaults, strict=False))
    defaults.update({p.arg: d for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d})
    for i, p in enumerate(positional):
        if i < len(args):
            out[p.arg] = args[i]
    for p in [*positional, *a.kwonlyargs]:
        if p.arg in kwargs:
            out[p.arg] = kwargs[p.arg]
        elif p.arg not in out:
            out[p.arg] = evaluate(defaults.get(p.arg), env, file, r)
    return out


def run_body(body: list[ast.stmt], env: dict[str, Val], file: str, r: Resolve) -> None:
    """Top-level ``x = ...`` / ``self.x = ...`` of a factory or ``__init__`` into ``env``;
    a name assigned under a branch is not known."""
    for s in body:
        if isinstance(s, ast.Assign | ast.AnnAssign) and s.value is not None:
            targets = s.targets if isinstance(s, ast.Assign) else [s.target]
            for t in targets:
                if dotted(t) and isinstance(t, ast.Name | ast.Attribute):
                    env[dotted(t)] = evaluate(s.value, env, file, r)
        elif not isinstance(s, ast.Expr | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for n in ast.walk(s):
                if isinstance(n, ast.Name | ast.Attribute) and isinstance(n.ctx, ast.Store):
                    env.pop(dotted(n), None)


def decide(test: ast.expr, env: Env, r: Resolve) -> bool | ast.expr:
    """``test`` with what the environment decides decided: True / False, or what is left."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = decide(test.operand, env, r)
        return (not inner) if isinstance(inner, bool) else ast.UnaryOp(ast.Not(), inner)
    if isinstance(test, ast.BoolOp):
        stop = isinstance(test.op, ast.Or)  # the value that settles it
        left: list[ast.expr] = []
        for v in test.values:
            d = decide(v, env, r)
            if d is stop:
                return stop
            if not isinstance(d, bool):
                left.append(d)
        if not left:
            return not stop
        return left[0] if len(left) == 1 else ast.BoolOp(test.op, left)
    name = dotted(test) if isinstance(test, ast.Name | ast.Attribute) else ""
    if name in env:
        truth = truthy(env[name])
        return test if truth is None else truth
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        return _compare(test, env, r)
    return test


def _operand(node: ast.expr, env: Env, r: Resolve, free: bool) -> Val:
    """A comparison's side: the environment's value; a constant or a module name too when
    ``free`` (the other side is the environment's)."""
    name = dotted(node) if isinstance(node, ast.Name | ast.Attribute) else ""
    if name in env:
        return env[name]
    if not free:
        return None
    if isinstance(node, ast.Constant):
        return decode(encode(node), env, r)
    return r(name) if name else None


def _compare(test: ast.Compare, env: Env, r: Resolve) -> bool | ast.expr:
    op, left, right = test.ops[0], test.left, test.comparators[0]
    names = {dotted(x) for x in (left, right) if isinstance(x, ast.Name | ast.Attribute)}
    if not names & set(env):
        return test  # neither side is what the dependency was built with
    lv, rv = _operand(left, env, r, True), _operand(right, env, r, True)
    a = member(lv)
    if isinstance(op, ast.In | ast.NotIn) and isinstance(rv, Coll) and a is not None:
        hits = [_same(a, b) for b in rv.items]
        if None in hits and True not in hits:
            return test
        return (True in hits) == isinstance(op, ast.In)
    if isinstance(op, ast.Eq | ast.Is | ast.NotEq | ast.IsNot):
        same = _same(a, member(rv))
        return test if same is None else same == isinstance(op, ast.Eq | ast.Is)
    return test


def _same(a: Any, b: Any) -> bool | None:
    """Do two members name the same thing? None when the code cannot say: a constant
    against a name (an enum member may equal a string), or either unknown. A name found
    in the repository on one side and not on the other (``?:``) compares by its symbol."""
    if a is None or b is None or isinstance(a, tuple) != isinstance(b, tuple):
        return None
    if isinstance(a, tuple):
        return bool(a == b)
    if a.startswith("?:") or b.startswith("?:"):
        return bool(last(a.split(":", 1)[1]) == last(b.split(":", 1)[1]))
    return bool(a == b)


def _fold(body: list[ast.stmt], env: Env, r: Resolve, loops: dict[str, Val]) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for s in body:
        if isinstance(s, ast.If):
            d = decide(s.test, env, r)
            if isinstance(d, bool):
                out.extend(_fold(s.body if d else s.orelse, env, r, loops))
            else:
                new = copy.copy(s)
                new.test = d
                new.body = _fold(s.body, env, r, loops) or [ast.copy_location(ast.Pass(), s)]
                new.orelse = _fold(s.orelse, env, r, loops)
                out.append(new)
        elif isinstance(s, ast.Try | ast.With | ast.AsyncWith):
            new_block = copy.copy(s)
            new_block.body = _fold(s.body, env, r, loops) or [ast.copy_location(ast.Pass(), s)]
            out.append(new_block)
        elif isinstance(s, ast.For) and isinstance(s.target, ast.Name) and _every(s, env, r):
            # ``for check in self.checks: check(request)`` over a collection the dependency
            # was built with: the body runs for every member, so what it calls is called on
            # every path (the loop variable names each member: ``loops``)
            loops[s.target.id] = env[dotted(s.iter)]
            out.extend(_fold(s.body, env, r, loops))
        elif isinstance(s, ast.Raise):
            out.append(_status_written(s, env))
        else:
            out.append(s)
        if out and isinstance(out[-1], ast.Return | ast.Raise):
            break  # what follows is never reached
    return out


def _every(loop: ast.For, env: Env, r: Resolve) -> bool:
    """Does the loop run its whole body once per member of a known, non-empty collection
    (no ``else``, nothing that leaves the body early but a raise)?"""
    name = dotted(loop.iter) if isinstance(loop.iter, ast.Name | ast.Attribute) else ""
    over = env.get(name) if name else None
    if loop.orelse or not isinstance(over, Coll) or not over.items:
        return False
    return not any(isinstance(n, ast.Break | ast.Continue | ast.Return) for n in ast.walk(loop))


def _status_written(s: ast.Raise, env: Env) -> ast.Raise:
    """``raise HTTPException(status_code=self.denied_code)``: the status a class attribute
    holds written in its place (a constant, or the name it is: ``HTTP_403_FORBIDDEN``), so
    the rejection reads as what it is (reject.py reads literals and status names)."""
    call = s.exc
    if not isinstance(call, ast.Call):
        return s

    def written(node: ast.expr) -> ast.expr:
        name = dotted(node) if isinstance(node, ast.Name | ast.Attribute) else ""
        v = env.get(name) if name else None
        if isinstance(v, Const) and isinstance(v.value, int):
            return ast.copy_location(ast.Constant(v.value), node)
        if isinstance(v, Ref):
            symbol = last(v.key.rsplit(":", 1)[1])
            return ast.copy_location(ast.Name(id=symbol, ctx=ast.Load()), node)
        return node

    new_call = copy.copy(call)
    new_call.args = [written(a) for a in call.args]
    new_call.keywords = [
        ast.copy_location(ast.keyword(arg=k.arg, value=written(k.value)), k) for k in call.keywords
    ]
    new = copy.copy(s)
    new.exc = new_call
    return new


def fold(fn: FuncDef, env: Env, r: Resolve, loops: dict[str, Val] | None = None) -> FuncDef:
    """``fn`` with every test its environment decides replaced by the arm it takes.

    Names the function assigns itself are its own, not the environment's. ``loops``: filled
    with each loop variable that runs over a collection of the environment (``_every``)."""
    own = {
        dotted(n)
        for n in ast.walk(fn)
        if isinstance(n, ast.Name | ast.Attribute) and isinstance(n.ctx, ast.Store)
    }
    own |= {a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]}
    scope = {k: v for k, v in env.items() if k not in own}
    heads = {n.split(".")[0] for n in own}

    def outside(name: str) -> Val:
        # ``user.role`` where ``user`` is a parameter or a local is the request's, never
        # a module's name of the same spelling
        return None if name.split(".")[0] in heads else r(name)

    new = copy.copy(fn)
    found: dict[str, Val] = {} if loops is None else loops
    new.body = _fold(fn.body, scope, outside, found) or [ast.copy_location(ast.Pass(), fn)]
    return new


def returned(fn: FuncDef) -> ast.expr | None:
    """What a factory returns: its first top-level ``return``'s value."""
    return next((s.value for s in fn.body if isinstance(s, ast.Return)), None)
