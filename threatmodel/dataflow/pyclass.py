"""Methods reached through ``self``: a class's bases and the classes its attributes hold.

Inside a method of class ``C``, ``self.m(x)`` calls ``C``'s (or an inherited) ``m``, and
``self.a.m(x)`` calls ``m`` of the class ``a`` holds. The engine names such a callee
``C.<self>.m`` / ``C.<self>.a.m`` (a ``call`` label like any other); ``link`` resolves it
with the hierarchy this module records per class (``class_info``): the bases, as imports
name them, and each attribute's class where the code says it (``self.a = Svc(...)`` or
``self.a = a`` with ``a: Svc`` in ``__init__``, a class-level annotation ``a: Svc``, a
property annotated ``-> Svc`` or returning ``Svc(...)``). Reading a property of the class
itself (``self.p``) is a call of its method with no argument (``C.<self>.p``).
"""

from __future__ import annotations

import ast
from typing import Any

from threatmodel.code.pyast import subscript_head
from threatmodel.dataflow.frame import Frame, dotted, qualify

SELF = ".<self>."  # in a call label's origin: ``Class.<self>.method`` / ``.<self>.attr.method``
_WRAPPERS = frozenset({"Optional", "Annotated", "Union", "typing.Optional", "typing.Union"})


def class_info(node: ast.ClassDef, f: Frame, repo: Any) -> dict[str, Any]:
    """``{"bases": [...], "types": {attr: class}, "props": [...]}`` of a class statement
    read in frame ``f`` (its module or function), names qualified through its imports.
    ``repo(node, qual)`` says whether a name may be the repository's (``may_be_repo``)."""
    bases = [qualify(subscript_head(b), f) or dotted(subscript_head(b)) for b in node.bases]
    types: dict[str, str] = {}
    props: list[str] = []

    def cls_of(ann: ast.expr | None) -> str:
        return annotation_class(ann, f, repo)

    for s in node.body:
        if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name):
            got = cls_of(s.annotation) or _built(s.value, f, repo)
            if got:
                types[s.target.id] = got
        elif isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef):
            if any(_deco(d).endswith("property") for d in s.decorator_list):
                props.append(s.name)
                got = cls_of(s.returns) or _returned(s, f, repo)
                if got:
                    types[s.name] = got
            elif s.name == "__init__":
                types.update({k: v for k, v in _init_types(s, f, repo).items() if k not in types})
    out: dict[str, Any] = {}
    if bases:
        out["bases"] = bases
    if types:
        out["types"] = types
    if props:
        out["props"] = props
    return out


def annotation_class(ann: ast.expr | None, f: Frame, repo: Any) -> str:
    """The repository class an annotation names: ``Svc``, ``"Svc"``, ``Svc | None``,
    ``Optional[Svc]``, ``Annotated[Svc, ...]``; "" for anything else (``list[Svc]`` is a
    list, not a ``Svc``)."""
    if ann is None:
        return ""
    if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
        try:
            ann = ast.parse(ann.value, mode="eval").body
        except SyntaxError:
            return ""
    if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
        found = [annotation_class(x, f, repo) for x in (ann.left, ann.right)]
        found = [x for x in found if x]
        return found[0] if len(found) == 1 else ""
    if isinstance(ann, ast.Subscript) and dotted(ann.value) in _WRAPPERS:
        inner = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
        if dotted(ann.value).endswith("Annotated"):
            inner = inner[:1]
        found = [annotation_class(x, f, repo) for x in inner]
        found = [x for x in found if x]
        return found[0] if len(found) == 1 else ""
    if isinstance(ann, ast.Name | ast.Attribute):
        qual = qualify(ann, f)
        return qual if qual and repo(ann, qual, f) else ""
    return ""


def own_callee(func: ast.expr, f: Frame) -> str:
    """``C.<self>.m`` for ``self.m``, ``C.<self>.a.m`` for ``self.a.m`` inside a method of
    ``C`` (``self`` still the method's first parameter, ``self.a`` not assigned here);
    ``Svc.m`` for ``svc.m`` where ``svc`` is a parameter annotated ``Svc`` (a dependency
    injected) and still holds what the caller passed."""
    if not isinstance(func, ast.Attribute):
        return ""
    inner = func.value
    if isinstance(inner, ast.Name) and inner.id in f.typed:
        value = f.env.get(inner.id)
        labels = value.labels if value is not None else frozenset()
        if labels and all(x.kind == "param" and x.origin == inner.id for x in labels):
            return f"{f.typed[inner.id]}.{func.attr}"
    if not f.cls:
        return ""
    if isinstance(inner, ast.Name) and _is_self(inner.id, f):
        return f"{f.cls}{SELF}{func.attr}"
    if (
        isinstance(inner, ast.Attribute)
        and isinstance(inner.value, ast.Name)
        and _is_self(inner.value.id, f)
        and f"{inner.value.id}.{inner.attr}" not in f.env
    ):
        return f"{f.cls}{SELF}{inner.attr}.{func.attr}"
    return ""


def typed_params(params: list[ast.arg], f: Frame, repo: Any) -> dict[str, str]:
    """Parameter -> the repository class its annotation names."""
    out = {p.arg: annotation_class(p.annotation, f, repo) for p in params}
    return {k: v for k, v in out.items() if v}


def _is_self(name: str, f: Frame) -> bool:
    value = f.env.get(name)
    return name == f.me and value is not None and not value.labels and not value.known


def _deco(d: ast.expr) -> str:
    return dotted(d.func if isinstance(d, ast.Call) else d)


def _built(value: ast.expr | None, f: Frame, repo: Any) -> str:
    """The class a constructor call builds: ``Svc(...)`` / ``Repo[A](...)``."""
    if isinstance(value, ast.Await):
        value = value.value
    if not isinstance(value, ast.Call):
        return ""
    func = subscript_head(value.func)
    if not isinstance(func, ast.Name | ast.Attribute):
        return ""
    qual = qualify(func, f)
    last = qual.rsplit(".", 1)[-1]
    # a class by convention (``Svc``), not a factory function (``make_svc``)
    return qual if qual and last[:1].isupper() and repo(func, qual, f) else ""


def _returned(fn: ast.FunctionDef | ast.AsyncFunctionDef, f: Frame, repo: Any) -> str:
    """The one class a property's every ``return`` builds."""
    found = {_built(s.value, f, repo) for s in ast.walk(fn) if isinstance(s, ast.Return)}
    return found.pop() if len(found) == 1 else ""


def _init_types(fn: ast.FunctionDef | ast.AsyncFunctionDef, f: Frame, repo: Any) -> dict[str, str]:
    """``self.a = Svc(...)``, ``self.a: Svc = ...`` and ``self.a = a`` (``a: Svc``) in
    ``__init__``; an attribute assigned two different classes has none."""
    params = [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]
    if not params:
        return {}
    me = params[0].arg
    annotated = {p.arg: annotation_class(p.annotation, f, repo) for p in params[1:]}
    seen: dict[str, set[str]] = {}
    for s in ast.walk(fn):
        target: ast.expr | None = None
        got = ""
        if isinstance(s, ast.Assign) and len(s.targets) == 1:
            target = s.targets[0]
            got = _built(s.value, f, repo)
            if not got and isinstance(s.value, ast.Name):
                got = annotated.get(s.value.id, "")
        elif isinstance(s, ast.AnnAssign):
            target, got = s.target, annotation_class(s.annotation, f, repo)
        if (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == me
        ):
            seen.setdefault(target.attr, set()).add(got)
    return {k: next(iter(v)) for k, v in seen.items() if len(v) == 1 and "" not in v}
