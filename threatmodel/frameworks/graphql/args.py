"""The arguments a graphene operation takes from its caller, and what each can hold.

graphene passes a field's declared arguments to its resolver as keyword arguments
(``resolve_x(root, info, **args)``; graphene/types/field.py builds them from ``args=`` and
every keyword of the field call it does not itself consume, ``**extra_args``); a mutation's
come from its ``class Arguments`` (``class Input`` on older graphene and relay's
``ClientIDMutation``); a strawberry resolver's are its own parameters but the root and
``info``, typed by their annotations. The client writes each value in the query, so each is
request input
in the resolver: ``"text"`` for a string-like type (``String``, ``ID``, ``JSONString``, an
input object), ``"scalar"`` for one graphql-core parses into a number, boolean, date or
UUID before the resolver runs (no payload survives). These are the converters of
``models.Route.params``, read by the dataflow engine (``dataflow/urlparams.url_value``).
"""

from __future__ import annotations

import ast

from threatmodel.code.pyast import dotted, last

# graphene.Field's own keywords (and the permission helpers' of graphene-django / saleor,
# read in python.py): anything else given to a field call is one of its arguments.
FIELD_OPTIONS = frozenset(
    {"args", "resolver", "source", "deprecation_reason", "name", "description", "required"}
    | {"default_value", "permissions", "permission_classes", "_creation_counter"}
)
# Types graphql-core parses into a value that holds no text (graphene's scalars).
SCALAR_TYPES = frozenset(
    {"Int", "Float", "Boolean", "Decimal", "Date", "DateTime", "Time", "UUID", "BigInt"}
)
# Python annotations strawberry maps to such a scalar.
SCALAR_ANNOTATIONS = frozenset(
    {"int", "float", "bool", "Decimal", "date", "datetime", "time", "UUID"}
)
# A strawberry resolver's parameters that are not arguments: the parent value and info.
NOT_ARGUMENTS = frozenset({"self", "cls", "root", "parent", "info", "source"})
# Wrappers whose first argument is the type they wrap.
_WRAPPERS = frozenset({"Argument", "NonNull", "List", "InputField"})
# The inner classes that declare a mutation's arguments.
ARGUMENT_CLASSES = ("Arguments", "Input")


def converter(node: ast.AST | None) -> str:
    """``graphene.Int()`` / ``graphene.Argument(graphene.Int)`` / ``NonNull(Int)``: "scalar";
    any other type (a string, an ID, an input object, one not read): "text"."""
    while isinstance(node, ast.Call):
        wraps = last(dotted(node.func)) in _WRAPPERS and node.args
        node = node.args[0] if wraps else node.func
    return "scalar" if last(dotted(node)) in SCALAR_TYPES else "text"


def field_args(call: ast.Call) -> tuple[dict[str, str], bool]:
    """The arguments a field call declares (keywords that are not the field's options, and
    ``args={...}``), and whether that is all of them (no ``**spread``, no ``args=`` built
    elsewhere)."""
    out: dict[str, str] = {}
    whole = True
    for k in call.keywords:
        if k.arg is None:
            whole = False
        elif k.arg == "args":
            if isinstance(k.value, ast.Dict):
                for key, value in zip(k.value.keys, k.value.values, strict=True):
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        out[key.value] = converter(value)
                    else:
                        whole = False
            else:
                whole = False
        elif k.arg not in FIELD_OPTIONS:
            out[k.arg] = converter(k.value)
    return out, whole


def class_args(c: ast.ClassDef) -> dict[str, str] | None:
    """A mutation's ``class Arguments`` / ``class Input``: name -> converter; None without
    one."""
    for stmt in c.body:
        if isinstance(stmt, ast.ClassDef) and stmt.name in ARGUMENT_CLASSES:
            out: dict[str, str] = {}
            for s in stmt.body:
                target = s.targets[0] if isinstance(s, ast.Assign) and len(s.targets) == 1 else None
                if isinstance(s, ast.AnnAssign):
                    target = s.target
                if isinstance(target, ast.Name) and isinstance(s, ast.Assign | ast.AnnAssign):
                    out[target.id] = converter(s.value)
            return out
    return None


def _annotation(node: ast.expr | None) -> str:
    """``int`` / ``Optional[int]`` / ``int | None`` / ``list[int]``: "scalar"; else "text"."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        sides = [
            n
            for n in (node.left, node.right)
            if not (isinstance(n, ast.Constant) and n.value is None)
        ]
        node = sides[0] if len(sides) == 1 else None
    while isinstance(node, ast.Subscript) and last(dotted(node.value)) in ("Optional", "list"):
        node = node.slice
    if isinstance(node, ast.Constant) and node.value is None:
        return "text"
    return "scalar" if last(dotted(node)) in SCALAR_ANNOTATIONS else "text"


def resolver_args(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, str]:
    """A strawberry resolver's arguments: its parameters but the parent value and ``info``
    (by name, or annotated ``Info``)."""
    a = fn.args
    out: dict[str, str] = {}
    for p in [*a.posonlyargs, *a.args, *a.kwonlyargs]:
        if p.arg in NOT_ARGUMENTS or "Info" in (ast.unparse(p.annotation) if p.annotation else ""):
            continue
        out[p.arg] = _annotation(p.annotation)
    return out
