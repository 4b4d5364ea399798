"""What a built dependency calls: the instance's ``__call__`` or the factory's closure.

``Depends(x)`` where ``x = Checker(...)`` (a module variable) or ``Depends(require(...))``
(a factory called in place) runs, per request, what the call made (``built.py``):

- a class of the repository: its ``__call__`` (the class's or the first base's that has
  one), with ``self.<attr>`` as the class bodies and its ``__init__`` set them;
- a function of the repository: what it returns, with its parameters bound to the
  arguments and its top-level locals evaluated: a function defined in it (a closure, over
  that environment), or a call (a class defined in it or anywhere, another factory), made
  the same way.

Calling a class (``Check(request=request)``, or ``Depends(Check)``) runs its ``__init__``:
``Maker.constructed``. ``Maker.made`` answers a ``Made``: the callable (unfolded), the file
it is in, its environment, and for a method the classes ``super()`` and ``self`` reach.
Library calls (``HTTPBearer(...)``) and what the code does not spell out make nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from threatmodel.code.pyast import FuncDef, dotted, last
from threatmodel.code.pyparse import parse_lines
from threatmodel.code.source import SourceFile
from threatmodel.frameworks._python.built import (
    Built,
    Env,
    Ref,
    Resolve,
    Val,
    bind,
    decide,
    evaluate,
    returned,
    run_body,
)
from threatmodel.frameworks._python.resolve import Resolver
from threatmodel.frameworks._python.stubs import LAZY

MAX_DEPTH = 5
Sources = Callable[[str], SourceFile | None]
Classes = tuple[tuple[str, ast.ClassDef], ...]  # (file, class), most derived first


@dataclass(frozen=True)
class Made:
    file: str
    fn: FuncDef = field(compare=False)
    env: tuple[tuple[str, Val], ...]
    classes: Classes = field(default=(), compare=False)
    at: int = 0  # the index in ``classes`` of the class defining ``fn``
    ident: tuple[int, int] = (0, 0)  # (line, column) of ``fn``: with file, what it is

    @property
    def scope(self) -> dict[str, Val]:
        return dict(self.env)


def _taken(value: ast.expr | None, env: Env, r: Resolve) -> ast.expr | None:
    """A conditional return the factory's arguments decide (``a if required else b``,
    ``required`` a parameter with its default): the arm it takes; else ``value``."""
    while isinstance(value, ast.IfExp):
        test = decide(value.test, env, r)
        if not isinstance(test, bool):
            return value
        value = value.body if test else value.orelse
    return value


def _members(node: ast.ClassDef | FuncDef | ast.Module) -> dict[str, Any]:
    return {
        n.name: n
        for n in node.body
        if isinstance(n, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
    }


_DEFS = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


class Maker:
    """Follows a ``Built`` to the callable it makes (see the module docstring)."""

    def __init__(self, resolver: Resolver, src: Sources):
        self._resolve = resolver.resolve
        self._extracts = resolver.extracts
        self._is_var = lambda f, s: s in resolver.extracts.get(f, {}).get("symbols", [])
        self._src = src
        self._alone: dict[tuple[str, str], ast.ClassDef | FuncDef | None] = {}

    def key(self, file: str) -> Resolve:
        """Names in ``file`` -> their value: a literal collection or constant the defining
        module assigns once at top level (``ADMITS = {GUEST, MEMBER}``), else a ``Ref``
        to the defining file and symbol (the bare symbol when that is not in the
        repository: a library's)."""

        def of(name: str) -> Val:
            target, symbol, _mod = self._resolve(file, name)
            if not target:
                return Ref(f"?:{last(symbol)}")
            # only a module variable can hold a literal: classes and functions are not read
            node = self._literal(target, symbol) if self._is_var(target, symbol) else None
            if node is not None:
                return evaluate(node, {}, target, self._refs(target))
            return Ref(f"{target}:{symbol}")

        return of

    def _refs(self, file: str) -> Resolve:
        def ref(name: str) -> Val:
            target, symbol, _mod = self._resolve(file, name)
            return Ref(f"{target}:{symbol}" if target else f"?:{last(symbol)}")

        return ref

    def _literal(self, file: str, symbol: str) -> ast.expr | None:
        tree = self.tree(file)
        if tree is None or "." in symbol:
            return None
        found = [
            s.value
            for s in tree.body
            if isinstance(s, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == symbol for t in s.targets)
        ]
        literal = ast.Set | ast.List | ast.Tuple | ast.Constant
        return found[0] if len(found) == 1 and isinstance(found[0], literal) else None

    def tree(self, file: str) -> ast.Module | None:
        src = self._src(file)
        return src.python_ast if src is not None else None

    def lines(self, file: str) -> list[str]:
        src = self._src(file)
        return src.lines if src is not None else []

    def top(self, file: str | None, symbol: str) -> ast.ClassDef | FuncDef | None:
        if not file or "." in symbol:
            return None
        alone = self._parsed_alone(file, symbol)
        if alone is not None:
            return alone
        tree = self.tree(file)
        if tree is None:
            return None
        got = _members(tree).get(symbol)
        return (
            got if isinstance(got, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) else None
        )

    def _parsed_alone(self, file: str, symbol: str) -> ast.ClassDef | FuncDef | None:
        """A top-level class or function of ``file`` parsed from its own lines, where the
        extract gives them (a class's span, a function's stub): a large module is not
        parsed whole for one class's ``__init__``. Once per name, so that the node is the
        same object at every read (``classes`` compares them)."""
        key = (file, symbol)
        if key not in self._alone:
            data = self._extracts.get(file) or {}
            cls = data.get("classes", {}).get(symbol) or {}
            # the raw entry: ``get`` of a lazy ``functions`` would summarise the function
            stub = dict.get(data.get("functions") or {}, symbol)
            span = cls.get("span") or (stub.get(LAZY, [])[:2] if isinstance(stub, dict) else [])
            lines = self.lines(file) if len(span) == 2 else []
            body = parse_lines(lines, span[0], span[1], file) if lines else []
            self._alone[key] = next(
                (n for n in body if isinstance(n, _DEFS) and n.name == symbol), None
            )
        return self._alone[key]

    def made(self, b: Built, depth: int = 0) -> Made | None:
        target, symbol, _ = self._resolve(b.file, b.callee)
        node = self.top(target, symbol)
        if node is None or target is None or depth > MAX_DEPTH:
            return None
        return self._make(target, node, b.args, dict(b.kwargs), {}, depth)

    def _make(
        self,
        file: str,
        node: ast.ClassDef | FuncDef,
        args: tuple[Val, ...],
        kwargs: dict[str, Val],
        outer: Env,
        depth: int,
    ) -> Made | None:
        if isinstance(node, ast.ClassDef):
            return self._instance(file, node, args, kwargs, outer)
        r = self.key(file)
        env = {**outer, **bind(node, args, kwargs, outer, file, r)}
        run_body(node.body, env, file, r)
        value = _taken(returned(node), env, r)
        inner = _members(node)
        if isinstance(value, ast.Name) and isinstance(inner.get(value.id), FuncDef):
            fn = inner[value.id]
            return Made(file, fn, _frozen(env), ident=(fn.lineno, fn.col_offset))
        if isinstance(value, ast.Name) and isinstance(env.get(value.id), Built):
            built = env[value.id]
            assert isinstance(built, Built)
            return self.made(built, depth + 1)
        if isinstance(value, ast.Name) and value.id not in env:
            # a function of the module (or one it imports) handed out as it is: it runs
            # with its own module's names, nothing of the factory's
            target, symbol, _ = self._resolve(file, value.id)
            fn = self.top(target, symbol)
            if target and isinstance(fn, FuncDef):
                return Made(target, fn, (), ident=(fn.lineno, fn.col_offset))
        if isinstance(value, ast.Call) and dotted(value.func) and depth < MAX_DEPTH:
            name = dotted(value.func)
            vargs = tuple(evaluate(a, env, file, r) for a in value.args)
            vkw = {k.arg: evaluate(k.value, env, file, r) for k in value.keywords if k.arg}
            local = inner.get(name)
            if isinstance(local, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                return self._make(file, local, vargs, vkw, env, depth + 1)
            return self.made(Built(file, name, vargs, tuple(sorted(vkw.items()))), depth + 1)
        return None

    def classes(self, file: str, cls: ast.ClassDef, depth: int = 0) -> Classes:
        """The class and its bases found in the repository, most derived first."""
        out: list[tuple[str, ast.ClassDef]] = [(file, cls)]
        for b in cls.bases:
            target, symbol, _ = self._resolve(file, dotted(b)) if dotted(b) else (None, "", "")
            base = self.top(target, symbol)
            if isinstance(base, ast.ClassDef) and target and depth < MAX_DEPTH:
                out += [c for c in self.classes(target, base, depth + 1) if c not in out]
        return tuple(out)

    def method(self, classes: Classes, name: str, start: int = 0) -> tuple[int, FuncDef] | None:
        for i, (_f, c) in enumerate(classes[start:], start):
            got = _members(c).get(name)
            if isinstance(got, ast.FunctionDef | ast.AsyncFunctionDef):
                return i, got
        return None

    def _instance(
        self,
        file: str,
        cls: ast.ClassDef,
        args: tuple[Val, ...],
        kwargs: dict[str, Val],
        outer: Env,
    ) -> Made | None:
        chain = self.classes(file, cls)
        env = self.class_attrs(chain)
        init = self.method(chain, "__init__")
        if init is not None:
            ifile = chain[init[0]][0]
            r = self.key(ifile)
            local = {**outer, **env, **bind(init[1], args, kwargs, outer, ifile, r)}
            run_body(init[1].body, local, ifile, r)
            env = {k: v for k, v in local.items() if k.startswith("self.")}
        call = self.method(chain, "__call__")
        if call is None:
            return None
        at, fn = call
        return Made(chain[at][0], fn, _frozen(env), chain, at, (fn.lineno, fn.col_offset))

    def class_attrs(self, chain: Classes) -> dict[str, Val]:
        """``self.<name>`` for what the classes' bodies assign (``denied_code =
        HTTP_403_FORBIDDEN``), a subclass's over its bases'."""
        env: dict[str, Val] = {}
        for cfile, cls in reversed(chain):
            r = self.key(cfile)
            for s in cls.body:
                if isinstance(s, ast.Assign | ast.AnnAssign) and s.value is not None:
                    targets = s.targets if isinstance(s, ast.Assign) else [s.target]
                    for t in targets:
                        if isinstance(t, ast.Name):
                            env[f"self.{t.id}"] = evaluate(s.value, {}, cfile, r)
        return env

    def constructed(self, file: str, symbol: str) -> Made | None:
        """Calling a class of the repository (``Check(request=request)``, or FastAPI calling
        ``Depends(Check)``) runs its ``__init__``, over the class's attributes: that method,
        or None when the name is no such class or no class of its chain defines one."""
        node = self.top(file, symbol)
        if not isinstance(node, ast.ClassDef):
            return None
        chain = self.classes(file, node)
        init = self.method(chain, "__init__")
        if init is None:
            return None
        at, fn = init
        # ``self.__class__`` is the class called: two subclasses sharing a base's
        # ``__init__`` are two callables (what ``self.<method>`` runs differs)
        env = {**self.class_attrs(chain), "self.__class__": Ref(f"{file}:{symbol}")}
        return Made(chain[at][0], fn, _frozen(env), chain, at, (fn.lineno, fn.col_offset))

    def on_self(self, m: Made, callee: str) -> Made | None:
        """``super().__call__(...)`` / ``self.check(...)`` in a method: the method the
        instance runs, over the same ``self``."""
        head, _, rest = callee.partition(".")
        if not m.classes or not rest or "." in rest or head not in ("super", "self"):
            return None
        got = self.method(m.classes, rest, m.at + 1 if head == "super" else 0)
        if got is None:
            return None
        at, fn = got
        return Made(m.classes[at][0], fn, m.env, m.classes, at, (fn.lineno, fn.col_offset))


def _frozen(env: Env) -> tuple[tuple[str, Val], ...]:
    return tuple(sorted(env.items(), key=lambda kv: kv[0]))
