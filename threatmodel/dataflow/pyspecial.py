"""Calls that are another construct in disguise, read as that construct: ``getattr(o, 'a')``
is ``o.a``, ``getattr(s, 'upper')()`` is ``s.upper()``, ``setattr(o, 'a', v)`` is
``o.a = v``, and ``json.loads(json.dumps(x))`` is ``x`` (a round trip keeps the shape, so
the items of a container stay apart); Django's ``format_html(fmt, a)`` is
``fmt.format(conditional_escape(a))``: its arguments are escaped, its format string not."""

from __future__ import annotations

import ast

from threatmodel.dataflow.base import EngineBase
from threatmodel.dataflow.frame import Frame, qualify
from threatmodel.dataflow.values import CLEAN, Value, tainted

XSS = frozenset({"xss"})


def _const_name(node: ast.Call, at: int) -> str | None:
    if len(node.args) <= at or node.keywords:
        return None
    arg = node.args[at]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value.isidentifier():
        return arg.value
    return None


def attribute_of(node: ast.Call, f: Frame, qual: str | None = None) -> ast.Attribute | None:
    """``getattr(o, 'a')`` (no default) as the node ``o.a`` (``qual``: the callee as
    ``qualify`` names it, when the caller has it already)."""
    if not isinstance(node.func, ast.Name):
        return None
    if (qualify(node.func, f) if qual is None else qual) != "getattr":
        return None
    name = _const_name(node, 1)
    if name is None or len(node.args) != 2:
        return None
    return ast.copy_location(ast.Attribute(node.args[0], name, ast.Load()), node)


def special(engine: EngineBase, node: ast.Call, f: Frame, qual: str) -> Value | None:
    """The call's value when it is one of the disguised constructs, else None (``qual``:
    ``qualify(node.func, f)``)."""
    func = node.func
    if isinstance(func, ast.Call):  # ``getattr(s, 'upper')()``: the method call
        attr = attribute_of(func, f)
        if attr is not None:
            call = ast.Call(attr, node.args, node.keywords)
            return engine.expr(ast.copy_location(call, node), f)
        return None
    attr = attribute_of(node, f, qual)
    if attr is not None:
        return engine.expr(attr, f)
    name = _const_name(node, 1) if qual == "setattr" and len(node.args) == 3 else None
    if name is not None:
        target = ast.copy_location(ast.Attribute(node.args[0], name, ast.Store()), node)
        engine.assign(target, engine.expr(node.args[2], f), f, node.lineno)
        return CLEAN
    inner = node.args[0] if len(node.args) == 1 and not node.keywords else None
    if (
        qual == "json.loads"
        and isinstance(inner, ast.Call)
        and len(inner.args) == 1
        and not inner.keywords
        and qualify(inner.func, f) == "json.dumps"
    ):
        return engine.expr(inner.args[0], f).step(node.lineno)
    if qual == "django.utils.html.format_html" and node.args:
        fmt = engine.expr(node.args[0], f)
        rest = [engine.expr(a, f) for a in node.args[1:]]
        rest += [engine.expr(k.value, f) for k in node.keywords]
        escaped = tainted(*rest).sanitized(XSS, "format_html")
        return tainted(fmt, escaped).step(node.lineno)
    return None
