"""Checks made only while a flag stored in a model row has some value, and that flag's
declared default.

An application may keep a switch in a database row (a singleton "system settings"
model) and check callers only while it is set one way::

    system_settings = System_Settings.objects.get()
    if not system_settings.disable_webhook_secret:
        if secret != system_settings.webhook_secret:
            return reject(...)

The code cannot say what a deployment stored, but the model declares what a fresh row
holds (``disable_webhook_secret = models.BooleanField(default=False)``): that is the state
the route is in unless someone changes it, the same reading ``configured.flag_check``
gives a boolean setting whose default a settings module writes. ``stored_flag_check``
finds the shape in a handler, ``model_bools`` the declared defaults; link time
(``configured.flag_guard``) puts them together.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from threatmodel.code.pyast import dotted, kw, last

# The ORM field types that declare a boolean column, and where its type is an argument.
_BOOL_FIELDS = {"BooleanField", "NullBooleanField"}
_BOOL_TYPES = {"Boolean", "bool"}
_STATUSES = ("authenticated", "restricted")


def _model_of(value: ast.expr | None) -> str | None:
    """``System_Settings.objects.get()`` (or ``.first()``, ``.get_or_create()``...): the
    model class a row was read from."""
    if isinstance(value, ast.Await):
        value = value.value
    if not isinstance(value, ast.Call):
        return None
    head, sep, _ = dotted(value.func).partition(".objects.")
    return last(head) if sep and head else None


def _stored_flag(test: ast.expr, assigns: dict[str, ast.expr]) -> tuple[str, bool] | None:
    """``[not] row.attr`` with ``row`` a model row: ("Model.attr", the value under which
    the test holds)."""
    node, holds_when = test, True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        node, holds_when = node.operand, False
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        model = _model_of(assigns.get(node.value.id))
        if model:
            return f"{model}.{node.attr}", holds_when
    return None


def stored_flag_check(
    top: list[ast.stmt],
    assigns: dict[str, ast.expr],
    verdict: Callable[[list[ast.stmt]], tuple[str | None, int]],
) -> tuple[list[Any], int, int] | None:
    """``if [not] row.flag: <a check>`` among a handler's top-level statements.

    ``verdict``: the handler's own-check analysis run on a block (what the arm checks).
    Returns ``([Model.flag, status, line, when], first, last)``: the check's status, its
    line, and the flag value under which it runs; ``first``/``last`` span the ``if``. An
    ``if`` with an ``else`` is left alone (its other arm may check differently).
    """
    for stmt in top:
        if not isinstance(stmt, ast.If) or stmt.orelse:
            continue
        hit = _stored_flag(stmt.test, assigns)
        if hit is None:
            continue
        status, line = verdict(stmt.body)
        if status in _STATUSES:
            end = stmt.end_lineno or stmt.lineno
            return [hit[0], status, line, hit[1]], stmt.lineno, end
    return None


def _declared_bool(value: ast.expr) -> bool | None:
    """The ``default=`` of a boolean model field (Django, SQLAlchemy), None if not one."""
    if not isinstance(value, ast.Call):
        return None
    name = last(dotted(value.func))
    typed = name in ("Column", "mapped_column") and any(
        last(dotted(a)) in _BOOL_TYPES for a in value.args
    )
    if name not in _BOOL_FIELDS and not typed:
        return None
    default = kw(value, "default")
    if isinstance(default, ast.Constant) and isinstance(default.value, bool):
        return default.value
    return None


def model_bools(tree: ast.Module, lines: list[str]) -> dict[str, list[Any]]:
    """``{"Model.field": [default, line, text]}`` for every boolean field of the module's
    classes that declares a constant default."""
    out: dict[str, list[Any]] = {}
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        for stmt in cls.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target: ast.expr | None = stmt.targets[0]
            elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                target = stmt.target
            else:
                continue
            value = stmt.value
            if not isinstance(target, ast.Name) or value is None:
                continue
            default = _declared_bool(value)
            if default is not None:
                text = lines[stmt.lineno - 1].strip() if stmt.lineno <= len(lines) else ""
                out[f"{cls.name}.{target.id}"] = [default, stmt.lineno, text]
    return out


def declared_flags(
    extracts: dict[str, dict[str, Any]] | Any,
) -> dict[str, tuple[bool, str, int, str]]:
    """Every model's boolean defaults, ``Model.field -> (default, file, line, text)``; a
    name two files declare with different defaults is left out (the code does not say
    which model the row is)."""
    out: dict[str, tuple[bool, str, int, str]] = {}
    clash: set[str] = set()
    for path in sorted(extracts):
        for name, (value, line, text) in extracts[path].get("bools", {}).items():
            if name in out and out[name][0] != value:
                clash.add(name)
            out.setdefault(name, (bool(value), path, int(line), str(text)))
    return {k: v for k, v in out.items() if k not in clash}
