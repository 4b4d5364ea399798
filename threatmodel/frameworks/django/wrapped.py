"""Views wrapped by hand in a URLconf: ``path("", login_required(V.as_view()))``.

Django's documented way to guard a class view without a mixin is to call the decorator on
``as_view()``'s result in ``urls.py``. The entry's view is the innermost one; the wrappers
are the guards (and ``csrf_exempt``) it runs behind, read by ``auth.Judge.view``.
"""

from __future__ import annotations

import ast

from threatmodel.code.pyast import dotted, last
from threatmodel.frameworks._python.link import KNOWN_GUARDS


def unwrapped(view: ast.expr | None) -> tuple[ast.expr | None, list[str]]:
    """``login_required(csrf_exempt(V.as_view()))``: the view a decorator applied by hand
    wraps, and the decorators' names, outermost first (the guards it runs behind)."""
    wrappers: list[str] = []
    inner = view
    while (
        isinstance(inner, ast.Call)
        and len(inner.args) == 1
        and not inner.keywords
        and last(dotted(inner.func)) not in ("include", "as_view")
        and isinstance(inner.args[0], ast.Call | ast.Name | ast.Attribute)
        and dotted(inner.func)
    ):
        wrappers.append(dotted(inner.func))
        inner = inner.args[0]
    # A one-argument call may also be a view factory (``make_view(Model)``): unwrap only
    # around a class view or when a wrapper is a decorator Django or an auth library names.
    class_view = isinstance(inner, ast.Call) and last(dotted(inner.func)) == "as_view"
    if class_view or any(last(w) in KNOWN_GUARDS or last(w) == "csrf_exempt" for w in wrappers):
        return inner, wrappers
    return view, []
