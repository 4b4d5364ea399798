"""Record classes whose constructor is generated, not written: ``@dataclass`` classes,
``typing.NamedTuple`` subclasses, ``attrs`` classes and ``collections.namedtuple(...)``.

Their ``__init__`` stores each argument in the field of the same position or name. The engine
reads that constructor like any written one (``init_of`` builds it as a function node), so
``Rec('safe', p).a`` is the constant and ``.b`` is the input, through link's existing
"what ``__init__`` stored" rule.
"""

from __future__ import annotations

import ast

from threatmodel.dataflow.base import EngineBase
from threatmodel.dataflow.frame import Frame, qualify

RECORD_DECORATORS = frozenset({"dataclass", "define", "frozen", "attrs", "s", "mutable"})
RECORD_BASES = frozenset({"NamedTuple", "typing.NamedTuple"})
NAMEDTUPLE = frozenset({"collections.namedtuple", "namedtuple", "typing.NamedTuple"})


def _name(node: ast.expr) -> str:
    node = node.func if isinstance(node, ast.Call) else node
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def record_fields(cls: ast.ClassDef) -> list[tuple[str, ast.expr | None]] | None:
    """The fields (and defaults) of a record class without a written ``__init__``, in
    constructor order; None when the class is no record or writes its own constructor."""
    deco = any(_name(d) in RECORD_DECORATORS for d in cls.decorator_list)
    base = any(ast.unparse(b) in RECORD_BASES for b in cls.bases)
    if not (deco or base):
        return None
    if deco and cls.bases:
        return None  # the parents' fields come first: their order is not known here
    out: list[tuple[str, ast.expr | None]] = []
    for member in cls.body:
        if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef):
            if member.name == "__init__":
                return None
        elif (
            isinstance(member, ast.AnnAssign)
            and isinstance(member.target, ast.Name)
            and "ClassVar" not in ast.unparse(member.annotation)
        ):
            out.append((member.target.id, member.value))
    return out


def namedtuple_fields(call: ast.expr, qual: str) -> list[tuple[str, ast.expr | None]] | None:
    """``namedtuple('T', 'a b')`` / ``namedtuple('T', ['a', 'b'])`` /
    ``NamedTuple('T', [('a', str)])``: its fields, when written as constants."""
    if not isinstance(call, ast.Call) or qual not in NAMEDTUPLE or len(call.args) < 2:
        return None
    spec = call.args[1]
    if isinstance(spec, ast.Constant) and isinstance(spec.value, str):
        names = spec.value.replace(",", " ").split()
    elif isinstance(spec, ast.List | ast.Tuple):
        names = []
        for e in spec.elts:
            if isinstance(e, ast.Tuple) and e.elts:
                e = e.elts[0]
            if not (isinstance(e, ast.Constant) and isinstance(e.value, str)):
                return None
            names.append(e.value)
    else:
        return None
    if not all(n.isidentifier() for n in names):
        return None
    return [(n, None) for n in names]


def init_of(fields: list[tuple[str, ast.expr | None]], at: ast.AST) -> ast.FunctionDef:
    """The generated ``def __init__(self, a, b=default): self.a = a; self.b = b``."""
    params = [ast.arg(arg=name) for name, _ in fields]
    defaults: list[ast.expr] = []
    for _, default in fields:  # after the first default every field has one
        if default is not None or defaults:
            defaults.append(default if default is not None else ast.Constant(None))
    body: list[ast.stmt] = [
        ast.Assign(
            targets=[ast.Attribute(ast.Name("self", ast.Load()), name, ast.Store())],
            value=ast.Name(name, ast.Load()),
        )
        for name, _ in fields
    ] or [ast.Pass()]
    fn = ast.FunctionDef(
        name="__init__",
        args=ast.arguments(
            posonlyargs=[],
            args=[ast.arg(arg="self"), *params],
            kwonlyargs=[],
            kw_defaults=[],
            defaults=defaults,
        ),
        body=body,
        decorator_list=[],
        returns=None,
    )
    for node in ast.walk(fn):
        ast.copy_location(node, at)
    return fn


class RecordMixin(EngineBase):
    def namedtuple(self, s: ast.Assign, f: Frame) -> None:
        """``T = namedtuple('T', 'a b')`` defines a record class named ``T``."""
        if not isinstance(s.value, ast.Call) or len(s.targets) != 1:
            return
        fields = namedtuple_fields(s.value, qualify(s.value.func, f))
        target = s.targets[0]
        if fields is None or not isinstance(target, ast.Name):
            return
        qual = f"{f.qual}.{target.id}"
        f.defs[target.id] = qual
        f.env.pop(target.id, None)
        self.function(init_of(fields, s), f, f"{qual}.__init__", method=True)
