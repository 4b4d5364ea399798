"""What a DRF permission class of the repository asks, read along its class chain.

DRF runs ``has_permission`` on every request and ``has_object_permission`` on the object a
detail route loads (``get_object``). A class that defines neither inherits them: the most
derived class of the chain that defines each one decides. A class whose ``has_permission``
lets every request through but whose ``has_object_permission`` checks a permission guards
detail routes only (list and create routes load no object).

Extract: ``permission_verdict`` (a ``has_permission`` / ``has_object_permission``),
``anon_setting`` and ``read_verdict`` (DRF model permissions whose anonymous reads a setting
allows), ``model_verdict`` (a subclass of DRF's model permissions that keeps DRF's
``has_permission``), ``per_action`` (a view set's ``get_permissions`` that changes the
classes for named actions only). Link: ``verdicts`` along a class chain.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from threatmodel.code.pyast import dotted, str_const
from threatmodel.frameworks._python.guards import ROLE_WORDS, mentions


def verdicts(
    extracts: Mapping[str, Mapping[str, Any]], chain: list[tuple[str, str]]
) -> tuple[str | None, str | None]:
    """(has_permission verdict, has_object_permission verdict) of a class chain (file, name),
    most derived first; None where no class of the repository defines the method."""
    request: str | None = None
    on_object: str | None = None
    for file, name in chain:
        dj = extracts.get(file, {}).get("django", {})
        if request is None:
            request = dj.get("perms", {}).get(name)
        if on_object is None:
            on_object = dj.get("obj_perms", {}).get(name)
    return request, on_object


def anon_setting(cls: ast.ClassDef) -> str | None:
    """``self.authenticated_users_only = settings.LOGIN_REQUIRED``: the setting's name.

    DRF's model permissions let anonymous callers through when that attribute is false.
    """
    for n in ast.walk(cls):
        if isinstance(n, ast.Assign) and len(n.targets) == 1:
            t = n.targets[0]
            name = t.attr if isinstance(t, ast.Attribute) else getattr(t, "id", "")
            if name == "authenticated_users_only" and not isinstance(n.value, ast.Constant):
                return dotted(n.value) or "a setting"
    return None


def read_verdict(cls: ast.ClassDef) -> str:
    """What a read needs when anonymous callers are refused: a model permission class's
    ``perms_map`` may ask a view permission for GET (restricted) or nothing (authenticated).
    """
    for n in cls.body:
        if (
            isinstance(n, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "perms_map" for t in n.targets)
            and isinstance(n.value, ast.Dict)
        ):
            for k, v in zip(n.value.keys, n.value.values, strict=False):
                if str_const(k) == "GET":
                    has = isinstance(v, ast.List | ast.Tuple) and bool(v.elts)
                    return "restricted" if has else "authenticated"
    return "authenticated"


MODEL_PERMS = ("DjangoModelPermissions", "DjangoObjectPermissions")


def model_verdict(cls: ast.ClassDef) -> str | None:
    """``class AppPerms(DjangoObjectPermissions)`` with no ``has_permission`` of its own
    runs DRF's: the ``perms_map`` permission of the method, ``model:<what a read needs>``
    (writes always need theirs; reads need what the class's ``perms_map`` asks for GET,
    DRF's own asks nothing)."""
    if not any(dotted(b).rsplit(".", 1)[-1] in MODEL_PERMS for b in cls.bases):
        return None
    return f"model:{read_verdict(cls)}"


def permission_verdict(fn: ast.FunctionDef) -> str:
    """A DRF permission's ``has_permission``: what letting a request through requires."""
    returns = [n.value for n in ast.walk(fn) if isinstance(n, ast.Return) and n.value is not None]
    if returns and all(isinstance(v, ast.Constant) and v.value is True for v in returns):
        return "public"
    if mentions(fn, ROLE_WORDS):
        return "restricted"
    if mentions(fn, ("is_authenticated", "user", "token", "auth")):
        return "authenticated"
    return "unknown"


def per_action(fn: ast.FunctionDef) -> list[str] | None:
    """The actions a view set's ``get_permissions`` decides itself, when every other
    action gets ``super().get_permissions()`` (the class's ``permission_classes``)::

        if self.action == "test":                  # or: in ("test", "summary"), and ...
            self.permission_classes = (IsAuthenticated,)   # or: return [...]
        return super().get_permissions()

    None when it has any other shape: then it decides per request, unread."""
    *branches, last = fn.body
    if not (isinstance(last, ast.Return) and _super_call(last.value)):
        return None
    names: list[str] = []
    for b in branches:
        if isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant):
            continue  # the docstring
        if not isinstance(b, ast.If) or b.orelse or not (got := _actions_named(b.test)):
            return None
        names += got
    return names


def _super_call(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Call) and dotted(node.func) == "super.get_permissions"


def _actions_named(test: ast.expr) -> list[str]:
    """``self.action == "x"`` / ``self.action in ("x", "y")``, alone or first of an ``and``
    (the branch runs only for those actions)."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        test = test.values[0]
    if not (
        isinstance(test, ast.Compare)
        and dotted(test.left) == "self.action"
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Eq | ast.In)
    ):
        return []
    right = test.comparators[0]
    elts = right.elts if isinstance(right, ast.Tuple | ast.List | ast.Set) else [right]
    names = [str_const(e) for e in elts]
    return [n for n in names if n is not None] if all(names) else []
